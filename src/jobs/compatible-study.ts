// The study of `irg pipeline compatible` (Ron, Swendsen & Brandt, PRL 89, 275701 (2002); RG matrix:
// Swendsen, PRL 42, 859 (1979)): 3D Ising at K_c, pure compatible MC and compatible MC with unconstrained
// sweeps at every level, against Wolff and Metropolis at the same sizes, in one worker pool.

import { join } from "node:path";
import { makeDir, writeFileAtomic, writeReport } from "../io/files.js";
import { h5Ready } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { type Dim, lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { BETA_C_3D } from "../models/ising.js";
import { makeIsingSampler } from "../mc/ising-samplers.js";
import { relaxationTime, type UnconstrainedAlgorithm } from "../irg/compatible.js";
import { etaFromYh, rgSectorAnalysis, type ValueError } from "../analysis/rg-matrix.js";
import { type Estimate, jackknife, jackknifeError, uwerr } from "../analysis/stats.js";
import { fitLine } from "../analysis/mcrg.js";
import { binderEstimate } from "../analysis/observables.js";
import { defaultWorkers, runPool } from "../cluster/pool.js";
import { WORKER_URL } from "./worker-url.js";
import {
  type ChainLevel, type ChainParams, type ChainResult, chainJobs, chainParams, type CompatibleJob, compatibleWriter,
  type DirectParams, type DirectResult, inOrder, levelSizes, runChain, runCompatibleJob, type RunHooks, studyOperators,
} from "./compatible.js";

/** Label word, and file and legend tag, of each kind of unconstrained sweep (u: local, as before). */
const REFINE: Record<UnconstrainedAlgorithm, { label: string; tag: string }> = {
  local: { label: "unconstrained", tag: "u" }, wolff: { label: "Wolff", tag: "w" }, hybrid: { label: "heat-bath + Wolff", tag: "h" },
};
/** Chains whose per-sweep relaxation series are recorded, in each ensemble. */
const RECORD_CHAINS = 64;

export interface StudyOptions {
  from: number;
  to: number;
  /** Chains of the pure ensemble (no unconstrained sweeps). */
  chains: number;
  sweeps: number;
  /** Unconstrained sweeps per level of the second ensemble (of kind `refineAlgorithm`); 0 leaves it out. */
  unconstrained: number;
  /** The second ensemble's unconstrained sweeps: local (heat bath), Wolff, or hybrid (one of each per sweep). */
  refineAlgorithm: UnconstrainedAlgorithm;
  refinedChains: number;
  therm: number;
  seed: number;
  workers?: number;
  outDir: string;
  /** Largest size of the Metropolis τ_int runs. */
  metropolisMax: number;
  /** Unconstrained sweeps after which the pure ensembles at the validation sizes are measured again. */
  refinePoints: number[];
  /** Measurement sweeps of every direct run (default: by size and algorithm, see `directJobs`). */
  directSweeps?: number;
}

export interface Obs {
  e: Estimate;
  absM: Estimate;
  /** χ = V⟨m²⟩ (the finite-size-scaling susceptibility at K_c). */
  chi: Estimate;
  binder: Estimate;
}

export interface McrgRow {
  ensemble: string;
  Lfine: number;
  /** Blocking step n: T between n and n + 1 blockings of the Lfine·2^n configurations. */
  step: number;
  configurations: number;
  /** ν and η from the first 1, 2, … even / odd operators. */
  nu: ValueError[];
  eta: ValueError[];
}

export interface FssFit {
  ensemble: string;
  sizes: number[];
  gammaOverNu: Estimate;
  betaOverNu: Estimate;
}

export interface LevelSummary {
  L: number;
  obs: Obs;
  tauEnergy: Estimate;
  tauBlock: Estimate;
  /** Mean energy per site of the recorded chains after each constrained sweep (index 0: compatible start). */
  relaxCurve: number[];
  changedFraction: number;
}

export interface EnsembleSummary {
  label: string;
  /** A few characters for plot legends. */
  short: string;
  /** Kind of the unconstrained sweeps (local: heat bath). */
  unconstrainedAlgorithm: UnconstrainedAlgorithm;
  file: string;
  unconstrained: number;
  chains: number;
  levels: LevelSummary[];
  mcrg: McrgRow[];
  fss: FssFit[];
  /** Median generation time of one chain L0 → top (chains without the relaxation record when there are). */
  secondsPerConfig: number;
  cpuSeconds: number;
}

export interface DirectSummary {
  algorithm: "wolff" | "metropolis";
  L: number;
  sweeps: number;
  secondsPerSweep: number;
  clustersPerSweep: number;
  flipsPerSweep: number;
  obs: Obs;
  tauE: ValueError;
  tauM: ValueError;
  cpuSeconds: number;
}

export interface Comparison {
  quantity: string;
  direct: Estimate;
  /** Per ensemble label: value and z = Δ/σ against direct. */
  generated: { label: string; value: Estimate; z: number }[];
}

export interface RefineRow {
  u: number;
  de: ValueError;
  dm: ValueError;
  dU: ValueError;
}

export interface CompatibleStudy {
  options: StudyOptions;
  sizes: number[];
  beta: number;
  seconds: number;
  workers: number;
  ensembles: EnsembleSummary[];
  direct: DirectSummary[];
  directMcrg: McrgRow[];
  directFss: FssFit[];
  validation: { L: number; rows: Comparison[] }[];
  refinement: { L: number; rows: RefineRow[]; removedAfter: number | null }[];
  /** Per configuration at the largest size, from `timeCosts` (one thread, best of three). */
  cost: {
    L: number;
    compatible: number;
    refined: number | null;
    wolff: { secondsPerSweep: number; tau: number; perIndependent: number } | null;
    /** τ at the largest measured size Lt, extrapolated to L with the fitted z when Lt < L. */
    metropolis: { L: number; secondsPerSweep: number; tau: number; tauAt: number; z: number; perIndependent: number } | null;
  };
  snapshots: { label: string; L: number; config: Int8Array }[];
}

/** Mean and standard error of independent values. */
function indep(x: readonly number[]): Estimate {
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? x.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1) : NaN;
  return { value: m, error: Math.sqrt(v / n), tauInt: 0.5 };
}

