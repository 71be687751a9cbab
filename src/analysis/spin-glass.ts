// Spin-glass observables with disorder averages: χ_SG = V[⟨q²⟩], g = ½(3 − [⟨q⁴⟩]/[⟨q²⟩]²), the second-moment
// ξ_SG from F = V[⟨|q(k_min)|²⟩] (docs/ea.md; Ballesteros et al., PRB 62, 14237 (2000)), and the log-binning test.
//
// Why the jackknife runs over samples: sample-to-sample fluctuations dominate the error of a disorder
// average, and thermal averages of different samples are independent, so leaving out one sample at a
// time gives the full error of every nonlinear combination (g, ξ) at once. With a single sample the
// error is the ordinary binned jackknife over the time series (thermal error only).

import { type Estimate, jackknife, jackknifeError, jackknifeSamples } from "./stats.js";

/** Rows of a series grouped by sample index: for every sample (ascending) its values in row order. */
export function groupBySample(values: ArrayLike<number>, sample: ArrayLike<number> | null): Float64Array[] {
  if (!sample) return [Float64Array.from(values)];
  const groups = new Map<number, number[]>();
  for (let r = 0; r < values.length; r++) {
    const s = sample[r]!;
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(values[r]!);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => Float64Array.from(groups.get(k)!));
}

function meanOf(x: ArrayLike<number>, f: (v: number) => number, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += f(x[i]!);
  return s / (to - from);
}

/**
 * Thermal mean of f(value) per sample (samples ascending); with `logWeight`, the rows of a sample are
 * weighted by e^{logWeight} normalised within the sample (single-histogram reweighting).
 */
export function sampleMeans(values: ArrayLike<number>, sample: ArrayLike<number> | null, f: (v: number) => number, logWeight?: ArrayLike<number>): Float64Array {
  const xs = groupBySample(values, sample);
  if (!logWeight) return Float64Array.from(xs, (x) => meanOf(x, f));
  const ws = groupBySample(logWeight, sample);
  return Float64Array.from(xs, (x, s) => {
    const w = ws[s]!;
    let top = -Infinity;
    for (let i = 0; i < w.length; i++) top = Math.max(top, w[i]!);
    let a = 0, z = 0;
    for (let i = 0; i < x.length; i++) {
      const e = Math.exp(w[i]! - top);
      a += e * f(x[i]!);
      z += e;
    }
    return a / z;
  });
}

export interface SpinGlassInput {
  /** Overlap q per measurement (rows of all samples, any order). */
  q: ArrayLike<number>;
  /** |q(k_min)|² per measurement (optional: without it there is no ξ_SG). */
  qk2?: ArrayLike<number> | null;
  /** Sample index of every row (null: one sample). */
  sample: ArrayLike<number> | null;
  V: number;
  L: number;
  /**
   * Log weight of every row for single-histogram reweighting (e.g. −Δβ·(E(s)+E(t)), or the parent's for
   * blocked and generated fields); the thermal averages of each sample are then weighted averages.
   */
  logWeight?: ArrayLike<number>;
}

/**
 * [⟨q²⟩], [⟨q⁴⟩], χ_SG, g and ξ_SG (when qk2 is given) with jackknife errors over samples (thermal
 * averages per sample first). τ_int is that of the per-sample means, 1/2 by construction (independent samples).
 */
