// A simulation job: validated parameters → sampler → run loop → HDF5 ensemble, with stops that
// checkpoint and resumes that continue bit-for-bit. The CLI and the worker pool both run it.

import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { BETA_C_2D } from "../models/ising.js";
import { PHI4_DEFAULTS } from "../models/phi4.js";
import { type Chains } from "../mc/chains.js";
import { ISING_ALGORITHMS, makeIsingSampler } from "../mc/ising-samplers.js";
import { makePhi4Sampler, PHI4_ALGORITHMS } from "../mc/phi4-samplers.js";
import { checkPlan, plannedMeasurements, runChains, type RunPlan } from "../mc/run.js";
import { z } from "zod";
import { h5Ready } from "../io/h5.js";
import { createEnsemble, readEnsembleMeta, resumeEnsemble, type EnsembleMeta } from "../io/ensemble.js";
import { int, num, oneOf, parseParams, physicsParams, UsageError, type ParamSpecs } from "./params.js";
import { SOFTWARE } from "../version.js";

export const MODELS = ["ising", "phi4"] as const;
export type Model = (typeof MODELS)[number];

/** Parameters of every model; `models` lists which models accept each one. */
export const SIMULATE_SPECS: ParamSpecs = {
  dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3 (ising)", schema: int(2, 3), physics: true },
  L: { flag: "--L <n>", description: "linear lattice size (even, >= 2)", schema: int(2, 65536), physics: true },
  beta: { flag: "--beta <b>", description: `inverse temperature (ising; 2D critical: ${BETA_C_2D.toFixed(10)})`, schema: num({ positive: true }), physics: true },
  mu2: { flag: "--mu2 <m>", description: "bare mass squared mu^2 (phi4; critical near -0.95)", schema: num(), physics: true },
  lambda: { flag: "--lambda <l>", description: `quartic coupling (phi4, default ${PHI4_DEFAULTS.lambda})`, schema: num(), physics: true },
  kappa: { flag: "--kappa <k>", description: `hopping parameter (phi4, default ${PHI4_DEFAULTS.kappa})`, schema: num(), physics: true },
  algorithm: { flag: "--algorithm <name>", description: `ising: ${ISING_ALGORITHMS.join("|")} (default wolff); phi4: ${PHI4_ALGORITHMS.join("|")} (default cluster)`, schema: oneOf([...ISING_ALGORITHMS, ...PHI4_ALGORITHMS]), physics: true },
  sweeps: { flag: "--sweeps <n>", description: "measurement sweeps after thermalisation", schema: int(1), default: 1000, physics: true },
  therm: { flag: "--therm <n>", description: "thermalisation sweeps", schema: int(0), default: 200, physics: true },
  every: { flag: "--every <n>", description: "measure every n sweeps", schema: int(1), default: 1, physics: true },
  saveEvery: { flag: "--save-every <k>", description: "store the configuration of every k-th measurement (0: none)", schema: int(0), default: 1, physics: true },
  start: { flag: "--start <hot|cold>", description: "initial state (ising): random spins or all +1", schema: oneOf(["hot", "cold"] as const), physics: true },
  seed: { flag: "--seed <s>", description: "random seed (non-negative integer)", schema: int(0), default: 1, physics: true },
  task: { flag: "--task <t>", description: "random-stream task index (scans give every grid point its own)", schema: int(0), default: 0, physics: true },
  out: { flag: "--out <file.h5>", description: "output ensemble (HDF5)", schema: z.string().min(1, { message: "must not be empty" }) },
  maxTime: { flag: "--max-time <minutes>", description: "stop (with a checkpoint) after this many minutes", schema: num({ positive: true }) },
  checkpointEvery: { flag: "--checkpoint-every <minutes>", description: "minutes between checkpoints", schema: num({ positive: true }), default: 5 },
};

const MODEL_PARAMS: Record<Model, string[]> = {
  ising: ["dim", "beta", "start"],
  phi4: ["mu2", "lambda", "kappa"],
};

export interface SimulateOptions {
  dim: number;
  L: number;
  beta?: number;
  mu2?: number;
  lambda?: number;
  kappa?: number;
  algorithm: string;
  start?: "hot" | "cold";
  sweeps: number;
  therm: number;
  every: number;
  saveEvery: number;
  seed: number;
  task: number;
  out: string;
  maxTime?: number;
  checkpointEvery: number;
}