/** Observables of configurations given by H and M (binSize 1: independent chains; auto: a time series). */
function observables(V: number, H: ArrayLike<number>, M: ArrayLike<number>, independent: boolean): Obs {
  const e = Float64Array.from(H, (h) => h / V), m = Float64Array.from(M, (x) => Math.abs(x) / V);
  const m2 = m.map((x) => x * x), m4 = m2.map((x) => x * x);
  const opt = independent ? { binSize: 1 } : {};
  return {
    e: independent ? indep(Array.from(e)) : uwerr(e),
    absM: independent ? indep(Array.from(m)) : uwerr(m),
    chi: jackknife([m2], ([a]) => V * a!, opt),
    binder: binderEstimate(m2, m4, opt),
  };
}

function groupIndex(c: number, n: number, g: number): number {
  return Math.min(g - 1, Math.floor((c * g) / n));
}

/** f over all items and with each of g contiguous groups left out: value and jackknife error. */
function jackknifeGroups(n: number, f: (keep: (c: number) => boolean) => number): ValueError {
  const g = Math.min(20, n);
  const value = f(() => true);
  if (g < 2) return { value, error: NaN };
  const samples = Array.from({ length: g }, (_, k) => f((c) => groupIndex(c, n, g) !== k));
  return { value, error: samples.every(Number.isFinite) ? jackknifeError(samples, value) : NaN };
}

export function mcrgRow(ensemble: string, dim: Dim, Lfine: number, step: number, fine: Float64Array[], coarse: Float64Array[]): McrgRow {
  const { even, odd } = studyOperators(dim);
  const ne = even.length;
  const groups = Math.min(20, fine.length);
  const nan = (k: number): ValueError[] => Array.from({ length: k }, () => ({ value: NaN, error: NaN }));
  try {
    const ev = rgSectorAnalysis({ fine: fine.map((r) => r.subarray(0, ne)), coarse: coarse.map((r) => r.subarray(0, ne)) }, { b: 2, groups, names: even.map((o) => o.name) });
    const od = rgSectorAnalysis({ fine: fine.map((r) => r.subarray(ne)), coarse: coarse.map((r) => r.subarray(ne)) }, { b: 2, groups, names: odd.map((o) => o.name) });
    return {
      ensemble, Lfine, step, configurations: fine.length,
      nu: ev.truncations.map((t) => ({ value: 1 / t.y.value, error: t.y.error / t.y.value ** 2 })),
      eta: od.truncations.map((t) => ({ value: etaFromYh(dim, t.y.value), error: 2 * t.y.error })),
    };
  } catch {
    // A singular correlation matrix (too few configurations for the operators): no estimate.
    return { ensemble, Lfine, step, configurations: fine.length, nu: nan(ne), eta: nan(odd.length) };
  }
}

