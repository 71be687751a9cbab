// A simulation job: validated parameters → sampler → run loop → HDF5 ensemble, with stops that
// checkpoint and resumes that continue bit-for-bit. The CLI and the worker pool both run it.

import { fileExists } from "../io/files.js";
import { rngFor } from "../lattice/rng.js";
import { type Chains } from "../mc/chains.js";
import { type Checkpoint, checkPlan, plannedMeasurements, runChains, type RunPlan } from "../mc/run.js";
import { z } from "zod";
import { createEnsemble, type EnsembleWriter, fanOutWriter, hasCheckpoint, partialPath, readEnsembleMeta, resumeEnsemble, type EnsembleMeta } from "../io/ensemble.js";
import { H5Error, h5Ready } from "../io/h5.js";
import { int, integerKeys, num, oneOf, paramsError, physicsParams, specsObject, UsageError, type ParamSpecs } from "../models/params.js";
import { type Config, type ModelDescriptor, type SimulateOptions } from "../models/model.js";
import { modelOf, MODEL_NAMES, MODELS as MODEL_DESCRIPTORS, unionParams } from "../models/registry.js";
import { SOFTWARE } from "../version.js";
import { type Backend, BACKENDS, cpuBackend, GpuError } from "../mc/backend.js";
import { checkBackend, placeRun } from "./backend.js";
import { type EquilibrationVerdict, recordEquilibration } from "./spin-glass.js";

export { type SimulateOptions } from "../models/model.js";
/** Every model `irg simulate` runs. */
export const MODELS = MODEL_NAMES;

/** The options every model takes: size, plan, seed and output. */
export const RUN_SPECS: ParamSpecs = {
  L: { flag: "--L <n>", description: "linear lattice size (even, >= 2)", schema: int(2, 65536), physics: true },
  sweeps: { flag: "--sweeps <n>", description: "measurement sweeps after thermalisation", schema: int(1), default: 1000, physics: true },
  therm: { flag: "--therm <n>", description: "thermalisation sweeps", schema: int(0), default: 200, physics: true },
  every: { flag: "--every <n>", description: "measure every n sweeps", schema: int(1), default: 1, physics: true },
  saveEvery: { flag: "--save-every <k>", description: "store the configuration of every k-th measurement (0: none)", schema: int(0), default: 1, physics: true },
  seed: { flag: "--seed <s>", description: "random seed (non-negative integer)", schema: int(0), default: 1, physics: true },
  task: { flag: "--task <t>", description: "random-stream task index (scans give every grid point its own)", schema: int(0), default: 0, physics: true },
  out: { flag: "--out <file.h5>", description: "output ensemble (HDF5)", schema: z.string().min(1, { message: "must not be empty" }) },
  maxTime: { flag: "--max-time <minutes>", description: "stop (with a checkpoint) after this many minutes", schema: num({ positive: true }) },
  checkpointEvery: { flag: "--checkpoint-every <minutes>", description: "minutes between checkpoints", schema: num({ positive: true }), default: 5 },
  backend: { flag: "--backend <name>", description: "cpu|gpu|auto: where kernels with a GPU version run (ising metropolis/heatbath, ea multispin; see irg models); auto takes a hardware GPU where one is found; cpu is the default so that a seed gives the same chain on every machine", schema: oneOf(BACKENDS), default: "cpu" },
};

/**
 * The stored parameters that say how a Monte Carlo run sampled rather than what it sampled: a blocked or
 * generated ensemble did not run them and keeps its parent's as parent_<key>.
 */
export const SAMPLING_KEYS: readonly string[] = [...Object.keys(RUN_SPECS).filter((k) => RUN_SPECS[k]!.physics), "algorithm", "start", "backend"];

/** Every flag of `irg simulate`: the run's, then each model's (a shared flag listed once). */
export const SIMULATE_SPECS: ParamSpecs = { L: RUN_SPECS.L!, ...unionParams(), ...RUN_SPECS };

/** The specs of one model's simulation (its own parameters and the run's). */
function specsOf(d: ModelDescriptor): ParamSpecs {
  return { ...RUN_SPECS, ...d.params };
}

/**
 * Every model's simulation parameters as one zod discriminated union on "model": each member is the
 * run's flags and that model's own, with their defaults, and refuses every other key.
 */
export const SIMULATION_SCHEMA = z.discriminatedUnion("model", MODEL_DESCRIPTORS.map((d) => specsObject(specsOf(d)).extend({ model: z.literal(d.name) })) as never);

