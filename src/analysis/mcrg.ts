// Monte Carlo renormalization group analysis on reweighted curves: crossings of intensive observables
// (critical coupling), the coupling map c → c′ from matching original and renormalised systems (ν), and
// finite-size-scaling slopes, all with jackknife errors. Swendsen, PRL 42, 859 (1979); Bachtis et al. (seed).

import { type HistogramRun, type MultiHistogram, multiHistogramJackknife, type MultiHistogramJackknife } from "./reweight.js";
import { type Estimate, jackknifeError } from "./stats.js";

/** One run of an ensemble at coupling c: conjugate variable x and magnetisation per site m of every sample. */
export interface CurveRun {
  coupling: number;
  x: Float64Array;
  m: Float64Array;
  tauInt?: number;
  /** Further per-sample series whose reweighted means are wanted (e.g. G(r), nearest-neighbour correlation). */
  extra?: Record<string, Float64Array>;
}

/**
 * chi = V(⟨m²⟩ − ⟨|m|⟩²) (connected, finite-size convention) and chi_full = V⟨m²⟩: both scale as
 * L^{γ/ν} at criticality; chi_full has much smaller corrections on small lattices.
 */
export const CURVE_OBSERVABLES = ["abs_m", "m2", "binder", "chi", "chi_full"] as const;
export type CurveObservable = (typeof CURVE_OBSERVABLES)[number];

/**
 * An ensemble family of one size reweighted to any coupling: O(c) on the full data and on every
 * leave-one-group-out solution, so that anything computed from curves carries a jackknife error.
 */
export interface Curves {
  V: number;
  range: [number, number];
  groups: number;
  /** O(c) for the full data (g = -1) or jackknife sample g. */
  value(o: CurveObservable, c: number, g?: number): number;
  /** Reweighted mean of an `extra` series. */
  mean(name: string, c: number, g?: number): number;
  /** Names of the extra series. */
  extras: string[];
}

/** Cubic Hermite interpolation on a uniform grid with finite-difference tangents (Catmull–Rom). */
function interpolate(ys: Float64Array, a: number, h: number, c: number): number {
  const n = ys.length;
  if (h === 0) return ys[0]!;
  const t = Math.min(Math.max((c - a) / h, 0), n - 1);
  const k = Math.min(Math.floor(t), n - 2);
  const u = t - k;
  const y0 = ys[k]!, y1 = ys[k + 1]!;
  const m0 = k > 0 ? (y1 - ys[k - 1]!) / 2 : y1 - y0;
  const m1 = k + 2 < n ? (ys[k + 2]! - y0) / 2 : y1 - y0;
  const u2 = u * u, u3 = u2 * u;
  return (2 * u3 - 3 * u2 + 1) * y0 + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * y1 + (u3 - u2) * m1;
}

/**
 * Reweighted means of every series (⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩, then the extras) for every solution (full,
 * then each jackknife sample) on a coupling grid: tables[solution][series][grid point].
 */
function meanTables(solutions: readonly MultiHistogram[], series: readonly Float64Array[], cs: readonly number[]): Float64Array[][] {
  return solutions.map((mh) => {
    const t = series.map(() => new Float64Array(cs.length));
    const acc = new Float64Array(series.length);
    cs.forEach((c, k) => {
      const lw = mh.logWeights(c);
      acc.fill(0);
      let z = 0;
      for (let i = 0; i < lw.length; i++) {
        const l = lw[i]!;
        if (l === -Infinity) continue;
        const w = Math.exp(l);
        z += w;
        for (let j = 0; j < series.length; j++) acc[j]! += w * series[j]![i]!;
      }
      for (let j = 0; j < series.length; j++) t[j]![k] = acc[j]! / z;
    });
    return t;
  });
}

/**
 * Multiple-histogram curves of one size from runs at several couplings (x and c as in reweight.ts).
 * The moments are tabulated on `gridPoints` couplings for the full solution and every jackknife
 * sample and interpolated in between: root finding then costs nothing, and on a grid much finer than
 * the curves' structure the interpolation error is far below the statistical one.
 */
