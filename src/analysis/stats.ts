// Statistics of Monte Carlo averages: the Estimate type, binning, and the binned jackknife for derived quantities with
// τ_int from Wolff's linearisation (U. Wolff, Comput. Phys. Commun. 156 (2004) 143; B. Efron, SIAM CBMS-NSF 38 (1982)).

import { asReplicas, type Estimate, isReplicas, type Replicas, type Series, uwerr } from "./autocorr.js";

export * from "./autocorr.js";

/** The one statistics value type: every reported number carries its error and τ_int. */
export type { Estimate } from "./autocorr.js";

export function mean(x: Series): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Unbiased sample variance (two-pass, so a large mean does not eat the digits). */
export function variance(x: Series): number {
  const m = mean(x);
  let s = 0, c = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - m;
    s += d * d;
    c += d;
  }
  return (s - (c * c) / x.length) / (x.length - 1);
}

/** Variance about `m` of all replicas pooled. */
function pooledVariance(reps: Replicas, m: number): number {
  let s = 0, n = 0;
  for (const a of reps) {
    for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
    n += a.length;
  }
  return n > 1 ? s / (n - 1) : 0;
}

/** Means of consecutive bins of `binSize` measurements; an incomplete last bin is dropped. */
export function binMeans(x: Series, binSize: number): Float64Array {
  if (!(Number.isInteger(binSize) && binSize >= 1)) throw new RangeError(`bin size must be a positive integer, got ${binSize}`);
  const n = Math.floor(x.length / binSize);
  const out = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = b * binSize; i < (b + 1) * binSize; i++) s += x[i]!;
    out[b] = s / binSize;
  }
  return out;
}

/** Splits a row-interleaved series (row t·chains + c, the ensemble file layout) into one series per chain. */
export function deinterleave(x: Series, chains: number): Float64Array[] {
  if (!(Number.isInteger(chains) && chains >= 1)) throw new RangeError(`chains must be a positive integer, got ${chains}`);
  const n = Math.floor(x.length / chains);
  return Array.from({ length: chains }, (_, c) => {
    const out = new Float64Array(n);
    for (let t = 0; t < n; t++) out[t] = x[t * chains + c]!;
    return out;
  });
}

/**
 * Bin size for a jackknife: b = ⌈max(4τ, (τ²N)^{1/3})⌉ with τ the largest τ_int of the primaries.
 *
 * Binning leaves the error² low by a relative ≈ τ/b (exact for exponential decay) while the jackknife
 * error² has a relative statistical error ≈ √(2b/N); (τ²N)^{1/3} minimises the sum of their squares, and
 * 4τ keeps the bias below ~25% in error² (12% in the error) for short runs. b is capped so that every
 * replica holds at least one bin and there are at least 16 bins, which wins over the rule when the
 * run is too short for it (the error is then underestimated and τ_int tells you so).
 */
export function autoBinSize(data: readonly (Series | Replicas)[]): number {
  if (data.length === 0) throw new RangeError("autoBinSize needs at least one observable");
  const reps = data.map(asReplicas);
  const n = Math.min(...reps.map((r) => r.reduce((a, s) => a + s.length, 0)));
  const minLen = Math.min(...reps.flatMap((r) => r.map((s) => s.length)));
  const tau = Math.max(...data.map((o) => uwerr(o).tauInt));
  const b = Math.ceil(Math.max(4 * tau, Math.cbrt(tau * tau * n)));
  return Math.max(1, Math.min(b, minLen, Math.floor(n / 16)));
}

/** Bins of several observables measured together: `sums[obs][bin]` and the shared bin `sizes`. */
export interface Bins {
  binSize: number;
  sums: Float64Array[];
  sizes: Float64Array;
}

/**
 * Cuts every replica into ⌊N_r/b⌋ consecutive bins, the remainder joining the replica's last bin, so no
 * measurement is dropped and no bin straddles two replicas. All observables must share the replica layout.
 */
