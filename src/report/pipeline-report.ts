// The inverse-RG report: critical coupling from generated vs direct curves (seed Fig. 3), exponents
// from finite-size scaling over generated sizes, validation tables, cost of IRG vs MC, snapshots.

import { type PipelineResult, type ScalingAt } from "../jobs/pipeline.js";
import { type Block } from "./html.js";
import { curvePoints, fmt } from "./mcrg-report.js";
import { linePlotSpec, type Point, renderSvg } from "./plot.js";
import { snapshotPng } from "./snapshot.js";
import { validationBlocks } from "./validation-report.js";

function sig(e: { value: number; error: number }, exact: number | undefined): string {
  return exact !== undefined && e.error > 0 ? ((e.value - exact) / e.error).toFixed(1) : "—";
}

/** The reference column: the known value, or a note, or a dash. */
function ref(v: number | undefined, note?: string): string | number {
  return v !== undefined ? Number(v.toFixed(6)) : note ?? "—";
}

/**
 * The two parts of an exponent's error, "statistical a, from <coupling> ± δc b", or null where the
 * coupling is exact (the pipeline's printed lines and this report's captions).
 */
export function errorParts(sc: ScalingAt, k: "betaOverNu" | "gammaOverNu", coupling: string): string | null {
  return sc.couplingError > 0 ? `statistical ${sc.statistical[k].toPrecision(2)}, from ${coupling} ± ${sc.couplingError.toPrecision(2)} ${sc.fromCoupling[k].toPrecision(2)}` : null;
}

function couplingPart(sc: ScalingAt, k: "betaOverNu" | "gammaOverNu"): string {
  return errorParts(sc, k, "the coupling") ?? "coupling exact";
}

