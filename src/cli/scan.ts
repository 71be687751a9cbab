// `irg scan ising|phi4 --L 16,32 --mu2 -1.0:-0.9:0.01 …`: a grid of simulations run in parallel on
// all cores, one ensemble per (L, coupling), each with its own random stream (seed, task = grid index).
// Rerunning the same command skips finished points and resumes interrupted ones.

import { type Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import { writeFileAtomic } from "../io/files.js";
import { join } from "node:path";
import { runPool, defaultWorkers, type Job } from "../cluster/pool.js";
import { h5Ready } from "../io/h5.js";
import { partialPath, readEnsembleMeta } from "../io/ensemble.js";
import { UsageError } from "../models/params.js";
import { addParams } from "./params.js";
import { runJob, WORKER_URL, type SimulateJobParams } from "../jobs/registry.js";
import { MODELS, runSimulation, SIMULATE_SPECS, simulateOptions, type SimulationResult } from "../jobs/simulation.js";
import { eaLadder } from "../models/ea-model.js";
import { modelOf } from "../models/registry.js";
import { progressReporter } from "./progress.js";
import { interruptFlag, summaryLine } from "./simulate.js";

/** Parses "a:b:step" (inclusive, rounded to the step's decimals) or "x,y,z". */
export function parseGrid(flag: string, text: string): number[] {
  const bad = (): never => {
    throw new UsageError(`${flag} must be a list "a,b,c" or a range "start:stop:step", got "${text}"`);
  };
  if (text.includes(":")) {
    const parts = text.split(":").map(Number);
    if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) bad();
    const [a, b, step] = parts as [number, number, number];
    if (step === 0 || Math.sign(b - a) * Math.sign(step) < 0) bad();
    const decimals = (String(step).split(".")[1] ?? "").length;
    const n = Math.floor((b - a) / step + 1e-9);
    if (n > 10000) throw new UsageError(`${flag} range has more than 10000 points`);
    return Array.from({ length: n + 1 }, (_, k) => Number((a + k * step).toFixed(decimals + 6)));
  }
  const vals = text.split(",").map((s) => Number(s.trim()));
  if (vals.length === 0 || vals.some((v) => !Number.isFinite(v))) bad();
  return vals;
}

/**
 * `irg scan ea --L 4,6,8 --temperatures … --store-betas all --samples n --out-dir d`: one parallel-tempering
 * run per size (its ladder covers the temperature range), the sizes one after the other, each on every
 * core (lock-step threads over its samples). Rerunning the command skips finished sizes and resumes the
 * interrupted one; `irg measure d/ea_L*.h5` then gives the curves against T and the crossings.
 */
async function scanEa(raw: Record<string, unknown>): Promise<void> {
  if (raw.L === undefined) throw new UsageError("--L <list> is required");
  const sizes = parseGrid("--L", String(raw.L));
  const dir = String(raw.outDir);
  const points = sizes.map((L) => {
    const file = join(dir, `ea_L${L}.h5`);
    return { L, file, options: simulateOptions("ea", { ...raw, L, out: file, storeBetas: raw.storeBetas ?? "all" }) };
  });
  mkdirSync(dir, { recursive: true });
  const manifest = { model: "ea", sizes, ladder: eaLadder(points[0]!.options).betas.join(","), seed: points[0]!.options.seed, files: points.map((p) => p.file) };
  writeFileAtomic(join(dir, "scan.json"), JSON.stringify(manifest, null, 2));
  const interrupt = interruptFlag();
  let done = 0;
  try {
    for (const p of points) {
      const complete = existsSync(p.file) && readEnsembleMeta(p.file).complete;
      if (complete && raw.force !== true) {
        done++;
        continue;
      }
      const resume = !complete && (existsSync(p.file) || existsSync(partialPath(p.file)));
      const progress = progressReporter({ quiet: raw.quiet === true, label: `ea L=${p.L} (${done + 1}/${points.length})` });
      try {
        const r = await runSimulation("ea", p.options, { checkpointEvery: p.options.checkpointEvery, shouldStop: interrupt.stop, progress: progress.update }, resume, raw.force === true);
        progress.stop();
        process.stdout.write(`${summaryLine("ea", r)}\n`);
        const bad = (r.equilibration ?? []).filter((v) => !v.equilibrated);
        process.stdout.write(bad.length === 0 ? `L = ${p.L}: equilibration shown at every stored temperature (log binning, round trips)\n` : "");
        if (bad.length > 0) process.stderr.write(`irg: WARNING: L = ${p.L}: equilibration NOT shown for ${bad.map((v) => v.file).join(", ")}; run longer before using them\n`);
        if (!r.completed) {
          process.stdout.write(`scan stopped at L = ${p.L}; rerun the same command to continue\n`);
          return;
        }
        done++;
      } finally {
        progress.stop();
      }
    }
    process.stdout.write(`${done} of ${points.length} sizes complete in ${dir}; curves and crossings: irg measure ${join(dir, "ea_L*.h5")}\n`);
  } finally {
    interrupt.dispose();
  }
}