export function binReplicas(data: readonly Replicas[], binSize: number): Bins {
  if (!(Number.isInteger(binSize) && binSize >= 1)) throw new RangeError(`bin size must be a positive integer, got ${binSize}`);
  const layout = data[0]!.map((s) => s.length);
  data.forEach((o, k) => {
    if (o.length !== layout.length || o.some((s, r) => s.length !== layout[r])) {
      throw new RangeError(`observable ${k} does not have the replica lengths of observable 0 (${layout.join(", ")})`);
    }
  });
  // ⌊N_r/b⌋ bins (one if the replica is shorter than b, none if empty); the last one ends at N_r.
  const edges: number[][] = layout.map((n) => {
    const nb = n === 0 ? 0 : Math.max(1, Math.floor(n / binSize));
    return Array.from({ length: nb + 1 }, (_, b) => (b === nb ? n : b * binSize));
  });
  const B = edges.reduce((a, e) => a + e.length - 1, 0);
  const sizes = new Float64Array(B);
  const sums = data.map(() => new Float64Array(B));
  let j = 0;
  edges.forEach((e, r) => {
    for (let b = 0; b + 1 < e.length; b++, j++) {
      sizes[j] = e[b + 1]! - e[b]!;
      data.forEach((o, k) => {
        const s = o[r]!;
        let acc = 0;
        for (let i = e[b]!; i < e[b + 1]!; i++) acc += s[i]!;
        sums[k]![j] = acc;
      });
    }
  });
  return { binSize, sums, sizes };
}

/**
 * Leave-one-bin-out means: out[j] = mean of all measurements outside bin j. `values` are per-bin means,
 * or per-bin sums when `sizes` (measurements per bin) is given.
 */
export function jackknifeSamples(values: Series, sizes?: Series): Float64Array {
  const B = values.length;
  if (B < 2) throw new RangeError(`a jackknife needs at least 2 bins, got ${B}`);
  let total = 0, count = 0;
  for (let j = 0; j < B; j++) {
    total += values[j]!;
    count += sizes ? sizes[j]! : 1;
  }
  const out = new Float64Array(B);
  for (let j = 0; j < B; j++) out[j] = (total - values[j]!) / (count - (sizes ? sizes[j]! : 1));
  return out;
}

/**
 * Jackknife error √((B−1)/B Σ_j (v_j − v̄)²) of leave-one-out values v_j. With `full` (the estimate on all
 * data) deviations are taken from it instead of v̄: never smaller, and the natural form when the v_j come
 * from a procedure (a fit, a crossing) whose mean over samples is not itself of interest.
 */
export function jackknifeError(values: Series, full?: number): number {
  const B = values.length;
  if (B < 2) throw new RangeError(`a jackknife error needs at least 2 samples, got ${B}`);
  const c = full ?? mean(values);
  let s = 0;
  for (let j = 0; j < B; j++) s += (values[j]! - c) ** 2;
  return Math.sqrt(((B - 1) / B) * s);
}

export interface JackknifeOptions {
  /** Measurements per bin; by default `autoBinSize` of the primaries. */
  binSize?: number;
  /** Each observable is one series interleaving this many chains (row t·chains + c): split it first. */
  chains?: number;
  /**
   * Report B·f(full) − (B−1)·mean_j f_j, removing the O(1/N) bias of a nonlinear f. Off by default: that
   * bias is far below the error for any sensible run, and the corrected value is noisier.
   */
  biasCorrected?: boolean;
}

/** Data of several primaries: `data[obs]` is one series or its replicas `[replica][t]`. */
export type MultiSeries = readonly (Series | Replicas)[];

function normalise(data: MultiSeries, chains?: number): Replicas[] {
  if (data.length === 0) throw new RangeError("the jackknife needs at least one observable");
  return data.map((o) => {
    if (chains === undefined) return asReplicas(o);
    if (isReplicas(o)) throw new RangeError("`chains` splits single interleaved series; this observable already has replicas");
    return deinterleave(o as Series, chains);
  });
}

/** Everything a jackknife needs, for error propagation through arbitrary procedures. */
export interface JackknifeResample {
  binSize: number;
  /** Means of every primary over all binned data. */
  full: number[];
  /** samples[j][obs]: means of every primary with bin j left out. */
  samples: number[][];
}

export function jackknifeResample(data: MultiSeries, opts: Pick<JackknifeOptions, "binSize" | "chains"> = {}): JackknifeResample {
  const reps = normalise(data, opts.chains);
  const binSize = opts.binSize ?? autoBinSize(reps);
  const { sums, sizes } = binReplicas(reps, binSize);
  if (sizes.length < 2) throw new RangeError(`only ${sizes.length} bin of ${binSize} measurements: too few for a jackknife`);
  const total = sizes.reduce((a, s) => a + s, 0);
  const full = sums.map((s) => s.reduce((a, v) => a + v, 0) / total);
  const loo = sums.map((s) => jackknifeSamples(s, sizes));
  const samples = Array.from(sizes, (_, j) => loo.map((l) => l[j]!));
  return { binSize, full, samples };
}

