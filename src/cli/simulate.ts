// `irg simulate <model> …`: run a Monte Carlo simulation into an HDF5 ensemble, with a progress
// bar, Ctrl-C / --max-time stops that checkpoint, and `--resume` that continues bit-for-bit.

import { type Command } from "commander";
import { h5Ready } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { addParams } from "./params.js";
import { MODELS, resumedOptions, runSimulation, SIMULATE_SPECS, simulateOptions, type SimulateOptions, type SimulationResult } from "../jobs/simulation.js";
import { progressReporter } from "./progress.js";

/** The line printed when a run ends. */
export function summaryLine(model: string, r: SimulationResult): string {
  if (!r.completed) {
    return `stopped after ${r.sweepsDone} of ${r.totalSweeps} sweeps (${r.seconds.toFixed(1)} s); checkpoint in ${r.out}; continue with: irg simulate ${model} --resume --out ${r.out}`;
  }
  if (r.files) return `wrote ${r.files.join(", ")}: ${r.measurements} measurements, ${r.configurations} configurations in all (${r.seconds.toFixed(1)} s)`;
  return `wrote ${r.out}: ${r.measurements} measurements, ${r.configurations} configurations (${r.seconds.toFixed(1)} s)`;
}

/** Installs a Ctrl-C handler that asks the run to stop (a second Ctrl-C aborts). */
export function interruptFlag(): { stop: () => boolean; dispose: () => void } {
  let requested = false;
  const onSigint = (): void => {
    if (requested) process.exit(130);
    requested = true;
    process.stderr.write("\nirg: stopping at the next sweep and writing a checkpoint (Ctrl-C again to abort)\n");
  };
  process.on("SIGINT", onSigint);
  return { stop: () => requested, dispose: () => process.off("SIGINT", onSigint) };
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
    await h5Ready();
    const resume = raw.resume === true;
    const stopAfter = raw.stopAfter === undefined ? undefined : Number(raw.stopAfter);
    let o: SimulateOptions;
    if (resume) {
      if (typeof raw.out !== "string") throw new UsageError("--resume needs --out <file.h5> naming the ensemble to continue");
      o = resumedOptions(model, raw);
    } else {
      o = simulateOptions(model, raw);
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
      }, resume, raw.force === true);
      progress.stop();
      process.stdout.write(`${summaryLine(model, r)}\n`);
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