/** γ/ν and β/ν from ln χ and ln⟨|m|⟩ against ln L over independent chains (jackknife over chain groups). */
function fssChains(ensemble: string, dim: Dim, chains: readonly ChainResult[], sizes: number[]): FssFit {
  const n = chains.length;
  const lx = sizes.map(Math.log);
  const slope = (o: "chi" | "m", keep: (c: number) => boolean): number => {
    const ly = sizes.map((L) => {
      const V = L ** dim;
      let s = 0, k = 0;
      chains.forEach((r, c) => {
        if (!keep(c)) return;
        const M = r.levels.find((l) => l.L === L)!.M / V;
        s += o === "chi" ? V * M * M : Math.abs(M);
        k++;
      });
      return Math.log(s / k);
    });
    return fitLine(lx, ly).slope;
  };
  const g = jackknifeGroups(n, (keep) => slope("chi", keep));
  const b = jackknifeGroups(n, (keep) => -slope("m", keep));
  return { ensemble, sizes, gammaOverNu: { ...g, tauInt: NaN }, betaOverNu: { ...b, tauInt: NaN } };
}

/** Weighted fit over independent sizes (each with its own error). */
function fssDirect(ensemble: string, runs: readonly DirectSummary[]): FssFit {
  const fit = (pick: (r: DirectSummary) => Estimate, sign: number): Estimate => {
    const x = runs.map((r) => Math.log(r.L)), y = runs.map((r) => Math.log(pick(r).value));
    const w = runs.map((r) => (pick(r).value / pick(r).error) ** 2);
    let sw = 0, swx = 0, swxx = 0;
    x.forEach((xi, i) => { sw += w[i]!; swx += w[i]! * xi; swxx += w[i]! * xi * xi; });
    return { value: sign * fitLine(x, y, w).slope, error: Math.sqrt(sw / (sw * swxx - swx * swx)), tauInt: NaN };
  };
  return { ensemble, sizes: runs.map((r) => r.L), gammaOverNu: fit((r) => r.obs.chi, 1), betaOverNu: fit((r) => r.obs.absM, -1) };
}