export async function pipelineBlocks(r: PipelineResult): Promise<Block[]> {
  const o = r.options;
  const cl = r.coupling === "mu2" ? "μ²" : "β";
  const R = r.reference;
  const isingClass = R?.source.includes("Ising") ?? false;
  const blocks: Block[] = [];
  const sizes = r.families.filter((f) => f.kind === "generated").map((f) => f.L);
  blocks.push({ kind: "p", text: `${o.model}: Monte Carlo at L = ${o.L0} (${o.sweeps} sweeps, ${cl} = ${o.couplings.join(", ")}), a network trained on ${r.training.pairs} (blocked → original) pairs, configurations generated up to L = ${o.target}, direct Monte Carlo at L = ${o.directSizes.join(", ")} (${o.directSweeps} sweeps) for validation. Total ${r.seconds.toFixed(0)} s.` });
  const rows: (string | number)[][] = [];
  for (const c of r.crossings) rows.push([`${cl}_c from ⟨|m|⟩: ${c.label}`, fmt(c.value), ref(R?.coupling, R?.couplingNote), sig(c.value, R?.coupling)]);
  const atCrossing = r.scaling[0]!;
  rows.push([`β/ν (FSS of ⟨|m|⟩ over L = ${r.fssSizes.join(", ")})`, fmt(atCrossing.betaOverNu), ref(R?.betaOverNu), sig(atCrossing.betaOverNu, R?.betaOverNu)]);
  rows.push([`γ/ν (FSS of χ = V⟨m²⟩ over L = ${r.fssSizes.join(", ")})`, fmt(atCrossing.gammaOverNu), ref(R?.gammaOverNu), sig(atCrossing.gammaOverNu, R?.gammaOverNu)]);
  for (const sc of r.scaling.slice(1)) {
    rows.push([`β/ν at ${sc.label} ${cl} = ${sc.coupling.toFixed(5)}`, fmt(sc.betaOverNu), ref(R?.betaOverNu), sig(sc.betaOverNu, R?.betaOverNu)]);
    rows.push([`γ/ν at ${sc.label} ${cl} = ${sc.coupling.toFixed(5)}`, fmt(sc.gammaOverNu), ref(R?.gammaOverNu), sig(sc.gammaOverNu, R?.gammaOverNu)]);
  }
  blocks.push({ kind: "h2", text: "Critical point and exponents" });
  blocks.push({ kind: "table", head: ["quantity", "estimate", "exact / reference", "deviation / σ"], rows, caption: `The first two exponents are taken at the IRG crossing ${cl} = ${r.critical.value.toFixed(5)}; reference: ${R?.source ?? "none known"}. Errors: jackknife (16 groups), and for the exponents at an estimated coupling c ± δc also half their change from c − δc to c + δc (by reweighting), added in quadrature: ${r.scaling.map((sc) => `${sc.label}: β/ν ${couplingPart(sc, "betaOverNu")}, γ/ν ${couplingPart(sc, "gammaOverNu")}`).join("; ")}.` });
  blocks.push({
    kind: "table",
    head: ["L", "kind", ...r.scaling.map((sc) => `U₄ at ${sc.label} (${cl} = ${sc.coupling.toFixed(5)})`)],
    rows: r.scaling[0]!.binder.map((b, k) => [b.L, k === 0 ? "original" : "generated", ...r.scaling.map((sc) => fmt(sc.binder[k]!.value))]),
    caption: `Binder cumulant of the original and generated sizes.${isingClass ? " 2D Ising class on the torus at criticality: U₄* = 0.61069 (Salas–Sokal 2000)." : ""}`,
  });
  if (r.cost) {
    blocks.push({ kind: "h2", text: "Cost: inverse RG versus Monte Carlo" });
    blocks.push({
      kind: "table",
      head: ["L", "generated configuration", "MC sweep", "τ_int(|m|) of MC", "independent MC configuration (2τ sweeps)", "ratio MC / IRG"],
      rows: [[r.cost.L, `${(1000 * r.cost.generatedSeconds).toFixed(2)} ms`, `${(1000 * r.cost.directSweepSeconds).toFixed(2)} ms`, r.cost.tauInt.toFixed(2), `${(1000 * r.cost.directSecondsPerIndependent).toFixed(1)} ms`, `${r.cost.ratio.toFixed(1)}×`]],
      caption: "Both measured in this run on the same machine. The generated cost includes the network's share of the whole chain of sizes by volume.",
    });
  }
  blocks.push({ kind: "h2", text: `⟨|m|⟩ and U₄ against ${cl}` });
  for (const L of o.directSizes) {
    const g = r.families.find((f) => f.L === L && f.kind === "generated")!, d = r.families.find((f) => f.L === L && f.kind === "direct")!;
    const lines: Point[] = [...curvePoints(g.curves, "abs_m", `generated L=${L}`), ...curvePoints(d.curves, "abs_m", `direct L=${L}`)];
    blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `⟨|m|⟩, L = ${L}: inverse RG vs Monte Carlo`, xLabel: cl, yLabel: "⟨|m|⟩", lines, rules: [{ x: r.critical.value, label: "crossing" }] })), caption: "The generated system is driven towards the fixed point; the curves cross at the critical coupling (seed Fig. 3)." });
  }
  const ub: Point[] = r.families.flatMap((f) => curvePoints(f.curves, "binder", `${f.kind} L=${f.L}`));
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Binder cumulant of every family", xLabel: cl, yLabel: "U₄", lines: ub, rules: [{ x: r.critical.value, label: "critical" }] })), caption: isingClass ? `2D Ising torus at criticality: U₄* = 0.61069 (Salas–Sokal).` : "Binder-like cumulant of every family." });
  const fss: Point[] = r.fssSizes.map((L) => {
    const f = r.families.find((x) => x.L === L && x.kind !== "direct")!;
    return { x: L, y: f.curves.value("abs_m", r.critical.value), series: "⟨|m|⟩" };
  });
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `⟨|m|⟩ at ${cl}_c against L (original ${o.L0}, generated ${sizes.join(", ")})`, xLabel: "L", yLabel: "⟨|m|⟩", points: fss, logX: true, logY: true })), caption: "Slope −β/ν." });
  blocks.push({ kind: "h2", text: "Validation against direct Monte Carlo" });
  for (const v of r.validations) blocks.push(...validationBlocks(v, `L = ${v.L}`));
  if (r.exact) blocks.push(...(await exactBlocks(r)));
  blocks.push({ kind: "h2", text: "Training" });
  const tl: Point[] = [
    ...r.training.training.map((y, k) => ({ x: k + 1, y, series: "training" })),
    ...r.training.validation.map((y, k) => ({ x: k + 1, y, series: "validation" })),
  ];
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Negative log-likelihood per fine site", xLabel: "epoch", yLabel: "NLL", lines: tl })), caption: `${r.training.pairs} pairs of L = ${r.training.L}, best epoch ${r.training.bestEpoch}, ${r.training.seconds.toFixed(0)} s.` });
  blocks.push({ kind: "h2", text: "Snapshots" });
  for (const s of r.snapshots) blocks.push({ kind: "png", data: snapshotPng(s.config, s.L, { size: 256 }), caption: `${s.kind} L = ${s.L}`, width: 256 });
  blocks.push({
    kind: "table",
    head: ["family", "L", "configurations", "files"],
    rows: r.families.map((f) => [f.kind, f.L, f.samples, f.files.length]),
    caption: "Statistics.",
  });
  return blocks;
}

