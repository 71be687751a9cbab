// Work as a SLURM job array. `scan-plan.json` holds every task's validated options, so a task needs
// only its index; its files, checkpoints and resumes are those of a local run. Grid scans get one task
// per grid point; spin-glass scans one task per (size, batch of disorder samples), and compatible Monte
// Carlo one task per batch of chains, the batches joined into the file of one run afterwards (`--collect`). What each task did is read back from its files, its
// exit record and the scheduler's queue (`squeue`), and only the unfinished tasks are resubmitted.

import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { arrayScript, queueStates, submit } from "../cluster/slurm.js";
import { fileExists, makeDir, readTextFile, writeFileAtomic } from "../io/files.js";
import { partialPath, readEnsembleMeta } from "../io/ensemble.js";
import { mergeChainParts } from "../io/merge.js";
import { h5Ready } from "../io/h5.js";
import { exitCodeOf, UsageError } from "../models/params.js";
import { modelOf } from "../models/registry.js";
import { type CompatibleOptions, compatibleFileState, joinCompatibleParts, runCompatible } from "./compatible.js";
import { runSimulation, type SessionOptions, type SimulateOptions, storedPhysics } from "./simulation.js";
import { recordEquilibration } from "./spin-glass.js";

/** What a task runs: a simulation (the default) or a batch of compatible Monte Carlo chains. */
type TaskKind = "simulate" | "compatible";

interface PlanTask {
  kind?: TaskKind;
  /** The task's ensemble, relative to the plan's directory. */
  file: string;
  options: SimulateOptions | CompatibleOptions;
}

/** A run split into batches (spin-glass samples, compatible chains): the tasks whose files are joined into `file`. */
interface PlanJoin {
  kind?: TaskKind;
  file: string;
  options: SimulateOptions | CompatibleOptions;
  tasks: number[];
}

export interface ScanPlan {
  model: string;
  points: PlanTask[];
  joins?: PlanJoin[];
  /** Job ids of the arrays submitted for this plan, oldest first. */
  jobs?: string[];
}

const PLAN = "scan-plan.json";
const SCRIPT = "scan.sbatch";
const TASKS = "tasks";
/** Disorder samples per block of the multi-spin engine: batches of whole blocks keep its streams. */
const SAMPLE_BLOCK = 32;

export interface SlurmOptions {
  throttle?: number;
  time?: string;
  partition?: string;
  account?: string;
  extra: string[];
  submit: boolean;
}

export function slurmOptions(raw: Record<string, unknown>): SlurmOptions {
  const throttle = raw.throttle === undefined ? undefined : Number(raw.throttle);
  if (throttle !== undefined && !(Number.isInteger(throttle) && throttle >= 1)) throw new UsageError(`--throttle must be a positive integer, got ${String(raw.throttle)}`);
  return {
    throttle, time: raw.time as string | undefined, partition: raw.partition as string | undefined, account: raw.account as string | undefined,
    extra: raw.sbatch === undefined ? [] : (Array.isArray(raw.sbatch) ? raw.sbatch : [raw.sbatch]).map(String),
    submit: raw.submit === true,
  };
}

export interface SlurmWritten {
  script: string;
  indices: number[];
  jobId?: string;
}

/** The CLI's entry module, which array tasks run (compiled JS: no TypeScript loader on the nodes). */
const CLI_MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

