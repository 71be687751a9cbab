// Errors of Monte Carlo averages: Wolff's Γ-method with automatic windowing for primary observables
// (U. Wolff, Comput. Phys. Commun. 156, 143 (2004); Madras & Sokal, J. Stat. Phys. 50, 109 (1988)),
// and binned jackknife for derived quantities, with a τ_int for them from the linearised series.

/** The one statistics value type: every reported number carries its error and τ_int. */
export interface Estimate {
  value: number;
  error: number;
  /** Integrated autocorrelation time in sweeps-between-measurements; 0.5 for independent data. */
  tauInt: number;
  tauIntError: number;
}

export type Series = ArrayLike<number>;
/** Independent chains (replicas) of one observable, possibly of different lengths. */
export type Replicas = readonly Series[];

function isReplicas(x: Series | Replicas): x is Replicas {
  return Array.isArray(x) && x.length > 0 && typeof x[0] !== "number";
}

function asReplicas(x: Series | Replicas): Replicas {
  return isReplicas(x) ? x : [x as Series];
}

export function mean(x: Series): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Unbiased sample variance. */
export function variance(x: Series): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return s / (x.length - 1);
}

/** Means of consecutive bins of `size` (an incomplete last bin is dropped). */
export function binMeans(x: Series, size: number): Float64Array {
  if (!(size >= 1)) throw new RangeError("bin size must be >= 1");
  const n = Math.floor(x.length / size);
  const out = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += x[i]!;
    out[b] = s / size;
  }
  return out;
}

export interface UwerrOptions {
  /** Wolff's S parameter (τ/τ_int ratio assumed by the window criterion); 1.5 by default. */
  S?: number;
}

/**
 * Γ-method for a primary observable over one or several replicas: autocorrelation Γ(t) summed up to
 * the window W where Wolff's g(W) first turns negative, with Γ's bias corrected by C_F/N.
 */
export function uwerr(data: Series | Replicas, opts: UwerrOptions = {}): Estimate {
  const reps = asReplicas(data);
  const S = opts.S ?? 1.5;
  const R = reps.length;
  let N = 0, sum = 0;
  for (const r of reps) {
    N += r.length;
    for (let i = 0; i < r.length; i++) sum += r[i]!;
  }
  if (N < 2) throw new RangeError(`at least 2 measurements are needed for an error estimate, got ${N}`);
  const abar = sum / N;
  const minLen = Math.min(...reps.map((r) => r.length));
  const gamma = (t: number): number => {
    let s = 0;
    for (const r of reps) for (let i = 0; i + t < r.length; i++) s += (r[i]! - abar) * (r[i + t]! - abar);
    return s / (N - R * t);
  };
  const G: number[] = [gamma(0)];
  if (!(G[0]! > 0)) return { value: abar, error: 0, tauInt: 0.5, tauIntError: 0 };
  const Wmax = Math.max(1, Math.floor(minLen / 2));
  let W = Wmax;
  let cum = G[0]!;
  for (let w = 1; w <= Wmax; w++) {
    G.push(gamma(w));
    cum += 2 * G[w]!;
    const tauW = cum / (2 * G[0]!);
    const tau = tauW <= 0.5 ? 1e-300 : S / Math.log((2 * tauW + 1) / (2 * tauW - 1));
    const g = Math.exp(-w / tau) - tau / Math.sqrt(w * N);
    if (g < 0) {
      W = w;
      break;
    }
  }
  // Bias correction of Γ (Wolff eq. 49): every Γ(t) is low by C_F / N.
  let CF = G[0]!;
  for (let t = 1; t <= W; t++) CF += 2 * G[t]!;
  const shift = CF / N;
  const G0 = G[0]! + shift;
  CF = G0;
  for (let t = 1; t <= W; t++) CF += 2 * (G[t]! + shift);
  CF = Math.max(CF, 1e-300 * G0);
  const tauInt = CF / (2 * G0);
  return {
    value: abar,
    error: Math.sqrt(CF / N),
    tauInt,
    tauIntError: tauInt * Math.sqrt((4 * W + 2) / N),
  };
}

