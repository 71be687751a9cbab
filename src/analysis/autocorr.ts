// Autocorrelation analysis of Monte Carlo series: Wolff's Γ-method with automatic windowing (U. Wolff, "Monte Carlo
// errors with less errors", Comput. Phys. Commun. 156 (2004) 143; N. Madras & A. D. Sokal, J. Stat. Phys. 50 (1988) 109).

import { gammaQ } from "./chisq.js";

/** A mean (or a function of means) with its error; defined here, where τ_int comes from, and used everywhere through stats.ts. */
export interface Estimate {
  value: number;
  error: number;
  /** Integrated autocorrelation time in units of the measurement interval, 1/2 for independent data. */
  tauInt: number;
  tauIntError?: number;
}

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

/** cos and sin of 2πk/n for k < n/2, interleaved: tabulated, as the butterfly recurrence would lose digits. */
function twiddles(n: number): Float64Array {
  const t = new Float64Array(n);
  for (let k = 0; k < n / 2; k++) {
    t[2 * k] = Math.cos((2 * Math.PI * k) / n);
    t[2 * k + 1] = Math.sin((2 * Math.PI * k) / n);
  }
  return t;
}

/**
 * In-place radix-2 FFT, X_k = Σ_j x_j e^{∓2πijk/n} (minus sign forward); unnormalised both ways.
 * `re.length` must be a power of two.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  if (im.length !== re.length || (re.length & (re.length - 1)) !== 0) {
    throw new RangeError(`fft needs two arrays of one power-of-two length, got ${re.length} and ${im.length}`);
  }
  transform(re, im, inverse, twiddles(re.length), 1);
}

/** The FFT proper; `tw` is a twiddle table for a length n·step (a larger table serves a smaller transform). */
function transform(re: Float64Array, im: Float64Array, inverse: boolean, tw: Float64Array, step: number): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1, stride = (n / len) * step;
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

/**
 * FFT of a real sequence of power-of-two length M ≥ 2 through one complex FFT of length M/2 (even samples
 * as real, odd as imaginary parts, then untangled). Returns bins k = 0..M/2; the rest follow from X_{M−k} = X̄_k.
 */
export function realFft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const M = x.length;
  if (M < 2 || (M & (M - 1)) !== 0) throw new RangeError(`realFft needs a power-of-two length >= 2, got ${M}`);
  const h = M / 2;
  const zr = new Float64Array(h), zi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    zr[j] = x[2 * j]!;
    zi[j] = x[2 * j + 1]!;
  }
  const tw = twiddles(M);
  transform(zr, zi, false, tw, 2);
  const re = new Float64Array(h + 1), im = new Float64Array(h + 1);
  for (let k = 0; k <= h; k++) {
    const a = k % h, b = (h - k) % h;
    // Even part E_k = (Z_k + Z̄_{h−k})/2, odd part O_k = (Z_k − Z̄_{h−k})/(2i), X_k = E_k + e^{−2πik/M} O_k.
    const er = (zr[a]! + zr[b]!) / 2, ei = (zi[a]! - zi[b]!) / 2;
    const or = (zi[a]! + zi[b]!) / 2, oi = -(zr[a]! - zr[b]!) / 2;
    const wr = k < h ? tw[2 * k]! : -1, wi = k < h ? -tw[2 * k + 1]! : 0;
    re[k] = er + wr * or - wi * oi;
    im[k] = ei + wr * oi + wi * or;
  }
  return { re, im };
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
 * The same sums for t = 0..maxLag by FFT (Wiener–Khinchin), zero-padded so that no product wraps around:
 * the power spectra of the replicas are added, and since their sum P is real and even, the inverse
 * transform (1/M) Σ_k P_k e^{+2πikt/M} is a forward real FFT as well.
 */
function fftSums(dev: readonly Float64Array[], maxLag: number, out: Float64Array): void {
  const longest = Math.max(...dev.map((d) => d.length));
  const M = nextPow2(Math.max(longest + maxLag + 1, 2 * maxLag + 2));
  const h = M / 2;
  const buf = new Float64Array(M), power = new Float64Array(h + 1);
  for (const d of dev) {
    buf.fill(0);
    buf.set(d);
    const { re, im } = realFft(buf);
    for (let k = 0; k <= h; k++) power[k]! += re[k]! * re[k]! + im[k]! * im[k]!;
  }
  for (let k = 0; k <= h; k++) buf[k] = power[k]!;
  for (let k = 1; k < h; k++) buf[M - k] = power[k]!;
  const { re } = realFft(buf);
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
 * Lag beyond which one FFT over all lags is cheaper than going on with direct sums (N products per lag):
 * R + 1 real FFTs of length M, each costing FFT_COST direct products per element and halving stage.
 */
function fftSwitchLag(dev: readonly Float64Array[]): number {
  const n = dev.reduce((a, d) => a + d.length, 0);
  const M = nextPow2(Math.ceil(1.5 * Math.max(...dev.map((d) => d.length))) + 1);
  return Math.max(16, Math.ceil((FFT_COST * (dev.length + 1) * (M / 2) * Math.log2(M / 2)) / n));
}
const FFT_COST = 4;

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
  /** Bias-corrected normalised autocorrelation ρ(t), t = 0..W, up to 2W when the FFT computed those lags. */
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
  let constant = true;
  for (const a of reps) for (let i = 0; i < a.length && constant; i++) constant = a[i] === first;
  if (constant) {
    return { value: first, error: 0, tauInt: 0.5, tauIntError: 0, window: 0, windowFound: true, rho: Float64Array.of(1), n: N };
  }
  let abar = sum / N;
  // Second pass: removes the rounding error of the first sum, which matters when |ā| ≫ σ.
  let corr = 0;
  for (const a of reps) for (let i = 0; i < a.length; i++) corr += a[i]! - abar;
  abar += corr / N;
  const dev = reps.map((a) => {
    const d = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) d[i] = a[i]! - abar;
    return d;
  });
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
      // τ_int(t) <= 1/2 closes the window at once (Wolff's τ = ε): nothing left to sum.
      const tauW = gint <= 0 ? 0 : S / Math.log((gint + 1) / gint);
      if (tauW === 0 || Math.exp(-t / tauW) - tauW / Math.sqrt(t * N) < 0) {
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
  // ρ beyond W comes for free when the FFT has run; direct sums are not extended for it.
  const last = Math.max(W, Math.min(2 * W, known));
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
