// Reweighting in a coupling c whose action term is c·x: single histogram (Ferrenberg & Swendsen,
// PRL 61, 2635 (1988)) and multiple histogram (Ferrenberg & Swendsen, PRL 63, 1195 (1989)).
//
// Generic on purpose: for Ising c = β and x = E; for φ⁴ in μ², c = μ² and x = Σφ²/2. All sums use
// log-sum-exp, since c·x differences reach 10^6 on large lattices.

/** ln Σ_i e^{a_i}. */
export function logSumExp(a: ArrayLike<number>): number {
  let top = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > top) top = a[i]!;
  if (top === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i]! - top);
  return top + Math.log(s);
}

/** Normalised weights from log-weights. */
export function normalizedWeights(logw: ArrayLike<number>): Float64Array {
  const z = logSumExp(logw);
  return Float64Array.from(logw as ArrayLike<number>, (v) => Math.exp(v - z));
}

/** Log-weights e^{−(c1 − c0)·x} taking samples at c0 to c1. */
export function singleHistogramLogWeights(x: ArrayLike<number>, c0: number, c1: number): Float64Array {
  const dc = c1 - c0;
  return Float64Array.from(x as ArrayLike<number>, (v) => -dc * v);
}

/** ⟨O⟩ at c1 from samples at c0. */
export function reweightMean(obs: ArrayLike<number>, x: ArrayLike<number>, c0: number, c1: number): number {
  const w = normalizedWeights(singleHistogramLogWeights(x, c0, c1));
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * obs[i]!;
  return s;
}

/** Effective number of samples Σw² ⁻¹ of normalised weights (how much a reweighting can be trusted). */
export function effectiveSamples(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * w[i]!;
  return 1 / s;
}

export interface HistogramRun {
  coupling: number;
  x: ArrayLike<number>;
  /** τ_int of x in this run: samples count as N/(2τ) independent ones (default 0.5). */
  tauInt?: number;
}

export interface MultiHistogram {
  /** Dimensionless free energies f_k (f_0 = 0) with Z_k ∝ e^{−f_k}. */
  f: Float64Array;
  iterations: number;
  /** Log-weights of every sample (runs concatenated) for averages at coupling c. */
  logWeights(c: number): Float64Array;
  /** ⟨O⟩ at coupling c; `obs` holds every sample, runs concatenated in input order. */
  mean(obs: ArrayLike<number>, c: number): number;
}

/**
 * Solves f_k = ln Σ_j e^{−c_k x_j} / Σ_m g_m e^{−c_m x_j + f_m} (g_m = N_m / 2τ_m) by iteration
 * in log space until the largest change is below `tol`.
 */
export function multiHistogram(runs: readonly HistogramRun[], opts: { tol?: number; maxIter?: number } = {}): MultiHistogram {
  if (runs.length === 0) throw new RangeError("multiple-histogram reweighting needs at least one run");
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100000;
  const K = runs.length;
  const n = runs.reduce((a, r) => a + r.x.length, 0);
  const x = new Float64Array(n);
  let off = 0;
  for (const r of runs) {
    x.set(Float64Array.from(r.x as ArrayLike<number>), off);
    off += r.x.length;
  }
  const lng = runs.map((r) => Math.log(r.x.length / (2 * (r.tauInt ?? 0.5))));
  const c = runs.map((r) => r.coupling);
  const f = new Float64Array(K);
  const denom = new Float64Array(n);
  const terms = new Float64Array(K);
  const computeDenom = (): void => {
    for (let j = 0; j < n; j++) {
      for (let m = 0; m < K; m++) terms[m] = lng[m]! - c[m]! * x[j]! + f[m]!;
      denom[j] = logSumExp(terms);
    }
  };
  const buf = new Float64Array(n);
  let it = 0;
  for (; it < maxIter; it++) {
    computeDenom();
    let change = 0;
    const next = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < n; j++) buf[j] = -c[k]! * x[j]! - denom[j]!;
      next[k] = -logSumExp(buf);
    }
    const ref = next[0]!;
    for (let k = 0; k < K; k++) {
      next[k]! -= ref;
      change = Math.max(change, Math.abs(next[k]! - f[k]!));
      f[k] = next[k]!;
    }
    if (change < tol) break;
  }
  computeDenom();
  const logWeights = (cc: number): Float64Array => Float64Array.from(x, (v, j) => -cc * v - denom[j]!);
  return {
    f,
    iterations: it,
    logWeights,
    mean(obs, cc) {
      if (obs.length !== n) throw new RangeError(`expected ${n} samples, got ${obs.length}`);
      const w = normalizedWeights(logWeights(cc));
      let s = 0;
      for (let j = 0; j < n; j++) s += w[j]! * obs[j]!;
      return s;
    },
  };
}