function summariseEnsemble(label: string, file: string, u: number, alg: UnconstrainedAlgorithm, dim: Dim, sizes: number[], chains: ChainResult[]): EnsembleSummary {
  const n = chains.length;
  const levels: LevelSummary[] = sizes.map((L, k) => {
    const lv = chains.map((r) => r.levels[k]!);
    const rec = chains.filter((r) => r.recorded && r.levels[k]!.relaxEnergy).map((r) => r.levels[k]!);
    const tau = (pick: (l: ChainLevel) => Float64Array): Estimate => {
      if (rec.length < 2) return { value: NaN, error: NaN, tauInt: NaN };
      const r = jackknifeGroups(rec.length, (keep) => relaxationTime(rec.filter((_, c) => keep(c)).map(pick)));
      return { ...r, tauInt: NaN };
    };
    return {
      L, obs: observables(L ** dim, lv.map((l) => l.H), lv.map((l) => l.M), true),
      tauEnergy: k === 0 ? { value: NaN, error: NaN, tauInt: NaN } : tau((l) => l.relaxEnergy!),
      tauBlock: k === 0 ? { value: NaN, error: NaN, tauInt: NaN } : tau((l) => l.relaxBlock!),
      relaxCurve: rec.length ? Array.from(rec[0]!.relaxEnergy!, (_, s) => rec.reduce((a, l) => a + l.relaxEnergy![s]!, 0) / rec.length) : [],
      changedFraction: lv.reduce((a, l) => a + l.changedFraction, 0) / n,
    };
  });
  const mcrg: McrgRow[] = [];
  sizes.forEach((L, k) => {
    if (L < 8 || !chains[0]!.levels[k]!.ops) return;
    mcrg.push(mcrgRow(label, dim, L, 0, chains.map((r) => r.levels[k]!.ops![0]!), chains.map((r) => r.levels[k]!.ops![1]!)));
  });
  // Deeper blockings of the largest configurations; without unconstrained sweeps they are the lower levels again.
  const top = chains[0]!.levels.at(-1)!.ops;
  if (u > 0 && top) {
    for (let s = 1; s + 1 < top.length; s++) mcrg.push(mcrgRow(label, dim, sizes.at(-1)! >> s, s, chains.map((r) => r.levels.at(-1)!.ops![s]!), chains.map((r) => r.levels.at(-1)!.ops![s + 1]!)));
  }
  const fssSizes = sizes.filter((L) => L >= 8);
  const fss = [fssChains(label, dim, chains, fssSizes)];
  if (fssSizes.length > 2) fss.push(fssChains(label, dim, chains, fssSizes.slice(1)));
  // The median is robust against the first chains of each worker, which run before the JIT has warmed up.
  const plain = chains.filter((r) => !r.recorded);
  const timed = (plain.length >= 8 ? plain : chains).map((r) => r.seconds).sort((a, b) => a - b);
  return {
    label, short: u > 0 ? `compatible+${REFINE[alg].tag}${u}` : "compatible", file, unconstrained: u, unconstrainedAlgorithm: alg, chains: n, levels, mcrg, fss,
    secondsPerConfig: timed[Math.floor(timed.length / 2)]!,
    cpuSeconds: chains.reduce((a, r) => a + r.totalSeconds, 0),
  };
}

function summariseDirect(r: DirectResult, dim: Dim): DirectSummary {
  const V = r.L ** dim;
  const tau = (x: Float64Array): ValueError => {
    const a = uwerr(x);
    return { value: a.tauInt, error: a.tauIntError ?? NaN };
  };
  return {
    algorithm: r.algorithm, L: r.L, sweeps: r.e.length, secondsPerSweep: r.secondsPerSweep, clustersPerSweep: r.clustersPerSweep, flipsPerSweep: r.flipsPerSweep,
    obs: observables(V, r.e.map((x) => x * V), r.m.map((x) => x * V), false),
    tauE: tau(r.e), tauM: tau(r.m.map(Math.abs)), cpuSeconds: r.totalSeconds,
  };
}

function zOf(a: Estimate, b: Estimate): number {
  return (a.value - b.value) / Math.hypot(a.error, b.error);
}

function diff(a: Estimate, b: Estimate): ValueError {
  return { value: a.value - b.value, error: Math.hypot(a.error, b.error) };
}

export interface CostTiming {
  compatible: number;
  refined: number | null;
  wolffPerFlip: number | null;
  metropolisPerSweep: number | null;
}

/**
 * Seconds per configuration at the largest size, timed back to back in this thread after the pool and the
 * best of three rounds: the workers' own clocks run alongside each other and whatever else shares the
 * machine, which made the same chain cost anything from 1× to 1.5× in one run. Wolff is timed per
 * flipped spin (the number of flips per sweep fluctuates with the cluster sizes) from its last
 * equilibrium configuration; Metropolis per sweep from the same configuration.
 */
