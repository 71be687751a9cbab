// Compatible Monte Carlo as jobs (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): independent chains
// L0 → 2L0 → … → L on worker threads, their HDF5 file, and direct Monte Carlo to compare with (the study
// of `irg pipeline compatible` is in compatible-study.ts).
//
// A chain: Wolff-equilibrated L0 configuration (original Hamiltonian) → at every doubling the compatible
// start and constrained sweeps (`inverseLevels`), optionally unconstrained sweeps. Chains are independent
// (streams keyed by (seed, task, chain)), so statistics over chains need no autocorrelation analysis and
// results do not depend on the number of workers. Block operators for Swendsen's RG matrix (PRL 42, 859
// (1979)) are measured in the workers, where the configurations are.

import { type Dim, lattice, type Lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { BETA_C_2D, BETA_C_3D, isingEnergy, isingEnergyRows, magnetization } from "../models/ising.js";
import { makeIsingSampler } from "../mc/ising-samplers.js";
import { heatbathSweep } from "../mc/heatbath.js";
import { metropolisSweep } from "../mc/metropolis.js";
import { inverseLevels, relaxationTime, type UnconstrainedAlgorithm } from "../irg/compatible.js";
import { blockSpinsFirst, type ConstrainedRule, constrainedTable } from "../mc/compatible.js";
import { type Estimate, jackknife } from "../analysis/stats.js";
import { binderEstimate } from "../analysis/observables.js";
import {
  compileOperators, EVEN_OPERATORS, measureOperators, ODD_OPERATORS, type OperatorPlan, rgOperator, type RgOperator,
} from "../analysis/rg-operators.js";
import { type Job, type JobRunner, runPool } from "../cluster/pool.js";
import { WORKER_URL } from "./worker-url.js";
import { closeFile, datasetInfo, exists, H5Error, h5Ready, intAttr, openFile, readAttrs, readAttrsTyped, readDataset, readRows, appendRows, createAppendable, writeAttrs } from "../io/h5.js";
import { provenanceAttrs } from "../io/provenance.js";
import { int, num, oneOf, parseParams, UsageError, type ParamSpecs } from "../models/params.js";
import { checkpointMeasurements, createRunFile, writeRunCheckpoint, type FileLayout, hasCheckpoint, partialPath, resumeRunFile, type ResumeRules } from "../io/ensemble.js";
import { type Chains, type SamplerState } from "../mc/chains.js";
import { runChains } from "../mc/run.js";
import { joinFiles } from "../io/merge.js";
import { fileExists, removeFile } from "../io/files.js";
import { SOFTWARE } from "../version.js";
import { z } from "zod";

export const COMPATIBLE_FORMAT = "irg-compatible";
/** 2: the ensemble writer's layout per size, with a checkpoint (1: no checkpoint, relaxation rows only for recorded chains). */
export const COMPATIBLE_VERSION = 2;

// ---------------------------------------------------------------------------------------------------
// Parameters of `irg compatible`

export const COMPATIBLE_SPECS: ParamSpecs = {
  dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3", schema: int(2, 3), default: 3, physics: true },
  beta: { flag: "--beta <b>", description: `coupling K = beta J (default: critical, 3D ${BETA_C_3D}, 2D ${BETA_C_2D.toFixed(10)})`, schema: num({ positive: true }), physics: true },
  from: { flag: "--from <L>", description: "size of the equilibrated starting configurations", schema: int(2, 4096), default: 4, physics: true },
  to: { flag: "--to <L>", description: "largest size: from times a power of two", schema: int(4, 4096), physics: true },
  sweeps: { flag: "--sweeps <n>", description: "constrained sweeps at every level", schema: int(1), default: 10, physics: true },
  chains: { flag: "--chains <n>", description: "independent chains (one configuration per chain and size)", schema: int(1, 1000000), default: 16, physics: true },
  unconstrained: { flag: "--unconstrained <n>", description: "unconstrained sweeps after the constrained ones at every level", schema: int(0), default: 0, physics: true },
  unconstrainedAlgorithm: { flag: "--unconstrained-algorithm <alg>", description: "the unconstrained sweeps: local (the --algorithm rule), wolff (cluster sweeps) or hybrid (a local and a Wolff sweep each)", schema: oneOf(["local", "wolff", "hybrid"] as const), default: "local", physics: true },
  algorithm: { flag: "--algorithm <rule>", description: "single-site update: heatbath or metropolis", schema: oneOf(["heatbath", "metropolis"] as const), default: "heatbath", physics: true },
  therm: { flag: "--therm <n>", description: "Wolff sweeps equilibrating each starting configuration (size --from)", schema: int(0), default: 100, physics: true },
  seed: { flag: "--seed <s>", description: "random seed (non-negative integer)", schema: int(0), default: 1, physics: true },
  firstChain: { flag: "--first-chain <k>", description: "index of the first chain (split chains over runs: every chain's streams come from its index)", schema: int(0, 2 ** 40), default: 0, physics: true },
  out: { flag: "--out <file.h5>", description: "output file (HDF5)", schema: z.string().min(1, { message: "must not be empty" }) },
  workers: { flag: "--workers <n>", description: "worker threads (default: all cores; 0: this thread)", schema: int(0, 256) },
};

export interface CompatibleOptions {
  dim: Dim;
  beta: number;
  from: number;
  to: number;
  sweeps: number;
  chains: number;
  unconstrained: number;
  unconstrainedAlgorithm: UnconstrainedAlgorithm;
  algorithm: ConstrainedRule;
  therm: number;
  seed: number;
  /** Chains firstChain … firstChain + chains − 1 (row = chain − firstChain); default 0. */
  firstChain?: number;
  out: string;
  workers?: number;
}

/** The sizes from, 2·from, …, to; throws a UsageError unless to/from is a power of two ≥ 2. */
export function levelSizes(from: number, to: number): number[] {
  if (!(Number.isInteger(from) && from >= 2)) throw new UsageError(`--from must be an integer >= 2, got ${from}`);
  // The same rule as irg simulate: every size even (b = 2 blocks, checkerboard sweeps).
  if (from % 2 !== 0) throw new UsageError(`--from must be even (b = 2 blocks and checkerboard sweeps, as in irg simulate), got ${from}`);
  if (!(to > from)) throw new UsageError(`--to (${to}) must be larger than --from (${from})`);
  const k = Math.log2(to / from);
  if (!Number.isInteger(k)) throw new UsageError(`--to (${to}) must be --from (${from}) times a power of two`);
  return Array.from({ length: k + 1 }, (_, i) => from << i);
}

/** The options of `irg compatible`: `compatibleOptions`, and --batch only with --slurm. */
export function compatibleCommandOptions(raw: Record<string, unknown>): CompatibleOptions {
  const o = compatibleOptions(raw);
  if (raw.batch !== undefined && raw.slurm !== true) throw new UsageError("--batch applies to --slurm (a local run spreads its chains over --workers)");
  return o;
}

/** Validates raw CLI options (one-line UsageError naming the flag). */
export function compatibleOptions(raw: Record<string, unknown>): CompatibleOptions {
  const o = parseParams<Partial<CompatibleOptions> & { dim: number }>(COMPATIBLE_SPECS, raw);
  if (o.to === undefined) throw new UsageError("--to <L> is required");
  if (o.out === undefined) throw new UsageError("--out <file.h5> is required");
  const sizes = levelSizes(o.from!, o.to);
  const dim = o.dim as Dim;
  if (sizes.at(-1)! ** dim > 2 ** 30) throw new UsageError(`--to ${o.to} in ${dim}D has more than 2^30 sites`);
  return { ...(o as CompatibleOptions), dim, beta: o.beta ?? (dim === 3 ? BETA_C_3D : BETA_C_2D) };
}

// ---------------------------------------------------------------------------------------------------
// One chain (runs in a worker)

export interface ChainParams {
  dim: Dim;
  beta: number;
  from: number;
  to: number;
  sweeps: number;
  unconstrained: number;
  unconstrainedAlgorithm: UnconstrainedAlgorithm;
  rule: ConstrainedRule;
  therm: number;
  seed: number;
  /** Stream tasks of the Wolff start, the generation and the refinement (chain = replica). */
  tasks: [number, number, number];
  /** Chains with index below this record the per-sweep relaxation series. */
  recordChains: number;
  /** Measure the block operators at every level (and after one blocking; the top size down to 4). */
  operators: boolean;
  /** From the final configuration of these sizes, unconstrained sweeps measured after each of `points`. */
  refine?: { sizes: number[]; points: number[] };
  /** Return the configurations (for the file); false keeps messages small. */
  keepConfigs: boolean;
}

export interface ChainLevel {
  L: number;
  config?: Int8Array;
  /** H and M = Σ s of the final configuration. */
  H: number;
  M: number;
  /** Energy per site and block correlation after each constrained sweep, index 0 the compatible start. */
  relaxEnergy?: Float64Array;
  relaxBlock?: Float64Array;
  changedFraction: number;
  /** ops[n]: even then odd operators after n blockings (tie → first spin). */
  ops?: Float64Array[];
  /** H and M after each refinement point. */
  refine?: { H: Float64Array; M: Float64Array };
}

export interface ChainResult {
  chain: number;
  /** Generation only: the Wolff start and every level (recording included when the chain records). */
  seconds: number;
  /** Everything this chain cost in its worker (operators and refinement included). */
  totalSeconds: number;
  recorded: boolean;
  levels: ChainLevel[];
}

/** Operators of the MCRG analysis in d dimensions: even then odd. */
export function studyOperators(dim: Dim): { even: RgOperator[]; odd: RgOperator[] } {
  const even = EVEN_OPERATORS.filter((n) => dim === 3 || n !== "body").map((n) => rgOperator(dim, n));
  return { even, odd: ODD_OPERATORS.map((n) => rgOperator(dim, n)) };
}

type Plans = Map<string, OperatorPlan>;

function planFor(plans: Plans, lat: Lattice): OperatorPlan {
  const key = `${lat.dim}:${lat.L}`;
  let p = plans.get(key);
  if (!p) {
    const { even, odd } = studyOperators(lat.dim as Dim);
    p = compileOperators(lat, [...even, ...odd]);
    plans.set(key, p);
  }
  return p;
}

/** Operator values of s and of its successive blockings while the blocked size stays ≥ `minL`. */
export function operatorChain(lat: Lattice, s: Int8Array, plans: Plans, steps: number, minL = 4): Float64Array[] {
  const out = [measureOperators(lat, s, planFor(plans, lat))];
  let cur = s, L = lat.L;
  for (let n = 0; n < steps && L / 2 >= minL; n++) {
    cur = blockSpinsFirst(lattice(lat.dim, L), cur);
    L /= 2;
    const lt = lattice(lat.dim, L);
    out.push(measureOperators(lt, cur, planFor(plans, lt)));
  }
  return out;
}

/**
 * Hot start, then `therm` Wolff sweeps: the first half calibrates the clusters per sweep (each flips
 * about V spins), the second half uses that fixed count. The configuration must not be taken right
 * after a calibration sweep: its stopping rule depends on the cluster sizes and biases the state
 * (at 4³ and K_c: χ 27.5 instead of 21.2, U₄ 0.571 instead of 0.492).
 */
function equilibratedStart(dim: Dim, L: number, beta: number, therm: number, seed: number, task: number, chain: number): Int8Array {
  const lat = lattice(dim, L);
  const smp = makeIsingSampler({ algorithm: "wolff", lat, beta, rng: rngFor({ seed, task, replica: chain }) });
  const calibrate = Math.ceil(therm / 2);
  for (let k = 0; k < therm; k++) {
    if (k === calibrate) smp.endThermalization();
    smp.sweep();
  }
  const s = new Int8Array(lat.V);
  smp.config(0, s);
  return s;
}

/** H and M after unconstrained sweeps of a copy of s, measured once `points[k]` sweeps are done. */
function refineSeries(lat: Lattice, s0: Int8Array, beta: number, rule: ConstrainedRule, points: readonly number[], seed: number, task: number, chain: number): { H: Float64Array; M: Float64Array } {
  const s = s0.slice();
  const table = constrainedTable(lat.dim as Dim, beta, rule);
  const rng = rngFor({ seed, task, replica: chain * 64 + Math.log2(lat.L) });
  const H = new Float64Array(points.length), M = new Float64Array(points.length);
  let done = 0;
  points.forEach((p, k) => {
    for (; done < p; done++) (rule === "heatbath" ? heatbathSweep : metropolisSweep)(lat, s, table, rng);
    H[k] = isingEnergyRows(lat, s);
    M[k] = magnetization(s);
  });
  return { H, M };
}

export function runChain(p: ChainParams, chain: number, plans: Plans): ChainResult {
  const t0 = performance.now();
  const record = chain < p.recordChains;
  const start = equilibratedStart(p.dim, p.from, p.beta, p.therm, p.seed, p.tasks[0], chain);
  const sizes = levelSizes(p.from, p.to);
  const lv = inverseLevels({
    dim: p.dim, beta: p.beta, coarse: start, L0: p.from, levels: sizes.length - 1, sweepsPerLevel: p.sweeps,
    rng: rngFor({ seed: p.seed, task: p.tasks[1], replica: chain }), rule: p.rule, unconstrainedSweeps: p.unconstrained, unconstrainedAlgorithm: p.unconstrainedAlgorithm, record,
  });
  const seconds = (performance.now() - t0) / 1000;
  const levels: ChainLevel[] = [{ L: p.from, config: start, H: isingEnergy(lattice(p.dim, p.from), start), M: magnetization(start), changedFraction: 0 }];
  for (const l of lv) {
    const lat = lattice(p.dim, l.L);
    const level: ChainLevel = { L: l.L, config: l.config, H: isingEnergyRows(lat, l.config), M: magnetization(l.config), changedFraction: l.changedFraction };
    if (l.energy) level.relaxEnergy = l.energy;
    if (l.blockCorrelation) level.relaxBlock = l.blockCorrelation;
    if (p.operators) level.ops = operatorChain(lat, l.config, plans, l.L === p.to ? 16 : 1);
    if (p.refine?.sizes.includes(l.L)) level.refine = refineSeries(lat, l.config, p.beta, p.rule, p.refine.points, p.seed, p.tasks[2], chain);
    levels.push(level);
  }
  if (!p.keepConfigs) for (const l of levels) delete l.config;
  return { chain, seconds, totalSeconds: (performance.now() - t0) / 1000, recorded: record, levels };
}

// ---------------------------------------------------------------------------------------------------
// Direct Monte Carlo at one size (runs in a worker)

export interface DirectParams {
  algorithm: "wolff" | "metropolis";
  dim: Dim;
  L: number;
  beta: number;
  therm: number;
  sweeps: number;
  seed: number;
  task: number;
  /** Measure the block operators (all blockings down to 4) every this many sweeps; 0: never. */
  opsEvery: number;
  keepLast: boolean;
}

export interface DirectResult {
  algorithm: DirectParams["algorithm"];
  L: number;
  /** Energy per site and magnetisation per site after every measurement sweep. */
  e: Float64Array;
  m: Float64Array;
  /** Sweep time only (measurements excluded). */
  secondsPerSweep: number;
  thermSeconds: number;
  /** The whole job in its worker (measurements included). */
  totalSeconds: number;
  /** Wolff: clusters per sweep, calibrated on the second half of the thermalisation; local: 0. */
  clustersPerSweep: number;
  /** Spins flipped per measurement sweep (Wolff) or site visits (local). */
  flipsPerSweep: number;
  ops?: Float64Array[][];
  last?: Int8Array;
}

export function runDirect(p: DirectParams, plans: Plans, progress: (done: number, total: number) => void, shouldStop: () => boolean): DirectResult {
  const lat = lattice(p.dim, p.L);
  const smp = makeIsingSampler({ algorithm: p.algorithm, lat, beta: p.beta, rng: rngFor({ seed: p.seed, task: p.task }) });
  const t0 = performance.now();
  let f0 = 0, c0 = 0;
  for (let k = 0; k < p.therm; k++) {
    if (k === Math.floor(p.therm / 2)) { f0 = smp.counters.flipped; c0 = smp.counters.clusters; }
    smp.sweep();
  }
  let clustersPerSweep = 0;
  if (p.algorithm === "wolff") {
    // Clusters per sweep from the second half of this run's thermalisation, set here so that the
    // study does not depend on the sampler's own calibration rule (src/mc/calibration.ts).
    const n = smp.counters.clusters - c0;
    const mean = n > 0 ? (smp.counters.flipped - f0) / n : 1;
    const st = smp.save();
    st.extra.clustersPerSweep = clustersPerSweep = Math.max(1, Math.round(lat.V / mean));
    smp.restore(st);
  }
  smp.endThermalization();
  const thermSeconds = (performance.now() - t0) / 1000;
  const e = new Float64Array(p.sweeps), m = new Float64Array(p.sweeps);
  const E = new Float64Array(1), M = new Float64Array(1);
  const ops: Float64Array[][] = [];
  let sweepMs = 0;
  const flipped0 = smp.counters.flipped;
  const tick = Math.max(1, Math.floor(p.sweeps / 100));
  for (let t = 0; t < p.sweeps; t++) {
    if (shouldStop()) throw new UsageError("interrupted");
    const ts = performance.now();
    smp.sweep();
    sweepMs += performance.now() - ts;
    smp.measure([E, M]);
    e[t] = E[0]! / lat.V;
    m[t] = M[0]! / lat.V;
    if (p.opsEvery > 0 && t % p.opsEvery === 0) {
      const s = new Int8Array(lat.V);
      smp.config(0, s);
      operatorChain(lat, s, plans, 16).forEach((row, n) => (ops[n] ??= []).push(row));
    }
    if (t % tick === 0) progress(t, p.sweeps);
  }
  const res: DirectResult = { algorithm: p.algorithm, L: p.L, e, m, secondsPerSweep: sweepMs / 1000 / p.sweeps, thermSeconds, totalSeconds: (performance.now() - t0) / 1000, clustersPerSweep,
    flipsPerSweep: p.algorithm === "wolff" ? (smp.counters.flipped - flipped0) / p.sweeps : lat.V,
  };
  if (ops.length) res.ops = ops;
  if (p.keepLast) {
    res.last = new Int8Array(lat.V);
    smp.config(0, res.last);
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------
// Worker plumbing: the pool's worker (src/jobs/worker.ts) runs these kinds through the registry.

export type CompatibleJob = Job<{ chain: ChainParams; first: number; count: number } | DirectParams>;

const workerPlans: Plans = new Map();

export const runCompatibleJob: JobRunner = async (job, hooks) => {
  if (job.kind === "chains") {
    const { chain, first, count } = job.params as { chain: ChainParams; first: number; count: number };
    const out: ChainResult[] = [];
    for (let c = first; c < first + count; c++) {
      if (hooks.shouldStop()) throw new UsageError("interrupted");
      out.push(runChain(chain, c, workerPlans));
      hooks.progress(c - first + 1, count);
    }
    return out;
  }
  if (job.kind === "direct") return runDirect(job.params as DirectParams, workerPlans, hooks.progress, hooks.shouldStop);
  throw new Error(`unknown compatible job kind "${job.kind}"`);
};

/** Chain batches: small enough to balance the workers and keep messages of large lattices modest. */
export function chainJobs(p: ChainParams, chains: number, workers: number, firstId: number, start = 0): CompatibleJob[] {
  const size = Math.max(1, Math.min(16, Math.ceil((chains - start) / (8 * Math.max(1, workers)))));
  const jobs: CompatibleJob[] = [];
  for (let c = start; c < chains; c += size) jobs.push({ id: firstId + jobs.length, kind: "chains", params: { chain: p, first: c, count: Math.min(size, chains - c) } });
  return jobs;
}

/** Delivers chain results in chain order whatever order their batches finish in. */
export function inOrder(deliver: (r: ChainResult) => void, start = 0): (batch: ChainResult[]) => void {
  let next = start;
  const held = new Map<number, ChainResult>();
  return (batch) => {
    for (const r of batch) held.set(r.chain, r);
    while (held.has(next)) {
      deliver(held.get(next)!);
      held.delete(next++);
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// The HDF5 file: one group per size, each laid out as an ensemble and written by the ensemble writer
// (io/ensemble.ts createRunFile) through the run loop (mc/run.ts): `<out>.partial` with a checkpoint at
// the root, renamed to <out> when complete. A chain is one measurement: row k of every dataset is chain
// first_chain + k.
//
//   /            attrs format="irg-compatible", format_version, software, created, command, git_commit, model="ising",
//                dim, beta, from, to, sizes, sweeps, chains, unconstrained, unconstrained_algorithm, algorithm, therm,
//                seed, first_chain, chains_written, complete, seconds
//   /checkpoint  the run loop's checkpoint (chains done; the next chain's index in `extra`)
//   /L<n>        attrs L, level (0 = the Wolff start), changed_fraction (mean over chains)
//   /L<n>/configs                 int8 [chains, n, n(, n)]   row = chain
//   /L<n>/energy, /magnetization  float64 [chains]           H and M = Σ s of every configuration
//   /L<n>/changed_fraction        float64 [chains]           fraction of site visits that flipped a spin
//   /L<n>/relax_energy            float64 [chains, sweeps + 1]   H/V after each constrained sweep (NaN: not recorded, or level 0)
//   /L<n>/relax_block_corr        float64 [chains, sweeps + 1]   block correlation, same sweeps
//   /L<n>/operators(_blocked)     float64 [chains, operators]  block operators (pipeline only; NaN below L = 8), attr names

/** Attributes that a resumed run must share with its checkpoint (chains may grow). */
const RESUME_KEYS = ["dim", "beta", "from", "to", "sweeps", "unconstrained", "unconstrainedAlgorithm", "algorithm", "therm", "seed", "firstChain"] as const;
/** File attribute of each option (snake case). */
const attrName = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

type FileOptions = Omit<CompatibleOptions, "out" | "workers"> & { recordChains: number; operators?: boolean };

const LEVEL_OBSERVABLES = ["energy", "magnetization", "changed_fraction"] as const;

/** The vector observables of every level: relaxation series, and the block operators when measured. */
function levelVectors(o: FileOptions): { name: string; length: number; labels?: string[] }[] {
  const { even, odd } = studyOperators(o.dim);
  const names = [...even, ...odd].map((x) => x.name);
  return [
    ...(o.recordChains > 0 ? [{ name: "relax_energy", length: o.sweeps + 1 }, { name: "relax_block_corr", length: o.sweeps + 1 }] : []),
    ...(o.operators ? [{ name: "operators", length: names.length, labels: names }, { name: "operators_blocked", length: names.length, labels: names }] : []),
  ];
}

/** The file of a compatible run: root attributes, one ensemble group per size. */
function compatibleLayout(o: FileOptions): FileLayout {
  const sizes = levelSizes(o.from, o.to);
  const vectors = levelVectors(o);
  return {
    root: {
      format: COMPATIBLE_FORMAT, format_version: intAttr(COMPATIBLE_VERSION), software: SOFTWARE, ...provenanceAttrs(), created: new Date().toISOString(), model: "ising",
      dim: intAttr(o.dim), beta: o.beta, from: intAttr(o.from), to: intAttr(o.to), sizes: intAttr(sizes), sweeps: intAttr(o.sweeps), chains: intAttr(o.chains), unconstrained: intAttr(o.unconstrained),
      unconstrained_algorithm: o.unconstrainedAlgorithm, algorithm: o.algorithm, therm: intAttr(o.therm), seed: intAttr(o.seed), first_chain: intAttr(o.firstChain ?? 0),
      chains_written: intAttr(0), complete: intAttr(0),
    },
    groups: sizes.map((L, k) => ({
      path: `/L${L}`,
      attrs: { L: intAttr(L), level: intAttr(k) },
      meta: { model: "ising", dim: o.dim, L, chains: 1, observables: [...LEVEL_OBSERVABLES], configDtype: "int8" as const, params: {}, software: SOFTWARE, vectors },
    })),
  };
}

/** Every level of a chain as one measurement of the run loop: level j is "chain" j of the row. */
function levelValues(r: ChainResult, values: Float64Array[]): void {
  r.levels.forEach((l, j) => {
    values[0]![j] = l.H;
    values[1]![j] = l.M;
    values[2]![j] = l.changedFraction;
  });
}

/** The vector observables of every level of a chain (NaN where the level has none). */
function levelVectorRows(r: ChainResult, vectors: readonly { name: string }[], out: Float64Array[][]): void {
  r.levels.forEach((l, j) => {
    vectors.forEach((v, k) => {
      const src = v.name === "relax_energy" ? l.relaxEnergy : v.name === "relax_block_corr" ? l.relaxBlock : l.ops?.[1] ? (v.name === "operators" ? l.ops[0] : l.ops[1]) : undefined;
      if (src) out[k]![j]!.set(src);
      else out[k]![j]!.fill(Number.NaN);
    });
  });
}

/**
 * The writer of the pipeline's study, whose chains come from its own pool (shared with direct runs):
 * the same layout and ensemble writer as `irg compatible`, one checkpoint when all chains are in.
 */
export function compatibleWriter(out: string, o: FileOptions): { add(r: ChainResult): void; finish(seconds: number): void; abort(): void } {
  const sizes = levelSizes(o.from, o.to);
  const layout = compatibleLayout(o);
  const vectors = levelVectors(o);
  const writer = createRunFile(out, layout, { force: true });
  const values = LEVEL_OBSERVABLES.map(() => new Float64Array(sizes.length));
  const rows = vectors.map((v) => sizes.map(() => new Float64Array(v.length)));
  const changed = sizes.map(() => 0);
  let n = 0;
  return {
    add(r) {
      if (r.chain !== (o.firstChain ?? 0) + n) throw new Error(`chain ${r.chain} arrived out of order (expected ${n})`);
      levelValues(r, values);
      levelVectorRows(r, vectors, rows);
      r.levels.forEach((l, j) => (changed[j]! += l.changedFraction));
      writer.measurement(values, r.levels.map((l) => l.config!), rows);
      n++;
    },
    finish(seconds) {
      if (n !== o.chains) throw new Error(`only ${n} of ${o.chains} chains were written`);
      writer.checkpoint({ sweepsDone: n, measurements: n, saved: n, sampler: compatibleState((o.firstChain ?? 0) + n, changed) });
      writer.close({ completed: true, attrs: { "/": { chains_written: intAttr(n), seconds }, ...Object.fromEntries(sizes.map((L, j) => [`/L${L}`, { changed_fraction: changed[j]! / n }])) } });
    },
    abort: () => writer.abort(),
  };
}

/** The sampler state of a compatible run: the next chain, and the running sums of the level attributes. */
function compatibleState(next: number, changedSums: readonly number[]): SamplerState {
  return { rng: new Uint32Array(4), spins: new Int8Array(0), extra: { next_chain: next, ...Object.fromEntries(changedSums.map((x, j) => [`changed_sum_${j}`, x])) } };
}

/**
 * Compatible Monte Carlo as chains of the run loop: one "sweep" draws the next chain (every level,
 * L0 → … → L), and its levels are the loop's chains (level j goes to the file's group j). Chains are
 * drawn by a worker pool running ahead, delivered in chain order; a stop while waiting returns at once.
 */
function compatibleChains(p: ChainParams, o: FileOptions & { workers?: number }, shouldStop: () => boolean): Chains<Int8Array> & { dispose(): Promise<void>; changedMeans(n: number): number[] } {
  const sizes = levelSizes(p.from, p.to);
  const first = o.firstChain ?? 0, end = first + o.chains;
  const vectors = levelVectors(o);
  let next = first;
  let changed = sizes.map(() => 0);
  let current: ChainResult | null = null;
  const plans: Plans = new Map();
  // The pool (workers > 0): started at the first sweep, from the chain the run continues at.
  let pool: { promise: Promise<unknown>; ready: Map<number, ChainResult>; failure: unknown; wake: (() => void) | null; stop: boolean } | null = null;
  const startPool = (): NonNullable<typeof pool> => {
    const st: NonNullable<typeof pool> = { promise: Promise.resolve(), ready: new Map(), failure: null, wake: null, stop: false };
    st.promise = runPool(chainJobs(p, end, o.workers ?? 2, 0, next), {
      workers: o.workers, workerUrl: WORKER_URL, shouldStop: () => st.stop,
      onResult: (_id, batch) => {
        for (const r of batch as ChainResult[]) st.ready.set(r.chain, r);
        st.wake?.();
      },
    }).catch((e: unknown) => {
      if (!st.stop) st.failure = e ?? new Error("worker pool failed");
      st.wake?.();
    });
    return st;
  };
  const take = (r: ChainResult): boolean => {
    current = r;
    r.levels.forEach((l, j) => (changed[j]! += l.changedFraction));
    next++;
    return true;
  };
  return {
    chains: sizes.length,
    observables: LEVEL_OBSERVABLES,
    vectors,
    sweep() {
      if (next >= end) throw new Error(`compatible run: chain ${next} is beyond the last (${end - 1})`);
      if (!o.workers) return Promise.resolve(take(runChain(p, next, plans)));
      pool ??= startPool();
      const st = pool;
      return new Promise<boolean>((resolve, reject) => {
        const timer = setInterval(() => st.wake?.(), 100);
        st.wake = () => {
          const r = st.ready.get(next);
          if (r) st.ready.delete(next);
          if (!r && st.failure === null && !shouldStop()) return;
          clearInterval(timer);
          st.wake = null;
          if (r) resolve(take(r));
          else if (st.failure !== null) reject(st.failure);
          else resolve(false);
        };
        st.wake();
      });
    },
    endThermalization() {},
    measure(out) {
      levelValues(current!, out);
    },
    measureVectors(out) {
      levelVectorRows(current!, vectors, out);
    },
    config(j, out) {
      out.set(current!.levels[j]!.config!);
    },
    save: () => compatibleState(next, changed),
    restore(st) {
      next = Number(st.extra.next_chain);
      changed = sizes.map((_, j) => Number(st.extra[`changed_sum_${j}`] ?? 0));
    },
    changedMeans: (n) => changed.map((x) => x / Math.max(1, n)),
    async dispose() {
      if (!pool) return;
      pool.stop = true;
      await pool.promise;
    },
  };
}

/** Whether a compatible file (or partial) was written by this version's layout and can continue. */
function resumeRules(out: string, o: FileOptions): ResumeRules {
  return {
    check(f) {
      const a = readAttrs(f, "/");
      if (a.format !== COMPATIBLE_FORMAT) throw new UsageError(`${out} is not an irg compatible file; give another --out, or start over with --force`);
      if (Number(a.format_version) !== COMPATIBLE_VERSION) throw new UsageError(`${out} was written by an older irg (compatible format ${String(a.format_version)}) and cannot be continued; start over with --force`);
      for (const k of RESUME_KEYS) {
        const stored = a[attrName(k)];
        const given = k === "firstChain" ? (o.firstChain ?? 0) : o[k];
        if (String(stored) !== String(given)) throw new UsageError(`--${attrName(k).replace(/_/g, "-")} ${String(given)} does not match the checkpoint's ${String(stored)}; resume with the options of the interrupted run`);
      }
      const done = exists(f, "/checkpoint") ? Number(readAttrs(f, "/checkpoint").measurements) : 0;
      if (done > o.chains) throw new UsageError(`the checkpoint already holds ${done} chains; --chains must be at least that`);
    },
    complete: (cp) => `${out} is already complete (${cp.measurements} chains); add chains with a larger --chains and --resume, or start over with --force`,
    attrs: { chains: intAttr(o.chains) },
  };
}

/** Where a compatible file of a run split over chains stands: complete, a checkpoint, or nothing yet. */
export function compatibleFileState(out: string): "complete" | "checkpoint" | "not started" | "unreadable" {
  const path = fileExists(out) ? out : fileExists(partialPath(out)) ? partialPath(out) : null;
  if (!path) return "not started";
  try {
    const f = openFile(path, "r");
    try {
      const a = readAttrs(f, "/");
      if (a.format !== COMPATIBLE_FORMAT) return "unreadable";
      return Number(a.complete) === 1 ? "complete" : "checkpoint";
    } finally {
      closeFile(f);
    }
  } catch {
    return "unreadable";
  }
}

/**
 * Joins the files of one compatible run split over chains (`--first-chain`, consecutive ranges) into
 * `out`: every dataset row-concatenated in chain order, so the file equals one run over all chains.
 */
export function joinCompatibleParts(parts: readonly string[], out: string): void {
  for (const p of parts) if (compatibleFileState(p) !== "complete") throw new UsageError(`${p} is not a complete compatible file; finish its task first`);
  joinFiles(parts, out, (files, f, base) => {
    const attrs = files.map((h) => readAttrs(h, "/"));
    let next = 0;
    for (const [j, a] of attrs.entries()) {
      for (const k of RESUME_KEYS) {
        if (k !== "firstChain" && String(a[attrName(k)]) !== String(attrs[0]![attrName(k)])) throw new UsageError(`${parts[j]} was run with ${attrName(k)} = ${String(a[attrName(k)])}, ${parts[0]} with ${String(attrs[0]![attrName(k)])}; join only the parts of one run`);
      }
      if (Number(a.first_chain ?? 0) !== next) throw new UsageError(`${parts[j]} starts at chain ${String(a.first_chain)}, not ${next}: the parts must cover consecutive chains`);
      next += Number(a.chains);
    }
    const seconds = attrs.reduce((s, a) => s + Number(a.seconds ?? 0), 0);
    writeAttrs(f, "/", { ...base, chains: intAttr(next), chains_written: intAttr(next), first_chain: intAttr(0), seconds });
    const sums: number[] = [];
    for (const L of levelSizes(Number(attrs[0]!.from), Number(attrs[0]!.to))) {
      const g = `/L${L}`;
      for (const name of ["configs", "energy", "magnetization", "changed_fraction", "relax_energy", "relax_block_corr", "operators", "operators_blocked"]) {
        if (!exists(files[0]!, `${g}/${name}`)) continue;
        const info = datasetInfo(files[0]!, `${g}/${name}`);
        createAppendable(f, `${g}/${name}`, info.dtype, info.shape.slice(1), name === "configs" ? { compression: 1 } : {});
        for (const h of files) {
          const rows = datasetInfo(h, `${g}/${name}`).shape[0]!;
          for (let r = 0; r < rows; r += 256) appendRows(f, `${g}/${name}`, readRows(h, `${g}/${name}`, r, Math.min(rows, r + 256)), Math.min(256, rows - r));
        }
        const names = readAttrs(files[0]!, `${g}/${name}`).names;
        if (names !== undefined) writeAttrs(f, `${g}/${name}`, { names });
      }
      // Summed in chain order, as one run over all chains sums them.
      const sum = Array.from(readDataset(f, `${g}/changed_fraction`).data).reduce((x, y) => x + y, 0);
      sums.push(sum);
      writeAttrs(f, g, { ...readAttrsTyped(files[0]!, g), changed_fraction: sum / next });
    }
    // The checkpoint of one run over all chains: the joined file continues with --resume and a larger --chains.
    writeRunCheckpoint(f, { sweepsDone: next, measurements: next, saved: next, sampler: compatibleState(next, sums) });
  });
}

/** Per-level data of a complete compatible file (what `irg compatible` and `irg measure` print). */
export interface CompatibleLevelData {
  L: number;
  H: number[];
  M: number[];
  changed: number[];
  /** Energy per site after each constrained sweep of the recorded chains. */
  relax: Float64Array[];
}

export function readCompatibleFile(path: string): { dim: Dim; chains: number; levels: CompatibleLevelData[] } {
  const f = openFile(path, "r");
  try {
    const a = readAttrs(f, "/");
    if (a.format !== COMPATIBLE_FORMAT) throw new UsageError(`${path} is not an irg compatible file (format ${String(a.format)})`);
    if (Number(a.complete) !== 1) throw new UsageError(`${path} is incomplete; finish it with irg compatible --resume`);
    const dim = Number(a.dim) as Dim;
    const col = (p: string): number[] => (exists(f, p) ? Array.from(readDataset(f, p).data) : []);
    const levels = levelSizes(Number(a.from), Number(a.to)).map((L) => {
      const g = `/L${L}`;
      const relax: Float64Array[] = [];
      if (exists(f, `${g}/relax_energy`)) {
        const { data, shape } = readDataset(f, `${g}/relax_energy`);
        for (let r = 0; r < shape[0]!; r++) {
          const row = Float64Array.from(data.subarray(r * shape[1]!, (r + 1) * shape[1]!));
          if (!Number.isNaN(row[0])) relax.push(row); // NaN: a chain that did not record its relaxation
        }
      }
      return { L, H: col(`${g}/energy`), M: col(`${g}/magnetization`), changed: col(`${g}/changed_fraction`), relax };
    });
    return { dim, chains: Number(a.chains), levels };
  } finally {
    closeFile(f);
  }
}

// ---------------------------------------------------------------------------------------------------
// `irg compatible`: generate and write

export interface RunHooks {
  progress?: (done: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface CompatibleRun {
  out: string;
  sizes: number[];
  seconds: number;
  /** False when stopped: the chains so far are in the checkpoint <out>.partial. */
  completed: boolean;
  /** Chains in the file (all of them once completed). */
  written: number;
  /** Chains that were already in the checkpoint this session resumed (0 for a fresh run). */
  resumedAt: number;
}

export function chainParams(o: Omit<CompatibleOptions, "out">, extra: Partial<ChainParams> = {}): ChainParams {
  return {
    dim: o.dim, beta: o.beta, from: o.from, to: o.to, sweeps: o.sweeps, unconstrained: o.unconstrained, unconstrainedAlgorithm: o.unconstrainedAlgorithm, rule: o.algorithm,
    therm: o.therm, seed: o.seed, tasks: [1, 2, 3], recordChains: (o.firstChain ?? 0) + o.chains, operators: false, keepConfigs: true, ...extra,
  };
}

/**
 * Runs the chains into `o.out` through the run loop. Every chain's streams are keyed by its index, so a
 * run stopped (Ctrl-C, `stopAfter`, a kill) and resumed writes the same file as one that was not.
 */
export async function runCompatible(o: CompatibleOptions, how: { force: boolean; resume?: boolean; stopAfter?: number }, hooks: RunHooks = {}): Promise<CompatibleRun> {
  await h5Ready();
  const t0 = performance.now();
  const p = chainParams(o);
  const fo: FileOptions = { ...o, recordChains: p.recordChains };
  const partial = partialPath(o.out);
  let { resume, force } = { resume: how.resume === true, force: how.force };
  if (resume && !fileExists(o.out)) {
    if (!fileExists(partial)) throw new UsageError(`cannot resume ${o.out}: no checkpoint ${partial}; run without --resume`);
    // Killed before its first checkpoint: nothing was lost but the start, so the run starts again.
    if (!hasCheckpoint(partial)) ({ resume, force } = { resume: false, force: true });
  }
  const layout = compatibleLayout(fo);
  const { writer, checkpoint } = resume ? resumeRunFile(o.out, layout, o.chains, resumeRules(o.out, fo)) : { writer: createRunFile(o.out, layout, { force }), checkpoint: undefined };
  const start = checkpoint?.measurements ?? 0;
  let stopped = false;
  const chains = compatibleChains(p, fo, () => stopped || (hooks.shouldStop?.() ?? false));
  const result = (completed: boolean, written: number): CompatibleRun => ({ out: o.out, sizes: levelSizes(o.from, o.to), seconds: (performance.now() - t0) / 1000, completed, written, resumedAt: start });
  try {
    const sizes = levelSizes(o.from, o.to);
    const res = await runChains(chains, { therm: 0, sweeps: o.chains, every: 1, saveEvery: 1 }, writer, (j) => new Int8Array(sizes[j]! ** o.dim), {
      shouldStop: hooks.shouldStop,
      progress: hooks.progress ? (pos) => hooks.progress!(pos.measurements, o.chains) : undefined,
      stopAfter: how.stopAfter,
      // As often as the old per-chain file flushed: a kill or a full disk loses at most 2 s of chains.
      checkpointSeconds: 2,
    }, checkpoint);
    const r = result(res.completed, res.measurements);
    const means = chains.changedMeans(res.measurements);
    writer.close({
      completed: res.completed,
      attrs: {
        "/": { chains_written: intAttr(res.measurements), ...(res.completed ? { seconds: r.seconds } : {}) },
        ...Object.fromEntries(sizes.map((L, j) => [`/L${L}`, { changed_fraction: means[j]! }])),
      },
    });
    return r;
  } catch (e) {
    if (e instanceof H5Error && e.diskFull) {
      // The chains checkpointed before the disk filled up stand: keep them for --resume.
      writer.abort({ keepCheckpoint: true });
      const done = checkpointMeasurements(partial);
      if (!done) removeFile(partial); // nothing worth a --resume
      const kept = done ? `the ${done} chains written so far are kept in ${partial}: free space, then continue with the same command and --resume` : "no chain had been written: free space and run again";
      throw new H5Error(`${e.message}; ${kept}`, { file: e.file, diskFull: true });
    }
    writer.abort();
    throw e;
  } finally {
    stopped = true;
    await chains.dispose();
  }
}

/**
 * `irg compatible` run here: the session flags (--resume, --force, --stop-after as given) checked, the
 * chains run, and on completion every size's estimates read back from the file.
 */
export async function compatibleCommand(o: CompatibleOptions, raw: Record<string, unknown>, hooks: RunHooks): Promise<CompatibleRun & { checkpoint: string; levels?: LevelEstimates[] }> {
  if (raw.resume === true && raw.force === true) throw new UsageError("--resume and --force exclude each other: --force starts over");
  const stopAfter = raw.stopAfter === undefined ? undefined : Number(raw.stopAfter);
  if (stopAfter !== undefined && !(Number.isInteger(stopAfter) && stopAfter >= 1)) throw new UsageError(`--stop-after must be an integer >= 1, got ${String(raw.stopAfter)}`);
  const r = await runCompatible(o, { force: raw.force === true, resume: raw.resume === true, stopAfter }, hooks);
  return { ...r, checkpoint: o.out, ...(r.completed ? { levels: levelEstimates(readCompatibleFile(r.out).levels, o.dim) } : {}) };
}

export interface LevelEstimates {
  L: number;
  chains: number;
  e: Estimate;
  absM: Estimate;
  binder: Estimate | null;
  /** Relaxation time of e in constrained sweeps (recorded chains), NaN at the start level. */
  relaxation: number;
  changedFraction: number;
}

/** ⟨e⟩, ⟨|m|⟩, U₄ over the chains (independent: jackknife with bins of 1), relaxation time, changed fraction. */
export function levelEstimates(levels: readonly CompatibleLevelData[], dim: number): LevelEstimates[] {
  return levels.map((lv) => {
    const V = lv.L ** dim;
    const e = lv.H.map((h) => h / V), m = lv.M.map((x) => Math.abs(x) / V);
    const est = (x: number[]): Estimate => jackknife([x], ([a]) => a!, { binSize: 1 });
    const binder = e.length > 1 ? binderEstimate(m.map((x) => x * x), m.map((x) => x ** 4), { binSize: 1 }) : null;
    const relaxation = lv.relax.length > 0 && lv.relax[0]!.length >= 4 ? relaxationTime(lv.relax) : Number.NaN;
    return { L: lv.L, chains: e.length, e: est(e), absM: est(m), binder, relaxation, changedFraction: lv.changed.reduce((a, b) => a + b, 0) / Math.max(1, lv.changed.length) };
  });
}