/** Validates the options of one model; returns them with model defaults applied. */
export function simulateOptions(model: string, raw: Record<string, unknown>): SimulateOptions {
  const d = modelOf(model);
  for (const [k, spec] of Object.entries(SIMULATE_SPECS)) {
    if (raw[k] !== undefined && !(k in RUN_SPECS) && !(k in d.params)) throw new UsageError(`${spec.flag.split(" ")[0]} does not apply to ${d.name}`);
  }
  const given = Object.fromEntries(Object.entries(raw).filter(([k, v]) => v !== undefined && k in SIMULATE_SPECS));
  const parsed = SIMULATION_SCHEMA.safeParse({ ...given, model: d.name });
  if (!parsed.success) throw paramsError(parsed.error, SIMULATE_SPECS, given);
  const { model: _model, ...o } = parsed.data as SimulateOptions & { model: string };
  if (o.out === undefined) throw new UsageError("--out <file.h5> is required");
  if (o.L === undefined) throw new UsageError("--L <n> is required");
  if (o.L % 2 !== 0) throw new UsageError(`--L must be even (checkerboard updates and b = 2 blocks), got ${o.L}`);
  d.complete(o);
  checkBackend(d, o);
  if (!d.dims.includes(o.dim)) throw new UsageError(`${d.name} is simulated in ${d.dims.join(" or ")} dimensions, not --dim ${o.dim}`);
  if (o.L ** o.dim > 2 ** 30) throw new UsageError(`--L ${o.L} in ${o.dim}D has more than 2^30 sites`);
  try {
    checkPlan(planOf(o));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return o;
}

function planOf(o: SimulateOptions): RunPlan {
  return { therm: o.therm, sweeps: o.sweeps, every: o.every, saveEvery: o.saveEvery };
}

/** The chains of a run (stream key (seed, task, replica 0) for single-stream models). */
export function makeChains(model: string, o: SimulateOptions, backend: Backend = cpuBackend): Chains<Config> | Promise<Chains<Config>> {
  return modelOf(model).chains(o, rngFor({ seed: o.seed, task: o.task ?? 0, replica: 0 }), backend);
}

/** The physics parameters a run with these options stores as attributes (its own and the run's). */
export function storedPhysics(model: string, o: SimulateOptions): Record<string, string | number | boolean> {
  return physicsParams(specsOf(modelOf(model)), o as never);
}

export function metaOf(model: string, o: SimulateOptions, chains: Chains<Config>): EnsembleMeta {
  const d = modelOf(model);
  const params = physicsParams(specsOf(d), o as never);
  return {
    model: d.name,
    dim: o.dim,
    L: o.L,
    chains: d.fileChains?.(o) ?? chains.chains,
    observables: [...chains.observables],
    configDtype: d.configDtype,
    // Where the run ran (resolved from --backend): it fixes the random numbers, so resumes keep it.
    params: { ...params, backend: o.backend === "gpu" ? "gpu" : "cpu", ...d.attributes?.(o) },
    integers: [...integerKeys(specsOf(d)), ...(d.integerAttributes ?? [])],
    ...(d.attributeArrays ? { arrays: d.attributeArrays(o) } : {}),
    software: SOFTWARE,
  };
}

export interface SessionOptions {
  maxTime?: number;
  checkpointEvery: number;
  stopAfter?: number;
  /** Polled between sweeps; true stops the run with a checkpoint (Ctrl-C, a pool's stop message). */
  shouldStop?: () => boolean;
  progress?: (done: number, total: number, status?: string) => void;
  /** One-line notices (where the run's kernels run). */
  notice?: (line: string) => void;
}

export interface SimulationResult {
  out: string;
  completed: boolean;
  sweepsDone: number;
  totalSweeps: number;
  measurements: number;
  configurations: number;
  seconds: number;
  /** Lines the model adds to the summary (ea: acceptance rates and round trips of parallel tempering). */
  notes?: string[];
  /** Every file written when there is more than one (ea --store-betas). */
  files?: string[];
  /** ea, completed runs: the equilibration verdict of every file (also stored in it). */
  equilibration?: (EquilibrationVerdict & { file: string })[];
}

/** Runs (or resumes) a simulation to completion or to a stop. */
export async function runSimulation(model: string, o: SimulateOptions, session: SessionOptions, resume: boolean, force: boolean): Promise<SimulationResult> {
  await h5Ready();
  const d = modelOf(model);
  if (resume && !fileExists(o.out) && !hasCheckpoint(partialPath(o.out))) {
    // Killed before its first checkpoint: nothing was lost but the start, so the run starts again.
    resume = false;
    force = true;
  }
  const backend = await placeRun(d, o, resume, session.notice ?? (() => {}));
  try {
    const chains = await makeChains(model, o, backend);
    try {
      return await runWith(d, o, chains, session, resume, force);
    } finally {
      await chains.dispose?.();
    }
  } finally {
    backend.close();
  }
}

/**
 * Runs given chains (built by another job, e.g. the exact multilevel chain) through the same run loop,
 * ensemble writer, checkpoints and resume as a simulation; `extra` adds attributes (integers listed in
 * `extraIntegers`).
 */
export async function runChainsToEnsemble(model: string, o: SimulateOptions, chains: Chains<Config>, session: SessionOptions, resume: boolean, force: boolean, extra: { params: Record<string, string | number>; integers: string[] }): Promise<SimulationResult> {
  return runWith(modelOf(model), o, chains, session, resume, force, extra);
}

async function runWith(d: ModelDescriptor, o: SimulateOptions, chains: Chains<Config>, session: SessionOptions, resume: boolean, force: boolean, extra?: { params: Record<string, string | number>; integers: string[] }): Promise<SimulationResult> {
  const base = metaOf(d.name, o, chains);
  const meta = extra ? { ...base, params: { ...base.params, ...extra.params }, integers: [...(base.integers ?? []), ...extra.integers] } : base;
  const plan = planOf(o);
  const open = (path: string, m: EnsembleMeta): { writer: EnsembleWriter; checkpoint?: Checkpoint } =>
    resume ? resumeEnsemble(path, m, plannedMeasurements(plan)) : { writer: createEnsemble(path, m, { force }) };
  let writer: EnsembleWriter, checkpoint: Checkpoint | undefined;
  const outputs = d.outputs?.(o, meta.params) ?? [{ path: o.out, params: meta.params }];
  if (outputs.length > 1) {
    // One file per output (the spin glass: per stored temperature), each a complete ensemble.
    const opened: EnsembleWriter[] = [];
    try {
      for (const f of outputs) {
        const r = open(f.path, { ...meta, params: f.params });
        opened.push(r.writer);
        checkpoint ??= r.checkpoint;
      }
    } catch (e) {
      opened.forEach((w) => w.abort());
      throw e;
    }
    writer = fanOutWriter(opened, meta.chains);
  } else {
    ({ writer, checkpoint } = open(o.out, meta));
  }
  const deadline = session.maxTime !== undefined ? performance.now() + session.maxTime * 60000 : Infinity;
  const t0 = performance.now();
  // The model's status (spin glass: the fewest round trips), refreshed at most once a second.
  let statusText: string | undefined, statusAt = -Infinity;
  const status = (): string | undefined => {
    if (!d.status || performance.now() - statusAt < 1000) return statusText;
    statusAt = performance.now();
    statusText = d.status(chains);
    return statusText;
  };
  try {
    const V = o.L ** o.dim;
    const makeConfig = (): Config => (d.configDtype === "float32" ? new Float32Array(V) : new Int8Array(V));
    const res = await runChains(chains, plan, writer, makeConfig, {
      shouldStop: () => (session.shouldStop?.() ?? false) || performance.now() > deadline,
      progress: session.progress ? (pos, total) => session.progress!(pos.sweepsDone, total, status()) : undefined,
      checkpointSeconds: session.checkpointEvery * 60,
      stopAfter: session.stopAfter,
    }, checkpoint);
    writer.close({ completed: res.completed });
    const files = outputs.map((f) => f.path);
    const equilibration = d.disorder && res.completed ? files.map((file) => ({ file, ...recordEquilibration(file, files.length) })) : undefined;
    return {
      ...(equilibration ? { equilibration } : {}),
      out: o.out,
      completed: res.completed,
      sweepsDone: res.sweepsDone,
      totalSweeps: plan.therm + plan.sweeps,
      measurements: res.measurements,
      configurations: res.saved * chains.chains,
      ...(outputs.length > 1 ? { files } : {}),
      seconds: (performance.now() - t0) / 1000,
      ...(d.notes ? { notes: d.notes(chains) } : {}),
    };
  } catch (e) {
    if (e instanceof H5Error && e.diskFull) {
      // The checkpoints written before the disk filled up stand: keep them for --resume.
      writer.abort({ keepCheckpoint: true });
      const kept = fileExists(partialPath(o.out)) ? `the last checkpoint is kept in ${partialPath(o.out)}: free space, then continue with irg simulate ${d.name} --resume --out ${o.out}` : "no checkpoint had been written: free space and start the run again";
      throw new H5Error(`${e.message}; ${kept}`, { file: e.file, diskFull: true });
    }
    if (e instanceof GpuError) {
      // The device failed, not the run: the last checkpoint is as good as ever.
      writer.abort({ keepCheckpoint: true });
      throw new GpuError(`${e.message}; the last checkpoint is kept: continue with irg simulate ${d.name} --resume --out ${o.out}`);
    }
    writer.abort();
    throw e;
  }
}

/** The options of `irg simulate`: a new run's from the flags, or with --resume the stored run's (read from --out). */
export async function simulateCommandOptions(model: string, raw: Record<string, unknown>): Promise<SimulateOptions> {
  if (raw.resume !== true) return simulateOptions(model, raw);
  if (typeof raw.out !== "string") throw new UsageError("--resume needs --out <file.h5> naming the ensemble to continue");
  await h5Ready();
  return resumedOptions(model, raw);
}

/**
 * The simulation flags a file's stored parameters stand for, at size `L` and with the session flags
 * `extra`: flags the model does not take are dropped (--dim for φ⁴, keys older files stored for every
 * model), and the model adjusts the rest (the spin glass keeps its ladder as it ran).
 */
export function storedRunFlags(d: ModelDescriptor, meta: EnsembleMeta, L: number, extra: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...meta.params, L, dim: meta.dim, ...extra };
  for (const k of Object.keys(merged)) if (!(k in RUN_SPECS) && !(k in d.params) && SIMULATE_SPECS[k]) delete merged[k];
  d.resumeParams?.(merged);
  return merged;
}

