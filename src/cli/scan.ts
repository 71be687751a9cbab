// `irg scan <model> --L 16,32 --beta|--mu2 <grid> …`: parses the options and runs the scan job
// (jobs/scan.ts) with a progress bar and Ctrl-C stops; rerunning the same command continues it.

import { type Command } from "commander";
import { join } from "node:path";
import { addParams } from "./params.js";
import { runScan, scanModel } from "../jobs/scan.js";
import { scanTaskCommand, scanTaskIndex } from "../jobs/scan-slurm.js";
import { addSlurmOptions, slurmReadBack } from "./slurm.js";
import { MODELS, SIMULATE_SPECS } from "../jobs/simulation.js";
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
  addSlurmOptions(cmd, {
    tasks: "one task per unfinished grid point (ea: per size, or per --batch of samples) in <out-dir>/scan.sbatch",
    batch: "ea with --slurm: disorder samples per array task (a multiple of 32); --collect joins them into one file per size",
  });
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
    const d = scanModel(modelName);
    if (raw.status === true || raw.collect === true) {
      const dir = String(raw.outDir);
      await slurmReadBack(dir, raw, `irg scan ${d.name} --collect --submit --out-dir ${dir}`,
        `all tasks of ${dir} are complete${d.disorder ? `; curves and crossings: irg measure ${join(dir, `${d.name}_L*.h5`)}` : ""}`);
      return;
    }
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
      if (r.slurm) {
        process.stdout.write(r.slurm.jobId
          ? `submitted job ${r.slurm.jobId}: ${r.slurm.indices.length} array tasks (${r.complete} of ${r.points} points already complete); follow it with squeue -j ${r.slurm.jobId} and irg scan ${d.name} --status --out-dir ${r.dir}\n`
          : `wrote ${r.slurm.script}: ${r.slurm.indices.length} array tasks (${r.complete} of ${r.points} points already complete); submit with: sbatch ${r.slurm.script}\n`);
        return;
      }
      if (r.slurm === undefined && r.runs === 0 && raw.slurm === true) {
        process.stdout.write(`all ${r.points} grid points in ${r.dir} are complete; nothing to submit\n`);
        return;
      }
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

/** `irg scan-task --out-dir d --index k`: what array task k of `irg scan … --slurm` runs. */
export function registerScanTask(program: Command): void {
  program
    .command("scan-task")
    .requiredOption("--out-dir <dir>", "the directory of a scan written with --slurm")
    .requiredOption("--index <k>", "the grid point (SLURM_ARRAY_TASK_ID)")
    .description("run one task of a --slurm array (a grid point, a batch of spin-glass samples or of compatible chains; what each SLURM array task runs); resumes its checkpoint, skips it when complete")
    .action(async (o: { outDir: string; index: string }) => {
      const index = scanTaskIndex(o.index);
      const interrupt = interruptFlag();
      const progress = progressReporter({ quiet: false, label: `scan task ${index}` });
      try {
        const r = await scanTaskCommand(o.outDir, index, { checkpointEvery: 5, shouldStop: interrupt.stop, progress: progress.update, exitCode: interrupt.exitCode });
        progress.stop();
        if (!r) {
          process.stdout.write(`task ${index}: already complete\n`);
          return;
        }
        process.stdout.write(`task ${index}: ${r.completed ? `wrote ${r.out}` : `stopped after ${r.progress}; checkpoint in ${r.out}; resubmit the task to continue`}\n`);
        if (!r.completed) process.exitCode = interrupt.exitCode();
      } finally {
        progress.stop();
        interrupt.dispose();
      }
    });
}

