// The compatible Monte Carlo report (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): Swendsen's RG-matrix
// exponents (PRL 42, 859 (1979)) per size, FSS, relaxation against Metropolis and Wolff, validation, cost.

import { type CompatibleStudy, type EnsembleSummary, type McrgRow } from "../jobs/compatible-study.js";
import { type Estimate } from "../analysis/stats.js";
import { type ValueError } from "../analysis/rg-matrix.js";
import { type Block } from "./html.js";
import { fmt } from "./mcrg-report.js";
import { linePlotSpec, type Point, renderSvg } from "./plot.js";
import { snapshotPng } from "./snapshot.js";

/** 3D Ising: conformal bootstrap (Kos, Poland, Simmons-Duffin, Vichi 2016); γ/ν = 2 − η, β/ν = (1 + η)/2. */
export const ISING_3D = { nu: 0.629971, nuError: 0.000004, eta: 0.0362978, etaError: 0.000002, gammaOverNu: 2 - 0.0362978, betaOverNu: (1 + 0.0362978) / 2, binder: 0.4655 };

const f = (e: ValueError | Estimate): string => (Number.isFinite(e.value) ? fmt({ ...e, tauInt: NaN }) : "—");
const sig = (e: ValueError, ref: number): string => (e.error > 0 && Number.isFinite(e.value) ? ((e.value - ref) / e.error).toFixed(1) : "—");
const secs = (s: number): string => (s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(1000 * s).toFixed(1)} ms` : `${(1e6 * s).toFixed(0)} µs`);

function mcrgTable(rows: McrgRow[], caption: string): Block {
  const ne = rows[0]?.nu.length ?? 0, no = rows[0]?.eta.length ?? 0;
  const evenNames = ["nn", "+nnn", "+axis2", "+plaquette", "+body"].slice(0, ne), oddNames = ["m", "+triangle", "+line3"].slice(0, no);
  return {
    kind: "table",
    head: ["ensemble", "blocking", "configs", ...evenNames.map((n) => `ν (${n})`), ...oddNames.map((n) => `η (${n})`)],
    rows: [
      ...rows.map((r) => [r.ensemble, `${r.Lfine} → ${r.Lfine / 2}${r.step > 0 ? ` (step ${r.step + 1})` : ""}`, r.configurations, ...r.nu.map(f), ...r.eta.map(f)]),
      ["conformal bootstrap", "", "", ...evenNames.map(() => String(ISING_3D.nu)), ...oddNames.map(() => String(ISING_3D.eta))],
    ],
    caption,
  };
}

function levelTable(e: EnsembleSummary, dim = 3): Block {
  return {
    kind: "table",
    head: ["L", "⟨e⟩", "⟨|m|⟩", "χ = V⟨m²⟩", "U₄", "τ_relax(e)", "τ_relax(block corr.)", "changed / visit"],
    rows: e.levels.map((l, k) => [l.L + (k === 0 ? " (Wolff start)" : ""), f(l.obs.e), f(l.obs.absM), f(l.obs.chi), f(l.obs.binder), f(l.tauEnergy), f(l.tauBlock), k === 0 ? "—" : l.changedFraction.toFixed(3)]),
    caption: `${e.label}: ${e.chains} independent chains (errors over chains); relaxation times in constrained sweeps from the compatible start (${dim}D).`,
  };
}

/** First blocking of the largest lattice, and the deepest blocking whose fine lattice is still ≥ Lmin. */
export function firstAndDeepest(rows: readonly McrgRow[], Lmin = 16): { first?: McrgRow; deep?: McrgRow } {
  const first = rows.filter((m) => m.step === 0).sort((a, b) => b.Lfine - a.Lfine)[0];
  const top = first ? first.Lfine : 0;
  const deep = rows.filter((m) => m.Lfine << m.step === top && m.Lfine >= Lmin).sort((a, b) => b.step - a.step)[0];
  return first ? { first, ...(deep ? { deep } : {}) } : {};
}

function summaryTable(r: CompatibleStudy): Block {
  const [pure, refined] = r.ensembles;
  const wolffRows = r.directMcrg.filter((m) => m.Lfine << m.step === Math.max(...r.directMcrg.map((x) => x.Lfine << x.step)));
  const cols = [pure!.mcrg, refined?.mcrg ?? [], wolffRows].map((rows) => firstAndDeepest(rows));
  const cell = (m: McrgRow | undefined, k: "nu" | "eta"): string => (m ? `${f(m[k].at(-1)!)} (${m.Lfine}→${m.Lfine / 2})` : "—");
  const top = r.sizes.at(-1)!;
  const fssPick = (fits: { sizes: number[]; gammaOverNu: Estimate; betaOverNu: Estimate }[], k: "gammaOverNu" | "betaOverNu"): string => {
    const x = fits.at(-1);
    return x ? `${f(x[k])} (L = ${x.sizes[0]}…${x.sizes.at(-1)})` : "—";
  };
  const wTop = r.direct.find((d) => d.algorithm === "wolff" && d.L === top);
  const rows: (string | number)[][] = [
    ["ν, first blocking of the largest lattice", cell(cols[0]!.first, "nu"), cell(cols[1]!.first, "nu"), cell(cols[2]!.first, "nu"), ISING_3D.nu],
    ["ν, deepest blocking with fine lattice ≥ 16", "— (every blocking is a first step)", cell(cols[1]!.deep, "nu"), cell(cols[2]!.deep, "nu"), ISING_3D.nu],
    ["η, first blocking of the largest lattice", cell(cols[0]!.first, "eta"), cell(cols[1]!.first, "eta"), cell(cols[2]!.first, "eta"), ISING_3D.eta],
    ["η, deepest blocking with fine lattice ≥ 16", "—", cell(cols[1]!.deep, "eta"), cell(cols[2]!.deep, "eta"), ISING_3D.eta],
    ["γ/ν (FSS of χ = V⟨m²⟩)", fssPick(pure!.fss, "gammaOverNu"), refined ? fssPick(refined.fss, "gammaOverNu") : "—", fssPick(r.directFss, "gammaOverNu"), ISING_3D.gammaOverNu.toFixed(5)],
    ["β/ν (FSS of ⟨|m|⟩)", fssPick(pure!.fss, "betaOverNu"), refined ? fssPick(refined.fss, "betaOverNu") : "—", fssPick(r.directFss, "betaOverNu"), ISING_3D.betaOverNu.toFixed(5)],
    [`U₄ at L = ${top}`, f(pure!.levels.at(-1)!.obs.binder), refined ? f(refined.levels.at(-1)!.obs.binder) : "—", wTop ? f(wTop.obs.binder) : "—", "—"],
    [`time per ${top}³ configuration`, secs(r.cost.compatible), r.cost.refined !== null ? secs(r.cost.refined) : "—", r.cost.wolff ? `${secs(r.cost.wolff.perIndependent)} (2τ_int sweeps)` : "—", ""],
  ];
  return { kind: "table", head: ["", pure!.label, refined?.label ?? "—", `Wolff (direct${wolffRows[0] ? `, ${wolffRows[0].Lfine}³` : ""})`, "reference"], rows, caption: "Headline numbers of this run (details below). References: conformal bootstrap ν = 0.629971(4), η = 0.0362978(20); γ/ν = 2 − η, β/ν = (1 + η)/2." };
}

export async function compatibleBlocks(r: CompatibleStudy): Promise<Block[]> {
  const o = r.options;
  const b: Block[] = [];
  const pure = r.ensembles[0]!, refined = r.ensembles[1];
  const wolff = r.direct.filter((d) => d.algorithm === "wolff"), metro = r.direct.filter((d) => d.algorithm === "metropolis");
  b.push({ kind: "p", text: `3D Ising model at K_c = ${r.beta} (Ferrenberg–Xu–Landau). ${pure.chains} independent chains start from Wolff-equilibrated ${o.from}³ configurations of the nearest-neighbour Hamiltonian (${o.therm} Wolff sweeps each); at every doubling up to ${o.to}³ the fine lattice starts compatibly (every block = its coarse spin) and is relaxed by ${o.sweeps} constrained heat-bath sweeps that never change a majority-rule block spin (ties: first spin of the block). ${refined ? `A second ensemble (${refined.chains} chains) adds ${refined.unconstrained} unconstrained ${sweepKind(refined)} at every level. ` : ""}Direct Monte Carlo at the same sizes: Wolff at L = ${wolff.map((w) => w.L).join(", ")}, checkerboard Metropolis at L = ${metro.map((m) => m.L).join(", ")}. Everything ran in one pool of ${r.workers} worker threads; wall time ${r.seconds.toFixed(0)} s.` });

  b.push(summaryTable(r));

  // --- Exponents
  b.push({ kind: "h2", text: "ν and η from Swendsen's linearised RG matrix" });
  b.push(mcrgTable([...pure.mcrg, ...(refined?.mcrg ?? [])], `T = B⁻¹A between every generated size and its majority-rule blocking (b = 2, tie → first spin, so for the pure ensemble the blocked configuration is exactly the previous level). Even operators nn, nnn, axis2, plaquette, body (ν = ln 2 / ln λ_t); odd m, triangle, line3 (η = d + 2 − 2 log₂ λ_h); each column adds one operator. Errors: jackknife over 20 groups of independent chains.`));
  if (r.directMcrg.length) b.push(mcrgTable(r.directMcrg, "Control: the same analysis on direct Wolff configurations (consecutive measurements, jackknife over 20 contiguous groups), blocked repeatedly; step n is the n-th blocking of the original lattice."));
  // --- FSS
  b.push({ kind: "h2", text: "Finite-size scaling over the generated sizes" });
  const fss = [...r.ensembles.flatMap((e) => e.fss), ...r.directFss];
  b.push({
    kind: "table",
    head: ["ensemble", "sizes", "γ/ν (χ = V⟨m²⟩)", "σ from 2 − η", "β/ν (⟨|m|⟩)", "σ from (1 + η)/2", "η = 2 − γ/ν"],
    rows: fss.map((x) => [x.ensemble, x.sizes.join(", "), f(x.gammaOverNu), sig(x.gammaOverNu, ISING_3D.gammaOverNu), f(x.betaOverNu), sig(x.betaOverNu, ISING_3D.betaOverNu), f({ value: 2 - x.gammaOverNu.value, error: x.gammaOverNu.error })]),
    caption: `Slopes of ln χ and −ln⟨|m|⟩ against ln L at K_c. Generated sizes share their ancestors, so the errors come from a jackknife over groups of chains refitted each time; direct sizes are independent (weighted fit). Reference γ/ν = ${ISING_3D.gammaOverNu.toFixed(5)}, β/ν = ${ISING_3D.betaOverNu.toFixed(5)}.`,
  });
  // Scaled by the reference exponents, so that a wrong slope shows as a tilt instead of vanishing on a log-log plot.
  const scaled = (label: string, pts: { L: number; v: Estimate }[], power: number): Point[] => pts.map((p) => ({ x: p.L, y: p.v.value * p.L ** power, err: p.v.error * p.L ** power, series: label }));
  const fssPlot = async (pick: (o: { chi: Estimate; absM: Estimate }) => Estimate, power: number, title: string, yLabel: string): Promise<Block> => {
    const pts = [
      ...r.ensembles.flatMap((e) => scaled(e.short, e.levels.filter((l) => l.L >= 8).map((l) => ({ L: l.L, v: pick(l.obs) })), power)),
      ...scaled("Wolff", wolff.map((w) => ({ L: w.L, v: pick(w.obs) })), power),
    ];
    return { kind: "svg", svg: await renderSvg(linePlotSpec({ title, xLabel: "L", yLabel, points: pts, logX: true })), caption: "Flat for the reference exponent; a slope s on this plot means an exponent off by s." };
  };
  b.push(await fssPlot((x) => x.chi, -ISING_3D.gammaOverNu, "χ / L^(2−η) at K_c (η = 0.0363)", "χ L^−1.9637"));
  b.push(await fssPlot((x) => x.absM, ISING_3D.betaOverNu, "⟨|m|⟩ L^(β/ν) at K_c", "⟨|m|⟩ L^0.5181"));
  for (const e of r.ensembles) b.push(levelTable(e));

  // --- Relaxation
  b.push({ kind: "h2", text: "No critical slowing down: relaxation per level against Metropolis and Wolff" });
  const relax: Point[] = [
    ...pure.levels.slice(1).map((l) => ({ x: l.L, y: l.tauEnergy.value, err: l.tauEnergy.error, series: "compatible τ(e)" })),
    ...pure.levels.slice(1).map((l) => ({ x: l.L, y: l.tauBlock.value, err: l.tauBlock.error, series: "compatible τ(G)" })),
    ...metro.flatMap((m) => [{ x: m.L, y: m.tauE.value, err: m.tauE.error, series: "Metropolis τ(e)" }, { x: m.L, y: m.tauM.value, err: m.tauM.error, series: "Metropolis τ(|m|)" }]),
    ...wolff.flatMap((w) => [{ x: w.L, y: w.tauE.value, err: w.tauE.error, series: "Wolff τ(e)" }, { x: w.L, y: w.tauM.value, err: w.tauM.error, series: "Wolff τ(|m|)" }]),
  ].filter((p) => Number.isFinite(p.y) && p.y > 0);
  b.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Relaxation / autocorrelation time in sweeps", xLabel: "L", yLabel: "sweeps", points: relax, logX: true, logY: true })), caption: "Compatible MC: relaxation time τ = ½ + Σ ρ(t) of the mean over chains from the compatible start, in constrained sweeps, of the energy (e) and of the nearest-neighbour block-magnetisation correlation (G). Metropolis and Wolff: integrated autocorrelation times in equilibrium (Γ-method), in sweeps (Wolff: V/⟨cluster⟩ clusters)." });
  const rho: Point[] = pure.levels.slice(1).flatMap((l) => {
    const c = l.relaxCurve;
    if (c.length < 4) return [];
    const tail = c.slice(Math.floor(c.length / 2));
    const inf = tail.reduce((a, x) => a + x, 0) / tail.length;
    return c.map((x, t) => ({ x: t, y: (x - inf) / (c[0]! - inf), series: `L = ${l.L}` }));
  });
  if (rho.length) b.push({ kind: "svg", svg: await renderSvg(linePlotSpec({ title: "Energy relaxation from the compatible start", xLabel: "constrained sweep", yLabel: "ρ(t)", lines: rho })), caption: "ρ(t) = (ē(t) − ē_∞)/(ē(0) − ē_∞), ē_∞ the mean over the second half of the sweeps: the curves of all sizes coincide." });
  b.push({
    kind: "table",
    head: ["algorithm", "L", "sweeps", "time per sweep", "clusters per sweep", "τ_int(e)", "τ_int(|m|)", "⟨e⟩", "⟨|m|⟩", "U₄", "CPU time"],
    rows: r.direct.map((d) => [d.algorithm, d.L, d.sweeps, secs(d.secondsPerSweep), d.clustersPerSweep || "—", f(d.tauE), f(d.tauM), f(d.obs.e), f(d.obs.absM), f(d.obs.binder), secs(d.cpuSeconds)]),
    caption: "Direct runs of this study (measured here; errors by the Γ-method / binned jackknife).",
  });

  // --- Validation
  b.push({ kind: "h2", text: "Validation against direct Monte Carlo at K_c" });
  for (const v of r.validation) {
    b.push({
      kind: "table",
      head: ["L = " + v.L, "direct (Wolff)", ...v.rows[0]!.generated.flatMap((g) => [g.label, "Δ/σ"])],
      rows: v.rows.map((row) => [row.quantity, f(row.direct), ...row.generated.flatMap((g) => [f(g.value), g.z.toFixed(1)])]),
    });
  }
  for (const ref of r.refinement) {
    b.push({
      kind: "table",
      head: [`L = ${ref.L}: unconstrained sweeps after the pure ensemble`, "Δ⟨e⟩", "Δ⟨|m|⟩", "ΔU₄"],
      rows: ref.rows.map((x) => [x.u, `${f(x.de)} (${sig(x.de, 0)} σ)`, `${f(x.dm)} (${sig(x.dm, 0)} σ)`, `${f(x.dU)} (${sig(x.dU, 0)} σ)`]),
      caption: ref.removedAfter === null ? `Not removed within ${ref.rows.at(-1)!.u} heat-bath sweeps at this precision.` : `All three differences are within 2σ from ${ref.removedAfter} unconstrained heat-bath sweeps on (at this precision).`,
    });
  }
  b.push({ kind: "p", text: "Why the pure ensemble differs: compatible MC samples the fine lattice exactly given its block spins, but the block spins themselves come from the nearest-neighbour Hamiltonian at the coarse size, not from the renormalised Hamiltonian of the fine model. Blocking a generated lattice k times returns the Wolff-equilibrated start exactly, so its long-wavelength statistics (U₄ in particular) are those of the start propagated by the inverse map, not those of the critical lattice of the same size." });

  // --- Cost
  b.push({ kind: "h2", text: `Cost per ${r.cost.L}³ configuration` });
  const c = r.cost;
  const rows: (string | number)[][] = [["compatible MC (pure)", `${o.from}³ → ${c.L}³, ${o.sweeps} constrained sweeps/level`, secs(c.compatible), "1 (independent chains)", "—"]];
  if (c.refined !== null && refined) rows.push([refined.label, `+${refined.unconstrained} unconstrained sweeps/level`, secs(c.refined), "1", c.wolff ? `${(c.wolff.perIndependent / c.refined).toFixed(1)}×` : "—"]);
  if (c.wolff) {
    rows[0]![4] = `${(c.wolff.perIndependent / c.compatible).toFixed(1)}×`;
    rows.push(["Wolff", `${secs(c.wolff.secondsPerSweep)} per sweep, τ_int = ${c.wolff.tau.toFixed(2)} sweeps`, secs(c.wolff.perIndependent), "2τ_int sweeps", "1×"]);
  }
  if (c.metropolis) {
    const m = c.metropolis, measured = m.L === c.L;
    rows.push([measured ? "Metropolis" : "Metropolis (τ extrapolated)", `${secs(m.secondsPerSweep)} per sweep, τ_int = ${m.tau.toFixed(0)} sweeps${measured ? "" : ` (${m.tauAt.toFixed(0)} measured at L = ${m.L}, τ ∝ L^z with z = ${m.z.toFixed(2)} fitted)`}`, secs(m.perIndependent), "2τ_int sweeps", c.wolff ? `${(c.wolff.perIndependent / m.perIndependent).toFixed(2)}×` : "—"]);
  }
  b.push({ kind: "table", head: ["method", "how", "time per configuration", "independent after", "Wolff time / this"], rows, caption: `Timed after the runs in one thread, back to back, best of three (the machine is shared): one chain ${o.from}³ → ${c.L}³ without measurements per compatible configuration; Wolff per flipped spin times the flips per sweep of its run, from its last equilibrium configuration; Metropolis per sweep. τ_int is the larger of τ_int(e) and τ_int(|m|) of the direct runs. Compatible configurations are not exact samples: compare costs only together with the validation above.` });

  // --- Accuracy
  b.push({ kind: "h2", text: "What limits the accuracy" });
  b.push({ kind: "p", text: accuracyText(r) });

  // --- Snapshots
  b.push({ kind: "h2", text: "Snapshots (z = 0 slices)" });
  for (const s of r.snapshots) b.push({ kind: "png", data: snapshotPng(s.config, s.L, { size: 256 }), caption: `${s.label}, L = ${s.L} (chain 0)`, width: 256 });
  b.push({ kind: "p", text: `Files: ${r.ensembles.map((e) => e.file).join(", ")} (one group /L<n> per size: configs, energy, magnetization, relaxation series, block operators). CPU time: ${r.ensembles.map((e) => `${e.label} ${secs(e.cpuSeconds)}`).join(", ")}, direct runs ${secs(r.direct.reduce((a, d) => a + d.cpuSeconds, 0))}.` });
  return b;
}

/** "heat-bath sweeps" or "Wolff sweeps" (the second ensemble's unconstrained sweeps). */
const sweepKind = (e: EnsembleSummary): string => ({ local: "heat-bath sweeps", wolff: "Wolff cluster sweeps", hybrid: "hybrid sweeps (one heat-bath and one Wolff sweep each)" })[e.unconstrainedAlgorithm];

/** The accuracy statement, from this run's numbers. */
export function accuracyText(r: CompatibleStudy): string {
  const [pure, refined] = r.ensembles;
  const parts: string[] = [];
  const { first } = firstAndDeepest(pure!.mcrg);
  const z = (x: ValueError, ref: number): number => (x.value - ref) / x.error;
  if (first) {
    const nu = first.nu.at(-1)!, eta = first.eta.at(-1)!;
    const far = Math.abs(z(nu, ISING_3D.nu)) > 3 || Math.abs(z(eta, ISING_3D.eta)) > 3;
    parts.push(`Pure compatible MC, L = ${first.Lfine}: ν = ${f(nu)} and η = ${f(eta)} are ${z(nu, ISING_3D.nu).toFixed(1)} σ and ${z(eta, ISING_3D.eta).toFixed(1)} σ from the bootstrap values${far ? ", so the statistical errors are not what limits them" : ""}.`);
    const d0 = firstAndDeepest(r.directMcrg).first;
    if (d0) {
      const zn = (nu.value - d0.nu.at(-1)!.value) / Math.hypot(nu.error, d0.nu.at(-1)!.error);
      const ze = (eta.value - d0.eta.at(-1)!.value) / Math.hypot(eta.error, d0.eta.at(-1)!.error);
      parts.push(`The first blocking of equilibrium Wolff ${d0.Lfine}³ configurations gives ν = ${f(d0.nu.at(-1)!)}, η = ${f(d0.eta.at(-1)!)} (differences ${zn.toFixed(1)} σ and ${ze.toFixed(1)} σ): the generated lattices reproduce the first RG step of the nearest-neighbour model.`);
    }
  }
  parts.push(`${firstAndDeepest(r.directMcrg).first ? "That is all they can give: e" : "E"}very level is generated with the nearest-neighbour Hamiltonian from the level below, and blocking a generated lattice returns the level below exactly, so each blocking step of a generated lattice is again a first step from the nearest-neighbour critical point. The iteration towards the fixed point, on which MCRG relies, never happens; more levels or larger lattices remove finite-size effects but not this bias.`);
  const fs = pure!.fss.at(-1);
  const top = r.sizes.at(-1)!, wTop = r.direct.find((d) => d.algorithm === "wolff" && d.L === top);
  if (fs) parts.push(`The finite-size scaling over the generated sizes inherits it: γ/ν = ${f(fs.gammaOverNu)} (η = ${(2 - fs.gammaOverNu.value).toFixed(3)}), β/ν = ${f(fs.betaOverNu)}, and U₄ stays near the value of the ${r.options.from}³ starts (${f(pure!.levels[0]!.obs.binder)}; ${f(pure!.levels.at(-1)!.obs.binder)} at L = ${top}${wTop ? `, where direct Wolff gives ${f(wTop.obs.binder)}` : ""}).`);
  if (refined) {
    const worst = Math.max(...r.validation.flatMap((v) => v.rows.map((row) => Math.abs(row.generated[1]?.z ?? 0))));
    const { deep } = firstAndDeepest(refined.mcrg);
    const steps = refined.mcrg.filter((m) => m.Lfine << m.step === r.sizes.at(-1)).map((m) => `${m.nu.at(-1)!.value.toFixed(3)}`);
    const sizes = r.validation.map((v) => v.L).join(", ");
    parts.push(`With ${refined.unconstrained} unconstrained ${sweepKind(refined)} per level the generated ensembles ${r.validation.length === 0 ? "were not validated in this run (no size 16 or 32)" : worst < 2 ? `agree with direct Monte Carlo at L = ${sizes} within 2σ, so ordinary MCRG applies to them` : `still deviate from direct Monte Carlo at L = ${sizes} by up to ${worst.toFixed(1)} σ, so ordinary MCRG on them is biased too`}${r.validation.length === 0 ? ";" : ":"} blocking the ${r.sizes.at(-1)}³ lattices repeatedly gives ν = ${steps.join(" → ")}${deep ? ` (best, fine lattice ≥ 16: ν = ${f(deep.nu.at(-1)!)}, η = ${f(deep.eta.at(-1)!)})` : ""}. What limits these is the slow approach to the fixed point of 3D MCRG with the majority rule, the finite size of the blocked lattices in the deep steps (the 8 → 4 step is on a 4³ lattice), the truncation to ${deep?.nu.length ?? 5} even and ${deep?.eta.length ?? 3} odd operators, and the statistics of ${refined.chains} chains.`);
    // The same analysis of equilibrium lattices blocked to the same final size separates the MCRG's own
    // limits from the ensemble's.
    const wDeep = deep ? r.directMcrg.filter((m) => m.Lfine === deep.Lfine).sort((a, b) => b.step - a.step)[0] : undefined;
    if (deep && wDeep) {
      const off = (m: McrgRow): number => Math.abs(m.nu.at(-1)!.value - ISING_3D.nu) + Math.abs(m.eta.at(-1)!.value - ISING_3D.eta);
      const fewer = deep.step - wDeep.step;
      parts.push(`Equilibrium Wolff ${wDeep.Lfine << wDeep.step}³ lattices blocked to the same ${deep.Lfine} → ${deep.Lfine / 2} step${fewer > 0 ? ` (${fewer} blocking${fewer > 1 ? "s" : ""} fewer)` : ""} give ν = ${f(wDeep.nu.at(-1)!)}, η = ${f(wDeep.eta.at(-1)!)}: ${off(wDeep) > off(deep) && fewer > 0 ? "the extra blockings of the larger generated lattices are what brings ν and η closer to the fixed point" : "where those miss the bootstrap values too, the limit is the MCRG analysis at these sizes, not the generated ensemble"}.`);
    }
    const below = refined.levels.filter((l) => {
      const w = r.direct.find((d) => d.algorithm === "wolff" && d.L === l.L);
      return w && l.obs.binder.value < w.obs.binder.value;
    });
    const compared = refined.levels.filter((l) => r.direct.some((d) => d.algorithm === "wolff" && d.L === l.L));
    if (compared.length > 1 && below.length === compared.length) parts.push(`U₄ of this ensemble lies below the direct value at every size compared (L = ${compared.map((l) => l.L).join(", ")}); each difference is small against its error, but the sizes share their ancestors, so ${refined.unconstrained} sweeps per level may not relax U₄ completely.`);
    if (r.cost.refined !== null) {
      parts.push(`The unconstrained sweeps make a ${top}³ configuration ${(r.cost.refined / r.cost.compatible).toFixed(1)}× as expensive as a pure one${r.cost.wolff ? ` and ${(r.cost.refined / r.cost.wolff.perIndependent).toFixed(1)}× an independent Wolff configuration` : ""}${refined.unconstrainedAlgorithm !== "local" ? ": with cluster sweeps the compatible levels serve as equilibrated starting points of ordinary Monte Carlo, which is exact but no longer cheaper than Wolff alone" : ", and their local dynamics brings back critical slowing down for the long-wavelength modes that the compatible step gets wrong (the refinement tables above)"}.`);
    }
  }
  parts.push("Exact inverse RG at the fixed point would need the constrained sampling to use (an approximation of) the fixed-point Hamiltonian of the block rule instead of the nearest-neighbour one, or a block rule tuned so that the two are close; neither is implemented.");
  return parts.join(" ");
}