export interface JackknifeOptions {
  /** Measurements per bin; default max(1, ⌈4·τ_max⌉) from the primaries, capped to leave 20 bins. */
  binSize?: number;
}

/**
 * Per-bin means of several primary observables measured together: out[k][b] for observable k and
 * bin b, bins taken within each replica and never across replicas.
 */
export function binnedPrimaries(obs: readonly (Series | Replicas)[], binSize: number): Float64Array[] {
  return obs.map((o) => {
    const parts = asReplicas(o).map((r) => binMeans(r, binSize));
    const total = parts.reduce((a, p) => a + p.length, 0);
    const out = new Float64Array(total);
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    return out;
  });
}

/** A bin size suited to the slowest of the primaries. */
export function autoBinSize(obs: readonly (Series | Replicas)[]): number {
  const n = Math.min(...obs.map((o) => asReplicas(o).reduce((a, r) => a + r.length, 0)));
  const minLen = Math.min(...obs.flatMap((o) => asReplicas(o).map((r) => r.length)));
  const tau = Math.max(...obs.map((o) => uwerr(o).tauInt));
  const b = Math.max(1, Math.ceil(4 * tau));
  return Math.max(1, Math.min(b, Math.floor(n / 20), minLen));
}

/** Leave-one-bin-out means: out[k][j] = mean of observable k over all bins but j. */
export function jackknifeMeans(bins: readonly Float64Array[]): Float64Array[] {
  return bins.map((b) => {
    const total = b.reduce((a, x) => a + x, 0);
    const B = b.length;
    return b.map((x) => (total - x) / (B - 1));
  });
}

/** Jackknife standard error of leave-one-out estimates. */
export function jackknifeError(samples: ArrayLike<number>): number {
  const B = samples.length;
  const m = mean(samples);
  let s = 0;
  for (let j = 0; j < B; j++) s += (samples[j]! - m) ** 2;
  return Math.sqrt(((B - 1) / B) * s);
}

/**
 * A derived quantity f(⟨a_1⟩, …, ⟨a_n⟩) with binned-jackknife error. Its τ_int is that of the
 * linearised series Σ_k ∂f/∂a_k · a_k (gradient by central differences at the means).
 */
export function jackknife(obs: readonly (Series | Replicas)[], f: (means: number[]) => number, opts: JackknifeOptions = {}): Estimate {
  if (obs.length === 0) throw new RangeError("jackknife needs at least one observable");
  const binSize = opts.binSize ?? autoBinSize(obs);
  const bins = binnedPrimaries(obs, binSize);
  const B = bins[0]!.length;
  if (B < 2) throw new RangeError(`only ${B} bin(s) of ${binSize} measurements: too few for a jackknife error`);
  const full = bins.map((b) => mean(b));
  const loo = jackknifeMeans(bins);
  const samples = new Float64Array(B);
  for (let j = 0; j < B; j++) samples[j] = f(loo.map((m) => m[j]!));
  const value = f(full);
  // Linearised series for τ_int.
  const grad = full.map((m, k) => {
    const h = Math.max(1e-8, Math.sqrt(variance(bins[k]!) / B)) * 1e-2 || 1e-8;
    const up = full.slice(), dn = full.slice();
    up[k] = m + h;
    dn[k] = m - h;
    return (f(up) - f(dn)) / (2 * h);
  });
  const reps0 = asReplicas(obs[0]!);
  const projected = reps0.map((_, r) => {
    const len = asReplicas(obs[0]!)[r]!.length;
    const p = new Float64Array(len);
    obs.forEach((o, k) => {
      const series = asReplicas(o)[r]!;
      for (let t = 0; t < len; t++) p[t]! += grad[k]! * series[t]!;
    });
    return p;
  });
  const lin = uwerr(projected);
  return { value, error: jackknifeError(samples), tauInt: lin.tauInt, tauIntError: lin.tauIntError };
}