/**
 * A derived quantity f(⟨a_1⟩, …, ⟨a_n⟩) of primaries measured on the same time series, `data[obs]` being
 * one series or replicas `[obs][replica][t]`; bins never straddle replicas. The value is f at the means
 * (see `biasCorrected`), the error that of the leave-one-bin-out jackknife. τ_int is Wolff's for the
 * linearised series Σ_k ∂_k f · a_k(t) (gradient by central differences with steps of half the error of
 * each mean, small on the scale where f must be linear), and tauIntError comes with it.
 */
export function jackknife(data: MultiSeries, f: (means: number[]) => number, opts: JackknifeOptions = {}): Estimate {
  const reps = normalise(data, opts.chains);
  const { full, samples } = jackknifeResample(reps, { binSize: opts.binSize });
  const values = samples.map(f);
  const B = values.length;
  const value = f(full);
  const error = jackknifeError(values);
  const n = reps[0]!.reduce((a, s) => a + s.length, 0);
  const grad = full.map((m, k) => {
    const h = Math.sqrt(pooledVariance(reps[k]!, m) / n) / 2;
    if (!(h > 0)) return 0;
    const up = full.slice(), dn = full.slice();
    up[k] = m + h;
    dn[k] = m - h;
    const g = (f(up) - f(dn)) / (2 * h);
    // f undefined next to the mean (a ratio at a pole): its τ_int cannot be linearised in this direction.
    return Number.isFinite(g) ? g : 0;
  });
  const projected = reps[0]!.map((s0, r) => {
    const p = new Float64Array(s0.length);
    reps.forEach((o, k) => {
      const s = o[r]!, g = grad[k]!, m = full[k]!;
      if (g !== 0) for (let t = 0; t < p.length; t++) p[t]! += g * (s[t]! - m);
    });
    return p;
  });
  const lin = uwerr(projected);
  const corrected = opts.biasCorrected ? B * value - (B - 1) * mean(values) : value;
  return { value: corrected, error, tauInt: lin.tauInt, tauIntError: lin.tauIntError };
}

/**
 * Effective sample size per row of self-normalised importance weights e^{logWeight}, (Σw)²/(n Σw²):
 * 1 when all weights are equal, → 1/n when one dominates. Used for the exchanges of the exact chain and
 * for the histogram overlap of single-histogram reweighting.
 */
export function essFraction(logWeights: ArrayLike<number>): number {
  const n = logWeights.length;
  if (n === 0) return Number.NaN;
  let top = -Infinity;
  for (let k = 0; k < n; k++) if (logWeights[k]! > top) top = logWeights[k]!;
  let a = 0, b = 0;
  for (let k = 0; k < n; k++) {
    const w = Math.exp(logWeights[k]! - top);
    a += w;
    b += w * w;
  }
  return (a * a) / (n * b);
}

/**
 * The self-normalised importance-sampling estimate Σ w_i x_i / Σ w_i (w = e^{logWeight}) with a
 * jackknife error over `bins` consecutive blocks of rows (the rows come from a Markov chain), and the
 * ESS/N of the weights. The error means little when ESS/N·N is small: one draw then carries the estimate.
 */
export function importanceMean(logWeights: ArrayLike<number>, x: ArrayLike<number>, bins = 20): Estimate & { essFraction: number } {
  const n = logWeights.length;
  if (x.length !== n) throw new RangeError(`${n} weights for ${x.length} values`);
  let top = -Infinity;
  for (let k = 0; k < n; k++) if (logWeights[k]! > top) top = logWeights[k]!;
  const nb = Math.max(2, Math.min(bins, n));
  const W = new Float64Array(nb), X = new Float64Array(nb);
  for (let k = 0; k < n; k++) {
    const b = Math.min(nb - 1, Math.floor((k * nb) / n));
    const w = Math.exp(logWeights[k]! - top);
    W[b]! += w;
    X[b]! += w * x[k]!;
  }
  const sw = W.reduce((a, v) => a + v, 0), sx = X.reduce((a, v) => a + v, 0);
  const loo = Array.from(W, (w, b) => (sx - X[b]!) / (sw - w));
  const mean = loo.reduce((a, v) => a + v, 0) / nb;
  const error = Math.sqrt(((nb - 1) / nb) * loo.reduce((a, v) => a + (v - mean) ** 2, 0));
  return { value: sx / sw, error: Number.isFinite(error) ? error : Number.NaN, tauInt: Number.NaN, essFraction: essFraction(logWeights) };
}
