// The MCRG report: critical coupling and exponents against the model's known values (its descriptor's), the seed's
// |m| curves of original and renormalised systems, Binder curves, the coupling map and FSS plots.

import { type McrgResult } from "../jobs/mcrg.js";
import { grid, jackknifed } from "../analysis/mcrg.js";
import { type Estimate } from "../analysis/stats.js";
import { type Block } from "./html.js";
import { linePlotSpec, type Point, renderSvg } from "./plot.js";

export function fmt(e: Estimate, digits?: number): string {
  if (!Number.isFinite(e.value)) return "—";
  const d = digits ?? (e.error > 0 ? Math.max(1, Math.min(8, 1 - Math.floor(Math.log10(e.error)))) : 5);
  return `${e.value.toFixed(d)} ± ${e.error.toFixed(d)}`;
}

function sigmas(e: Estimate, exact: number): string {
  return e.error > 0 && Number.isFinite(e.value) ? ((e.value - exact) / e.error).toFixed(1) : "—";
}

/** Curve points of an observable with jackknife error bands on `n` couplings. */
export function curvePoints(curves: McrgResult["original"] extends Map<number, infer C> ? C : never, o: "abs_m" | "binder" | "chi", series: string, n = 41): Point[] {
  return grid(curves.range[0], curves.range[1], n).map((c) => {
    const e = jackknifed(curves.groups, (g) => curves.value(o, c, g));
    return { x: c, y: e.value, err: e.error, series };
  });
}

export async function mcrgBlocks(r: McrgResult, title = "MCRG"): Promise<Block[]> {
  const cl = r.coupling === "mu2" ? "μ²" : "β";
  const blocks: Block[] = [];
  const ref = r.reference;
  const cmp = (e: Estimate, exact: number | undefined): [string | number, string] => (exact === undefined ? [ref?.couplingNote ?? "—", "—"] : [Number(exact.toFixed(7)), sigmas(e, exact)]);
  const rows: (string | number)[][] = [
    [`critical ${cl} (|m| original vs blocked, largest L)`, fmt(r.critical), ...(ref?.coupling !== undefined ? cmp(r.critical, ref.coupling) : [ref?.couplingNote ?? "—", "—"])],
  ];
  for (const n of r.nu) rows.push([`ν (coupling map, ${n.observable}, L = ${n.L} from ${2 * n.L})`, fmt(n.nu), ...cmp(n.nu, ref?.nu)]);
  rows.push([`γ/ν (FSS of χ = V⟨m²⟩ at ${cl}_c, L = ${r.sizes.join(", ")})`, fmt(r.gammaOverNu), ...cmp(r.gammaOverNu, ref?.gammaOverNu)]);
  rows.push([`γ/ν (FSS of connected χ = V(⟨m²⟩ − ⟨|m|⟩²))`, fmt(r.gammaOverNuConnected), ...cmp(r.gammaOverNuConnected, ref?.gammaOverNu)]);
  rows.push([`β/ν (FSS of ⟨|m|⟩ at ${cl}_c)`, fmt(r.betaOverNu), ...cmp(r.betaOverNu, ref?.betaOverNu)]);
  blocks.push({ kind: "h2", text: `${title}: critical point and exponents` });
  blocks.push({ kind: "table", head: ["quantity", "estimate", ref?.source ?? "reference (none known)", "deviation / σ"], rows, caption: "Errors: jackknife over 20 groups of every run (multiple-histogram reweighting redone per group)." });
  blocks.push({
    kind: "table",
    head: ["crossing", "observable", `${cl}*`],
    rows: r.crossings.map((c) => [c.kind, c.observable, fmt(c.value)]),
  });
  const lines: Point[] = [];
  for (const [L, c] of r.original) if (r.blocked.has(L)) lines.push(...curvePoints(c, "abs_m", `original L=${L}`));
  for (const [L, c] of r.blocked) lines.push(...curvePoints(c, "abs_m", `blocked ${2 * L}→${L}`));
  const rules = [{ x: r.critical.value, label: "critical" }];
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "⟨|m|⟩: original vs renormalised (same size)", xLabel: cl, yLabel: "⟨|m|⟩", lines, rules })), caption: "Original systems of size L and systems blocked from 2L to L intersect at the critical coupling (seed Fig. 2)." });
  const ub: Point[] = [];
  for (const [L, c] of r.original) ub.push(...curvePoints(c, "binder", `L=${L}`));
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Binder cumulant of the original systems", xLabel: cl, yLabel: "U₄", lines: ub, rules })), caption: "Binder cumulants of different sizes cross near the critical coupling." });
  const mapPts: Point[] = [];
  for (const n of r.nu.filter((x) => x.observable === "abs_m")) for (const p of n.map) if (Number.isFinite(p.cPrime)) mapPts.push({ x: p.c, y: p.cPrime, series: `L=${n.L}` });
  if (mapPts.length) {
    blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `Coupling map ${cl} → ${cl}′`, xLabel: `${cl} (blocked system)`, yLabel: `${cl}′ (matching original)`, points: mapPts, rules })), caption: "Slope at the fixed point = b^{1/ν}." });
  }
  for (const f of r.fssPoints) {
    const pts = f.points.map((p) => ({ x: p.L, y: p.value.value, err: p.value.error, series: f.observable }));
    const name = { chi_full: "χ = V⟨m²⟩", chi: "connected χ", abs_m: "⟨|m|⟩" }[f.observable as string] ?? f.observable;
    blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `${name} at the critical coupling`, xLabel: "L", yLabel: f.observable, points: pts, logX: true, logY: true })), caption: "Log–log slopes give γ/ν and −β/ν." });
  }
  blocks.push({
    kind: "table",
    head: ["size", "kind", "runs", "samples (measurements or configurations)"],
    rows: r.statistics.map((s) => [s.L, s.kind, s.runs, s.samples]),
    caption: "Statistics used in the analysis.",
  });
  return blocks;
}
