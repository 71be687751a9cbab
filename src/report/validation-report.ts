// Validation tables: generated against direct ensembles, quantity by quantity, with a verdict.

import { type Validation } from "../jobs/validate.js";
import { type Block } from "./html.js";
import { fmt } from "./mcrg-report.js";

/**
 * Verdict: every quantity agrees within `maxZ` standard errors or within `maxRel` relative deviation
 * ("a few percent", the issue's criterion) — at the validation's coupling `at` if it has one (the
 * critical point, where generated and direct systems must agree), else at every compared coupling.
 */
export function verdict(v: Validation, maxZ = 3, maxRel = 0.03, only?: (quantity: string) => boolean): { pass: boolean; worst: { quantity: string; z: number; relative: number; coupling: number } } {
  const rows = (v.at === undefined ? v.rows : v.rows.filter((r) => r.coupling === v.at)).filter((r) => !only || only(r.quantity));
  const worst = rows.reduce((a, r) => (Math.abs(r.z) > Math.abs(a.z) ? r : a), rows[0]!);
  const pass = rows.every((r) => Math.abs(r.z) <= maxZ || Math.abs(r.relative) <= maxRel);
  return { pass, worst: { quantity: worst.quantity, z: worst.z, relative: worst.relative, coupling: worst.coupling } };
}

/** Long-range quantities (the issue's criterion: ⟨|m|⟩, U₄, χ) and short-range ones (energy, G(1), G(2)). */
export const LONG_RANGE = (q: string): boolean => q === "abs_m" || q === "binder" || q === "chi_full" || q === "chi";
export const SHORT_RANGE = (q: string): boolean => q === "energy" || q === "G1" || q === "G2";

/** One line per group: "long range agree (…); short range disagree (…)". */
export function verdictSummary(v: Validation): string {
  const part = (name: string, f: (q: string) => boolean): string => {
    const d = verdict(v, 3, 0.03, f);
    return `${name} ${d.pass ? "agree" : "disagree"} (largest ${d.worst.z.toFixed(1)} sigma, ${(100 * d.worst.relative).toFixed(1)}%, ${d.worst.quantity})`;
  };
  return `${part("long range", LONG_RANGE)}; ${part("short range", SHORT_RANGE)}`;
}

/** `label`: what the validated ensembles are ("generated", or "exact" for the exact inverse-RG chain, which must match at every coupling). */
export function validationBlocks(v: Validation, title: string, label: "generated" | "exact" = "generated"): Block[] {
  const vd = verdict(v);
  return [
    { kind: "h3", text: title },
    {
      kind: "p",
      text: `${v.samples.generated} ${label} and ${v.samples.direct} direct configurations; couplings ${v.range[0].toFixed(4)} … ${v.range[1].toFixed(4)}. ` +
        `Verdict${v.at === undefined ? "" : ` at the critical coupling ${v.at.toFixed(4)}`}: ${vd.pass ? "agree" : "disagree"} (every quantity within 3σ or 3%; largest deviation ${vd.worst.z.toFixed(1)}σ, ${(100 * vd.worst.relative).toFixed(1)}%, in ${vd.worst.quantity} at ${vd.worst.coupling.toFixed(4)}).` +
        ` By range: ${verdictSummary(v)}.` +
        (v.at === undefined || label === "exact" ? "" : " Away from the critical point the generated system is not expected to match the direct one at the same coupling: the inverse RG drives it towards the fixed point, so it resembles a direct system closer to criticality."),
    },
    {
      kind: "table",
      head: ["coupling", "quantity", label, "direct", "deviation / σ", "relative"],
      rows: v.rows.map((r) => [`${r.coupling.toFixed(4)}${r.coupling === v.at ? " (critical)" : ""}`, r.quantity, fmt(r.generated), fmt(r.direct), r.z.toFixed(1), `${(100 * r.relative).toFixed(1)}%`]),
    },
  ];
}

