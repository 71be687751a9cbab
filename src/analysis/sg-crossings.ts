// Spin-glass curves against temperature and their crossings between sizes: ξ_SG/L and g of each size at the
// stored ladder temperatures, and the temperature where two sizes' curves cross (the finite-size estimate
// of T_c; Ballesteros et al., PRB 62, 14237 (2000)), with jackknife errors over disorder samples.
//
// Why a joint jackknife per size: the temperatures of one size come from one parallel-tempering run, so
// every point of its curve is made of the same samples; leaving one sample out of all of them at once
// carries the correlation of the curve into the crossing's error. Different sizes have independent
// samples, so their two contributions add in quadrature.

import { groupBySample } from "./spin-glass.js";

/** Per-sample thermal means of one ensemble (one size, one temperature). */
export interface SamplePrimaries {
  /** Sample indices, ascending. */
  samples: number[];
  q2: Float64Array;
  q4: Float64Array;
  qk2: Float64Array;
}

export function samplePrimaries(q: ArrayLike<number>, qk2: ArrayLike<number>, sample: ArrayLike<number>): SamplePrimaries {
  const qs = groupBySample(q, sample), ks = groupBySample(qk2, sample);
  const samples = [...new Set(Array.from(sample))].sort((a, b) => a - b);
  const mean = (x: Float64Array, f: (v: number) => number): number => x.reduce((a, v) => a + f(v), 0) / x.length;
  return {
    samples,
    q2: Float64Array.from(qs, (x) => mean(x, (v) => v * v)),
    q4: Float64Array.from(qs, (x) => mean(x, (v) => v ** 4)),
    qk2: Float64Array.from(ks, (x) => mean(x, (v) => v)),
  };
}

/** χ_SG, g and ξ_SG/L from disorder-averaged [⟨q²⟩], [⟨q⁴⟩], [⟨|q(k_min)|²⟩]. */
export function sgDerived(q2: number, q4: number, qk2: number, V: number, L: number): { chi: number; g: number; xiL: number } {
  const r = q2 / qk2 - 1;
  return { chi: V * q2, g: 0.5 * (3 - q4 / (q2 * q2)), xiL: r > 0 ? Math.sqrt(r) / (2 * Math.sin(Math.PI / L)) / L : Number.NaN };
}

/** Temperature where a − b changes sign between neighbouring points (linear interpolation); NaN if nowhere. */
export function crossingPoint(T: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let k = 0; k + 1 < T.length; k++) {
    const d0 = a[k]! - b[k]!, d1 = a[k + 1]! - b[k + 1]!;
    if (d0 === 0) return T[k]!;
    if (d0 * d1 < 0) return T[k]! + (T[k + 1]! - T[k]!) * (d0 / (d0 - d1));
  }
  return a.length > 0 && a[a.length - 1]! - b[b.length - 1]! === 0 ? T[T.length - 1]! : Number.NaN;
}

/** One size's curve: temperatures ascending, the primaries of the same samples at each. */
export interface SizeCurve {
  L: number;
  V: number;
  T: number[];
  points: SamplePrimaries[];
}

/** ξ/L and g of a curve with sample `leave` left out of every point (−1: none). */
function curveValues(c: SizeCurve, leave: number): { xiL: number[]; g: number[] } {
  const d = c.points.map((_, k) => {
    const m = pointMeans(c, k, leave);
    return sgDerived(m.q2, m.q4, m.qk2, c.V, c.L);
  });
  return { xiL: d.map((x) => x.xiL), g: d.map((x) => x.g) };
}

export interface Crossing {
  L1: number;
  L2: number;
  /** "xi/L" or "g". */
  quantity: string;
  T: number;
  error: number;
}

/**
 * Crossings of ξ/L and g between two sizes at their common temperatures, with jackknife errors over the
 * samples of each size (each curve's points must hold the same samples, in the same order).
 */
