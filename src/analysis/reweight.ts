// Reweighting in a coupling c whose action term is c·x: single histogram (A. M. Ferrenberg & R. H. Swendsen, PRL 61 (1988)
// 2635) and multiple histogram (PRL 63 (1989) 1195), solved as MBAR (M. R. Shirts & J. D. Chodera, JCP 129 (2008) 124105).
//
// Generic on purpose: the weight of a configuration at coupling c is e^{−c·x} times anything independent of c, so for
// Ising c = β and x = E; for φ⁴ in μ², c = μ²/2 and x = Σφ². All sums go through log-sum-exp: c·x differences reach
// 10^6 on large lattices.

import { asReplicas, type Estimate, jackknife, jackknifeError, type JackknifeOptions, type Replicas, type Series } from "./stats.js";

/** fn applied to every element; a plain loop, as Float64Array.from(x, fn) goes through the iterator protocol. */
function mapTo(x: ArrayLike<number>, fn: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!, i);
  return out;
}

/** ln Σ_i e^{a_i}; −∞ for no terms (or all −∞), +∞ if any term is +∞. */
export function logSumExp(a: ArrayLike<number>): number {
  let top = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > top) top = a[i]!;
  if (top === -Infinity || top === Infinity) return top;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i]! - top);
  return top + Math.log(s);
}

/**
 * Weights e^{ℓ_i} / Σ_j e^{ℓ_j} from log-weights ℓ_i. Exponents are taken relative to the largest ℓ, not
 * to ln Σ e^ℓ: ℓ_i − max is exact for nearby large ℓ, while ℓ_i − ln Σ would lose digits to rounding.
 */
export function normalizedWeights(logWeights: ArrayLike<number>): Float64Array {
  let top = -Infinity;
  for (let i = 0; i < logWeights.length; i++) if (logWeights[i]! > top) top = logWeights[i]!;
  if (!Number.isFinite(top)) throw new RangeError(`the largest log-weight is ${top}: nothing to normalise`);
  const w = mapTo(logWeights, (v) => Math.exp(v - top));
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]!;
  for (let i = 0; i < w.length; i++) w[i]! /= s;
  return w;
}

/** Normalised reweighting factors e^{−ΔS_i} / Σ_j e^{−ΔS_j} for action differences ΔS_i = S_target − S_sampled. */
export function reweightWeights(actionDiff: ArrayLike<number>): Float64Array {
  return normalizedWeights(mapTo(actionDiff, (v) => -v));
}

/** Σ_i w_i O_i. */
export function weightedMean(obs: ArrayLike<number>, w: ArrayLike<number>): number {
  if (obs.length !== w.length) throw new RangeError(`${obs.length} measurements but ${w.length} weights`);
  let s = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! !== 0) s += w[i]! * obs[i]!;
  return s;
}

/** Kish's effective sample size (Σw)²/Σw²: how many samples a reweighted average really rests on. */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  let s = 0, s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i]!;
    s2 += w[i]! * w[i]!;
  }
  return (s * s) / s2;
}

/** ⟨O⟩ at coupling c1 from samples drawn at c0: Σ O e^{−(c1−c0)x} / Σ e^{−(c1−c0)x}. */
export function reweightMean(obs: ArrayLike<number>, x: ArrayLike<number>, c0: number, c1: number): number {
  const dc = c1 - c0;
  return weightedMean(obs, reweightWeights(mapTo(x, (v) => dc * v)));
}

/**
 * `reweightMean` with a jackknife error and τ_int: the ratio ⟨O w⟩/⟨w⟩ of two primaries, w = e^{−(c1−c0)x − s}
 * where the shift s (the largest exponent) cancels in the ratio and keeps every w in (0, 1]. `obs` and `x`
 * are one series or replicas of the same layout. Check `effectiveSampleSize` when c1 is far from c0.
 */
export function reweightEstimate(obs: Series | Replicas, x: Series | Replicas, c0: number, c1: number, opts: JackknifeOptions = {}): Estimate {
  const dc = c1 - c0;
  const xs = asReplicas(x), os = asReplicas(obs);
  let top = -Infinity;
  for (const s of xs) for (let i = 0; i < s.length; i++) top = Math.max(top, -dc * s[i]!);
  if (os.length !== xs.length || os.some((s, r) => s.length !== xs[r]!.length)) throw new RangeError("obs and x must have the same replica lengths");
  const w = xs.map((s) => {
    const out = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = Math.exp(-dc * s[i]! - top);
    return out;
  });
  const ow = os.map((s, r) => {
    const out = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s[i]! * w[r]![i]!;
    return out;
  });
  return jackknife([ow, w], ([a, b]) => a! / b!, opts);
}