export function timeCosts(o: StudyOptions, beta: number, wolffTop: DirectResult | undefined): CostTiming {
  const base = { dim: 3 as Dim, beta, from: o.from, to: o.to, sweeps: o.sweeps, chains: 1, algorithm: "heatbath" as const, therm: o.therm, seed: o.seed };
  const extra = { tasks: [21, 22, 23] as [number, number, number], recordChains: 0, operators: false, keepConfigs: false };
  const pure = chainParams({ ...base, unconstrained: 0, unconstrainedAlgorithm: "local" }, extra);
  const refined = chainParams({ ...base, unconstrained: o.unconstrained, unconstrainedAlgorithm: o.refineAlgorithm }, extra);
  const lat = lattice(3, o.to);
  const local = (alg: "wolff" | "metropolis") => {
    if (!wolffTop?.last) return null;
    const smp = makeIsingSampler({ algorithm: alg, lat, beta, rng: rngFor({ seed: o.seed, task: 24 }) });
    const st = smp.save();
    smp.restore({ ...st, spins: wolffTop.last, extra: { ...st.extra, clustersPerSweep: wolffTop.clustersPerSweep } });
    return smp;
  };
  const wolff = local("wolff"), metro = local("metropolis");
  const best = { compatible: Infinity, refined: Infinity, wolff: Infinity, metro: Infinity };
  const time = (f: () => void): number => {
    const t = performance.now();
    f();
    return (performance.now() - t) / 1000;
  };
  for (let round = 0; round < 3; round++) {
    best.compatible = Math.min(best.compatible, time(() => runChain(pure, round, new Map())));
    if (o.unconstrained > 0) best.refined = Math.min(best.refined, time(() => runChain(refined, round, new Map())));
    if (wolff) {
      const f0 = wolff.counters.flipped;
      const s = time(() => { for (let k = 0; k < 3; k++) wolff.sweep(); });
      best.wolff = Math.min(best.wolff, s / Math.max(1, wolff.counters.flipped - f0));
    }
    if (metro) best.metro = Math.min(best.metro, time(() => { for (let k = 0; k < 3; k++) metro.sweep(); }) / 3);
  }
  const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return { compatible: best.compatible, refined: fin(best.refined), wolffPerFlip: fin(best.wolff), metropolisPerSweep: fin(best.metro) };
}

/** Default lengths of the direct runs: Wolff (validation, τ_int, cost) and Metropolis (τ_int). */
export function directJobs(o: StudyOptions, sizes: number[], beta: number, firstId: number): CompatibleJob[] {
  const jobs: CompatibleJob[] = [];
  const add = (p: DirectParams): void => void jobs.push({ id: firstId + jobs.length, kind: "direct", params: p });
  for (const L of sizes.filter((x) => x >= 8 && x <= o.metropolisMax).reverse()) {
    add({ algorithm: "metropolis", dim: 3, L, beta, therm: Math.max(500, 2 * L * L), sweeps: o.directSweeps ?? (L <= 32 ? Math.max(2000, 10 * L * L) : 6 * L * L), seed: o.seed, task: 200 + Math.log2(L), opsEvery: 0, keepLast: false });
  }
  for (const L of sizes.filter((x) => x >= 8).reverse()) {
    const sweeps = o.directSweeps ?? (L <= 16 ? 10000 : L === 32 ? 4000 : L === 64 ? 600 : 300);
    const opsEvery = L === 32 ? 4 : L === 64 && o.to >= 128 ? 1 : 0;
    add({ algorithm: "wolff", dim: 3, L, beta, therm: L >= 128 ? 60 : L >= 64 ? 100 : 200, sweeps, seed: o.seed, task: 100 + Math.log2(L), opsEvery, keepLast: L === o.to });
  }
  return jobs;
}

