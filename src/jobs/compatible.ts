// Compatible Monte Carlo as jobs (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): independent chains
// L0 → 2L0 → … → L on worker threads, their HDF5 file, and direct Monte Carlo to compare with (the study
// of `irg pipeline compatible` is in compatible-study.ts).
//
// A chain: Wolff-equilibrated L0 configuration (original Hamiltonian) → at every doubling the compatible
// start and constrained sweeps (`inverseLevels`), optionally unconstrained sweeps. Chains are independent
// (streams keyed by (seed, task, chain)), so statistics over chains need no autocorrelation analysis and
// results do not depend on the number of workers. Block operators for Swendsen's RG matrix (PRL 42, 859
// (1979)) are measured in the workers, where the configurations are.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Dim, lattice, type Lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { BETA_C_2D, BETA_C_3D, isingEnergy, magnetization } from "../models/ising.js";
import { makeIsingSampler } from "../mc/ising-samplers.js";
import { heatbathSweep } from "../mc/heatbath.js";
import { metropolisSweep } from "../mc/metropolis.js";
import { blockSpinsFirst, type ConstrainedRule, constrainedTable, inverseLevels, nnEnergy } from "../irg/compatible.js";
import {
  compileOperators, EVEN_OPERATORS, measureOperators, ODD_OPERATORS, type OperatorPlan, rgOperator, type RgOperator,
} from "../analysis/rg-matrix.js";
import { type Job, type JobRunner, runPool } from "../cluster/pool.js";
import { WORKER_URL } from "./registry.js";
import { appendRows, assertWritable, closeFile, commitTemp, createAppendable, createFile, tempPathFor, writeAttrs, writeDataset, type H5File } from "../io/h5.js";
import { int, num, oneOf, parseParams, UsageError, type ParamSpecs } from "./params.js";
import { SOFTWARE } from "../version.js";
import { z } from "zod";

export const COMPATIBLE_FORMAT = "irg-compatible";
export const COMPATIBLE_VERSION = 1;

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
  algorithm: { flag: "--algorithm <rule>", description: "single-site update: heatbath or metropolis", schema: oneOf(["heatbath", "metropolis"] as const), default: "heatbath", physics: true },
  therm: { flag: "--therm <n>", description: "Wolff sweeps equilibrating each starting configuration (size --from)", schema: int(0), default: 100, physics: true },
  seed: { flag: "--seed <s>", description: "random seed (non-negative integer)", schema: int(0), default: 1, physics: true },
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
  algorithm: ConstrainedRule;
  therm: number;
  seed: number;
  out: string;
  workers?: number;
}

