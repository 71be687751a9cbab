// The spin-glass inverse-RG report: what was simulated and generated (and what is validated against direct
// simulation), curves of ξ_SG/L and g against T per size, generated vs direct at the validation sizes, the
// crossings (T_c) and finite-size scaling (η, ν) beside the Janus values, overlap-field slices, the cost.

import { type EaPipelineResult } from "../jobs/pipeline-ea.js";
import { type Block } from "./html.js";
import { fmt } from "./mcrg-report.js";
import { linePlotSpec, type Point, renderSvg } from "./plot.js";
import { snapshotPng } from "./snapshot.js";

/** Janus (Baity-Jesi et al., PRB 88, 224416 (2013)): T_c, ν, η of the 3D ±J spin glass. */
export const JANUS = { Tc: { value: 1.1019, error: 0.0029 }, nu: { value: 2.562, error: 0.042 }, eta: { value: -0.39, error: 0.0036 } };

const pm = (e: { value: number; error: number }, d = 4): string => (Number.isFinite(e.error) ? `${e.value.toFixed(d)} ± ${e.error.toFixed(d)}` : `${e.value.toFixed(d)} ± ?`);

export async function eaPipelineBlocks(r: EaPipelineResult): Promise<Block[]> {
  const o = r.options;
  const genSizes = r.generated.map((g) => g.L);
  const directSizes = r.direct.map((d) => d.L);
  const blocks: Block[] = [];
  blocks.push({
    kind: "p",
    text: `3D Edwards–Anderson ±J spin glass. Parallel tempering (multi-spin engine) of ${o.samples} disorder samples at L = ${o.L0} (${o.therm} + ${o.sweeps} sweeps) and of ${o.directSamples} samples at L = ${o.directSizes.join(", ")} (${o.directTherm} + ${o.directSweeps} sweeps), ${o.temperatures.length} temperatures T = ${[...o.temperatures].sort((a, b) => a - b).join(", ")}; ${o.networks === "per-temperature" ? "one network per temperature" : "one network for all temperatures"}${(o.stages ?? 1) === 2 ? " (two stages: the odd sites redrawn given the even ones)" : ""}, trained on ${r.training?.pairs ?? 0} (overlap-rule blocked → original) pairs of L = ${o.L0} in all; overlap fields generated up to L = ${o.target} from ${o.genLimit} starting fields per temperature. Total ${r.seconds.toFixed(0)} s (generation ${r.generateSeconds.toFixed(0)} s).`,
  });
  blocks.push({
    kind: "p",
    text: `Validated against direct simulation: L = ${o.directSizes.join(", ")}. The generated L = ${genSizes.filter((L) => !directSizes.includes(L)).join(", ")} are extrapolations of the network, not validated here; they are generated, not equilibrated (no Monte Carlo has touched them).`,
  });
  const eqRows = r.direct.map((d) => [d.L, `${d.equilibrated.filter(Boolean).length} of ${d.files.length}`, d.seconds.toFixed(0)]);
  blocks.push({ kind: "table", head: ["L", "temperatures equilibrated (log binning, ≥ 10 round trips)", "seconds"], rows: eqRows, caption: "Direct parallel tempering: the verdict stored in every file." });

  if (r.rule) {
    blocks.push({ kind: "h2", text: "The overlap rule against itself: why generated and direct agree only near T*" });
    blocks.push({
      kind: "p",
      text: `The network is trained on (blocked → original) pairs but generates from original fields. The two inputs look alike only where the overlap rule is at its fixed point. Below, the direct fields of L = ${2 * r.rule.L} blocked to L = ${r.rule.L} beside the direct fields of L = ${r.rule.L}: where the blocked fields are more ordered than the originals (low T), the generated systems come out with too little order, where they are less ordered (high T) with too much. The generated and direct curves therefore cross near T*, the crossing of these two, which is the rule's fixed point at this size and approaches T_c only as L0 grows (--L0 16).`,
    });
    blocks.push({
      kind: "table",
      head: ["T", `[<q²>] blocked ${2 * r.rule.L} → ${r.rule.L}`, `[<q²>] direct ${r.rule.L}`, "(b − d)/σ", `g blocked`, `g direct`],
      rows: r.rule.rows.map((x) => [x.T.toFixed(4), pm(x.blocked), pm(x.direct), x.z.toFixed(1), pm(x.gBlocked), pm(x.gDirect)]),
      caption: `T* from these curves: ${r.rule.crossings.length ? r.rule.crossings.map((c) => `${c.quantity} ${pm({ value: c.T, error: c.error })}`).join(", ") : "no crossing in the ladder"}.`,
    });
    const f = r.rule.flow;
    blocks.push({ kind: "h2", text: "The coupling map and the generated systems at the temperature the flow assigns them" });
    blocks.push({
      kind: "p",
      text: `Matching [<q²>] of the direct L = ${f.L0} fields at T with the blocked L = ${2 * f.L0} fields gives T′(T), the temperature of the ${2 * f.L0}³ system that blocks onto the ${f.L0}³ system at T (the MCRG coupling map). Its fixed point T′ = T is ${f.map.Tstar ? pm(f.map.Tstar) : "outside the ladder"}, and its slope there gives 1/ν = ${f.map.inverseNu ? pm(f.map.inverseNu, 3) : "—"} (Janus 0.390(6)). A generated ${2 * f.L0}³ system made from the ${f.L0}³ fields at T is an inverse-RG step, so it is compared with the direct ${2 * f.L0}³ system at T′ (reweighted from the nearest ladder temperature), not at T; σ includes the error of T′.`,
    });
    blocks.push({
      kind: "table",
      head: ["T", "T′", "reweighting overlap", "[<q²>] (g − d)/σ", "χ_SG", "g", "ξ/L", "long range", "G(1)", "G(2)", "short range"],
      rows: f.validations.map((v) => [
        v.T.toFixed(4), pm({ value: v.Tp, error: v.TpError }), v.overlap.toFixed(2), ...["q2", "chi_sg", "g", "xi_l"].map((q) => v.rows.find((x) => x.quantity === q)?.z.toFixed(1) ?? "—"), v.longAgree ? "agree" : "DISAGREE",
        ...["G1", "G2"].map((q) => v.rows.find((x) => x.quantity === q)?.z.toFixed(1) ?? "—"), v.shortAgree === null ? "—" : v.shortAgree ? "agree" : "DISAGREE",
      ]),
      caption: "Generated against direct at the flow's temperature: a range agrees when every quantity is within 2σ. Long range from the series of every measurement; short range G(r) = [⟨ρ_i ρ_{i+r}⟩] from the stored fields, each direct field weighted by the energy of its own measurement. The reweighting overlap is the effective fraction of the direct rows that carry the reweighted estimate (1: none needed).",
    });
    // G(r) at the validation temperature nearest T*: the whole correlation function, generated against direct at T′.
    const star = f.map.Tstar?.value ?? 1.1;
    const vc = f.validations.filter((v) => v.correlation).sort((a, b) => Math.abs(a.T - star) - Math.abs(b.T - star))[0];
    if (vc?.correlation) {
      const c = vc.correlation;
      const pts: Point[] = [
        ...c.r.map((x, j) => ({ series: "direct, at T′", x, y: c.direct[j]!.value, err: c.direct[j]!.error })),
        ...c.r.map((x, j) => ({ series: "generated", x: x + 0.08, y: c.generated[j]!.value, err: c.generated[j]!.error })),
      ];
      blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `Overlap correlation G(r) at L = ${vc.L}`, points: pts, xLabel: "r", yLabel: "G(r)" })), caption: `G(r) = [⟨ρ_i ρ_{i+r e_μ}⟩], mean over sites and axes, r = 1 … L/2, of the generated fields (from T = ${vc.T.toFixed(4)}) and of the direct fields at the temperature the flow assigns them (T′ = ${vc.Tp.toFixed(4)}); jackknife errors over samples (generated points shifted right by 0.08 to be seen).` });
    }
    const L2 = 2 * f.L0;
    const directCurve: Point[] = r.table.filter((x) => x.kind === "direct" && x.L === L2 && x.estimates.q2).map((x) => ({ series: "direct", x: x.T, y: x.estimates.q2!.value, err: x.estimates.q2!.error }));
    const genPoints: Point[] = f.validations.flatMap((v) => {
      const q = v.rows.find((x) => x.quantity === "q2");
      return q ? [{ series: "generated, at T′", x: v.Tp, y: q.generated.value, err: q.generated.error }, { series: "generated, at T", x: v.T, y: q.generated.value, err: q.generated.error }] : [];
    });
    if (directCurve.length && genPoints.length) {
      blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `[<q²>] at L = ${L2}: generated systems at the flow's temperature`, lines: directCurve, points: genPoints, xLabel: "T", yLabel: "[<q²>]" })), caption: `The generated ${L2}³ systems fall on the direct curve when placed at T′, not at the T of the fields they were generated from.` });
    }
    const mapLines: Point[] = [
      ...f.T.flatMap((t, k) => (Number.isFinite(f.map.Tp[k]!) ? [{ series: "T′(T)", x: t, y: f.map.Tp[k]!, err: f.map.TpError[k]! }] : [])),
      ...f.T.map((t) => ({ series: "T′ = T", x: t, y: t })),
    ];
    blocks.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: `The coupling map L = ${L2} → ${f.L0}`, lines: mapLines, xLabel: "T", yLabel: "T′", rules: [{ x: JANUS.Tc.value, label: "Janus T_c" }] })), caption: "T′(T) from [<q²>] matching; it crosses the diagonal at the fixed point T*, and its slope there is 2^{−1/ν}." });
  }
  blocks.push({ kind: "h2", text: "Critical temperature and exponents" });
  const rows: (string | number)[][] = r.crossings.map((c) => [`T_c from ${c.quantity} (${c.label})`, pm({ value: c.T, error: c.error }), pm(JANUS.Tc), Number.isFinite(c.error) && c.error > 0 ? ((c.T - JANUS.Tc.value) / Math.hypot(c.error, JANUS.Tc.error)).toFixed(1) : "—"]);
  const flowMap = r.rule?.flow.map;
  if (flowMap?.Tstar) rows.push([`T* of the coupling map ([<q²>] matching, L = ${2 * r.rule!.L} → ${r.rule!.L}; the fixed point at this size)`, pm(flowMap.Tstar), pm(JANUS.Tc), ((flowMap.Tstar.value - JANUS.Tc.value) / Math.hypot(flowMap.Tstar.error, JANUS.Tc.error)).toFixed(1)]);
  const flowEta = r.rule?.flow.eta;
  if (flowEta) rows.push([`η from χ_SG(${2 * r.rule!.L})/χ_SG(${r.rule!.L}) = 2^{2−η} at T* (direct sizes, quotient method)`, pm(flowEta, 3), pm(JANUS.eta, 3), ((flowEta.value - JANUS.eta.value) / Math.hypot(flowEta.error, JANUS.eta.error)).toFixed(1)]);
  if (flowMap?.inverseNu) rows.push([`1/ν from the slope of the coupling map at T*`, pm(flowMap.inverseNu, 3), pm({ value: 1 / JANUS.nu.value, error: JANUS.nu.error / JANUS.nu.value ** 2 }, 3), ((flowMap.inverseNu.value - 1 / JANUS.nu.value) / Math.hypot(flowMap.inverseNu.error, JANUS.nu.error / JANUS.nu.value ** 2)).toFixed(1)]);
  const near = (xs: { T: number; value: number; error: number }[]): { T: number; value: number; error: number } | undefined => xs.reduce<typeof xs[number] | undefined>((b, x) => (!b || Math.abs(x.T - JANUS.Tc.value) < Math.abs(b.T - JANUS.Tc.value) ? x : b), undefined);
  const eta = near(r.eta), inu = near(r.inverseNu);
  if (eta) rows.push([`η from χ_SG ∝ L^{2−η} over generated L = ${genSizes.join(", ")} at T = ${eta.T.toFixed(4)}`, pm(eta), pm(JANUS.eta), ((eta.value - JANUS.eta.value) / Math.hypot(eta.error, JANUS.eta.error)).toFixed(1)]);
  // 1/ν, not ν: where the generated curves do not separate with L, 1/ν is compatible with 0 and ν meaningless.
  const janusInvNu = { value: 1 / JANUS.nu.value, error: JANUS.nu.error / JANUS.nu.value ** 2 };
  if (inu) rows.push([`1/ν from d(ξ/L)/dT ∝ L^{1/ν} over generated L = ${genSizes.join(", ")} at T = ${inu.T.toFixed(4)}`, pm(inu, 3), pm(janusInvNu, 3), ((inu.value - janusInvNu.value) / Math.hypot(inu.error, janusInvNu.error)).toFixed(1)]);
  blocks.push({ kind: "table", head: ["quantity", "estimate", "Janus", "deviation / σ"], rows, caption: "Crossings: linear interpolation between ladder temperatures, jackknife over the samples of each curve (joint over its temperatures), independent curves in quadrature. FSS: joint jackknife over the starting samples (every generated size descends from them)." });
  blocks.push({
    kind: "table",
    head: ["T", "η (χ_SG over generated sizes)", "T (midpoint)", "1/ν (d(ξ/L)/dT)"],
    rows: r.eta.map((e, k) => [e.T.toFixed(4), pm(e, 3), r.inverseNu[k] ? r.inverseNu[k]!.T.toFixed(4) : "", r.inverseNu[k] ? pm(r.inverseNu[k]!, 3) : ""]),
    caption: "Finite-size scaling over the generated sizes at every ladder temperature. Where the network carries the corrections to scaling of L0 to every size, these slopes are those of the network, not of the model.",
  });

  blocks.push({ kind: "h2", text: "Curves against temperature" });
  for (const [q, label] of [["xi_l", "ξ_SG/L"], ["g", "g"], ["q2", "[<q²>]"]] as const) {
    // Lines: reweighted between the ladder temperatures (band: jackknife error); points: the ladder itself.
    const lines: Point[] = r.curves.flatMap((c) => c.points.filter((p) => p.est[q]).map((p) => ({ series: `${c.kind} L=${c.L}`, x: p.T, y: p.est[q]!.value, err: p.est[q]!.error })));
    const points: Point[] = r.table.filter((x) => x.estimates[q]).map((x) => ({ series: `${x.kind} L=${x.L}`, x: x.T, y: x.estimates[q]!.value, err: x.estimates[q]!.error }));
    const fallback = lines.length === 0;
    blocks.push({
      kind: "svg",
      svg: await renderSvg(linePlotSpec({ title: `${label} against T`, ...(fallback ? { lines: points } : { lines, points }), xLabel: "T", yLabel: label, rules: [{ x: JANUS.Tc.value, label: "Janus T_c" }] })),
      caption: `${label} of direct and generated ensembles: points at the ladder temperatures. Lines of ${r.curves.filter((c) => c.reweighted).map((c) => `${c.kind} L = ${c.L}`).join(", ") || "no size"}: reweighted in β between them (single histogram in E(s) + E(t) from the nearest ladder temperature, left out where the reweighting overlap falls below 0.1)${r.curves.some((c) => !c.reweighted) ? `; of ${r.curves.filter((c) => !c.reweighted).map((c) => `${c.kind} L = ${c.L}`).join(", ")}: straight lines between the ladder points (one field per disorder sample, which the per-sample weights cannot move)` : ""}. ${q === "q2" ? "" : "Curves of sizes cross at T_c."}`,
    });
  }

  blocks.push({ kind: "h2", text: "Generated against direct simulation" });
  for (const v of r.validations) {
    blocks.push({
      kind: "table",
      head: ["quantity", "range", "generated", "direct", "(gen − direct)/σ"],
      rows: v.rows.map((x) => [x.quantity, x.range, pm(x.generated), pm(x.direct), x.z.toFixed(1)]),
      caption: `L = ${v.L}, T = ${v.T.toFixed(4)}: long range ${v.longAgree ? "agrees" : "DISAGREES"} within 2σ; short range ${v.shortAgree === null ? "not measured (no stored fields)" : v.shortAgree ? "agrees" : "DISAGREES"}.`,
    });
  }

  blocks.push({ kind: "h2", text: "All ensembles" });
  blocks.push({
    kind: "table",
    head: ["kind", "L", "T", "samples", "[⟨q²⟩]", "χ_SG", "g", "ξ_SG/L"],
    rows: r.table.map((x) => [x.kind, x.L, x.T.toFixed(4), x.samples, fmt(x.estimates.q2!), fmt(x.estimates.chi_sg!), fmt(x.estimates.g!), x.estimates.xi_l ? fmt(x.estimates.xi_l) : "—"]),
  });

  blocks.push({ kind: "h2", text: "Cost" });
  const c = r.cost;
  const human = (sec: number): string => (sec < 120 ? `${sec.toFixed(1)} s` : sec < 7200 ? `${(sec / 60).toFixed(1)} min` : sec < 2 * 86400 * 365 ? `${(sec / 3600).toFixed(1)} h` : `${(sec / 86400 / 365).toExponential(1)} years`);
  blocks.push({
    kind: "p",
    text: `Generation: ${o.genLimit} fields per temperature up to L = ${o.target} took ${r.generateSeconds.toFixed(0)} s in all, ${c ? c.generatedSecondsPerField.toFixed(2) : "?"} s per field chain L = ${o.L0} → ${o.target} (each chain gives one field of every size, on one of the cores); peak resident memory of the whole run ${(r.peakRss / 2 ** 20).toFixed(0)} MiB (generated fields stream to their files).` +
      (c ? ` Direct parallel tempering at L = ${c.target}, an estimate: ladder round trips take ${c.roundTrip.map((x) => `${x.sweeps.toFixed(0)} sweeps at L = ${x.L}`).join(" and ")}, i.e. ∝ L^${c.z.toFixed(2)}; extrapolated, 10 round trips at L = ${c.target} need ${(10 * c.roundTrip.at(-1)!.sweeps * (c.target / c.roundTrip.at(-1)!.L) ** c.z).toExponential(1)} sweeps, at ${c.nsPerSampleSpin.toFixed(3)} ns per sample-spin update (timed now, one core) ${human(c.directSecondsPerSample)} per disorder sample with this ladder of ${o.temperatures.length} temperatures — a lower bound, since a ${c.target}³ lattice needs many more temperatures for the swaps to be accepted. The largest equilibrated 3D lattice is 40³ (Janus); generated ${c.target}³ fields are not equilibrated configurations. The larger start --L0 ${c.largerStart.L0} (against the corrections of L0 = ${o.L0}: T* moves towards T_c as L0 grows) needs direct PT of ${o.samples} samples at L = ${c.largerStart.L0} and ${o.directSamples} at ${2 * c.largerStart.L0} with 10 round trips each: about ${human(c.largerStart.seconds)} on one core by the same extrapolation.` : ""),
  });

  blocks.push({ kind: "h2", text: "Overlap fields (slice z = 0)" });
  for (const s of r.slices) blocks.push({ kind: "png", data: snapshotPng(s.slice, s.L, { size: 256 }), caption: s.label, width: 200 });
  return blocks;
}
