// Autocorrelation analysis of Monte Carlo series: Wolff's Γ-method with automatic windowing (U. Wolff, "Monte Carlo
// errors with less errors", Comput. Phys. Commun. 156 (2004) 143; N. Madras & A. D. Sokal, J. Stat. Phys. 50 (1988) 109).

import { gammaQ } from "./chisq.js";
import type { Estimate } from "./stats.js";

export type Series = ArrayLike<number>;
/** Independent replicas (chains) of one observable, possibly of different lengths: `[replica][t]`. */
export type Replicas = readonly Series[];

/** True when `x` is a list of replicas rather than one series (an empty list counts as a series). */
export function isReplicas(x: Series | Replicas): x is Replicas {
  return Array.isArray(x) && x.length > 0 && typeof x[0] !== "number";
}

export function asReplicas(x: Series | Replicas): Replicas {
  return isReplicas(x) ? x : [x as Series];
}

/** Smallest power of two >= n. */
export function nextPow2(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

const twiddleCache = new Map<number, Float64Array>();

/** cos and sin of 2πk/n for k < n/2, interleaved; tabulated because the butterfly recurrence loses digits. */
function twiddles(n: number): Float64Array {
  let t = twiddleCache.get(n);
  if (!t) {
    t = new Float64Array(n);
    for (let k = 0; k < n / 2; k++) {
      t[2 * k] = Math.cos((2 * Math.PI * k) / n);
      t[2 * k + 1] = Math.sin((2 * Math.PI * k) / n);
    }
    if (twiddleCache.size > 8) twiddleCache.clear();
    twiddleCache.set(n, t);
  }
  return t;
}

/**
 * In-place radix-2 FFT, X_k = Σ_j x_j e^{∓2πijk/n} (minus sign forward); unnormalised both ways.
 * `re.length` must be a power of two.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n || (n & (n - 1)) !== 0) throw new RangeError(`fft needs two arrays of one power-of-two length, got ${n} and ${im.length}`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  const tw = twiddles(n);
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1, stride = n / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const wr = tw[2 * k * stride]!, wi = sign * tw[2 * k * stride + 1]!;
        const a = start + k, b = a + half;
        const xr = re[b]! * wr - im[b]! * wi, xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr; im[b] = im[a]! - xi;
        re[a]! += xr; im[a]! += xi;
      }
    }
  }
}

/** Direct lagged products Σ_r Σ_i d_r(i) d_r(i+t) for t = from..to: O(N) per lag. */
function directSums(dev: readonly Float64Array[], from: number, to: number, out: Float64Array): void {
  for (let t = from; t <= to; t++) {
    let s = 0;
    for (const d of dev) for (let i = 0, n = d.length - t; i < n; i++) s += d[i]! * d[i + t]!;
    out[t] = s;
  }
}

/**
 * The same sums for t = 0..maxLag by FFT with zero padding (no wrap-around for lags <= maxLag). Two real
 * replicas share one complex transform (one as real part, one as imaginary part): |A_k|² + |B_k|² =
 * (|X_k|² + |X_{M−k}|²)/2, so the summed power spectrum comes without separating them.
 */
function fftSums(dev: readonly Float64Array[], maxLag: number, out: Float64Array): void {
  const longest = Math.max(...dev.map((d) => d.length));
  const M = nextPow2(longest + maxLag + 1);
  const re = new Float64Array(M), im = new Float64Array(M), power = new Float64Array(M);
  for (let r = 0; r < dev.length; r += 2) {
    re.fill(0);
    im.fill(0);
    re.set(dev[r]!);
    if (r + 1 < dev.length) im.set(dev[r + 1]!);
    fft(re, im);
    for (let k = 0; k < M; k++) {
      const q = (M - k) & (M - 1);
      power[k]! += 0.5 * (re[k]! * re[k]! + im[k]! * im[k]! + re[q]! * re[q]! + im[q]! * im[q]!);
    }
  }
  // The power spectrum is real and even, so its inverse transform is real.
  im.fill(0);
  re.set(power);
  fft(re, im, true);
  for (let t = 0; t <= maxLag; t++) out[t] = re[t]! / M;
}

export type GammaMethod = "auto" | "direct" | "fft";

/**
 * Unnormalised autocovariance sums S(t) = Σ_r Σ_i d_r(i) d_r(i+t), t = 0..maxLag, of deviations `dev`
 * (one array per replica; products never cross replicas).
 */
export function autocovarianceSums(dev: readonly Float64Array[], maxLag: number, method: GammaMethod = "auto"): Float64Array {
  const out = new Float64Array(maxLag + 1);
  if (method === "direct" || (method === "auto" && maxLag <= fftSwitchLag(dev))) directSums(dev, 0, maxLag, out);
  else fftSums(dev, maxLag, out);
  return out;
}

/**
 * Lag beyond which one FFT over all lags is cheaper than going on with direct sums (N products per lag);
 * FFT_COST is the measured cost of one FFT butterfly pass per element relative to one direct product.
 */
function fftSwitchLag(dev: readonly Float64Array[]): number {
  const n = dev.reduce((a, d) => a + d.length, 0);
  const M = nextPow2(Math.ceil(1.5 * Math.max(...dev.map((d) => d.length))) + 1);
  return Math.max(16, Math.ceil((FFT_COST * (Math.ceil(dev.length / 2) + 1) * M * Math.log2(M)) / n));
}
const FFT_COST = 1;

export interface UwerrOptions {
  /** Wolff's S = τ/τ_int guess used by the window criterion; 1.5 by default, 0 assumes no autocorrelation. */
  S?: number;
  /** How Γ(t) is summed: "auto" (direct sums, switching to FFT once the window grows long) is the default. */
  gammaMethod?: GammaMethod;
}

/** The Γ-method's full output: the estimate plus the window, the autocorrelation function and checks. */
export interface UwerrAnalysis extends Estimate {
  tauIntError: number;
  /** Summation window W. */
  window: number;
  /** False when g(W) never turned negative before t_max = N_max/2 (τ is then unreliable: run longer). */
  windowFound: boolean;
  /** Bias-corrected normalised autocorrelation ρ(t), t = 0..min(2W, t_max). */
  rho: Float64Array;
  /** Wolff's Q-value for the replica means agreeing within errors (only with two or more replicas). */
  replicaQ?: number;
  /** Total number of measurements. */
  n: number;
}

/**
 * Wolff's Γ-method for a primary observable, from one series or several independent replicas.
 *
 * Γ(t) = Σ_r Σ_i (a_r(i) − ā)(a_r(i+t) − ā) / Σ_r max(0, N_r − t) with ā the pooled mean. The window W is
 * the first t where g(t) = e^{−t/τ(t)} − τ(t)/√(tN) < 0, τ(t) = S / ln((2τ_int(t)+1)/(2τ_int(t)−1)): it
 * balances the exponential truncation bias against the √(W/N) statistical error of the sum. Every Γ(t)
 * is then raised by C_F/N, the leading bias from subtracting the estimated mean (Wolff eq. 49).
 */
export function uwerrAnalysis(data: Series | Replicas, opts: UwerrOptions = {}): UwerrAnalysis {
  const reps = asReplicas(data).filter((r) => r.length > 0);
  const S = opts.S ?? 1.5;
  if (!(S >= 0)) throw new RangeError(`uwerr: S must be >= 0, got ${S}`);
  let N = 0, sum = 0;
  for (let r = 0; r < reps.length; r++) {
    const a = reps[r]!;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!)) throw new RangeError(`uwerr: measurement ${i} of replica ${r} is ${a[i]}`);
      sum += a[i]!;
    }
    N += a.length;
  }
  if (N < 2) throw new RangeError(`uwerr needs at least 2 measurements for an error estimate, got ${N}`);
  const first = reps[0]![0]!;
  if (reps.every((a) => Array.prototype.every.call(a, (v: number) => v === first))) {
    return { value: first, error: 0, tauInt: 0.5, tauIntError: 0, window: 0, windowFound: true, rho: Float64Array.of(1), n: N };
  }
  let abar = sum / N;
  // Second pass: removes the rounding error of the first sum, which matters when |ā| ≫ σ.
  let corr = 0;
  for (const a of reps) for (let i = 0; i < a.length; i++) corr += a[i]! - abar;
  abar += corr / N;
  const dev = reps.map((a) => Float64Array.from(a, (v) => v - abar));
  const lens = reps.map((a) => a.length);
  const pairs = (t: number): number => lens.reduce((s, n) => s + Math.max(0, n - t), 0);
  // Replicas shorter than 2t simply stop contributing; the denominator counts the pairs actually summed.
  const tmax = Math.floor(Math.max(...lens) / 2);

  const sums = new Float64Array(tmax + 1);
  let known = -1;
  const method = opts.gammaMethod ?? "auto";
  const switchLag = method === "direct" ? Infinity : method === "fft" ? -1 : fftSwitchLag(dev);
  const gamma = (t: number): number => {
    if (t > known) {
      if (t > switchLag) {
        fftSums(dev, tmax, sums);
        known = tmax;
      } else {
        directSums(dev, known + 1, t, sums);
        known = t;
      }
    }
    return sums[t]! / pairs(t);
  };

  const G0 = gamma(0);
  let W = 0, found = true;
  if (S > 0 && tmax > 0) {
    found = false;
    let gint = 0;
    for (let t = 1; t <= tmax; t++) {
      gint += gamma(t) / G0;
      const tauW = gint <= 0 ? Number.MIN_VALUE : S / Math.log((gint + 1) / gint);
      if (Math.exp(-t / tauW) - tauW / Math.sqrt(t * N) < 0) {
        W = t;
        found = true;
        break;
      }
    }
    if (!found) W = tmax;
  }
  const summed = (w: number, shift: number): number => {
    let cf = G0 + shift;
    for (let t = 1; t <= w; t++) cf += 2 * (gamma(t) + shift);
    return cf;
  };
  let shift = summed(W, 0) / N;
  let CF = summed(W, shift);
  if (!(CF > 0)) {
    // Only a window that summed pure noise of anticorrelated data gets here; W = 0 is the honest fallback.
    W = 0;
    shift = G0 / N;
    CF = G0 + shift;
  }
  const G0c = G0 + shift;
  const tauInt = CF / (2 * G0c);
  const last = Math.min(2 * W, tmax);
  const rho = new Float64Array(last + 1);
  for (let t = 0; t <= last; t++) rho[t] = (gamma(t) + shift) / G0c;
  const out: UwerrAnalysis = {
    value: abar,
    error: Math.sqrt(CF / N),
    tauInt,
    // Wolff eq. 42, the Madras–Sokal variance with the leading τ correction.
    tauIntError: 2 * tauInt * Math.sqrt(Math.max(0, W + 0.5 - tauInt) / N),
    window: W,
    windowFound: found,
    rho,
    n: N,
  };
  if (reps.length >= 2) {
    let chi2 = 0;
    reps.forEach((a, r) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m += dev[r]![i]!;
      m /= a.length;
      chi2 += (m * m * a.length) / CF;
    });
    out.replicaQ = gammaQ((reps.length - 1) / 2, chi2 / 2);
  }
  return out;
}

/**
 * Mean, error and τ_int (convention τ_int = 1/2 + Σ_{t≥1} ρ(t), 1/2 for independent data) of a primary
 * observable by Wolff's Γ-method; `data` is one series or independent replicas `[replica][t]`. A constant
 * series has error 0 and τ_int 1/2; fewer than 2 measurements throw a RangeError.
 */
export function uwerr(data: Series | Replicas, opts: UwerrOptions = {}): Estimate {
  const { value, error, tauInt, tauIntError } = uwerrAnalysis(data, opts);
  return { value, error, tauInt, tauIntError };
}