export interface HistogramRun {
  /** The coupling c_k the run was simulated at. */
  coupling: number;
  /** The conjugate quantity x of every measurement (energy for β, Σφ² for μ²/2, …). */
  x: ArrayLike<number>;
  /** τ_int of x in this run: its samples count as N_k/(2τ_k) independent ones. 1/2 by default. */
  tauInt?: number;
}

export interface MultiHistogramOptions {
  /** Stop when the self-consistent update changes no f_k by more than this (1e-10). */
  tol?: number;
  maxIter?: number;
}

export interface MultiHistogram {
  /** Dimensionless free energies f_k = −ln(Z(c_k)/Z(c_0)), so f_0 = 0. */
  f: Float64Array;
  iterations: number;
  converged: boolean;
  /** f(c) = −ln(Z(c)/Z(c_0)) at any coupling. */
  freeEnergy(c: number): number;
  /** Normalised log-weights at coupling c of every sample, runs concatenated in input order. */
  logWeights(c: number): Float64Array;
  /** ⟨O⟩ at coupling c; `obs` holds every sample, runs concatenated in input order. */
  mean(obs: ArrayLike<number>, c: number): number;
}

/** Samples of all runs concatenated, each with its run index and its log sample weight ln(1/g_k). */
interface Pooled {
  x: Float64Array;
  run: Int32Array;
  c: Float64Array;
  lnG: Float64Array;
}

function pool(runs: readonly HistogramRun[]): Pooled {
  if (runs.length === 0) throw new RangeError("multiple-histogram reweighting needs at least one run");
  const n = runs.reduce((a, r) => a + r.x.length, 0);
  const x = new Float64Array(n), run = new Int32Array(n);
  let off = 0;
  runs.forEach((r, k) => {
    if (r.x.length === 0) throw new RangeError(`run ${k} has no samples`);
    const tau = r.tauInt ?? 0.5;
    if (!(tau > 0)) throw new RangeError(`run ${k}: tauInt must be positive, got ${tau}`);
    for (let i = 0; i < r.x.length; i++) {
      if (!Number.isFinite(r.x[i]!)) throw new RangeError(`run ${k}: x[${i}] is ${r.x[i]}`);
      x[off + i] = r.x[i]!;
    }
    run.fill(k, off, off + r.x.length);
    off += r.x.length;
  });
  return {
    x,
    run,
    c: Float64Array.from(runs, (r) => r.coupling),
    lnG: Float64Array.from(runs, (r) => -Math.log(2 * (r.tauInt ?? 0.5))),
  };
}

/** One pass over the data at free energies f: everything an iteration needs. */
interface Pass {
  /** ln D_n = ln Σ_k Ñ_k e^{f_k − c_k x_n}; NaN for samples left out. */
  lnD: Float64Array;
  /** Self-consistent update f_k ← −ln Σ_n a_n e^{−c_k x_n} / D_n, shifted to f_0 = 0. */
  next: Float64Array;
  /** Σ_n a_n W_nk W_nl with W_nk = e^{f_k − c_k x_n}/D_n (for the Newton step). */
  ww: Float64Array;
  /** Σ_n a_n W_nk. */
  w: Float64Array;
}

/**
 * Ferrenberg–Swendsen with statistical inefficiencies g_k = 2τ_k: sample n of run k has weight a_n = 1/g_k and
 * run k has Ñ_k = N_k/g_k effective samples, so e^{−f_k} = Σ_n a_n e^{−c_k x_n} / Σ_m Ñ_m e^{f_m − c_m x_n}.
 * The a_n in the numerator keeps the equations consistent when the τ_k differ.
 */
