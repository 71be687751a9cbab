// `irg simulate <model> …`: run a Monte Carlo simulation into an HDF5 ensemble, with a progress
// bar, Ctrl-C / --max-time stops that checkpoint, and `--resume` that continues bit-for-bit.

import { type Command } from "commander";
import { addParams } from "./params.js";
import { MODELS, runSimulation, SIMULATE_SPECS, simulateCommandOptions, type SimulationResult } from "../jobs/simulation.js";
import { progressReporter } from "./progress.js";
import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { wantsGpu } from "../jobs/backend.js";

/** The line printed when a run ends. */
export function summaryLine(model: string, r: SimulationResult): string {
  if (!r.completed) {
    return `stopped after ${r.sweepsDone} of ${r.totalSweeps} sweeps (${r.seconds.toFixed(1)} s); checkpoint in ${r.out}; continue with: irg simulate ${model} --resume --out ${r.out}`;
  }
  if (r.files) return `wrote ${r.files.join(", ")}: ${r.measurements} measurements, ${r.configurations} configurations in all (${r.seconds.toFixed(1)} s)`;
  return `wrote ${r.out}: ${r.measurements} measurements, ${r.configurations} configurations (${r.seconds.toFixed(1)} s)`;
}

/** Exit code of a run that stopped with a checkpoint on --max-time or --stop-after: resume it to finish. */
export const STOPPED_EXIT = 3;

/**
 * Installs handlers for Ctrl-C (SIGINT) and the scheduler's SIGTERM (SLURM sends it at the time limit,
 * SIGKILL a few seconds later): the run stops at the next sweep and writes a checkpoint; a second
 * signal aborts. `exitCode` is what a stopped run exits with: 128 + the signal (130, 143), or
 * STOPPED_EXIT for a stop on --max-time or --stop-after, so that scripts and schedulers can tell a
 * stopped run from a finished one (0).
 */
export function interruptFlag(): { stop: () => boolean; dispose: () => void; exitCode: () => number } {
  let signal: NodeJS.Signals | null = null, at = 0;
  // Under the GPU supervisor a scheduler's signal can arrive twice (directly and forwarded): the same
  // signal again within a second is that one, not a request to abort.
  const supervised = process.env.IRG_GPU_CHILD === "1";
  const on = (sig: NodeJS.Signals) => (): void => {
    if (signal && supervised && sig === signal && Date.now() - at < 1000) return;
    if (signal) process.exit(sig === "SIGTERM" ? 143 : 130);
    signal = sig;
    at = Date.now();
    process.stderr.write(`\nirg: ${sig}: stopping at the next sweep and writing a checkpoint (${sig === "SIGINT" ? "Ctrl-C" : "the signal"} again to abort)\n`);
  };
  const onInt = on("SIGINT"), onTerm = on("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return {
    stop: () => signal !== null,
    dispose: () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
    exitCode: () => (signal === "SIGTERM" ? 143 : signal === "SIGINT" ? 130 : STOPPED_EXIT),
  };
}

const CRASH_SIGNALS = new Set(["SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL"]);
/** Exit code of a GPU failure with the checkpoint kept (models/params.ts exitCodeOf). */
const GPU_FAILED = 5;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * Runs this command in a child process and, if the child dies in native code (dawn.node has: exit 134
 * or 139) or the GPU fails with its checkpoint kept (exit 5), runs `irg simulate <model> --resume` once
 * from that checkpoint, with the time left of --max-time. The child has its own process group; SIGINT
 * and SIGTERM reach it forwarded from here, SIGHUP as SIGTERM (a scheduler may also signal it directly: the child
 * takes a repeat within a second for the same signal). A run that was asked to stop is not retried.
 */