/** File name of one grid point. */
export function pointFile(dir: string, model: string, L: number, name: string, value: number): string {
  return join(dir, `${model}_L${L}_${name}${value.toFixed(6)}.h5`);
}

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
    if (d.disorder) {
      await scanEa(raw);
      return;
    }
    const model = d.name;
    const coupling = d.coupling;
    if (raw.L === undefined) throw new UsageError("--L <list> is required");
    if (raw[coupling] === undefined) throw new UsageError(`--${coupling} <grid> is required`);
    const sizes = parseGrid("--L", String(raw.L));
    const values = parseGrid(`--${coupling}`, String(raw[coupling]));
    const dir = String(raw.outDir);
    mkdirSync(dir, { recursive: true });
    const workers = raw.workers === undefined ? defaultWorkers() : Number(raw.workers);
    if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be a non-negative integer, got ${String(raw.workers)}`);
    const jobs: Job<SimulateJobParams>[] = [];
    const points: { L: number; value: number; file: string; task: number }[] = [];
    let task = 0;
    for (const L of sizes) {
      for (const value of values) {
        const file = pointFile(dir, model, L, coupling, value);
        const options = simulateOptions(model, { ...raw, workers: undefined, L, [coupling]: value, out: file, task });
        points.push({ L, value, file, task });
        task++;
        const done = existsSync(file) && readEnsembleMeta(file).complete;
        if (done && raw.force !== true) continue;
        const resume = !done && (existsSync(file) || existsSync(partialPath(file)));
        jobs.push({ id: jobs.length, kind: "simulate", params: { model, options, force: raw.force === true, resume } });
      }
    }
    const manifest = { model, coupling, sizes, values, seed: Number(raw.seed ?? SIMULATE_SPECS.seed!.default), points };
    writeFileAtomic(join(dir, "scan.json"), JSON.stringify(manifest, null, 2));
    if (jobs.length === 0) {
      process.stdout.write(`all ${points.length} grid points in ${dir} are complete (use --force to rerun)\n`);
      return;
    }
    const totals = new Map<number, [number, number]>();
    const progress = progressReporter({ quiet: raw.quiet === true, label: `scan ${jobs.length} runs`, unit: "sweeps" });
    const interrupt = interruptFlag();
    try {
      const results = (await runPool(jobs, {
        workers,
        workerUrl: WORKER_URL,
        shouldStop: interrupt.stop,
        onProgress: (id, done, total) => {
          totals.set(id, [done, total]);
          let d = 0, t = 0;
          for (const [a, b] of totals.values()) {
            d += a;
            t += b;
          }
          progress.update(d, t);
        },
      }, runJob)) as SimulationResult[];
      progress.stop();
      const stopped = results.filter((r) => !r.completed).length;
      process.stdout.write(`${results.length - stopped} of ${jobs.length} runs completed in ${dir} (${workers} workers)` +
        (stopped > 0 ? `; ${stopped} stopped with checkpoints — rerun the same command to continue\n` : "\n"));
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
