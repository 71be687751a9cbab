// `irg simulate <model> …`: run a Monte Carlo simulation into an HDF5 ensemble, with a progress
// bar, Ctrl-C / --max-time stops that checkpoint, and `--resume` that continues bit-for-bit.

import { type Command } from "commander";
import { addParams } from "./params.js";
import { MODELS, runSimulation, SIMULATE_SPECS, simulateCommandOptions, type SimulationResult } from "../jobs/simulation.js";
import { progressReporter } from "./progress.js";
import { spawn } from "node:child_process";
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
  let signal: NodeJS.Signals | null = null;
  const on = (sig: NodeJS.Signals) => (): void => {
    if (signal) process.exit(sig === "SIGTERM" ? 143 : 130);
    signal = sig;
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

/**
 * Runs this command in a child process and, if the child dies in native code (dawn.node has: exit 134
 * or 139), runs `irg simulate <model> --resume` once from the last checkpoint. The child has its own
 * process group, so Ctrl-C and SIGTERM reach it once, forwarded from here.
 */
function superviseGpuRun(model: string, out: string, raw: Record<string, unknown>): Promise<number> {
  const session = [
    ...(raw.quiet === true ? ["--quiet"] : []),
    ...(raw.maxTime !== undefined ? ["--max-time", String(raw.maxTime)] : []),
    ...(raw.checkpointEvery !== undefined ? ["--checkpoint-every", String(raw.checkpointEvery)] : []),
  ];
  const start = (args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: "inherit", detached: true, env: { ...process.env, IRG_GPU_CHILD: "1" } });
      const forward = (sig: NodeJS.Signals) => (): void => {
        child.kill(sig);
      };
      const onInt = forward("SIGINT"), onTerm = forward("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
      child.on("exit", (code, signal) => {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        resolve({ code, signal });
      });
    });
  const crashed = (r: { code: number | null; signal: NodeJS.Signals | null }): boolean => (r.signal !== null && CRASH_SIGNALS.has(r.signal)) || r.code === 134 || r.code === 139;
  const codeOf = (r: { code: number | null; signal: NodeJS.Signals | null }): number => r.code ?? 128 + (r.signal === "SIGSEGV" ? 11 : r.signal === "SIGABRT" ? 6 : 1);
  return start(process.argv.slice(2)).then(async (first) => {
    if (!crashed(first)) return codeOf(first);
    process.stderr.write(`irg: the GPU process died in native code (${first.signal ?? `exit ${first.code}`}); resuming from the last checkpoint, once\n`);
    const again = await start(["simulate", model, "--resume", "--out", out, ...session]);
    if (crashed(again)) process.stderr.write(`irg: the GPU process died again (${again.signal ?? `exit ${again.code}`}); continue with: irg simulate ${model} --resume --out ${out} (or --backend cpu for a new run)\n`);
    return codeOf(again);
  });
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