/** Validates the options of one model; returns them with model defaults applied. */
export function simulateOptions(model: string, raw: Record<string, unknown>): SimulateOptions {
  if (!(MODELS as readonly string[]).includes(model)) throw new UsageError(`unknown model "${model}"; choose one of ${MODELS.join(", ")}`);
  const m = model as Model;
  for (const [other, keys] of Object.entries(MODEL_PARAMS)) {
    if (other === m) continue;
    for (const k of keys) {
      if (raw[k] !== undefined && !MODEL_PARAMS[m].includes(k)) throw new UsageError(`${SIMULATE_SPECS[k]!.flag.split(" ")[0]} does not apply to ${m}`);
    }
  }
  const o = parseParams<SimulateOptions>(SIMULATE_SPECS, raw);
  if (o.out === undefined) throw new UsageError("--out <file.h5> is required");
  if (o.L === undefined) throw new UsageError("--L <n> is required");
  if (o.L % 2 !== 0) throw new UsageError(`--L must be even (checkerboard updates and b = 2 blocks), got ${o.L}`);
  if (m === "ising") {
    o.dim ??= 2;
    if (o.beta === undefined) throw new UsageError(`--beta <b> is required for ising (2D critical point: ${BETA_C_2D})`);
    o.algorithm ??= "wolff";
    o.start ??= "hot";
    if (!(ISING_ALGORITHMS as readonly string[]).includes(o.algorithm)) {
      throw new UsageError(`--algorithm ${o.algorithm} is not an ising algorithm; choose one of ${ISING_ALGORITHMS.join(", ")}`);
    }
  } else {
    if (o.dim !== undefined && o.dim !== 2) throw new UsageError("phi4 is simulated in 2 dimensions (--dim 2)");
    o.dim = 2;
    if (o.mu2 === undefined) throw new UsageError("--mu2 <m> is required for phi4 (the seed works at -0.9515)");
    o.lambda ??= PHI4_DEFAULTS.lambda;
    o.kappa ??= PHI4_DEFAULTS.kappa;
    o.algorithm ??= "cluster";
    if (!(PHI4_ALGORITHMS as readonly string[]).includes(o.algorithm)) {
      throw new UsageError(`--algorithm ${o.algorithm} is not a phi4 algorithm; choose one of ${PHI4_ALGORITHMS.join(", ")}`);
    }
  }
  const V = o.L ** o.dim;
  if (V > 2 ** 30) throw new UsageError(`--L ${o.L} in ${o.dim}D has more than 2^30 sites`);
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

/** The sampler for a model; stream key (seed, task 0, replica 0). */
export function makeChains(model: Model, o: SimulateOptions): Chains<Int8Array> | Chains<Float32Array> {
  const lat = lattice(o.dim, o.L);
  const rng = rngFor({ seed: o.seed, task: o.task ?? 0, replica: 0 });
  if (model === "ising") return makeIsingSampler({ algorithm: o.algorithm as never, lat, beta: o.beta!, rng, start: o.start ?? "hot" });
  return makePhi4Sampler({ algorithm: o.algorithm as never, lat, couplings: { mu2: o.mu2!, lambda: o.lambda!, kappa: o.kappa! }, rng });
}

export function metaOf(model: Model, o: SimulateOptions, chains: Chains<Int8Array> | Chains<Float32Array>): EnsembleMeta {
  const params = physicsParams(SIMULATE_SPECS, o as never);
  return {
    model,
    dim: o.dim,
    L: o.L,
    chains: chains.chains,
    observables: [...chains.observables],
    configDtype: model === "ising" ? "int8" : "float32",
    params,
    software: SOFTWARE,
  };
}

export interface SessionOptions {
  maxTime?: number;
  checkpointEvery: number;
  stopAfter?: number;
  /** Polled between sweeps; true stops the run with a checkpoint (Ctrl-C, a pool's stop message). */
  shouldStop?: () => boolean;
  progress?: (done: number, total: number) => void;
}

export interface SimulationResult {
  out: string;
  completed: boolean;
  sweepsDone: number;
  totalSweeps: number;
  measurements: number;
  configurations: number;
  seconds: number;
}

/** Runs (or resumes) a simulation to completion or to a stop. */
export async function runSimulation(model: Model, o: SimulateOptions, session: SessionOptions, resume: boolean, force: boolean): Promise<SimulationResult> {
  const chains = makeChains(model, o);
  const meta = metaOf(model, o, chains);
  const plan = planOf(o);
  const { writer, checkpoint } = resume ? resumeEnsemble(o.out, meta, plannedMeasurements(plan)) : { writer: createEnsemble(o.out, meta, { force }), checkpoint: undefined };
  const deadline = session.maxTime !== undefined ? performance.now() + session.maxTime * 60000 : Infinity;
  const t0 = performance.now();
  try {
    const makeConfig = (): never => (model === "ising" ? new Int8Array(o.L ** o.dim) : new Float32Array(o.L ** o.dim)) as never;
    const res = await runChains(chains as Chains<Int8Array>, plan, writer, makeConfig, {
      shouldStop: () => (session.shouldStop?.() ?? false) || performance.now() > deadline,
      progress: session.progress ? (pos, total) => session.progress!(pos.sweepsDone, total) : undefined,
      checkpointSeconds: session.checkpointEvery * 60,
      stopAfter: session.stopAfter,
    }, checkpoint);
    writer.close({ completed: res.completed });
    return {
      out: o.out,
      completed: res.completed,
      sweepsDone: res.sweepsDone,
      totalSweeps: plan.therm + plan.sweeps,
      measurements: res.measurements,
      configurations: res.saved * chains.chains,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** On resume the physics comes from the file; only --sweeps (to extend) and session options may be given. */
export function resumedOptions(model: string, raw: Record<string, unknown>): SimulateOptions {
  const meta = readEnsembleMeta(String(raw.out));
  if (meta.model !== model) throw new UsageError(`${raw.out} holds a ${meta.model} ensemble, not ${model}`);
  const allowed = new Set(["out", "sweeps", "maxTime", "checkpointEvery", "resume", "quiet", "stopAfter", "force"]);
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined && !allowed.has(k) && SIMULATE_SPECS[k] && v !== SIMULATE_SPECS[k]!.default) {
      throw new UsageError(`--resume takes the parameters from ${raw.out}; drop ${SIMULATE_SPECS[k]!.flag.split(" ")[0]}`);
    }
  }
  const merged: Record<string, unknown> = { ...meta.params, L: meta.L, dim: meta.dim, out: raw.out, maxTime: raw.maxTime, checkpointEvery: raw.checkpointEvery };
  if (raw.sweeps !== undefined && raw.sweeps !== SIMULATE_SPECS.sweeps!.default) merged.sweeps = raw.sweeps;
  const o = simulateOptions(model, merged);
  if (o.sweeps < Number(meta.params.sweeps)) throw new UsageError(`--sweeps ${o.sweeps} is fewer than the ${meta.params.sweeps} already planned`);
  return o;
}
