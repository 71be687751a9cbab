// Validation tables: generated against direct ensembles, quantity by quantity, with a verdict.

import { type Validation } from "../jobs/validate.js";
import { type Block } from "./html.js";
import { fmt } from "./mcrg-report.js";

/** Verdict: agreement within `maxZ` standard errors for every quantity at every compared coupling. */
export function verdict(v: Validation, maxZ = 3): { pass: boolean; worst: { quantity: string; z: number; coupling: number } } {
  const worst = v.rows.reduce((a, r) => (Math.abs(r.z) > Math.abs(a.z) ? r : a), v.rows[0]!);
  return { pass: Math.abs(worst.z) <= maxZ, worst: { quantity: worst.quantity, z: worst.z, coupling: worst.coupling } };
}

export function validationBlocks(v: Validation, title: string): Block[] {
  const vd = verdict(v);
  return [
    { kind: "h3", text: title },
    { kind: "p", text: `${v.samples.generated} generated and ${v.samples.direct} direct configurations; couplings ${v.range[0].toFixed(4)} … ${v.range[1].toFixed(4)}. Verdict: ${vd.pass ? "agree" : "disagree"} (largest deviation ${vd.worst.z.toFixed(1)}σ in ${vd.worst.quantity} at ${vd.worst.coupling.toFixed(4)}).` },
    {
      kind: "table",
      head: ["coupling", "quantity", "generated", "direct", "deviation / σ", "relative"],
      rows: v.rows.map((r) => [r.coupling.toFixed(4), r.quantity, fmt(r.generated), fmt(r.direct), r.z.toFixed(1), `${(100 * r.relative).toFixed(1)}%`]),
    },
  ];
}

