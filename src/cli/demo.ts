// `irg demo` (what `npm start` runs until the φ⁴ pipeline lands): a 2D Ising ensemble at β_c,
// its measurements, and the exact finite-L energy and specific heat (Kaufman) beside them.

import { type Command } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BETA_C_2D } from "../models/ising.js";
import { kaufman } from "../models/ising-exact.js";
import { h5Ready } from "../io/h5.js";
import { formatMeasure, measureFile } from "./measure.js";
import { runSimulation, simulateOptions } from "../jobs/simulation.js";
import { progressReporter } from "./progress.js";
import { summaryLine } from "./simulate.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("short 2D Ising run at beta_c: writes out/ising-demo.h5 and checks it against the exact solution")
    .option("--L <n>", "lattice size", "32")
    .option("--sweeps <n>", "measurement sweeps", "20000")
    .option("--out-dir <dir>", "output directory", "out")
    .option("--quiet", "no progress bar")
    .action(async (o: { L: string; sweeps: string; outDir: string; quiet?: boolean }) => {
      await h5Ready();
      mkdirSync(o.outDir, { recursive: true });
      const out = join(o.outDir, "ising-demo.h5");
      const opts = simulateOptions("ising", {
        dim: 2, L: o.L, beta: BETA_C_2D, algorithm: "wolff", sweeps: o.sweeps, therm: 1000, every: 1, saveEvery: 20, seed: 1, out,
        checkpointEvery: 5,
      });
      const progress = progressReporter({ quiet: o.quiet === true, label: `ising L=${opts.L}` });
      const r = await runSimulation("ising", opts, { checkpointEvery: 5, progress: progress.update }, false, true);
      progress.stop();
      process.stdout.write(`${summaryLine("ising", r)}\n`);
      const m = measureFile(out);
      process.stdout.write(`${formatMeasure(m)}\n`);
      const exact = kaufman(opts.L, BETA_C_2D);
      const e = m.observables.e!, c = m.observables.c!;
      const z = (v: { value: number; error: number }, x: number): string => ((v.value - x) / v.error).toFixed(2);
      process.stdout.write(`exact (Kaufman, L=${opts.L}): e = ${exact.e.toFixed(6)} (${z(e, exact.e)} sigma), c = ${exact.c.toFixed(5)} (${z(c, exact.c)} sigma)\n`);
    });
}