export async function runCompatibleStudy(o: StudyOptions, hooks: RunHooks & { log?: (m: string) => void } = {}): Promise<CompatibleStudy> {
  await h5Ready();
  const t0 = performance.now();
  const dim: Dim = 3, beta = BETA_C_3D;
  const sizes = levelSizes(o.from, o.to);
  const workers = o.workers ?? defaultWorkers();
  const validationSizes = sizes.filter((L) => L === 16 || L === 32);
  const base = { dim, beta, from: o.from, to: o.to, sweeps: o.sweeps, algorithm: "heatbath" as const, therm: o.therm, seed: o.seed };
  const studies = [
    { label: "compatible", u: 0, alg: "local" as const, chains: o.chains, file: join(o.outDir, "compatible.h5"), tasks: [1, 2, 3] as [number, number, number] },
    ...(o.unconstrained > 0 ? [{
      label: `compatible + ${o.unconstrained} ${REFINE[o.refineAlgorithm].label}/level`, u: o.unconstrained, alg: o.refineAlgorithm, chains: o.refinedChains,
      file: join(o.outDir, `compatible_${REFINE[o.refineAlgorithm].tag}${o.unconstrained}.h5`), tasks: [11, 12, 13] as [number, number, number],
    }] : []),
  ];
  makeDir(o.outDir);
  const jobs: CompatibleJob[] = [];
  const direct = directJobs(o, sizes, beta, 0);
  // Longest jobs first: the large direct runs, then the chain batches, then the small direct runs.
  const longDirect = direct.filter((j) => (j.params as DirectParams).L >= 32), shortDirect = direct.filter((j) => (j.params as DirectParams).L < 32);
  jobs.push(...longDirect);
  const files: ReturnType<typeof compatibleWriter>[] = [];
  const collected: ChainResult[][] = studies.map(() => []);
  const snapshots: CompatibleStudy["snapshots"] = [];
  const deliver = studies.map((s, k) => {
    const opts = { ...base, chains: s.chains, unconstrained: s.u, unconstrainedAlgorithm: s.alg };
    const file = compatibleWriter(s.file, { ...opts, recordChains: RECORD_CHAINS, operators: true });
    files.push(file);
    return inOrder((r) => {
      file.add(r);
      if (r.chain === 0) for (const l of r.levels) if (l.L >= 8 && (k === 0 || l.L === o.to)) snapshots.push({ label: s.label, L: l.L, config: l.config! });
      for (const l of r.levels) delete l.config;
      collected[k]!.push(r);
    });
  });
  const batchOwner = new Map<number, number>();
  studies.forEach((s, k) => {
    const p = chainParams({ ...base, chains: s.chains, unconstrained: s.u, unconstrainedAlgorithm: s.alg }, {
      tasks: s.tasks, recordChains: RECORD_CHAINS, operators: true, keepConfigs: true,
      ...(k === 0 && validationSizes.length ? { refine: { sizes: validationSizes, points: o.refinePoints } } : {}),
    });
    for (const j of chainJobs(p, s.chains, workers, jobs.length)) {
      batchOwner.set(j.id, k);
      jobs.push(j);
    }
  });
  jobs.push(...shortDirect);
  jobs.forEach((j, k) => (j.id = k));
  // Rough cost of every job in site updates, for one progress bar over all of them.
  const weight = jobs.map((j) => {
    if (j.kind === "direct") {
      const p = j.params as DirectParams;
      return (p.therm + p.sweeps) * p.L ** 3 * (p.algorithm === "wolff" ? 6 : 1.5) + (p.opsEvery ? (p.sweeps / p.opsEvery) * p.L ** 3 * 15 : 0);
    }
    const { chain, count } = j.params as { chain: ChainParams; count: number };
    return count * (chain.sweeps + chain.unconstrained + 15) * sizes.reduce((a, L) => a + L ** 3, 0);
  });
  const total = weight.reduce((a, b) => a + b, 0);
  const frac = new Float64Array(jobs.length);
  hooks.log?.(`${jobs.length} jobs on ${workers} workers: ${studies.map((s) => `${s.chains} chains ${o.from} → ${o.to} (${s.label})`).join(", ")}; Wolff at L = ${sizes.filter((L) => L >= 8).join(", ")}; Metropolis at L = ${sizes.filter((L) => L >= 8 && L <= o.metropolisMax).join(", ")}`);
  let results: unknown[];
  try {
    results = await runPool(jobs, {
      workers, workerUrl: WORKER_URL, shouldStop: hooks.shouldStop,
      onProgress: (id, d, t) => {
        frac[id] = t > 0 ? d / t : 0;
        hooks.progress?.(Math.round((1000 * weight.reduce((a, w, k) => a + w * frac[k]!, 0)) / total), 1000);
      },
      onResult: (id, r) => {
        frac[id] = 1;
        const k = batchOwner.get(id);
        if (k !== undefined) deliver[k]!(r as ChainResult[]);
      },
    }, runCompatibleJob);
    files.forEach((f, k) => f.finish(collected[k]!.reduce((a, r) => a + r.totalSeconds, 0)));
  } catch (e) {
    for (const f of files) f.abort();
    throw e;
  }
  const directRes = jobs.map((j, k) => (j.kind === "direct" ? (results[k] as DirectResult) : null)).filter((r): r is DirectResult => r !== null);
  hooks.log?.("timing one configuration of every method at the largest size (best of 3)");
  const timing = timeCosts(o, beta, directRes.find((r) => r.algorithm === "wolff" && r.L === o.to));
  return analyseStudy(o, sizes, beta, workers, studies.map((s, k) => ({ ...s, chains: collected[k]! })), directRes, snapshots, timing, (performance.now() - t0) / 1000);
}