/** The exact inverse-RG step: exchanges against L, side-by-side verdicts, exact values, exponents, cost. */
async function exactBlocks(r: PipelineResult): Promise<Block[]> {
  const X = r.exact!, cl = r.coupling === "mu2" ? "μ²" : "β", R = r.reference;
  const blocks: Block[] = [{ kind: "h2", text: "Exact inverse RG" }];
  const top = X.runs.at(-1)!;
  blocks.push({
    kind: "p",
    text: `A network trained on decimation pairs (the coarse value is the fine value at site 2X of its block, so every draw blocks back exactly and its probability q is computable; ${X.training.pairs} pairs, ${X.training.seconds.toFixed(0)} s) proposes exchanges between neighbouring sizes of one Markov chain over L = ${X.from} … ${top.L}, accepted by Metropolis–Hastings with w = p_2L / (p_L(B·) q); every size also makes one cluster sweep per round (the mixed kernel), so the chain is exact for any network and the ensembles at L = ${X.runs.map((e) => e.L).join(", ")} (${X.rounds} rounds each, one chain per size) are exact at ${cl} = ${X.coupling.toFixed(5)}, ${X.couplingSource}${X.couplingEstimate ? ` (${fmt(X.couplingEstimate)})` : ""}.`,
  });
  const acc: Point[] = top.exchanges.map((e) => ({ x: e.to, y: e.acceptance, series: "acceptance" }));
  const ess: Point[] = top.exchanges.filter((e) => e.essFraction > 0).map((e) => ({ x: e.to, y: e.essFraction, series: "ESS/N of the weights" }));
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `Exchange acceptance against the fine size (chain ${X.from} → ${top.L})`, xLabel: "L (fine size of the exchange)", yLabel: "acceptance", points: acc, logX: true })), caption: "Fraction of accepted exchanges L/2 ↔ L over the whole chain." });
  blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Effective sample size of the importance weights per proposal", xLabel: "L (fine size of the exchange)", yLabel: "ESS/N", points: ess, logX: true, logY: true })), caption: "ESS/N = (Σw)²/(N Σw²) of the exchange proposals; 1/N means one proposal carries all the weight." });
  blocks.push({
    kind: "table",
    head: ["exchange", ...X.runs.map((e) => `acceptance (chain to ${e.L})`), "ESS/N (largest chain)", "⟨|m|⟩ at the fine size from the importance weights"],
    rows: top.exchanges.map((e, k) => [`${e.from} → ${e.to}`, ...X.runs.map((run) => (run.exchanges[k] ? `${(100 * run.exchanges[k]!.acceptance).toFixed(2)} %` : "—")), e.essFraction.toExponential(2), e.importance.abs_m ? fmt(e.importance.abs_m) : "—"]),
    caption: `τ_int (rounds) of the largest size: ${X.runs.map((e) => `${e.tauInt.toFixed(1)} at L = ${e.L}`).join(", ")}. The importance estimate is the alternative to the Markov chain: Σ w |m| / Σ w over the proposals of the exchange (coarse states from the exact chain below); with ESS/N·N of order one, one proposal carries it and its error bar means nothing.`,
  });
  const rows: (string | number)[][] = [];
  for (const ve of X.validations) {
    const vg = X.generatedValidations.find((v) => v.L === ve.L);
    for (const re of ve.rows.filter((x) => x.coupling === ve.at)) {
      const rg = vg?.rows.find((x) => x.quantity === re.quantity && x.coupling === vg.at);
      rows.push([ve.L, re.quantity, rg ? `${fmt(rg.generated)} (${rg.z.toFixed(1)}σ)` : "—", `${fmt(re.generated)} (${re.z.toFixed(1)}σ)`, fmt(re.direct)]);
    }
  }
  blocks.push({ kind: "table", head: ["L", "quantity", "approximate IRG (deviation)", "exact IRG (deviation)", "direct Monte Carlo"], rows, caption: `At ${cl} = ${X.coupling.toFixed(5)}; deviations from direct Monte Carlo in combined standard errors (jackknife).` });
  for (const v of X.validations) blocks.push(...validationBlocks(v, `Exact L = ${v.L} against direct Monte Carlo`, "exact"));
  if (X.reference.length) {
    blocks.push({
      kind: "table",
      head: ["L", "ensemble", cl, "quantity", "estimate", "exact", "deviation / σ"],
      rows: X.reference.map((q) => [q.L, q.kind, q.coupling.toFixed(6), q.quantity, fmt(q.estimate), q.exact.toFixed(6), q.z.toFixed(1)]),
      caption: "Exact finite-size values of the model (2D Ising: Kaufman's solution of the L×L torus; e = ⟨H⟩/V, c = β²(⟨H²⟩ − ⟨H⟩²)/V).",
    });
  }
  const sc = X.scaling;
  blocks.push({
    kind: "table",
    head: ["quantity", "estimate", "exact / reference", "deviation / σ"],
    rows: [
      [`β/ν (FSS of ⟨|m|⟩ over the original ${r.options.L0} and the exact sizes)`, fmt(sc.betaOverNu), ref(R?.betaOverNu), sig(sc.betaOverNu, R?.betaOverNu)],
      [`γ/ν (FSS of χ over the same sizes)`, fmt(sc.gammaOverNu), ref(R?.gammaOverNu), sig(sc.gammaOverNu, R?.gammaOverNu)],
      ...sc.binder.map((b) => [`U₄ at L = ${b.L}`, fmt(b.value), "", ""]),
    ],
    caption: `Exponents from the exact ensembles at ${cl} = ${sc.coupling.toFixed(5)}; errors: β/ν ${couplingPart(sc, "betaOverNu")}, γ/ν ${couplingPart(sc, "gammaOverNu")} (in quadrature).`,
  });
  blocks.push({
    kind: "table",
    head: ["L", "cluster MC sweep", "τ_int (MC)", "independent MC configuration", "exact chain round", "τ_int (exact)", "independent exact configuration", "exact / MC", "approximate IRG configuration"],
    rows: X.cost.map((c) => [c.L, `${(1000 * c.directSweepSeconds).toFixed(2)} ms`, c.directTau.toFixed(1), `${(1000 * c.directSeconds).toFixed(1)} ms`, `${(1000 * c.mixedRoundSeconds).toFixed(2)} ms`, c.mixedTau.toFixed(1), `${(1000 * c.mixedSeconds).toFixed(1)} ms`, `${(c.mixedSeconds / c.directSeconds).toFixed(1)}×`, `${(1000 * c.generatedSeconds).toFixed(2)} ms`]),
    caption: `Time per effectively independent configuration, 2τ_int sweeps or rounds with τ_int the larger of ⟨|m|⟩'s and the conjugate variable's, on one core, measured in this run (direct MC at the central coupling). A round of the exact chain is one cluster sweep of every size plus the exchanges. Training is not included: the decimation network took ${X.training.seconds.toFixed(0)} s, ${(X.training.seconds / Math.max(1, X.rounds * X.runs.length)).toExponential(1)} s per round of these chains.`,
  });
  return blocks;
}