async function superviseGpuRun(model: string, out: string, raw: Record<string, unknown>): Promise<number> {
  const t0 = Date.now();
  let stopping = false;
  const start = (args: string[]): Promise<Exit> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: "inherit", detached: true, env: { ...process.env, IRG_GPU_CHILD: "1" } });
      // SIGHUP (a closed terminal) goes on as SIGTERM: the child stops with a checkpoint.
      const forward = (sig: NodeJS.Signals) => (): void => {
        stopping = true;
        child.kill(sig === "SIGHUP" ? "SIGTERM" : sig);
      };
      const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => [sig, forward(sig)] as const);
      for (const [sig, h] of handlers) process.on(sig, h);
      child.on("exit", (code, signal) => {
        for (const [sig, h] of handlers) process.off(sig, h);
        resolve({ code, signal });
      });
    });
  const failed = (r: Exit): boolean => (r.signal !== null && CRASH_SIGNALS.has(r.signal)) || r.code === 134 || r.code === 139 || r.code === GPU_FAILED;
  const codeOf = (r: Exit): number => r.code ?? 128 + (r.signal ? (osConstants.signals[r.signal] ?? 0) : 0);
  const first = await start(process.argv.slice(2));
  if (!failed(first) || stopping) return codeOf(first);
  const session = [
    ...(raw.quiet === true ? ["--quiet"] : []),
    ...(raw.sweeps !== undefined ? ["--sweeps", String(raw.sweeps)] : []),
    ...(raw.checkpointEvery !== undefined ? ["--checkpoint-every", String(raw.checkpointEvery)] : []),
  ];
  if (raw.maxTime !== undefined) {
    const left = Number(raw.maxTime) - (Date.now() - t0) / 60000;
    if (left <= 0) return codeOf(first);
    session.push("--max-time", String(left));
  }
  process.stderr.write(`irg: the GPU process failed (${first.signal ?? `exit ${first.code}`}); resuming from the last checkpoint, once\n`);
  const again = await start(["simulate", model, "--resume", "--out", out, ...session]);
  if (failed(again) && !stopping) process.stderr.write(`irg: the GPU process failed again (${again.signal ?? `exit ${again.code}`}); continue with: irg simulate ${model} --resume --out ${out} (or --backend cpu for a new run)\n`);
  return codeOf(again);
}

export function registerSimulate(program: Command): void {
  const cmd = program
    .command("simulate")
    .argument("<model>", `model to simulate: ${MODELS.join(", ")}`)
    .description("run a Monte Carlo simulation and write an HDF5 ensemble")
    .option("--resume", "continue the run stored in --out from its checkpoint (bit-for-bit); --sweeps may extend it")
    .option("--force", "overwrite an existing output file")
    .option("--quiet", "no progress bar")
    .addHelpText("after", "\nExamples:\n  irg simulate ising --dim 2 --L 64 --beta 0.4406868 --algorithm wolff --sweeps 10000 --out ising.h5\n  irg simulate phi4 --L 32 --mu2 -0.9515 --sweeps 5000 --out phi4.h5\n  irg simulate potts --q 3 --L 32 --beta 1.0050525 --algorithm sw --sweeps 5000 --out potts.h5\n  irg simulate ea --dim 3 --L 6 --beta 0.9 --beta-min 0.4 --temps 10 --samples 16 --sweeps 4000 --therm 2000 --save-every 10 --out ea.h5\n  irg simulate ising --resume --out ising.h5");
  addParams(cmd, SIMULATE_SPECS);
  cmd.option("--stop-after <sweeps>", "(testing) stop after this many sweeps in this session");
  cmd.action(async (model: string, raw: Record<string, unknown>) => {
    const resume = raw.resume === true;
    const stopAfter = raw.stopAfter === undefined ? undefined : Number(raw.stopAfter);
    const o = await simulateCommandOptions(model, raw);
    if (wantsGpu(model, o) && process.env.IRG_GPU_CHILD !== "1") {
      process.exitCode = await superviseGpuRun(model, o.out, raw);
      return;
    }
    const progress = progressReporter({ quiet: raw.quiet === true, label: `${model} L=${o.L}` });
    const interrupt = interruptFlag();
    try {
      const r = await runSimulation(model, o, {
        maxTime: o.maxTime,
        checkpointEvery: o.checkpointEvery,
        stopAfter,
        shouldStop: interrupt.stop,
        progress: progress.update,
        notice: (line) => process.stderr.write(`irg: ${line}\n`),
      }, resume, raw.force === true);
      progress.stop();
      process.stdout.write(`${summaryLine(model, r)}\n`);
      if (!r.completed) process.exitCode = interrupt.exitCode();
      for (const line of r.notes ?? []) process.stdout.write(`${line}\n`);
      if (r.equilibration) {
        const [main, ...others] = r.equilibration ?? [];
        for (const line of main?.lines ?? []) process.stdout.write(`${line}\n`);
        for (const v of others) process.stdout.write(`${v.file}: ${v.lines.at(-1)}\n`);
        const bad = (r.equilibration ?? []).filter((v) => !v.equilibrated);
        if (bad.length > 0) process.stderr.write(`irg: WARNING: equilibration NOT shown for ${bad.map((v) => v.file).join(", ")} (recorded as equilibrated = 0 in the file); run longer before using these ensembles\n`);
      }
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
