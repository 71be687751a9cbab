// The spin-glass study's coupling map (analysis/coupling-flow.ts) from its files: [⟨q²⟩] of the direct
// L0 fields against the direct 2·L0 fields blocked to L0 gives T′(T); the generated 2·L0 system made from
// L0 at T is then validated against the direct 2·L0 system reweighted to T′ (single histogram in the
// energy E(s) + E(t), from the nearest ladder temperature).

import { type Estimate } from "../analysis/stats.js";
import { couplingFlow, type FlowMap } from "../analysis/coupling-flow.js";
import { openEnsemble } from "../io/ensemble.js";
import { correlationEstimates, type CorrelationRows, overlapCorrelationRows, spinGlassOfFile } from "./spin-glass.js";

export interface FlowValidation {
  L: number;
  T: number;
  /** The temperature the flow assigns to the generated system, and its error. */
  Tp: number;
  TpError: number;
  /** Effective fraction of the reweighted rows (1: no reweighting needed; → 0: the histograms part). */
  overlap: number;
  /**
   * z = (generated − direct)/σ, σ including the error of T′ times the slope of the direct curve; long
   * range [⟨q²⟩], χ_SG, g, ξ/L, short range G(1), G(2) (from the stored fields, when both files have them).
   */
  rows: { quantity: string; range: "long" | "short"; generated: Estimate; direct: Estimate; z: number }[];
  longAgree: boolean;
  /** null: no stored fields to compare. */
  shortAgree: boolean | null;
  /** G(r), r = 1 … L/2, of the generated fields and of the direct ones reweighted to T′. */
  correlation?: { r: number[]; generated: Estimate[]; direct: Estimate[] };
}

export interface EaFlow {
  L0: number;
  T: number[];
  map: FlowMap;
  /** η from χ_SG(2L0)/χ_SG(L0) = 2^{2−η} at the map's fixed point T* (the quotient method), direct sizes. */
  eta?: { value: number; error: number };
  validations: FlowValidation[];
}

/** Linear interpolation of a quantity of curve points (sorted by T) at t, with its error (no extrapolation). */
function at(points: { T: number; est: Record<string, Estimate> }[], q: string, t: number): { value: number; error: number } | null {
  for (let j = 0; j + 1 < points.length; j++) {
    const a = points[j]!, b = points[j + 1]!;
    if (t < a.T || t > b.T) continue;
    const f = (t - a.T) / (b.T - a.T);
    const x = a.est[q], y = b.est[q];
    if (!x || !y) return null;
    return { value: (1 - f) * x.value + f * y.value, error: Math.hypot((1 - f) * x.error, f * y.error) };
  }
  return null;
}

interface Estimates {
  T: number;
  L: number;
  est: Record<string, Estimate>;
  overlap: number;
  /** Measurement rows per disorder sample (reweighting within a sample needs at least two). */
  rowsPerSample: number;
}

function estimatesOf(path: string, beta?: number): Estimates {
  const r = openEnsemble(path);
  try {
    const x = spinGlassOfFile(r, path, beta);
    const est = { ...x.estimates };
    if (est.xi_sg) est.xi_l = { ...est.xi_sg, value: est.xi_sg.value / r.meta.L, error: est.xi_sg.error / r.meta.L };
    return { T: 1 / Number(r.meta.params.beta), L: r.meta.L, est, overlap: x.overlap ?? 1, rowsPerSample: x.measurements / x.samples };
  } finally {
    r.close();
  }
}

/**
 * All file lists are per ladder temperature, in the same order (any); `generated2L0` may be empty (then
 * only the map). Quantities validated: [⟨q²⟩], χ_SG, g, ξ_SG/L; agreement within 2σ each.
 */