/** The sizes from, 2·from, …, to; throws a UsageError unless to/from is a power of two ≥ 2. */
export function levelSizes(from: number, to: number): number[] {
  if (!(Number.isInteger(from) && from >= 2)) throw new UsageError(`--from must be an integer >= 2, got ${from}`);
  if (!(to > from)) throw new UsageError(`--to (${to}) must be larger than --from (${from})`);
  const k = Math.log2(to / from);
  if (!Number.isInteger(k)) throw new UsageError(`--to (${to}) must be --from (${from}) times a power of two`);
  return Array.from({ length: k + 1 }, (_, i) => from << i);
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

/** Hot start, then `therm` Wolff sweeps (each flips about V spins: calibration mode). */
function equilibratedStart(dim: Dim, L: number, beta: number, therm: number, seed: number, task: number, chain: number): Int8Array {
  const lat = lattice(dim, L);
  const smp = makeIsingSampler({ algorithm: "wolff", lat, beta, rng: rngFor({ seed, task, replica: chain }) });
  for (let k = 0; k < therm; k++) smp.sweep();
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
    H[k] = nnEnergy(lat, s);
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
    rng: rngFor({ seed: p.seed, task: p.tasks[1], replica: chain }), rule: p.rule, unconstrainedSweeps: p.unconstrained, record,
  });
  const seconds = (performance.now() - t0) / 1000;
  const levels: ChainLevel[] = [{ L: p.from, config: start, H: isingEnergy(lattice(p.dim, p.from), start), M: magnetization(start), changedFraction: 0 }];
  for (const l of lv) {
    const lat = lattice(p.dim, l.L);
    const level: ChainLevel = { L: l.L, config: l.config, H: nnEnergy(lat, l.config), M: magnetization(l.config), changedFraction: l.changedFraction };
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
export function chainJobs(p: ChainParams, chains: number, workers: number, firstId: number): CompatibleJob[] {
  const size = Math.max(1, Math.min(16, Math.ceil(chains / (8 * Math.max(1, workers)))));
  const jobs: CompatibleJob[] = [];
  for (let c = 0; c < chains; c += size) jobs.push({ id: firstId + jobs.length, kind: "chains", params: { chain: p, first: c, count: Math.min(size, chains - c) } });
  return jobs;
}

/** Delivers chain results in chain order whatever order their batches finish in. */
export function inOrder(deliver: (r: ChainResult) => void): (batch: ChainResult[]) => void {
  let next = 0;
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
// The HDF5 file: one group per size, written to a temporary file and renamed when complete.
//
//   /            attrs format="irg-compatible", format_version, software, created, model="ising", dim, beta,
//                from, to, sizes, sweeps, chains, unconstrained, algorithm, therm, seed, complete, seconds
//   /L<n>        attrs L, level (0 = the Wolff start), changed_fraction (mean over chains)
//   /L<n>/configs                 int8 [chains, n, n(, n)]   row = chain
//   /L<n>/energy, /magnetization  float64 [chains]           H and M = Σ s of every configuration
//   /L<n>/relax_energy            float64 [recorded chains, sweeps + 1]   H/V after each constrained sweep
//   /L<n>/relax_block_corr        float64 [recorded chains, sweeps + 1]   block correlation, same sweeps
//   /L<n>/operators(_blocked)     float64 [chains, operators]  block operators (pipeline only), attr names

export interface CompatibleFile {
  add(r: ChainResult): void;
  finish(extra: Record<string, number>): void;
  abort(): void;
}

export function compatibleFile(out: string, o: Omit<CompatibleOptions, "out" | "workers">, force: boolean): CompatibleFile {
  assertWritable(out);
  if (existsSync(out) && !force) throw new UsageError(`${out} already exists; overwrite it with --force`);
  const sizes = levelSizes(o.from, o.to);
  const tmp = tempPathFor(out);
  rmSync(tmp, { force: true });
  const f: H5File = createFile(tmp);
  writeAttrs(f, "/", {
    format: COMPATIBLE_FORMAT, format_version: COMPATIBLE_VERSION, software: SOFTWARE, created: new Date().toISOString(), model: "ising",
    dim: o.dim, beta: o.beta, from: o.from, to: o.to, sizes, sweeps: o.sweeps, chains: o.chains, unconstrained: o.unconstrained,
    algorithm: o.algorithm, therm: o.therm, seed: o.seed, complete: 0,
  });
  for (const L of sizes) createAppendable(f, `/L${L}/configs`, "int8", new Array<number>(o.dim).fill(L), { compression: 1 });
  const acc = sizes.map(() => ({ H: [] as number[], M: [] as number[], rE: [] as Float64Array[], rG: [] as Float64Array[], ops: [] as Float64Array[], opsB: [] as Float64Array[], changed: 0 }));
  let n = 0, open = true;
  const { even, odd } = studyOperators(o.dim);
  const rows = (a: Float64Array[]): Float64Array => {
    const w = a[0]!.length, d = new Float64Array(a.length * w);
    a.forEach((r, k) => d.set(r, k * w));
    return d;
  };
  return {
    add(r) {
      if (r.chain !== n) throw new Error(`chain ${r.chain} arrived out of order (expected ${n})`);
      r.levels.forEach((l, k) => {
        if (!l.config) throw new Error("chain results for the file must keep their configurations");
        appendRows(f, `/L${l.L}/configs`, l.config, 1);
        const a = acc[k]!;
        a.H.push(l.H);
        a.M.push(l.M);
        a.changed += l.changedFraction;
        if (l.relaxEnergy && l.relaxBlock) { a.rE.push(l.relaxEnergy); a.rG.push(l.relaxBlock); }
        if (l.ops?.[1]) { a.ops.push(l.ops[0]!); a.opsB.push(l.ops[1]); }
      });
      n++;
    },
    finish(extra) {
      if (n !== o.chains) throw new Error(`only ${n} of ${o.chains} chains were written`);
      sizes.forEach((L, k) => {
        const a = acc[k]!, g = `/L${L}`;
        writeAttrs(f, g, { L, level: k, changed_fraction: a.changed / n });
        writeDataset(f, `${g}/energy`, Float64Array.from(a.H));
        writeDataset(f, `${g}/magnetization`, Float64Array.from(a.M));
        if (a.rE.length) {
          writeDataset(f, `${g}/relax_energy`, rows(a.rE), [a.rE.length, a.rE[0]!.length]);
          writeDataset(f, `${g}/relax_block_corr`, rows(a.rG), [a.rG.length, a.rG[0]!.length]);
        }
        if (a.ops.length === n) {
          for (const [name, data] of [["operators", a.ops], ["operators_blocked", a.opsB]] as const) {
            writeDataset(f, `${g}/${name}`, rows(data), [n, data[0]!.length]);
            writeAttrs(f, `${g}/${name}`, { names: [...even, ...odd].map((x) => x.name).join(",") });
          }
        }
      });
      writeAttrs(f, "/", { ...extra, complete: 1 });
      closeFile(f);
      open = false;
      commitTemp(tmp, out);
    },
    abort() {
      if (!open) return;
      open = false;
      try {
        closeFile(f);
      } finally {
        rmSync(tmp, { force: true });
      }
    },
  };
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
  /** Chains in chain order, configurations dropped after writing. */
  chains: ChainResult[];
}

export function chainParams(o: Omit<CompatibleOptions, "out">, extra: Partial<ChainParams> = {}): ChainParams {
  return {
    dim: o.dim, beta: o.beta, from: o.from, to: o.to, sweeps: o.sweeps, unconstrained: o.unconstrained, rule: o.algorithm,
    therm: o.therm, seed: o.seed, tasks: [1, 2, 3], recordChains: o.chains, operators: false, keepConfigs: true, ...extra,
  };
}

export async function runCompatible(o: CompatibleOptions, force: boolean, hooks: RunHooks = {}): Promise<CompatibleRun> {
  const t0 = performance.now();
  const file = compatibleFile(o.out, o, force);
  const chains: ChainResult[] = [];
  try {
    const p = chainParams(o);
    const jobs = chainJobs(p, o.chains, o.workers ?? 2, 0);
    const done = new Map<number, number>();
    const put = inOrder((r) => {
      file.add(r);
      for (const l of r.levels) delete l.config;
      chains.push(r);
    });
    await runPool(jobs, {
      workers: o.workers, workerUrl: WORKER_URL, shouldStop: hooks.shouldStop,
      onProgress: (id, d) => {
        done.set(id, d);
        hooks.progress?.([...done.values()].reduce((a, b) => a + b, 0), o.chains);
      },
      onResult: (_id, r) => put(r as ChainResult[]),
    }, runCompatibleJob);
    const seconds = (performance.now() - t0) / 1000;
    file.finish({ seconds });
    return { out: o.out, sizes: levelSizes(o.from, o.to), seconds, chains };
  } catch (e) {
    file.abort();
    throw e;
  }
}