export function spinGlassEstimates(inp: SpinGlassInput): { samples: number; estimates: Record<string, Estimate> } {
  const q = groupBySample(inp.q, inp.sample);
  const k2 = inp.qk2 ? groupBySample(inp.qk2, inp.sample) : null;
  const S = q.length;
  const { V, L } = inp;
  const sq = (v: number): number => v * v;
  if (inp.logWeight && S < 2) throw new RangeError("reweighting a spin-glass ensemble needs at least 2 samples (errors over samples)");
  // Primaries: per sample thermal means (S >= 2; weighted when reweighting), or the time series of the one sample.
  const data: Float64Array[] = S >= 2
    ? [sampleMeans(inp.q, inp.sample, sq, inp.logWeight), sampleMeans(inp.q, inp.sample, (v) => v ** 4, inp.logWeight), ...(inp.qk2 ? [sampleMeans(inp.qk2, inp.sample, (v) => v, inp.logWeight)] : [])]
    : [q[0]!.map(sq), q[0]!.map((v) => v ** 4), ...(k2 ? [k2[0]!] : [])];
  const opts = S >= 2 ? { binSize: 1 } : {};
  const xi = (m: number[]): number => {
    const r = m[0]! / m[2]! - 1;
    return r > 0 ? Math.sqrt(r) / (2 * Math.sin(Math.PI / L)) : Number.NaN;
  };
  const estimates: Record<string, Estimate> = {
    q2: jackknife(data, (m) => m[0]!, opts),
    q4: jackknife(data, (m) => m[1]!, opts),
    chi_sg: jackknife(data, (m) => V * m[0]!, opts),
    g: jackknife(data, (m) => 0.5 * (3 - m[1]! / (m[0]! * m[0]!)), opts),
  };
  if (k2) estimates.xi_sg = jackknife(data, xi, opts);
  return { samples: S, estimates };
}

export interface LogBin {
  /** Measurement indices [from, to) of every sample. */
  from: number;
  to: number;
  value: number;
  error: number;
  /** (value − last bin) / error of the difference (jackknife over samples); 0 for the last bin. */
  z: number;
}

/**
 * Logarithmic binning of [⟨q²⟩] (docs/ea.md): bins [N/2, N), [N/4, N/2), … [0, N/2^k) of every
 * sample's measurements, in time order. A run is equilibrated when the bins after the first agree with
 * the last one. Errors: jackknife over samples of each bin's value and of its difference from the last
 * bin (the same samples enter both, so their errors are correlated). Needs at least 2 samples.
 */
export function logBinning(q: ArrayLike<number>, sample: ArrayLike<number>, minBin = 1): LogBin[] {
  const groups = groupBySample(q, sample);
  if (groups.length < 2) throw new RangeError("log binning with errors over samples needs at least 2 samples");
  const N = Math.min(...groups.map((g) => g.length));
  const edges: number[] = [N];
  while (edges[0]! >= 2 * minBin && Math.floor(edges[0]! / 2) >= minBin) edges.unshift(Math.floor(edges[0]! / 2));
  edges.unshift(0);
  const sq = (v: number): number => v * v;
  const perBin = edges.slice(0, -1).map((from, b) => Float64Array.from(groups, (g) => meanOf(g, sq, from, edges[b + 1]!)));
  const last = perBin[perBin.length - 1]!;
  const lastJk = jackknifeSamples(last);
  return perBin.map((vals, b) => {
    const jk = jackknifeSamples(vals);
    const value = meanOf(vals, (v) => v);
    const diff = jk.map((v, j) => v - lastJk[j]!);
    const dErr = jackknifeError(diff);
    const d = value - meanOf(last, (v) => v);
    return { from: edges[b]!, to: edges[b + 1]!, value, error: jackknifeError(jk), z: b === perBin.length - 1 || dErr === 0 ? 0 : d / dErr };
  });
}

/** True when every bin after the first lies within `sigmas` of the last bin. */
export function logBinsAgree(bins: LogBin[], sigmas = 2): boolean {
  return bins.slice(1).every((b) => Math.abs(b.z) <= sigmas);
}

/** P(|Z| > z) for a standard normal Z: erfc(z/√2), by the Chebyshev fit of Numerical Recipes (relative error < 1.2e-7). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return y;
}

/**
 * The threshold z of `comparisons` two-sided z-tests such that an equilibrated run fails any of them with
 * probability at most `alpha` (Bonferroni): comparisons · P(|Z| > z) = alpha. With 12 log bins and α = 1 %
 * it is 3.3σ; with 12 bins in each of 10 files, 3.9σ.
 */
export function familySigmas(comparisons: number, alpha = 0.01): number {
  let lo = 0, hi = 10;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (comparisons * normalTail(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}