export function eaFlow(L0: number, directL0: string[], blocked: string[], direct2L0: string[], generated2L0: string[]): EaFlow {
  const d = directL0.map((p) => estimatesOf(p)).sort((a, b) => a.T - b.T);
  const bl = blocked.map((p) => estimatesOf(p)).sort((a, b) => a.T - b.T);
  const T = d.map((x) => x.T);
  const map = couplingFlow(T, d.map((x) => x.est.q2!), bl.map((x) => x.est.q2!));
  const direct = direct2L0.map((p) => ({ p, ...estimatesOf(p) })).sort((a, b) => a.T - b.T);
  // The error of T′ enters the comparison through the slope of the direct curve there.
  const slopeAt = (q: string, t: number): number => {
    const j = Math.max(0, Math.min(direct.length - 2, direct.findIndex((x) => x.T > t) - 1));
    const a = direct[j]!, b = direct[j + 1]!;
    return (b.est[q]!.value - a.est[q]!.value) / (b.T - a.T);
  };
  const validations: FlowValidation[] = [];
  // The fields' correlation rows, computed once per file (a direct file may serve several validations).
  const cache = new Map<string, CorrelationRows | null>();
  const correlationRows = (path: string, distances: number[]): CorrelationRows | null => {
    if (!cache.has(path)) cache.set(path, overlapCorrelationRows(path, distances));
    return cache.get(path)!;
  };
  for (const g of generated2L0) {
    const gen = estimatesOf(g);
    const k = T.findIndex((t) => Math.abs(t - gen.T) <= 1e-6 * t);
    if (k < 0 || !Number.isFinite(map.Tp[k]!)) continue;
    const Tp = map.Tp[k]!;
    const near = direct.reduce((a, b) => (Math.abs(b.T - Tp) < Math.abs(a.T - Tp) ? b : a));
    const dir = estimatesOf(near.p, 1 / Tp);
    const rows: FlowValidation["rows"] = ["q2", "chi_sg", "g", "xi_l"].filter((q) => gen.est[q] && dir.est[q]).map((q) => {
      const a = gen.est[q]!, b = dir.est[q]!;
      const fromTp = direct.length >= 2 ? Math.abs(slopeAt(q, Tp)) * map.TpError[k]! : 0;
      return { quantity: q, range: "long" as const, generated: a, direct: b, z: (a.value - b.value) / Math.hypot(a.error, b.error, fromTp) };
    });
    const distances = Array.from({ length: gen.L / 2 }, (_, j) => j + 1);
    const gc = correlationRows(g, distances), dc = correlationRows(near.p, distances);
    let correlation: FlowValidation["correlation"];
    if (gc && dc && dc.x) {
      const ge = correlationEstimates(gc), de = correlationEstimates(dc, 1 / Tp);
      if (ge && de) {
        correlation = { r: distances, generated: distances.map((d) => ge[`G${d}`]!), direct: distances.map((d) => de[`G${d}`]!) };
        // The error of T′ through the slope of the reweighted direct G(r) there.
        const dT = Math.max(map.TpError[k]!, 1e-3);
        const up = correlationEstimates(dc, 1 / (Tp + dT)), down = correlationEstimates(dc, 1 / Math.max(1e-6, Tp - dT));
        for (const d of [1, 2].filter((x) => x <= gen.L / 2)) {
          const a = ge[`G${d}`]!, b = de[`G${d}`]!;
          const fromTp = up && down ? (Math.abs(up[`G${d}`]!.value - down[`G${d}`]!.value) / (2 * dT)) * map.TpError[k]! : 0;
          rows.push({ quantity: `G${d}`, range: "short", generated: a, direct: b, z: (a.value - b.value) / Math.hypot(a.error, b.error, fromTp) });
        }
      }
    }
    const agree = (range: string): boolean => rows.filter((x) => x.range === range).every((x) => Math.abs(x.z) < 2);
    validations.push({
      L: gen.L, T: gen.T, Tp, TpError: map.TpError[k]!, overlap: dir.overlap, rows, longAgree: agree("long"),
      shortAgree: rows.some((x) => x.range === "short") ? agree("short") : null, ...(correlation ? { correlation } : {}),
    });
  }
  let eta: EaFlow["eta"];
  if (map.Tstar && direct.length >= 2) {
    const small = at(d, "chi_sg", map.Tstar.value), large = at(direct, "chi_sg", map.Tstar.value);
    if (small && large && small.value > 0 && large.value > 0) {
      // σ: the two curves' errors, and T*'s through the slope of ln(χ_2L/χ_L) in T.
      const h = 1e-3;
      const lr = (t: number): number => Math.log(at(direct, "chi_sg", t)?.value ?? Number.NaN) - Math.log(at(d, "chi_sg", t)?.value ?? Number.NaN);
      const slope = (lr(map.Tstar.value + h) - lr(map.Tstar.value - h)) / (2 * h);
      const e = Math.hypot(small.error / small.value, large.error / large.value, Number.isFinite(slope) ? slope * map.Tstar.error : 0) / Math.LN2;
      eta = { value: 2 - Math.log2(large.value / small.value), error: e };
    }
  }
  return { L0, T, map, ...(eta ? { eta } : {}), validations: validations.sort((a, b) => a.T - b.T) };
}

/** A size's curves between its ladder temperatures (see reweightedCurve). */
export interface ReweightedCurve {
  kind: "direct" | "generated";
  L: number;
  /** False when the files hold one row per disorder sample (generated fields): then the points are the ladder's own. */
  reweighted: boolean;
  points: { T: number; est: Record<string, Estimate>; overlap: number }[];
}

/**
 * [⟨q²⟩], χ_SG, g and ξ/L of one size on `n` temperatures evenly spaced in T across its ladder, each
 * reweighted (single histogram in E(s) + E(t), or the parents' for generated fields) from the ladder
 * file nearest in β. Points whose reweighting overlap falls below `minOverlap` are left out: there the
 * histograms part and the estimate would rest on a few rows. The weights are normalised within each
 * disorder sample, so files with one row per sample (the generated fields of the study: one starting
 * field per sample) cannot be reweighted; their curve is the ladder points alone (`reweighted: false`).
 */
export function reweightedCurve(kind: ReweightedCurve["kind"], files: string[], n = 41, minOverlap = 0.1): ReweightedCurve {
  const ladder = files.map((p) => ({ p, ...estimatesOf(p) })).sort((a, b) => a.T - b.T);
  const base = { kind, L: ladder[0]!.L };
  if (ladder.some((x) => x.rowsPerSample < 2)) return { ...base, reweighted: false, points: ladder.map((x) => ({ T: x.T, est: x.est, overlap: 1 })) };
  const lo = ladder[0]!.T, hi = ladder.at(-1)!.T;
  const points: ReweightedCurve["points"] = [];
  for (let j = 0; j < n; j++) {
    const T = n === 1 ? lo : lo + ((hi - lo) * j) / (n - 1);
    const near = ladder.reduce((a, b) => (Math.abs(1 / b.T - 1 / T) < Math.abs(1 / a.T - 1 / T) ? b : a));
    const x = Math.abs(near.T - T) <= 1e-9 * T ? near : estimatesOf(near.p, 1 / T);
    if (x.overlap >= minOverlap) points.push({ T, est: x.est, overlap: x.overlap });
  }
  return { ...base, reweighted: true, points };
}