function analyseStudy(
  o: StudyOptions, sizes: number[], beta: number, workers: number,
  studies: { label: string; u: number; alg: UnconstrainedAlgorithm; file: string; chains: ChainResult[] }[], directRes: DirectResult[],
  snapshots: CompatibleStudy["snapshots"], timing: CostTiming, seconds: number,
): CompatibleStudy {
  const dim: Dim = 3;
  const ensembles = studies.map((s) => summariseEnsemble(s.label, s.file, s.u, s.alg, dim, sizes, s.chains));
  const direct = directRes.map((r) => summariseDirect(r, dim)).sort((a, b) => a.algorithm.localeCompare(b.algorithm) || a.L - b.L);
  const wolff = direct.filter((d) => d.algorithm === "wolff");
  const directMcrg: McrgRow[] = [];
  for (const r of directRes) {
    for (let s = 0; r.ops && s + 1 < r.ops.length; s++) directMcrg.push(mcrgRow(`Wolff ${r.L}³`, dim, r.L >> s, s, r.ops[s]!, r.ops[s + 1]!));
    if (r.last) snapshots.push({ label: "Wolff (direct)", L: r.L, config: r.last });
  }
  const directFss = [fssDirect("Wolff", wolff)];
  if (wolff.length > 2) directFss.push(fssDirect("Wolff", wolff.slice(1)));
  const validation = sizes.filter((L) => L === 16 || L === 32).flatMap((L) => {
    const d = wolff.find((w) => w.L === L);
    if (!d) return [];
    const k = sizes.indexOf(L);
    const rows: Comparison[] = (["e", "absM", "binder", "chi"] as const).map((q) => ({
      quantity: { e: "⟨e⟩", absM: "⟨|m|⟩", binder: "U₄", chi: "χ = V⟨m²⟩" }[q],
      direct: d.obs[q],
      generated: ensembles.map((en) => ({ label: en.label, value: en.levels[k]!.obs[q], z: zOf(en.levels[k]!.obs[q], d.obs[q]) })),
    }));
    return [{ L, rows }];
  });
  const pure = studies[0]!.chains;
  const refinement = validation.map(({ L }) => {
    const d = wolff.find((w) => w.L === L)!;
    const k = sizes.indexOf(L);
    const rows = o.refinePoints.map((u, j) => {
      const g = observables(L ** dim, pure.map((r) => r.levels[k]!.refine!.H[j]!), pure.map((r) => r.levels[k]!.refine!.M[j]!), true);
      return { u, de: diff(g.e, d.obs.e), dm: diff(g.absM, d.obs.absM), dU: diff(g.binder, d.obs.binder) };
    });
    const ok = (r: RefineRow): boolean => [r.de, r.dm, r.dU].every((x) => Math.abs(x.value) < 2 * x.error);
    const first = rows.findIndex((_, j) => rows.slice(j).every(ok));
    return { L, rows, removedAfter: first >= 0 ? rows[first]!.u : null };
  });
  const top = sizes.at(-1)!;
  const wTop = wolff.find((w) => w.L === top);
  const metro = direct.filter((d) => d.algorithm === "metropolis");
  const mBig = metro.at(-1);
  let metropolis: CompatibleStudy["cost"]["metropolis"] = null;
  if (mBig && timing.metropolisPerSweep !== null) {
    const tauOf = (m: DirectSummary): number => Math.max(m.tauE.value, m.tauM.value);
    const z = metro.length > 1 ? fitLine(metro.map((m) => Math.log(m.L)), metro.map((m) => Math.log(tauOf(m)))).slope : 2;
    const tau = tauOf(mBig) * (top / mBig.L) ** z;
    metropolis = { L: mBig.L, secondsPerSweep: timing.metropolisPerSweep, tau, tauAt: tauOf(mBig), z, perIndependent: 2 * tau * timing.metropolisPerSweep };
  }
  let wolffCost: CompatibleStudy["cost"]["wolff"] = null;
  if (wTop && timing.wolffPerFlip !== null) {
    const sweep = timing.wolffPerFlip * wTop.flipsPerSweep, tau = Math.max(wTop.tauE.value, wTop.tauM.value);
    wolffCost = { secondsPerSweep: sweep, tau, perIndependent: 2 * tau * sweep };
  }
  const cost: CompatibleStudy["cost"] = { L: top, compatible: timing.compatible, refined: timing.refined, wolff: wolffCost, metropolis };
  return { options: o, sizes, beta, seconds, workers, ensembles, direct, directMcrg, directFss, validation, refinement, cost, snapshots };
}