function makePass(p: Pooled, keep: Uint8Array | null, newtonTerms: boolean): { lnNt: Float64Array; pass: (f: Float64Array) => Pass } {
  const K = p.c.length, n = p.x.length;
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) if (!keep || keep[i]) counts[p.run[i]!]!++;
  const lnNt = Float64Array.from(counts, (N, k) => Math.log(N) + p.lnG[k]!);
  const aRun = Float64Array.from(p.lnG, Math.exp);
  const Nt = Float64Array.from(lnNt, Math.exp);
  const pass = (f: Float64Array): Pass => {
    const lnD = new Float64Array(n).fill(NaN);
    const t = new Float64Array(K), e = new Float64Array(K), w = new Float64Array(K), ww = new Float64Array(newtonTerms ? K * K : 0);
    for (let i = 0; i < n; i++) {
      if (keep && !keep[i]) continue;
      const xi = p.x[i]!;
      let top = -Infinity;
      for (let k = 0; k < K; k++) {
        t[k] = lnNt[k]! + f[k]! - p.c[k]! * xi;
        if (t[k]! > top) top = t[k]!;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += e[k] = Math.exp(t[k]! - top);
      lnD[i] = top + Math.log(sum);
      // W_ik = e^{f_k − c_k x_i}/D_i <= 1/Ñ_k, so these sums cannot overflow.
      const a = aRun[p.run[i]!]!;
      for (let k = 0; k < K; k++) {
        e[k] = e[k]! / (sum * Nt[k]!);
        w[k]! += a * e[k]!;
      }
      if (newtonTerms) for (let k = 0; k < K; k++) for (let m = 0; m < K; m++) ww[k * K + m]! += a * e[k]! * e[m]!;
    }
    // f_k ← f_k − ln Σ_i a_i W_ik; only when run k's weight underflowed everywhere (f far off) is the
    // sum redone in log space.
    const lnw = Float64Array.from(w, (v, k) => {
      if (v > 1e-280) return Math.log(v);
      const l = new Float64Array(n).fill(-Infinity);
      for (let i = 0; i < n; i++) if (!Number.isNaN(lnD[i]!)) l[i] = p.lnG[p.run[i]!]! + f[k]! - p.c[k]! * p.x[i]! - lnD[i]!;
      return logSumExp(l);
    });
    const next = Float64Array.from(f, (v, k) => v - lnw[k]! - (f[0]! - lnw[0]!));
    return { lnD, next, w, ww };
  };
  return { lnNt, pass };
}

/** Solves A z = b by Gaussian elimination with partial pivoting; null if singular. */
function solve(A: Float64Array, b: Float64Array): Float64Array | null {
  const n = b.length, M = A.slice(), z = b.slice();
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r * n + col]!) > Math.abs(M[piv * n + col]!)) piv = r;
    if (!(Math.abs(M[piv * n + col]!) > 1e-300)) return null;
    for (let c = 0; c < n; c++) [M[col * n + c], M[piv * n + c]] = [M[piv * n + c]!, M[col * n + c]!];
    [z[col], z[piv]] = [z[piv]!, z[col]!];
    for (let r = col + 1; r < n; r++) {
      const q = M[r * n + col]! / M[col * n + col]!;
      for (let c = col; c < n; c++) M[r * n + c]! -= q * M[col * n + c]!;
      z[r]! -= q * z[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = z[r]!;
    for (let c = r + 1; c < n; c++) s -= M[r * n + c]! * z[c]!;
    z[r] = s / M[r * n + r]!;
  }
  return z;
}

/**
 * Newton step on the convex MBAR objective Σ_n a_n ln D_n − Σ_k Ñ_k f_k with f_0 held at 0; gradient
 * Ñ_k(Σ_n a_n W_nk − 1), Hessian Ñ_k δ_kl Σ_n a_n W_nk − Ñ_k Ñ_l Σ_n a_n W_nk W_nl.
 */
function newton(f: Float64Array, ev: Pass, lnNt: Float64Array): Float64Array | null {
  const K = f.length, m = K - 1;
  const Nt = Float64Array.from(lnNt, Math.exp);
  const H = new Float64Array(m * m), g = new Float64Array(m);
  for (let k = 1; k < K; k++) {
    g[k - 1] = -Nt[k]! * (ev.w[k]! - 1);
    for (let l = 1; l < K; l++) H[(k - 1) * m + l - 1] = (k === l ? Nt[k]! * ev.w[k]! : 0) - Nt[k]! * Nt[l]! * ev.ww[k * K + l]!;
  }
  const d = solve(H, g);
  if (!d || !d.every(Number.isFinite)) return null;
  return Float64Array.from(f, (v, k) => (k === 0 ? 0 : v + d[k - 1]!));
}

const maxChange = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, k) => Math.max(s, Math.abs(v - b[k]!)), 0);

/**
 * Starting point: neighbours in coupling linked by the two-sided single-histogram estimate
 * f_j − f_i ≈ ½[−ln⟨e^{−(c_j−c_i)x}⟩_i + ln⟨e^{(c_j−c_i)x}⟩_j], so that the iteration starts near the answer.
 */
function initialGuess(p: Pooled): Float64Array {
  const K = p.c.length;
  const byRun: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < p.x.length; i++) byRun[p.run[i]!]!.push(p.x[i]!);
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => p.c[a]! - p.c[b]!);
  const g = new Float64Array(K);
  for (let q = 1; q < K; q++) {
    const i = order[q - 1]!, j = order[q]!, dc = p.c[j]! - p.c[i]!;
    const fwd = -(logSumExp(byRun[i]!.map((v) => -dc * v)) - Math.log(byRun[i]!.length));
    const bwd = logSumExp(byRun[j]!.map((v) => dc * v)) - Math.log(byRun[j]!.length);
    g[j] = g[i]! + (fwd + bwd) / 2;
  }
  const ref = g[0]!;
  return g.map((v) => v - ref);
}

