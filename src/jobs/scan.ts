// Scans: a grid of simulations over sizes and couplings run in parallel on all cores, one ensemble per
// (L, coupling), each with its own random stream (seed, task = grid index); or, for models with
// quenched disorder, one parallel-tempering run per size whose ladder covers the temperatures.
// Rerunning the same scan skips finished points and resumes interrupted ones.

import { basename, join } from "node:path";
import { runPool, defaultWorkers, type Job } from "../cluster/pool.js";
import { fileExists, makeDir, readTextFile, writeFileAtomic } from "../io/files.js";
import { partialPath, readEnsembleMeta } from "../io/ensemble.js";
import { h5Ready } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { modelOf } from "../models/registry.js";
import { runJob, WORKER_URL, type SimulateJobParams } from "./registry.js";
import { slurmGrid, slurmOptions, slurmSamples, type SlurmWritten } from "./scan-slurm.js";
import { runSimulation, SIMULATE_SPECS, type SimulateOptions, simulateOptions, type SimulationResult, storedPhysics } from "./simulation.js";

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

/** File name of one grid point. */
export function pointFile(dir: string, model: string, L: number, name: string, value: number): string {
  return join(dir, `${model}_L${L}_${name}${value.toFixed(6)}.h5`);
}

export interface ScanHooks {
  shouldStop?: () => boolean;
  /** Overall progress of a grid scan (sweeps over all its runs). */
  progress?: (done: number, total: number, status?: string) => void;
  /** A size scan: one progress reporter per size (label), stopped when the size ends. */
  sizeProgress?: (label: string) => { update: (done: number, total: number, status?: string) => void; stop: () => void };
  /** A size scan: one size's run has ended (completed or stopped). */
  finished?: (r: SimulationResult) => void;
  /** Lines for the user (stdout) and warnings (stderr). */
  say?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface ScanResult {
  dir: string;
  /** With --slurm: the array script written (and the job id when submitted). Nothing ran here. */
  slurm?: SlurmWritten;
  /** Runs started in this call, and how many of them completed. */
  runs: number;
  completed: number;
  points: number;
  /** Points complete after this call (finished earlier or now). */
  complete: number;
  workers?: number;
}

/**
 * Refuses to reuse or resume a file written with other physics (another --lambda, --seed, --sweeps …):
 * a rerun must not report "complete" for runs that are not the ones asked for.
 */
function sameRun(model: string, file: string, o: SimulateOptions): void {
  const path = fileExists(file) ? file : fileExists(partialPath(file)) ? partialPath(file) : null;
  if (!path) return;
  let stored: Record<string, string | number | boolean>;
  try {
    stored = readEnsembleMeta(path).params;
  } catch {
    return; // unreadable partial: the simulation itself says what to do
  }
  for (const [k, v] of Object.entries(storedPhysics(model, o))) {
    if (stored[k] === undefined) continue;
    const same = typeof v === "number" ? Math.abs(Number(stored[k]) - v) <= 1e-12 * Math.max(1, Math.abs(v)) : String(stored[k]) === String(v);
    if (!same) {
      const flag = SIMULATE_SPECS[k]?.flag.split(" ")[0] ?? k;
      throw new UsageError(`${path} was run with ${flag} ${String(stored[k])}, not ${String(v)}: scan into another --out-dir, or rerun it with --force`);
    }
  }
}

/** The manifest of an earlier scan of the same model in `dir`, if any (another model's is refused). */
function readEarlierManifest(dir: string, model: string): { points: { L: number; value: number; file: string; task: number }[] } | null {
  const path = join(dir, "scan.json");
  if (!fileExists(path)) return null;
  let m: { model?: string; points?: { L: number; value: number; file: string; task: number }[] };
  try {
    m = JSON.parse(readTextFile(path)) as typeof m;
  } catch {
    throw new UsageError(`${path} is not a scan manifest; scan into another --out-dir`);
  }
  if (m.model !== model) throw new UsageError(`${dir} holds a ${String(m.model)} scan; scan ${model} into another --out-dir`);
  return { points: m.points ?? [] };
}

/** The model of `irg scan <model>` as the scan names it, and whether its sizes hold disorder samples. */
export function scanModel(modelName: string): { name: string; disorder: boolean } {
  const d = modelOf(modelName);
  return { name: d.name, disorder: d.disorder === true };
}

/** Runs (or continues) the scan of `model` with raw options (the CLI's, lists for --L and the coupling). */
export async function runScan(modelName: string, raw: Record<string, unknown>, hooks: ScanHooks = {}): Promise<ScanResult> {
  await h5Ready();
  const d = modelOf(modelName);
  if (raw.batch !== undefined && !d.disorder) throw new UsageError(`--batch splits the disorder samples of a --slurm scan; ${d.name} has none`);
  if (raw.batch !== undefined && raw.slurm !== true) throw new UsageError("--batch applies to --slurm scans (a local scan runs each size's samples together on all cores)");
  return d.disorder ? sizeScan(d.name, raw, hooks) : gridScan(d.name, raw, hooks);
}

async function gridScan(model: string, raw: Record<string, unknown>, hooks: ScanHooks): Promise<ScanResult> {
  const coupling = modelOf(model).coupling;
  if (raw.L === undefined) throw new UsageError("--L <list> is required");
  if (raw[coupling] === undefined) throw new UsageError(`--${coupling} <grid> is required`);
  const sizes = parseGrid("--L", String(raw.L));
  const values = parseGrid(`--${coupling}`, String(raw[coupling]));
  const dir = String(raw.outDir);
  const workers = raw.workers === undefined ? defaultWorkers() : Number(raw.workers);
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be a non-negative integer, got ${String(raw.workers)}`);
  const jobs: Job<SimulateJobParams>[] = [];
  const points: { L: number; value: number; file: string; task: number }[] = [];
  const plans: { file: string; options: SimulateOptions }[] = [];
  // Streams are keyed by (seed, task). A fresh scan numbers its grid points 0, 1, …; a scan into a
  // directory with earlier points keeps their tasks and gives new points tasks no earlier point has,
  // so that no two runs of one directory share random numbers.
  const earlier = readEarlierManifest(dir, model);
  const earlierTask = new Map((earlier?.points ?? []).map((p) => [basename(p.file), p.task]));
  let next = Math.max(-1, ...earlierTask.values()) + 1, index = 0;
  for (const L of sizes) {
    for (const value of values) {
      const file = pointFile(dir, model, L, coupling, value);
      const task = earlierTask.get(basename(file)) ?? (earlier ? next++ : index);
      index++;
      const options = simulateOptions(model, { ...raw, workers: undefined, L, [coupling]: value, out: file, task });
      points.push({ L, value, file, task });
      plans.push({ file, options });
      if (raw.force !== true) sameRun(model, file, options);
      const done = fileExists(file) && readEnsembleMeta(file).complete;
      if (done && raw.force !== true) continue;
      const resume = !done && (fileExists(file) || fileExists(partialPath(file)));
      jobs.push({ id: jobs.length, kind: "simulate", params: { model, options, force: raw.force === true, resume } });
    }
  }
  makeDir(dir);
  // Points of earlier scans into this directory stay in the manifest (a new coupling adds to them).
  const known = new Set(points.map((p) => p.file));
  const allPoints = [...(earlier?.points ?? []).filter((p) => !known.has(p.file)), ...points].sort((a, b) => a.L - b.L || a.value - b.value);
  const manifest = {
    model, coupling,
    sizes: [...new Set(allPoints.map((p) => p.L))].sort((a, b) => a - b),
    values: [...new Set(allPoints.map((p) => p.value))].sort((a, b) => a - b),
    seed: Number(raw.seed ?? SIMULATE_SPECS.seed!.default), points: allPoints,
  };
  writeFileAtomic(join(dir, "scan.json"), JSON.stringify(manifest, null, 2));
  if (raw.slurm === true) {
    const todo = jobs.map((j) => plans.findIndex((p) => p.file === j.params.options.out));
    const slurm = slurmGrid(dir, model, plans, todo, slurmOptions(raw));
    return { dir, runs: 0, completed: 0, points: plans.length, complete: plans.length - todo.length, ...(slurm ? { slurm } : {}) };
  }
  if (jobs.length === 0) return { dir, runs: 0, completed: 0, points: points.length, complete: points.length, workers };
  const totals = new Map<number, [number, number]>();
  const results = (await runPool(jobs, {
    workers,
    workerUrl: WORKER_URL,
    shouldStop: hooks.shouldStop,
    onProgress: (id, done, total) => {
      totals.set(id, [done, total]);
      let a = 0, b = 0;
      for (const [x, y] of totals.values()) {
        a += x;
        b += y;
      }
      hooks.progress?.(a, b);
    },
  }, runJob)) as SimulationResult[];
  const completed = results.filter((r) => r.completed).length;
  return { dir, runs: results.length, completed, points: points.length, complete: points.length - jobs.length + completed, workers };
}

/**
 * One parallel-tempering run per size (its ladder covers the temperature range), the sizes one after
 * the other, each on every core (lock-step threads over its samples). Every temperature is stored.
 */
async function sizeScan(model: string, raw: Record<string, unknown>, hooks: ScanHooks): Promise<ScanResult> {
  if (raw.L === undefined) throw new UsageError("--L <list> is required");
  const sizes = parseGrid("--L", String(raw.L));
  const dir = String(raw.outDir);
  const points = sizes.map((L) => {
    const file = join(dir, `${model}_L${L}.h5`);
    return { L, file, options: simulateOptions(model, { ...raw, L, out: file, storeBetas: raw.storeBetas ?? "all" }) };
  });
  makeDir(dir);
  const manifest = { model, sizes, ladder: String(modelOf(model).attributes?.(points[0]!.options).betas ?? ""), seed: points[0]!.options.seed, files: points.map((p) => p.file) };
  writeFileAtomic(join(dir, "scan.json"), JSON.stringify(manifest, null, 2));
  if (raw.slurm === true) {
    const batch = raw.batch === undefined ? undefined : Number(raw.batch);
    const slurm = slurmSamples(dir, model, points, batch, slurmOptions(raw));
    const complete = points.filter((p) => fileExists(p.file) && readEnsembleMeta(p.file).complete).length;
    return { dir, runs: 0, completed: 0, points: points.length, complete, ...(slurm ? { slurm } : {}) };
  }
  let done = 0, runs = 0, completed = 0;
  for (const p of points) {
    const complete = fileExists(p.file) && readEnsembleMeta(p.file).complete;
    if (complete && raw.force !== true) {
      done++;
      continue;
    }
    const resume = !complete && (fileExists(p.file) || fileExists(partialPath(p.file)));
    const progress = hooks.sizeProgress?.(`${model} L=${p.L} (${done + 1}/${points.length})`);
    try {
      runs++;
      const r = await runSimulation(model, p.options, { checkpointEvery: p.options.checkpointEvery, shouldStop: hooks.shouldStop, progress: progress?.update }, resume, raw.force === true);
      progress?.stop();
      hooks.finished?.(r);
      const bad = (r.equilibration ?? []).filter((v) => !v.equilibrated);
      if (r.completed && bad.length === 0) hooks.say?.(`L = ${p.L}: equilibration shown at every stored temperature (log binning, round trips)`);
      if (bad.length > 0) hooks.warn?.(`L = ${p.L}: equilibration NOT shown for ${bad.map((v) => v.file).join(", ")}; run longer before using them`);
      if (!r.completed) {
        hooks.say?.(`scan stopped at L = ${p.L}; rerun the same command to continue`);
        break;
      }
      completed++;
      done++;
    } finally {
      progress?.stop();
    }
  }
  return { dir, runs, completed, points: points.length, complete: done };
}
