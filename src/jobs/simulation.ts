// A simulation job: validated parameters → sampler → run loop → HDF5 ensemble, with stops that
// checkpoint and resumes that continue bit-for-bit. The CLI and the worker pool both run it.

import { basename } from "node:path";
import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { BETA_C_2D } from "../models/ising.js";
import { PHI4_DEFAULTS } from "../models/phi4.js";
import { EA_BETA_C_3D } from "../models/ea.js";
import { makeEaSampler, type EaSampler } from "../mc/ea-samplers.js";
import { makeEaMultispinSampler, msKernelFactory } from "../mc/ea-multispin-sampler.js";
import { betaLadder, nearestIndex } from "../mc/parallel-tempering.js";
import { type Chains } from "../mc/chains.js";
import { ISING_ALGORITHMS, makeIsingSampler } from "../mc/ising-samplers.js";
import { makePhi4Sampler, PHI4_ALGORITHMS } from "../mc/phi4-samplers.js";
import { type Checkpoint, checkPlan, plannedMeasurements, runChains, type RunPlan } from "../mc/run.js";
import { z } from "zod";
import { h5Ready } from "../io/h5.js";
import { createEnsemble, type EnsembleWriter, fanOutWriter, readEnsembleMeta, resumeEnsemble, type EnsembleMeta } from "../io/ensemble.js";
import { int, num, oneOf, parseParams, physicsParams, UsageError, type ParamSpecs } from "./params.js";
import { SOFTWARE } from "../version.js";
import { defaultWorkers } from "../cluster/pool.js";
import { type EquilibrationVerdict, recordEquilibration } from "./spin-glass.js";
import { startThreadedEaSampler, type ThreadedEaSampler } from "../cluster/ea-threads.js";

export const MODELS = ["ising", "phi4", "ea"] as const;
/** Local algorithms of the spin glass (inside parallel tempering): multi-spin coded (default) or one spin at a time (the reference). */
export const EA_ALGORITHMS = ["multispin", "metropolis"] as const;
/** Kernels of the multi-spin engine (results are identical; only the speed differs). */
export const EA_KERNELS = ["auto", "wasm", "typescript"] as const;
/** Every model `irg simulate` runs. */
export type SimulationModel = (typeof MODELS)[number];
/** The lattice field models of the inverse-RG pipelines (a spin-glass ensemble is made of overlaps, not fields). */
export type Model = Exclude<SimulationModel, "ea">;