function solveMH(p: Pooled, keep: Uint8Array | null, init: Float64Array | null, opts: MultiHistogramOptions): MultiHistogram {
  const tol = opts.tol ?? 1e-10, maxIter = opts.maxIter ?? 10000;
  const K = p.c.length;
  // The Hessian costs K² per sample: beyond a few dozen runs plain iteration is cheaper.
  const useNewton = K > 1 && K <= 64;
  const { lnNt, pass } = makePass(p, keep, useNewton);
  let f: Float64Array = init ? init.slice() : initialGuess(p);
  let ev = pass(f);
  let it = 0, converged = false;
  for (; it < maxIter; it++) {
    const change = maxChange(ev.next, f);
    if (change < tol) {
      converged = true;
      break;
    }
    // Newton converges quadratically where histograms overlap little and plain iteration crawls;
    // it is kept only if it shrinks the self-consistency residual, else the plain update is taken.
    const fN = useNewton ? newton(f, ev, lnNt) : null;
    const evN = fN ? pass(fN) : null;
    if (fN && evN && maxChange(evN.next, fN) < change) {
      f = fN;
      ev = evN;
    } else {
      f = ev.next;
      ev = pass(f);
    }
  }
  // f and its pass stay paired (not f = ev.next), so that the weights below solve the equations at f.
  const lnD = ev.lnD;
  const logW = (c: number): Float64Array =>
    mapTo(p.x, (xi, i) => (Number.isNaN(lnD[i]!) ? -Infinity : p.lnG[p.run[i]!]! - c * xi - lnD[i]!));
  return {
    f,
    iterations: it,
    converged,
    freeEnergy: (c) => -logSumExp(logW(c)),
    logWeights(c) {
      const l = logW(c);
      const z = logSumExp(l);
      for (let i = 0; i < l.length; i++) l[i]! -= z;
      return l;
    },
    mean(obs, c) {
      if (obs.length !== p.x.length) throw new RangeError(`expected ${p.x.length} samples (all runs concatenated), got ${obs.length}`);
      return weightedMean(obs, normalizedWeights(logW(c)));
    },
  };
}

/**
 * Multiple-histogram reweighting: solves the Ferrenberg–Swendsen equations for the f_k (MBAR for a single
 * conjugate quantity x) in log space, by self-consistent iteration accelerated with Newton steps, until
 * the largest change of an f_k is below `tol`. Averages at any coupling then are Σ_n w_n(c) O_n.
 */
export function multiHistogram(runs: readonly HistogramRun[], opts: MultiHistogramOptions = {}): MultiHistogram {
  return solveMH(pool(runs), null, null, opts);
}

export interface MultiHistogramJackknife {
  full: MultiHistogram;
  /** samples[g]: the solution with group g (the g-th of `groups` consecutive blocks of every run) left out. */
  samples: MultiHistogram[];
  /** Any quantity q(solution) with its jackknife error over the groups. */
  estimate(q: (mh: MultiHistogram) => number): Estimate;
}

/**
 * Jackknife errors for multiple-histogram results. Group g is the g-th of `groups` consecutive blocks of
 * every run; the runs are independent, so the groups are too, provided a block (N_k/groups samples) is
 * much longer than τ_k. Every leave-one-group-out solution starts from the full one. The τ_int reported
 * with an estimate is the largest of the runs' (the groups are treated as independent).
 */
export function multiHistogramJackknife(runs: readonly HistogramRun[], opts: MultiHistogramOptions & { groups?: number } = {}): MultiHistogramJackknife {
  const G = opts.groups ?? 20;
  const p = pool(runs);
  if (!(Number.isInteger(G) && G >= 2)) throw new RangeError(`groups must be an integer >= 2, got ${G}`);
  const shortest = Math.min(...runs.map((r) => r.x.length));
  if (shortest < G) throw new RangeError(`a run of ${shortest} samples cannot be cut into ${G} groups`);
  const full = solveMH(p, null, null, opts);
  const samples: MultiHistogram[] = [];
  for (let g = 0; g < G; g++) {
    const keep = new Uint8Array(p.x.length).fill(1);
    let off = 0;
    for (const r of runs) {
      const n = r.x.length;
      keep.fill(0, off + Math.floor((g * n) / G), off + Math.floor(((g + 1) * n) / G));
      off += n;
    }
    samples.push(solveMH(p, keep, full.f, opts));
  }
  const tau = Math.max(...runs.map((r) => r.tauInt ?? 0.5));
  return {
    full,
    samples,
    estimate(q) {
      const value = q(full);
      return { value, error: jackknifeError(samples.map(q)), tauInt: tau };
    },
  };
}