/** The study as plain JSON (snapshots left out): results.json. */
export function studyJson(r: CompatibleStudy): unknown {
  const { snapshots, ...rest } = r;
  return { ...rest, snapshots: snapshots.map((s) => ({ label: s.label, L: s.L })) };
}

/** Defaults of `irg pipeline compatible`: a few minutes to 64³, the full study with --to 128. */
export function studyDefaults(to: number): Omit<StudyOptions, "outDir" | "workers"> {
  const full = to >= 128;
  return {
    from: 4, to, chains: full ? 200 : 256, sweeps: 10, unconstrained: 3, refineAlgorithm: "hybrid", refinedChains: full ? 400 : 128, therm: 100, seed: 1,
    metropolisMax: full ? 64 : 32, refinePoints: [0, 1, 2, 4, 8, 16, 32, 64, 128],
  };
}

function refineAlgorithm(v: string | boolean | undefined): UnconstrainedAlgorithm | undefined {
  if (v === undefined) return undefined;
  if (v !== "local" && v !== "wolff" && v !== "hybrid") throw new UsageError(`--unconstrained-algorithm must be local, wolff or hybrid, got ${String(v)}`);
  return v;
}

const NOT_FOR_COMPATIBLE = ["target", "L0", "genLimit", "couplings", "direct", "epochs"];

/**
 * The options of `irg pipeline compatible` from the flags of `irg pipeline`; `given(k)`: whether flag k
 * was set on the command line (not a default of the pipeline command).
 */
export function compatibleStudyOptions(o: Record<string, string | boolean | undefined>, given: (k: string) => boolean): StudyOptions {
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const k of NOT_FOR_COMPATIBLE) {
    if (given(k)) throw new UsageError(`${flag(k)} does not apply to pipeline compatible`);
  }
  const num = (k: string, min: number, max = 1e9): number | undefined => {
    if (o[k] === undefined) return undefined;
    const v = Number(o[k]);
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${flag(k)} must be an integer between ${min} and ${max}, got ${String(o[k])}`);
    return v;
  };
  const to = num("to", 8, 512) ?? 64;
  const d = studyDefaults(to);
  const from = num("from", 2, 256) ?? d.from;
  levelSizes(from, to);
  if (!(to / from >= 4)) throw new UsageError(`pipeline compatible needs at least two doublings (--to >= 4 × --from), got ${from} → ${to}`);
  const opts: StudyOptions = {
    ...d, from, to,
    chains: num("chains", 20) ?? d.chains,
    sweeps: num("sweeps", 2) ?? d.sweeps,
    unconstrained: num("unconstrained", 0) ?? d.unconstrained,
    refineAlgorithm: refineAlgorithm(o.unconstrainedAlgorithm) ?? d.refineAlgorithm,
    seed: num("seed", 0) ?? d.seed,
    ...(o.directSweeps !== undefined ? { directSweeps: num("directSweeps", 100) } : {}),
    outDir: given("outDir") ? String(o.outDir) : join(String(o.outDir), "compatible"),
    ...(o.workers !== undefined ? { workers: num("workers", 0, 256) } : {}),
  };
  opts.refinedChains = num("refinedChains", 20) ?? (o.chains !== undefined ? Math.max(20, Math.round(opts.chains / 2)) : d.refinedChains);
  return opts;
}

/** `irg pipeline compatible`: the study, then report.html (the HTML that `render` makes of it) and results.json in its directory. */
export async function compatibleStudyCommand(o: StudyOptions, hooks: RunHooks & { log?: (m: string) => void }, render: (r: CompatibleStudy) => Promise<string>): Promise<{ result: CompatibleStudy; report: string }> {
  const r = await runCompatibleStudy(o, hooks);
  const report = join(o.outDir, "report.html");
  writeReport(report, await render(r));
  writeFileAtomic(join(o.outDir, "results.json"), JSON.stringify(studyJson(r), null, 1));
  return { result: r, report };
}