/** Writes the plan (keeping the job ids of earlier submissions) and, for `todo`, the array script. */
function writePlanAndScript(dir: string, plan: ScanPlan, todo: number[], o: SlurmOptions): SlurmWritten | undefined {
  const earlier = fileExists(join(dir, PLAN)) ? tryReadPlan(dir)?.jobs : undefined;
  plan.jobs = earlier ?? [];
  writeFileAtomic(join(dir, PLAN), JSON.stringify(plan, null, 1));
  if (todo.length === 0) return undefined;
  const absDir = resolve(dir);
  const script = join(dir, SCRIPT);
  writeFileAtomic(script, arrayScript({
    name: `irg-${plan.points[0]?.kind === "compatible" ? "compatible" : `scan-${plan.model}`}`, indices: todo, throttle: o.throttle, time: o.time, partition: o.partition, account: o.account, extra: o.extra,
    log: join(absDir, "slurm-%A_%a.out"),
    command: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_MAIN)} scan-task --out-dir ${JSON.stringify(absDir)} --index "$SLURM_ARRAY_TASK_ID"`,
  }));
  if (!o.submit) return { script, indices: todo };
  let jobId: string;
  try {
    jobId = submit(script);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  plan.jobs.push(jobId);
  writeFileAtomic(join(dir, PLAN), JSON.stringify(plan, null, 1));
  return { script, indices: todo, jobId };
}

/** A grid scan: one task per point; `todo` are the points not yet complete. */
export function slurmGrid(dir: string, model: string, points: { file: string; options: SimulateOptions }[], todo: number[], o: SlurmOptions): SlurmWritten | undefined {
  const plan: ScanPlan = { model, points: points.map((p) => ({ file: basename(p.file), options: { ...p.options, out: basename(p.file) } })) };
  return writePlanAndScript(dir, plan, todo, o);
}

/**
 * A spin-glass scan: every size's samples in batches of `batch` (a multiple of 32, so that the
 * multi-spin engine's block streams are those of one run over all samples), one task per batch, each
 * writing under `parts/`; `--collect` joins them into the files one run per size writes.
 */
export function slurmSamples(dir: string, model: string, sizes: { L: number; file: string; options: SimulateOptions }[], batch: number | undefined, o: SlurmOptions): SlurmWritten | undefined {
  const points: PlanTask[] = [], joins: PlanJoin[] = [];
  for (const s of sizes) {
    const S = s.options.samples!;
    const b = batch ?? S;
    if (!(Number.isInteger(b) && b >= 1)) throw new UsageError(`--batch must be a positive integer, got ${String(batch)}`);
    if (b < S && b % SAMPLE_BLOCK !== 0) throw new UsageError(`--batch must be a multiple of ${SAMPLE_BLOCK} (the engine's sample block), got ${b}`);
    const tasks: number[] = [];
    for (let first = 0; first < S; first += b) {
      const file = b >= S ? basename(s.file) : join("parts", `${basename(s.file, ".h5")}_s${String(first).padStart(6, "0")}.h5`);
      tasks.push(points.length);
      // One thread: the script asks SLURM for one CPU per task (the result does not depend on it).
      points.push({ file, options: { ...s.options, out: file, samples: Math.min(b, S - first), firstSample: first, workers: 1 } });
    }
    joins.push({ file: basename(s.file), options: { ...s.options, out: basename(s.file) }, tasks: tasks.length > 1 ? tasks : [] });
  }
  if (points.length > sizes.length) makeDir(join(dir, "parts"));
  const plan: ScanPlan = { model, points, joins: joins.filter((j) => j.tasks.length > 0) };
  const todo = points.map((_, k) => k).filter((k) => !joinedDone(dir, plan, k) && !fileComplete(join(dir, points[k]!.file)));
  return writePlanAndScript(dir, plan, todo, o);
}

function fileState(file: string, kind: TaskKind = "simulate"): "complete" | "checkpoint" | "not started" | "unreadable" {
  if (kind === "compatible") return compatibleFileState(file);
  const path = fileExists(file) ? file : fileExists(partialPath(file)) ? partialPath(file) : null;
  if (!path) return "not started";
  try {
    return readEnsembleMeta(path).complete ? "complete" : "checkpoint";
  } catch {
    return "unreadable";
  }
}

function fileComplete(file: string, kind?: TaskKind): boolean {
  return fileState(file, kind) === "complete";
}

/** Whether task k's batch is already part of a complete joined file. */
function joinedDone(dir: string, plan: ScanPlan, k: number): boolean {
  const j = plan.joins?.find((x) => x.tasks.includes(k));
  return j !== undefined && fileComplete(join(dir, j.file), j.kind);
}

function tryReadPlan(dir: string): ScanPlan | null {
  try {
    return JSON.parse(readTextFile(join(dir, PLAN))) as ScanPlan;
  } catch {
    return null;
  }
}

export function readPlan(dir: string): ScanPlan {
  const path = join(dir, PLAN);
  if (!fileExists(path)) throw new UsageError(`${dir} holds no SLURM plan (${PLAN}): write one first with the run's command and --slurm`);
  const plan = tryReadPlan(dir);
  if (!plan || !Array.isArray(plan.points)) throw new UsageError(`${path} is not a SLURM plan of irg; write it again with the run's command and --slurm`);
  return plan;
}

export interface TaskOutcome {
  out: string;
  completed: boolean;
  /** How far a stopped task got. */
  progress: string;
}

/** Array task `index`: runs (or resumes, or skips when complete) its grid point or batch. */
export async function runScanTask(dir: string, index: number, session: SessionOptions): Promise<TaskOutcome | null> {
  await h5Ready();
  const plan = readPlan(dir);
  const point = plan.points[index];
  if (!point) throw new UsageError(`--index ${index} is not a task of ${join(dir, PLAN)} (0 … ${plan.points.length - 1})`);
  const file = join(dir, point.file);
  if (fileComplete(file, point.kind) || joinedDone(dir, plan, index)) return null;
  makeDir(dirname(file));
  // A stopped run leaves its file (incomplete), a killed one its partial: either resumes.
  const resume = fileExists(file) || fileExists(partialPath(file));
  if (point.kind === "compatible") {
    const o = point.options as CompatibleOptions;
    const r = await runCompatible({ ...o, out: file, workers: 0 }, { force: false, resume }, { progress: session.progress, shouldStop: session.shouldStop });
    return { out: file, completed: r.completed, progress: `${r.written} of ${o.chains} chains` };
  }
  const r = await runSimulation(plan.model, { ...(point.options as SimulateOptions), out: file }, session, resume, false);
  return { out: file, completed: r.completed, progress: `${r.sweepsDone} of ${r.totalSweeps} sweeps` };
}

/** The --index of `irg scan-task` as given. */
export function scanTaskIndex(text: string): number {
  const index = Number(text);
  if (!Number.isInteger(index) || index < 0) throw new UsageError(`--index must be a non-negative integer, got ${text}`);
  return index;
}

/**
 * `irg scan-task`: runs task `index` and leaves its exit record for --status and --collect (complete,
 * stopped with `exitCode()`, or failed with the code the process will exit with); errors still propagate.
 */
export async function scanTaskCommand(dir: string, index: number, session: SessionOptions & { exitCode: () => number }): Promise<TaskOutcome | null> {
  try {
    const r = await runScanTask(dir, index, session);
    recordTask(dir, !r || r.completed ? { index, exit: 0, state: "complete" } : { index, exit: session.exitCode(), state: "stopped" });
    return r;
  } catch (e) {
    try {
      // The code the process is about to exit with (cli/main.ts fail uses the same rule).
      recordTask(dir, { index, exit: exitCodeOf(e), state: "failed", message: String((e as Error)?.message ?? e).split("\n")[0] });
    } catch {
      /* the directory itself is the problem: the error rethrown says so */
    }
    throw e;
  }
}

/** What a task process reports when it ends: read back by --status and --collect. */
export interface TaskRecord {
  index: number;
  exit: number;
  state: "complete" | "stopped" | "failed";
  message?: string;
  job?: string;
  at: string;
}

export function recordTask(dir: string, rec: Omit<TaskRecord, "at" | "job">): void {
  makeDir(join(dir, TASKS));
  const job = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID ?? rec.index}` : undefined;
  writeFileAtomic(join(dir, TASKS, `${rec.index}.json`), JSON.stringify({ ...rec, ...(job ? { job } : {}), at: new Date().toISOString() }));
}

function readRecord(dir: string, index: number): TaskRecord | null {
  try {
    return JSON.parse(readTextFile(join(dir, TASKS, `${index}.json`))) as TaskRecord;
  } catch {
    return null;
  }
}

export type TaskState = "complete" | "joined" | "running" | "pending" | "failed" | "checkpoint" | "not started" | "unreadable";

export interface PointStatus {
  index: number;
  file: string;
  state: TaskState;
  /** failed: the exit code and message of the task's last run; checkpoint: how it was stopped. */
  detail?: string;
}

export interface ScanStatus {
  points: PointStatus[];
  /** Tasks neither complete nor in the queue: what a resubmission runs. */
  unfinished: number[];
  /** Tasks in the scheduler's queue (pending or running). */
  queued: number[];
  /** Sizes whose sample batches are all complete but not yet joined. */
  joinable: string[];
  script: string;
  /** Why the queue could not be read (no squeue here), if it could not. */
  queueNote?: string;
}

/** Where every task of a SLURM scan stands: from its files and exit record, and from `squeue`. */
export function scanStatus(dir: string, plan: ScanPlan = readPlan(dir)): ScanStatus {
  const queue = plan.jobs?.length ? queueStates(plan.jobs) : { states: new Map<number, string>() };
  const points = plan.points.map((p, index): PointStatus => {
    const file = join(dir, p.file);
    if (joinedDone(dir, plan, index)) return { index, file, state: "joined" };
    const q = queue.states.get(index);
    if (q === "RUNNING" || q === "COMPLETING") return { index, file, state: "running" };
    if (q === "PENDING" || q === "CONFIGURING" || q === "REQUEUED") return { index, file, state: "pending" };
    const rec = readRecord(dir, index);
    const state: TaskState = fileState(file, p.kind);
    if (state !== "complete" && rec?.state === "failed") return { index, file, state: "failed", detail: `exit ${rec.exit}${rec.message ? `: ${rec.message}` : ""}` };
    if (state === "checkpoint") return { index, file, state, detail: rec?.state === "stopped" ? `stopped, exit ${rec.exit}` : "killed (no exit record): resumes from its last checkpoint" };
    return { index, file, state };
  });
  const unfinished = points.filter((p) => !["complete", "joined", "running", "pending"].includes(p.state)).map((p) => p.index);
  const queued = points.filter((p) => p.state === "running" || p.state === "pending").map((p) => p.index);
  const joinable = (plan.joins ?? []).filter((j) => !fileComplete(join(dir, j.file), j.kind) && j.tasks.every((k) => points[k]!.state === "complete")).map((j) => j.file);
  return { points, unfinished, queued, joinable, script: join(dir, SCRIPT), ...(queue.note ? { queueNote: queue.note } : {}) };
}

export interface CollectResult {
  status: ScanStatus;
  /** Files joined from sample batches in this call. */
  joined: string[];
  /** The resubmission of the unfinished tasks (written; submitted with --submit). */
  resubmitted?: SlurmWritten;
  /** Every task complete (and every size joined). */
  done: boolean;
}

/**
 * Reads back a SLURM scan: joins the sizes whose sample batches are complete, and writes (with
 * `o.submit`, submits) an array of only the unfinished tasks that are not queued — killed, stopped,
 * failed or never started; a resubmitted task resumes its checkpoint.
 */
export function collectScan(dir: string, o: SlurmOptions): CollectResult {
  const plan = readPlan(dir);
  let status = scanStatus(dir, plan);
  const joined: string[] = [];
  for (const name of status.joinable) {
    const j = plan.joins!.find((x) => x.file === name)!;
    joinSize(dir, plan.model, j, plan.points);
    joined.push(join(dir, j.file));
  }
  if (joined.length) status = scanStatus(dir, plan);
  const resubmitted = status.unfinished.length ? writePlanAndScript(dir, plan, status.unfinished, o) : undefined;
  const done = status.points.every((p) => p.state === "complete" || p.state === "joined") && status.joinable.length === 0;
  return { status, joined, resubmitted, done };
}

/** Joins one run's batches: compatible chains, or a spin-glass size (every stored temperature, then the verdicts). */
function joinSize(dir: string, model: string, j: PlanJoin, points: PlanTask[]): void {
  if (j.kind === "compatible") {
    joinCompatibleParts(j.tasks.map((k) => join(dir, points[k]!.file)), join(dir, j.file));
    return;
  }
  const d = modelOf(model);
  const outputsOf = (o: SimulateOptions): { path: string; params: Record<string, string | number | boolean> }[] => {
    const params = { ...storedPhysics(model, o), ...d.attributes?.(o) };
    return d.outputs?.(o, params) ?? [{ path: o.out, params }];
  };
  const target = outputsOf({ ...(j.options as SimulateOptions), out: join(dir, j.file) });
  const parts = j.tasks.map((k) => outputsOf({ ...(points[k]!.options as SimulateOptions), out: join(dir, points[k]!.file) }));
  const same = Object.keys(storedPhysics(model, j.options as SimulateOptions)).filter((k) => k !== "samples" && k !== "firstSample");
  target.forEach((t, n) => mergeChainParts(parts.map((p) => p[n]!.path), t.path, t.params, same));
  for (const t of target) recordEquilibration(t.path, target.length);
}

/** What --status (where every task stands) or --collect (join what is done, resubmit the rest) of a --slurm run finds. */
export type ReadBack = { status: ScanStatus } | { collected: CollectResult };

export async function readBackSlurm(dir: string, raw: Record<string, unknown>): Promise<ReadBack> {
  await h5Ready();
  return raw.status === true ? { status: scanStatus(dir) } : { collected: collectScan(dir, slurmOptions(raw)) };
}

/** The plan directory of `irg compatible --status|--collect`, from its --out. */
export function compatibleReadBackDir(raw: Record<string, unknown>): string {
  if (typeof raw.out !== "string") throw new UsageError("--status and --collect need --out <file.h5>, the output of the --slurm run");
  return compatiblePlanDir(raw.out);
}

/** `irg compatible --slurm`: the array written (and with --submit submitted); --batch as given (default 16). */
export async function compatibleSlurmCommand(o: CompatibleOptions, raw: Record<string, unknown>): Promise<ReturnType<typeof slurmCompatible>> {
  if (raw.resume === true || raw.force === true) throw new UsageError("--slurm writes a new array (its tasks resume by themselves); drop --resume/--force, or continue it with --collect");
  await h5Ready();
  return slurmCompatible(o, raw.batch === undefined ? 16 : Number(raw.batch), slurmOptions(raw));
}

/** Where `irg compatible --out <file> --slurm` keeps its plan, script, task records and parts. */
export function compatiblePlanDir(out: string): string {
  return `${out}.slurm`;
}

/**
 * Compatible Monte Carlo as an array: chains in batches of `batch`, one task each (every chain's streams
 * come from its index, so the joined file equals one run's); `--collect` joins them into `o.out`.
 */
export function slurmCompatible(o: CompatibleOptions, batch: number, so: SlurmOptions): { dir: string; written?: SlurmWritten; tasks: number } {
  if (!(Number.isInteger(batch) && batch >= 1)) throw new UsageError(`--batch must be a positive integer, got ${String(batch)}`);
  if ((o.firstChain ?? 0) !== 0) throw new UsageError("--first-chain is chosen per task by --slurm; leave it out");
  const dir = compatiblePlanDir(o.out);
  makeDir(join(dir, "parts"));
  const stem = basename(o.out, ".h5");
  const points: PlanTask[] = [];
  for (let first = 0; first < o.chains; first += batch) {
    const file = join("parts", `${stem}_c${String(first).padStart(7, "0")}.h5`);
    points.push({ kind: "compatible", file, options: { ...o, out: file, chains: Math.min(batch, o.chains - first), firstChain: first, workers: 0 } });
  }
  const plan: ScanPlan = { model: "ising", points, joins: [{ kind: "compatible", file: join("..", basename(o.out)), options: { ...o, out: basename(o.out) }, tasks: points.map((_, k) => k) }] };
  const todo = points.map((_, k) => k).filter((k) => !joinedDone(dir, plan, k) && !fileComplete(join(dir, points[k]!.file), "compatible"));
  return { dir, tasks: points.length, written: writePlanAndScript(dir, plan, todo, so) };
}