/** On resume the physics comes from the file; only --sweeps (to extend) and session options may be given. */
export function resumedOptions(model: string, raw: Record<string, unknown>): SimulateOptions {
  const out = String(raw.out), partial = partialPath(out);
  // A run killed hard (SIGKILL, a node failure) leaves only <out>.partial: resume from it under the final name.
  const fromPartial = !fileExists(out) && fileExists(partial);
  let meta: ReturnType<typeof readEnsembleMeta>;
  try {
    meta = readEnsembleMeta(fromPartial ? partial : out);
  } catch (e) {
    if (fromPartial) throw new UsageError(`${partial} cannot be read: the run was killed before its first checkpoint, so there is nothing to resume; start it again with --force`);
    throw e;
  }
  if (meta.model !== model) throw new UsageError(`${raw.out} holds a ${meta.model} ensemble, not ${model}`);
  if (typeof meta.params.origin === "string") throw new UsageError(`${raw.out} is a ${meta.params.origin} ensemble (from ${String(meta.params.parent)}), not a simulation; only simulations resume: make it again with --force`);
  if (typeof meta.params.main_file === "string") throw new UsageError(`${raw.out} is one temperature of a run stored with --store-betas; resume the run through its main file ${meta.params.main_file}`);
  const allowed = new Set(["out", "sweeps", "maxTime", "checkpointEvery", "resume", "quiet", "stopAfter", "force", "kernel", "workers"]);
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined && !allowed.has(k) && SIMULATE_SPECS[k] && v !== SIMULATE_SPECS[k]!.default) {
      throw new UsageError(`--resume takes the parameters from ${raw.out}; drop ${SIMULATE_SPECS[k]!.flag.split(" ")[0]}`);
    }
  }
  // Files from before --backend ran on the CPU.
  meta.params.backend ??= "cpu";
  const merged = storedRunFlags(modelOf(model), meta, meta.L, { out: raw.out, maxTime: raw.maxTime, checkpointEvery: raw.checkpointEvery, kernel: raw.kernel, workers: raw.workers });
  if (raw.sweeps !== undefined && raw.sweeps !== SIMULATE_SPECS.sweeps!.default) merged.sweeps = raw.sweeps;
  const o = simulateOptions(model, merged);
  if (o.sweeps < Number(meta.params.sweeps)) throw new UsageError(`--sweeps ${o.sweeps} is fewer than the ${meta.params.sweeps} already planned`);
  return o;
}
