// `irg scan <model> --L 16,32 --beta|--mu2 <grid> …`: parses the options and runs the scan job
// (jobs/scan.ts) with a progress bar and Ctrl-C stops; rerunning the same command continues it.

import { type Command } from "commander";
import { join } from "node:path";
import { h5Ready } from "../io/h5.js";
import { addParams } from "./params.js";
import { runScan } from "../jobs/scan.js";
import { MODELS, SIMULATE_SPECS } from "../jobs/simulation.js";
import { modelOf } from "../models/registry.js";
import { progressReporter } from "./progress.js";
import { interruptFlag, summaryLine } from "./simulate.js";


export function registerScan(program: Command): void {
  const cmd = program
    .command("scan")
    .argument("<model>", `model: ${MODELS.join(", ")}`)
    .description("run a grid of simulations over sizes and couplings in parallel")
    .requiredOption("--out-dir <dir>", "directory for the ensembles and scan.json")
    .option("--workers <n>", "worker threads (default: all cores)")
    .option("--force", "rerun grid points that are already complete")
    .option("--quiet", "no progress bar");
  const specs = { ...SIMULATE_SPECS };
  delete specs.out;
  delete specs.task;
  delete specs.workers; // --workers of a scan is the size of its pool (ea: the threads of each run)

  // In a scan, --L, --beta and --mu2 take lists or ranges.
  specs.L = { ...specs.L!, flag: "--L <list>", description: "sizes, e.g. 16,32,64" };
  specs.beta = { ...specs.beta!, flag: "--beta <grid>", description: "ising, potts couplings: a,b,c or start:stop:step; ea: the measured temperature (default: the coldest of the ladder)" };
  specs.mu2 = { ...specs.mu2!, flag: "--mu2 <grid>", description: "phi4 couplings: a,b,c or start:stop:step" };
  addParams(cmd, specs);
  cmd.addHelpText("after", "\nExamples:\n  irg scan phi4 --L 16,32 --mu2 -1.00:-0.90:0.02 --sweeps 20000 --out-dir scan/\n  irg scan potts --q 3 --L 16,32 --beta 0.99:1.02:0.005 --sweeps 20000 --out-dir potts/\n  irg scan ea --L 4,6,8 --temperatures 1.4,1.3,1.2,1.15,1.1,1.05,1.0 --samples 256 --sweeps 20000 --therm 20000 --every 10 --save-every 0 --out-dir sg/");
  cmd.action(async (modelName: string, raw: Record<string, unknown>) => {
    await h5Ready();
    const d = modelOf(modelName);
    const interrupt = interruptFlag();
    const progress = progressReporter({ quiet: raw.quiet === true, label: `scan ${d.name}`, unit: "sweeps" });
    try {
      const r = await runScan(d.name, raw, {
        shouldStop: interrupt.stop,
        progress: progress.update,
        sizeProgress: (label) => progressReporter({ quiet: raw.quiet === true, label }),
        finished: (res) => process.stdout.write(`${summaryLine(d.name, res)}\n`),
        say: (line) => process.stdout.write(`${line}\n`),
        warn: (line) => process.stderr.write(`irg: WARNING: ${line}\n`),
      });
      progress.stop();
      if (r.complete < r.points) process.exitCode = interrupt.exitCode();
      if (d.disorder) {
        process.stdout.write(`${r.complete} of ${r.points} sizes complete in ${r.dir}; curves and crossings: irg measure ${join(r.dir, `${d.name}_L*.h5`)}\n`);
      } else if (r.runs === 0) {
        process.stdout.write(`all ${r.points} grid points in ${r.dir} are complete (use --force to rerun)\n`);
      } else {
        const stopped = r.runs - r.completed;
        process.stdout.write(`${r.completed} of ${r.runs} runs completed in ${r.dir} (${r.workers} workers)` +
          (stopped > 0 ? `; ${stopped} stopped with checkpoints — rerun the same command to continue\n` : "\n"));
      }
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