export function buildCurves(runs: readonly CurveRun[], V: number, groups = 20, gridPoints = 41, range?: [number, number]): Curves {
  if (runs.length === 0) throw new RangeError("no runs to build curves from");
  const hist: HistogramRun[] = runs.map((r) => ({ coupling: r.coupling, x: r.x, tauInt: r.tauInt }));
  const mhj: MultiHistogramJackknife = multiHistogramJackknife(hist, { groups });
  const concat = (f: (r: CurveRun) => Float64Array): Float64Array => Float64Array.from(runs.flatMap((r) => Array.from(f(r))));
  const m = concat((r) => r.m);
  const extras = Object.keys(runs[0]!.extra ?? {});
  for (const r of runs) {
    const have = Object.keys(r.extra ?? {});
    if (have.length !== extras.length || extras.some((e) => !have.includes(e))) throw new RangeError("every run must carry the same extra series");
  }
  const series = [m.map(Math.abs), m.map((v) => v * v), m.map((v) => v ** 4), ...extras.map((e) => concat((r) => r.extra![e]!))];
  const [lo, hi] = range ?? defaultRange(runs);
  const h = (hi - lo) / (gridPoints - 1 || 1);
  const tables = meanTables([mhj.full, ...mhj.samples], series, grid(lo, hi, gridPoints));
  return {
    V,
    range: [lo, hi],
    groups,
    extras,
    mean(name, c, g = -1) {
      const j = extras.indexOf(name);
      if (j < 0) throw new RangeError(`no series "${name}" (have ${extras.join(", ") || "none"})`);
      return interpolate(tables[g + 1]![3 + j]!, lo, h, c);
    },
    value(o, c, g = -1) {
      const t = tables[g + 1]!;
      const am = (): number => interpolate(t[0]!, lo, h, c);
      const m2 = (): number => interpolate(t[1]!, lo, h, c);
      switch (o) {
        case "abs_m":
          return am();
        case "m2":
          return m2();
        case "binder": {
          const a = m2();
          return 1 - interpolate(t[2]!, lo, h, c) / (3 * a * a);
        }
        case "chi": {
          const a = am();
          return V * (m2() - a * a);
        }
        case "chi_full":
          return V * m2();
      }
    },
  };
}

/**
 * The scanned couplings; for a single run the window where single-histogram reweighting is
 * trustworthy, |Δc|·σ_x ≤ 2 (weights then vary by at most e^{±2} per standard deviation of x).
 */
export function defaultRange(runs: readonly CurveRun[]): [number, number] {
  const cs = runs.map((r) => r.coupling);
  if (runs.length > 1) return [Math.min(...cs), Math.max(...cs)];
  const x = runs[0]!.x;
  let s = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]!;
    s2 += x[i]! * x[i]!;
  }
  const sd = Math.sqrt(Math.max(0, s2 / x.length - (s / x.length) ** 2)) || 1;
  return [cs[0]! - 2 / sd, cs[0]! + 2 / sd];
}

/** Estimate of f(g) over full data (g = -1) and the jackknife samples g = 0…G−1. */
export function jackknifed(groups: number, f: (g: number) => number): Estimate {
  const value = f(-1);
  const samples = Array.from({ length: groups }, (_, g) => f(g));
  return { value, error: jackknifeError(samples, value), tauInt: Number.NaN };
}

/** Sorted grid of n points spanning [a, b]. */
export function grid(a: number, b: number, n: number): number[] {
  if (n === 1) return [(a + b) / 2];
  return Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));
}

/**
 * Coupling where d(c) changes sign inside [a, b] (scanned on `n` points, refined by bisection).
 * NaN when there is no sign change, so that callers can report "no crossing in range".
 */
export function findRoot(d: (c: number) => number, a: number, b: number, n = 41): number {
  const xs = grid(a, b, n);
  let prev = d(xs[0]!);
  for (let k = 1; k < n; k++) {
    const cur = d(xs[k]!);
    if (Math.sign(cur) !== Math.sign(prev) || cur === 0) {
      let lo = xs[k - 1]!, hi = xs[k]!, flo = prev;
      for (let it = 0; it < 40; it++) {
        const mid = (lo + hi) / 2;
        const fm = d(mid);
        if (Math.sign(fm) === Math.sign(flo)) {
          lo = mid;
          flo = fm;
        } else hi = mid;
      }
      return (lo + hi) / 2;
    }
    prev = cur;
  }
  return Number.NaN;
}

