// The spin-glass study's coupling map (analysis/coupling-flow.ts) from its files: [⟨q²⟩] of the direct
// L0 fields against the direct 2·L0 fields blocked to L0 gives T′(T); the generated 2·L0 system made from
// L0 at T is then validated against the direct 2·L0 system reweighted to T′ (single histogram in the
// energy E(s) + E(t), from the nearest ladder temperature).

import { type Estimate } from "../analysis/stats.js";
import { couplingFlow, type FlowMap } from "../analysis/coupling-flow.js";
import { openEnsemble } from "../io/ensemble.js";
import { spinGlassOfFile } from "./spin-glass.js";

export interface FlowValidation {
  L: number;
  T: number;
  /** The temperature the flow assigns to the generated system, and its error. */
  Tp: number;
  TpError: number;
  /** Effective fraction of the reweighted rows (1: no reweighting needed; → 0: the histograms part). */
  overlap: number;
  /** z = (generated − direct)/σ, σ including the error of T′ times the slope of the direct curve. */
  rows: { quantity: string; generated: Estimate; direct: Estimate; z: number }[];
  longAgree: boolean;
}

export interface EaFlow {
  L0: number;
  T: number[];
  map: FlowMap;
  validations: FlowValidation[];
}

function estimatesOf(path: string, beta?: number): { T: number; L: number; est: Record<string, Estimate>; overlap: number } {
  const r = openEnsemble(path);
  try {
    const x = spinGlassOfFile(r, path, beta);
    const est = { ...x.estimates };
    if (est.xi_sg) est.xi_l = { ...est.xi_sg, value: est.xi_sg.value / r.meta.L, error: est.xi_sg.error / r.meta.L };
    return { T: 1 / Number(r.meta.params.beta), L: r.meta.L, est, overlap: x.overlap ?? 1 };
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
  for (const g of generated2L0) {
    const gen = estimatesOf(g);
    const k = T.findIndex((t) => Math.abs(t - gen.T) <= 1e-6 * t);
    if (k < 0 || !Number.isFinite(map.Tp[k]!)) continue;
    const Tp = map.Tp[k]!;
    const near = direct.reduce((a, b) => (Math.abs(b.T - Tp) < Math.abs(a.T - Tp) ? b : a));
    const dir = estimatesOf(near.p, 1 / Tp);
    const rows = ["q2", "chi_sg", "g", "xi_l"].filter((q) => gen.est[q] && dir.est[q]).map((q) => {
      const a = gen.est[q]!, b = dir.est[q]!;
      const fromTp = direct.length >= 2 ? Math.abs(slopeAt(q, Tp)) * map.TpError[k]! : 0;
      return { quantity: q, generated: a, direct: b, z: (a.value - b.value) / Math.hypot(a.error, b.error, fromTp) };
    });
    validations.push({ L: gen.L, T: gen.T, Tp, TpError: map.TpError[k]!, overlap: dir.overlap, rows, longAgree: rows.every((x) => Math.abs(x.z) < 2) });
  }
  return { L0, T, map, validations: validations.sort((a, b) => a.T - b.T) };
}