export function sizeCrossings(c1: SizeCurve, c2: SizeCurve): Crossing[] {
  const common = c1.T.filter((t) => c2.T.some((u) => Math.abs(u - t) <= 1e-9 * t));
  const pick = (c: SizeCurve): SizeCurve => ({ ...c, T: common, points: common.map((t) => c.points[c.T.findIndex((u) => Math.abs(u - t) <= 1e-9 * t)]!) });
  const a = pick(c1), b = pick(c2);
  const out: Crossing[] = [];
  for (const quantity of ["xi/L", "g"] as const) {
    const key = quantity === "g" ? "g" : "xiL";
    const full = crossingPoint(common, curveValues(a, -1)[key], curveValues(b, -1)[key]);
    let err2 = 0;
    for (const [mine, other] of [[a, b], [b, a]] as const) {
      const fixed = curveValues(other, -1)[key];
      const S = mine.points[0]?.q2.length ?? 0;
      const reps: number[] = [];
      for (let s = 0; s < S; s++) reps.push(crossingPoint(common, mine === a ? curveValues(mine, s)[key] : fixed, mine === a ? fixed : curveValues(mine, s)[key]));
      if (reps.some((x) => !Number.isFinite(x))) {
        err2 = Number.NaN;
        break;
      }
      const m = reps.reduce((x, y) => x + y, 0) / S;
      err2 += ((S - 1) / S) * reps.reduce((x, y) => x + (y - m) ** 2, 0);
    }
    out.push({ L1: c1.L, L2: c2.L, quantity, T: full, error: Math.sqrt(err2) });
  }
  return out;
}

/** Disorder averages [⟨q²⟩], [⟨q⁴⟩], [⟨|q(k_min)|²⟩] of point k of a curve with sample `leave` left out (−1: none). */
export function pointMeans(c: SizeCurve, k: number, leave: number): { q2: number; q4: number; qk2: number } {
  const p = c.points[k]!;
  const S = p.q2.length;
  let a = 0, b = 0, d = 0;
  for (let s = 0; s < S; s++) {
    if (s === leave) continue;
    a += p.q2[s]!;
    b += p.q4[s]!;
    d += p.qk2[s]!;
  }
  const n = leave >= 0 ? S - 1 : S;
  return { q2: a / n, q4: b / n, qk2: d / n };
}

/**
 * Finite-size scaling slope d ln y / d ln L over sizes whose curves hold the same samples (generated sizes
 * of one family descend from the same starting samples), with a joint jackknife leaving one sample out of
 * every size. `y(c, leave)` is the per-size quantity (e.g. χ_SG at one temperature).
 */
export function fssSlope(curves: SizeCurve[], y: (c: SizeCurve, leave: number) => number): { value: number; error: number } {
  if (curves.length < 2) throw new RangeError("a finite-size scaling slope needs at least 2 sizes");
  const ids = curves[0]!.points[0]!.samples.join();
  if (curves.some((c) => c.points.some((p) => p.samples.join() !== ids))) throw new RangeError("the sizes of a joint jackknife must hold the same samples");
  const x = curves.map((c) => Math.log(c.L));
  const fit = (leave: number): number => {
    const ys = curves.map((c) => Math.log(y(c, leave)));
    const mx = x.reduce((a, v) => a + v, 0) / x.length, my = ys.reduce((a, v) => a + v, 0) / ys.length;
    let sxy = 0, sxx = 0;
    x.forEach((xi, i) => {
      sxy += (xi - mx) * (ys[i]! - my);
      sxx += (xi - mx) ** 2;
    });
    return sxy / sxx;
  };
  const S = curves[0]!.points[0]!.q2.length;
  const value = fit(-1);
  const reps = Array.from({ length: S }, (_, s) => fit(s));
  const m = reps.reduce((a, v) => a + v, 0) / S;
  return { value, error: Math.sqrt(((S - 1) / S) * reps.reduce((a, v) => a + (v - m) ** 2, 0)) };
}