/** Parameters of every model; `models` lists which models accept each one. */
export const SIMULATE_SPECS: ParamSpecs = {
  dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3 (ising)", schema: int(2, 3), physics: true },
  L: { flag: "--L <n>", description: "linear lattice size (even, >= 2)", schema: int(2, 65536), physics: true },
  beta: { flag: "--beta <b>", description: `inverse temperature (ising; 2D critical: ${BETA_C_2D.toFixed(10)}); ea: the measured and stored temperature of the ladder (3D critical: ${EA_BETA_C_3D.toFixed(4)}; with --betas/--temperatures default: the coldest)`, schema: num({ positive: true }), physics: true },
  betaMin: { flag: "--beta-min <b>", description: "ea: hottest inverse temperature of the parallel-tempering ladder (default 0.4)", schema: num({ positive: true }), physics: true },
  betaMax: { flag: "--beta-max <b>", description: "ea: coldest inverse temperature of the ladder (default: --beta)", schema: num({ positive: true }), physics: true },
  temps: { flag: "--temps <n>", description: "ea: temperatures of the ladder, evenly spaced in T; the one nearest --beta is moved onto it (default 8)", schema: int(2, 256), physics: true },
  betas: { flag: "--betas <list>", description: "ea: the ladder given explicitly as inverse temperatures, e.g. 0.5,0.6,0.7,0.8,0.9075 (must contain --beta)", schema: z.string().min(1, { message: "must not be empty" }), physics: true },
  temperatures: { flag: "--temperatures <list>", description: "ea: the ladder given explicitly as temperatures T = 1/beta, e.g. 2.0,1.6,1.3,1.1019 (must contain 1/--beta)", schema: z.string().min(1, { message: "must not be empty" }) },
  samples: { flag: "--samples <n>", description: "ea: disorder samples (couplings from (disorder seed, sample) only)", schema: int(1, 1000000), physics: true },
  firstSample: { flag: "--first-sample <k>", description: "ea: index of the first disorder sample (split samples over runs)", schema: int(0, 2 ** 40), physics: true },
  disorderSeed: { flag: "--disorder-seed <s>", description: "ea: seed of the couplings (default: --seed)", schema: int(0), physics: true },
  mu2: { flag: "--mu2 <m>", description: "bare mass squared mu^2 (phi4; critical near -0.95)", schema: num(), physics: true },
  lambda: { flag: "--lambda <l>", description: `quartic coupling (phi4, default ${PHI4_DEFAULTS.lambda})`, schema: num(), physics: true },
  kappa: { flag: "--kappa <k>", description: `hopping parameter (phi4, default ${PHI4_DEFAULTS.kappa})`, schema: num(), physics: true },
  algorithm: { flag: "--algorithm <name>", description: `ising: ${ISING_ALGORITHMS.join("|")} (default wolff); phi4: ${PHI4_ALGORITHMS.join("|")} (default cluster); ea: ${EA_ALGORITHMS.join("|")} with parallel tempering (default multispin)`, schema: oneOf([...new Set([...ISING_ALGORITHMS, ...PHI4_ALGORITHMS, ...EA_ALGORITHMS])]), physics: true },
  storeBetas: { flag: "--store-betas <list|all>", description: "ea multispin: further ladder temperatures (beta values, or all) whose overlaps are stored, each in <out>_beta<b>.h5 beside --out", schema: z.string().min(1, { message: "must not be empty" }), physics: true },
  workers: { flag: "--workers <n>", description: "ea multispin: worker threads over the disorder samples (default: all cores; the result does not depend on it)", schema: int(1, 1024) },
  kernel: { flag: "--kernel <name>", description: `ea multispin: ${EA_KERNELS.join("|")} (auto: WebAssembly SIMD where it loads, else TypeScript; identical results)`, schema: oneOf(EA_KERNELS) },
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

const MODEL_PARAMS: Record<SimulationModel, string[]> = {
  ising: ["dim", "beta", "start"],
  phi4: ["mu2", "lambda", "kappa"],
  ea: ["dim", "beta", "betaMin", "betaMax", "temps", "samples", "firstSample", "disorderSeed", "kernel", "workers", "betas", "temperatures", "storeBetas"],
};

export interface SimulateOptions {
  dim: number;
  L: number;
  beta?: number;
  mu2?: number;
  lambda?: number;
  kappa?: number;
  betaMin?: number;
  betaMax?: number;
  temps?: number;
  /** An explicit ladder, ascending in β, as the comma-separated list stored in the file. */
  betas?: string;
  temperatures?: string;
  /** Ladder β values stored besides --beta ("" for none), canonical comma list. */
  storeBetas?: string;
  samples?: number;
  firstSample?: number;
  disorderSeed?: number;
  algorithm: string;
  kernel?: (typeof EA_KERNELS)[number];
  workers?: number;
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
  const m = model as SimulationModel;
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
  } else if (m === "ea") {
    eaDefaults(o);
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

/** Spin-glass options: the ladder must contain --beta; every sample index must fit its stream key. */
function eaDefaults(o: SimulateOptions): void {
  o.dim ??= 3;
  if (o.beta === undefined && (o.betas !== undefined || o.temperatures !== undefined)) {
    // With an explicit ladder the measured temperature defaults to its coldest one.
    const list = String(o.betas ?? o.temperatures).split(",").map(Number).filter((v) => v > 0);
    if (list.length > 0) o.beta = o.betas !== undefined ? Math.max(...list) : 1 / Math.min(...list);
  }
  if (o.beta === undefined) throw new UsageError(`--beta <b> is required for ea: the temperature that is measured and stored (3D critical point: ${EA_BETA_C_3D.toFixed(4)})`);
  o.algorithm ??= "multispin";
  if (!(EA_ALGORITHMS as readonly string[]).includes(o.algorithm)) throw new UsageError(`--algorithm ${o.algorithm} is not an ea algorithm; choose ${EA_ALGORITHMS.join(", ")} (with parallel tempering)`);
  if (o.L < 4) throw new UsageError(`--L must be at least 4 for ea (a 2^d torus couples each pair of sites twice), got ${o.L}`);
  if (o.kernel !== undefined && o.algorithm !== "multispin") throw new UsageError("--kernel applies to --algorithm multispin only");
  if (o.workers !== undefined && o.algorithm !== "multispin") throw new UsageError("--workers applies to --algorithm multispin only (the one-spin reference runs in one thread)");
  if (o.algorithm === "multispin") {
    o.kernel ??= "auto";
    o.workers ??= defaultWorkers();
  }
  if (o.betas !== undefined || o.temperatures !== undefined) explicitLadder(o);
  o.betaMin ??= Math.min(0.4, o.beta);
  o.betaMax ??= o.beta;
  o.temps ??= 8;
  o.samples ??= 1;
  o.firstSample ??= 0;
  o.disorderSeed ??= o.seed;
  if (!(o.betaMin < o.betaMax) && o.temps > 1) throw new UsageError(`--beta-min (${o.betaMin}) must be below --beta-max (${o.betaMax})`);
  if (o.beta < o.betaMin || o.beta > o.betaMax) throw new UsageError(`--beta ${o.beta} lies outside the ladder [--beta-min ${o.betaMin}, --beta-max ${o.betaMax}]`);
  if (o.storeBetas !== undefined) {
    if (o.algorithm !== "multispin") throw new UsageError("--store-betas applies to --algorithm multispin only");
    const { betas, target } = eaLadder(o);
    const want = o.storeBetas.trim() === "all" ? Array.from(betas) : o.storeBetas.split(",").map((x) => Number(x.trim()));
    const idx = new Set<number>();
    for (const b of want) {
      const k = Array.from(betas).findIndex((x) => Math.abs(x - b) <= 1e-6 * x);
      if (!Number.isFinite(b) || k < 0) throw new UsageError(`--store-betas: ${b} is not on the ladder (${Array.from(betas, (x) => x.toFixed(6)).join(", ")}); give ladder values or "all"`);
      if (k !== target) idx.add(k);
    }
    o.storeBetas = [...idx].sort((a, b) => a - b).map((k) => String(betas[k])).join(",");
  }
}

/** Ladder indices stored by an ea run: the measured temperature first, then those of --store-betas. */
export function eaStored(o: SimulateOptions): number[] {
  const { betas, target } = eaLadder(o);
  const extra = o.storeBetas ? o.storeBetas.split(",").map((b) => Array.from(betas).indexOf(Number(b))) : [];
  return [target, ...extra];
}

/** The file of stored ladder index k (the --out file for the measured temperature). */
export function eaStoredPath(o: SimulateOptions, k: number): string {
  const { betas, target } = eaLadder(o);
  if (k === target) return o.out;
  return `${o.out.replace(/\.h5$/, "")}_beta${betas[k]!.toFixed(6)}.h5`;
}

/** --betas or --temperatures: parsed, checked (positive, distinct, containing --beta) and stored as an ascending β list. */
function explicitLadder(o: SimulateOptions): void {
  if (o.betas !== undefined && o.temperatures !== undefined) throw new UsageError("give the ladder once: --betas or --temperatures, not both");
  for (const k of ["betaMin", "betaMax", "temps"] as const) {
    if (o[k] !== undefined) throw new UsageError(`${SIMULATE_SPECS[k]!.flag.split(" ")[0]} does not go with an explicit ladder (--betas / --temperatures)`);
  }
  const flag = o.betas !== undefined ? "--betas" : "--temperatures";
  const items = String(o.betas ?? o.temperatures).split(",").map((x) => x.trim());
  const values = items.map(Number);
  values.forEach((v, k) => {
    if (items[k] === "" || !Number.isFinite(v) || !(v > 0)) throw new UsageError(`${flag}: "${items[k]}" is not a positive number (a comma-separated list, e.g. 0.5,0.7,0.9075)`);
  });
  const betas = values.map((v) => (o.betas !== undefined ? v : 1 / v)).sort((a, b) => a - b);
  if (betas.length < 2) throw new UsageError(`${flag}: parallel tempering needs at least 2 temperatures, got ${betas.length}`);
  if (betas.length > 256) throw new UsageError(`${flag}: at most 256 temperatures, got ${betas.length}`);
  for (let k = 1; k < betas.length; k++) if (!(betas[k]! > betas[k - 1]!)) throw new UsageError(`${flag}: temperature ${1 / betas[k]!} appears twice`);
  const at = betas.findIndex((b) => Math.abs(b - o.beta!) <= 1e-9 * o.beta!);
  if (at < 0) throw new UsageError(`${flag}: the ladder does not contain the measured --beta ${o.beta} (T = ${(1 / o.beta!).toPrecision(6)}); add it to the list`);
  betas[at] = o.beta!;
  o.betas = betas.map((b) => String(b)).join(",");
  o.temperatures = undefined;
  o.betaMin = betas[0];
  o.betaMax = betas.at(-1);
  o.temps = betas.length;
}

/** The β ladder of an ea run and the index of the measured temperature on it. */
export function eaLadder(o: SimulateOptions): { betas: Float64Array; target: number } {
  const betas = o.betas !== undefined ? Float64Array.from(o.betas.split(","), Number) : betaLadder(o.betaMin!, o.betaMax!, o.temps!, o.beta!);
  return { betas, target: nearestIndex(betas, o.beta!) };
}

function planOf(o: SimulateOptions): RunPlan {
  return { therm: o.therm, sweeps: o.sweeps, every: o.every, saveEvery: o.saveEvery };
}

/** The sampler for a model; stream key (seed, task 0, replica 0). */
export function makeChains(model: SimulationModel, o: SimulateOptions): Chains<Int8Array> | Chains<Float32Array> {
  const lat = lattice(o.dim, o.L);
  const rng = rngFor({ seed: o.seed, task: o.task ?? 0, replica: 0 });
  if (model === "ising") return makeIsingSampler({ algorithm: o.algorithm as never, lat, beta: o.beta!, rng, start: o.start ?? "hot" });
  if (model === "ea") {
    // Every stream of the spin glass is keyed by (seed, sample, replica); --task does not enter.
    const ea = { lat, ...eaLadder(o), samples: o.samples!, firstSample: o.firstSample!, seed: o.seed, disorderSeed: o.disorderSeed! };
    if (o.algorithm === "metropolis") return makeEaSampler(ea);
    return makeEaMultispinSampler({ ...ea, kernel: msKernelFactory(eaEngine(o)), stored: eaStored(o) });
  }
  return makePhi4Sampler({ algorithm: o.algorithm as never, lat, couplings: { mu2: o.mu2!, lambda: o.lambda!, kappa: o.kappa! }, rng });
}

export function metaOf(model: SimulationModel, o: SimulateOptions, chains: Chains<Int8Array> | Chains<Float32Array>): EnsembleMeta {
  const params = physicsParams(SIMULATE_SPECS, o as never);
  return {
    model,
    dim: o.dim,
    L: o.L,
    chains: model === "ea" ? o.samples! : chains.chains,
    observables: [...chains.observables],
    configDtype: model === "phi4" ? "float32" : "int8",
    params: model === "ea" ? { ...params, ...eaMeta(o) } : params,
    software: SOFTWARE,
  };
}

/** What an ea file says beyond its options: the ladder, and what the stored rows are. */
function eaMeta(o: SimulateOptions): Record<string, string | number> {
  const { betas, target } = eaLadder(o);
  return {
    betas: Array.from(betas).join(","),
    target_index: target,
    couplings: "J = +-1 per bond (site, +direction), stream (disorderSeed, task 2^32 + sample, replica 0)",
    couplings_seed: o.disorderSeed!,
    stored: "overlap field rho = s*t of the two replicas at beta; row = stored*samples + (sample - firstSample)",
  };
}

export interface SessionOptions {
  maxTime?: number;
  checkpointEvery: number;
  stopAfter?: number;
  /** Polled between sweeps; true stops the run with a checkpoint (Ctrl-C, a pool's stop message). */
  shouldStop?: () => boolean;
  progress?: (done: number, total: number, status?: string) => void;
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
export async function runSimulation(model: SimulationModel, o: SimulateOptions, session: SessionOptions, resume: boolean, force: boolean): Promise<SimulationResult> {
  const threaded = model === "ea" && o.algorithm === "multispin" && (o.workers ?? 1) > 1 && o.samples! > 32;
  const chains = threaded
    ? await startThreadedEaSampler({ lat: lattice(o.dim, o.L), ...eaLadder(o), samples: o.samples!, firstSample: o.firstSample!, seed: o.seed, disorderSeed: o.disorderSeed!, engine: eaEngine(o), workers: o.workers!, stored: eaStored(o) })
    : makeChains(model, o);
  try {
    return await runWith(model, o, chains, session, resume, force);
  } finally {
    if (threaded) await (chains as ThreadedEaSampler).dispose();
  }
}

function eaEngine(o: SimulateOptions): "auto" | "wasm" | "typescript" {
  return o.kernel === "typescript" ? "typescript" : o.kernel === "wasm" ? "wasm" : "auto";
}

async function runWith(model: SimulationModel, o: SimulateOptions, chains: Chains<Int8Array> | Chains<Float32Array>, session: SessionOptions, resume: boolean, force: boolean): Promise<SimulationResult> {
  const meta = metaOf(model, o, chains);
  const plan = planOf(o);
  const open = (path: string, m: EnsembleMeta): { writer: EnsembleWriter; checkpoint?: Checkpoint } =>
    resume ? resumeEnsemble(path, m, plannedMeasurements(plan)) : { writer: createEnsemble(path, m, { force }) };
  let writer: EnsembleWriter, checkpoint: Checkpoint | undefined;
  const stored = model === "ea" ? eaStored(o) : [];
  if (stored.length > 1) {
    // One file per stored ladder temperature, each a complete ea ensemble at its beta.
    const { betas } = eaLadder(o);
    const opened: EnsembleWriter[] = [];
    try {
      for (const k of stored) {
        const params = k === stored[0] ? meta.params : { ...meta.params, beta: betas[k]!, target_index: k, main_file: basename(o.out) };
        const r = open(eaStoredPath(o, k), { ...meta, params });
        opened.push(r.writer);
        checkpoint ??= r.checkpoint;
      }
    } catch (e) {
      opened.forEach((w) => w.abort());
      throw e;
    }
    writer = fanOutWriter(opened, o.samples!);
  } else {
    ({ writer, checkpoint } = open(o.out, meta));
  }
  const deadline = session.maxTime !== undefined ? performance.now() + session.maxTime * 60000 : Infinity;
  const t0 = performance.now();
  // Spin glass: the samples and the worst sample's ladder round trips, refreshed at most once a second.
  let statusText: string | undefined, statusAt = -Infinity;
  const status = (): string | undefined => {
    if (model !== "ea" || performance.now() - statusAt < 1000) return statusText;
    statusAt = performance.now();
    const trips = (chains as EaSampler).roundTrips();
    statusText = `${trips.length} samples, fewest round trips ${trips.reduce((a, t) => Math.min(a, t), Infinity)}`;
    return statusText;
  };
  try {
    const makeConfig = (): never => (model === "phi4" ? new Float32Array(o.L ** o.dim) : new Int8Array(o.L ** o.dim)) as never;
    const res = await runChains(chains as Chains<Int8Array>, plan, writer, makeConfig, {
      shouldStop: () => (session.shouldStop?.() ?? false) || performance.now() > deadline,
      progress: session.progress ? (pos, total) => session.progress!(pos.sweepsDone, total, status()) : undefined,
      checkpointSeconds: session.checkpointEvery * 60,
      stopAfter: session.stopAfter,
    }, checkpoint);
    writer.close({ completed: res.completed });
    const files = stored.length > 1 ? stored.map((k) => eaStoredPath(o, k)) : [o.out];
    const equilibration = model === "ea" && res.completed ? files.map((file) => ({ file, ...recordEquilibration(file, files.length) })) : undefined;
    return {
      ...(equilibration ? { equilibration } : {}),
      out: o.out,
      completed: res.completed,
      sweepsDone: res.sweepsDone,
      totalSweeps: plan.therm + plan.sweeps,
      measurements: res.measurements,
      configurations: res.saved * chains.chains,
      ...(stored.length > 1 ? { files: stored.map((k) => eaStoredPath(o, k)) } : {}),
      seconds: (performance.now() - t0) / 1000,
      ...(model === "ea" ? { notes: temperingNotes(chains as EaSampler) } : {}),
    };
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** Acceptance per ladder pair and round trips per sample, as printed after a spin-glass run. */
export function temperingNotes(smp: EaSampler): string[] {
  const acc = Array.from(smp.acceptance(), (a) => a.toFixed(2));
  const trips = smp.roundTrips();
  const min = trips.length ? Math.min(...trips) : 0;
  const total = trips.reduce((a, t) => a + t, 0);
  const betas = Array.from(smp.betas, (b) => b.toFixed(4)).join(", ");
  return [
    `parallel tempering: ${smp.betas.length} temperatures, beta = ${betas} (measured: ${smp.betas[smp.target]!.toFixed(4)})`,
    `swap acceptance per pair (hot -> cold): ${acc.join(" ") || "-"}`,
    `ladder round trips: ${total} in total over ${trips.length} samples (2 x ${smp.betas.length} copies each), fewest in one sample ${min}${min < 10 && smp.betas.length > 1 ? " — fewer than 10: run longer before trusting the averages" : ""}`,
  ];
}

/** On resume the physics comes from the file; only --sweeps (to extend) and session options may be given. */
export function resumedOptions(model: string, raw: Record<string, unknown>): SimulateOptions {
  const meta = readEnsembleMeta(String(raw.out));
  if (meta.model !== model) throw new UsageError(`${raw.out} holds a ${meta.model} ensemble, not ${model}`);
  if (typeof meta.params.main_file === "string") throw new UsageError(`${raw.out} is one temperature of a run stored with --store-betas; resume the run through its main file ${meta.params.main_file}`);
  const allowed = new Set(["out", "sweeps", "maxTime", "checkpointEvery", "resume", "quiet", "stopAfter", "force", "kernel", "workers"]);
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined && !allowed.has(k) && SIMULATE_SPECS[k] && v !== SIMULATE_SPECS[k]!.default) {
      throw new UsageError(`--resume takes the parameters from ${raw.out}; drop ${SIMULATE_SPECS[k]!.flag.split(" ")[0]}`);
    }
  }
  const merged: Record<string, unknown> = { ...meta.params, L: meta.L, dim: meta.dim, out: raw.out, maxTime: raw.maxTime, checkpointEvery: raw.checkpointEvery, kernel: raw.kernel, workers: raw.workers };
  if (raw.sweeps !== undefined && raw.sweeps !== SIMULATE_SPECS.sweeps!.default) merged.sweeps = raw.sweeps;
  if (model === "ea" && typeof merged.betas === "string") {
    // The file's ladder, exactly as it ran (every ea file stores it as "betas").
    delete merged.betaMin;
    delete merged.betaMax;
    delete merged.temps;
  }
  const o = simulateOptions(model, merged);
  if (o.sweeps < Number(meta.params.sweeps)) throw new UsageError(`--sweeps ${o.sweeps} is fewer than the ${meta.params.sweeps} already planned`);
  return o;
}