/** Crossing of observable o between two curve families, with jackknife error (groups must match). */
export function crossing(a: Curves, b: Curves, o: CurveObservable): Estimate {
  if (a.groups !== b.groups) throw new RangeError("curves with different jackknife groupings cannot be combined");
  const lo = Math.max(a.range[0], b.range[0]), hi = Math.min(a.range[1], b.range[1]);
  return jackknifed(a.groups, (g) => findRoot((c) => a.value(o, c, g) - b.value(o, c, g), lo, hi));
}

/** The original coupling c′ at which the original curve takes the renormalised curve's value at c. */
export function matchCoupling(orig: Curves, renorm: Curves, o: CurveObservable, c: number, g = -1): number {
  const target = renorm.value(o, c, g);
  return findRoot((cc) => orig.value(o, cc, g) - target, orig.range[0], orig.range[1]);
}

/** Least-squares line through (x, y) (optionally weighted): slope and intercept. */
export function fitLine(x: readonly number[], y: readonly number[], w?: readonly number[]): { slope: number; intercept: number } {
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    sx += wi * x[i]!;
    sy += wi * y[i]!;
    sxx += wi * x[i]! * x[i]!;
    sxy += wi * x[i]! * y[i]!;
  }
  const slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
  return { slope, intercept: (sy - slope * sx) / sw };
}

/**
 * ν from the coupling map: c′(c) matched on `points` couplings within ±halfWidth of c*, fitted by a
 * line; its slope is b^{1/ν}. Returns ν and the slope with jackknife errors.
 */
export function nuFromCouplingMap(orig: Curves, renorm: Curves, o: CurveObservable, cStar: number, halfWidth: number, b = 2, points = 9): { nu: Estimate; slope: Estimate; map: { c: number; cPrime: number }[] } {
  const cs = grid(cStar - halfWidth, cStar + halfWidth, points).filter((c) => c >= renorm.range[0] && c <= renorm.range[1]);
  const slopeOf = (g: number): number => {
    const pts = cs.map((c) => [c, matchCoupling(orig, renorm, o, c, g)] as const).filter(([, cp]) => Number.isFinite(cp));
    if (pts.length < 3) return Number.NaN;
    return fitLine(pts.map((p) => p[0]), pts.map((p) => p[1])).slope;
  };
  const slope = jackknifed(orig.groups, slopeOf);
  const nu = jackknifed(orig.groups, (g) => Math.log(b) / Math.log(slopeOf(g)));
  const map = cs.map((c) => ({ c, cPrime: matchCoupling(orig, renorm, o, c) }));
  return { nu, slope, map };
}

/**
 * Finite-size-scaling exponent: slope of ln O_L(c) against ln L at coupling c, each size with its own
 * jackknife error (sizes are independent, so the slope's error adds their contributions in quadrature).
 */
export function fssSlope(families: readonly { L: number; curves: Curves }[], o: CurveObservable, c: number): { slope: Estimate; points: { L: number; value: Estimate }[] } {
  const points = families.map(({ L, curves }) => ({ L, value: jackknifed(curves.groups, (g) => curves.value(o, c, g)) }));
  const lx = points.map((p) => Math.log(p.L));
  const ly = points.map((p) => Math.log(p.value.value));
  const w = points.map((p) => (p.value.value / p.value.error) ** 2);
  const slope = fitLine(lx, ly, w).slope;
  // Error propagation of a weighted linear fit: σ²_slope = Σw / (Σw Σwx² − (Σwx)²).
  let sw = 0, swx = 0, swxx = 0;
  lx.forEach((x, i) => {
    sw += w[i]!;
    swx += w[i]! * x;
    swxx += w[i]! * x * x;
  });
  return { slope: { value: slope, error: Math.sqrt(sw / (sw * swxx - swx * swx)), tauInt: Number.NaN }, points };
}
