// The MCRG study of a scan directory: reweighted curves of original systems at every size and of
// systems blocked from twice the size, their crossings (critical coupling), the coupling map (ν) and
// finite-size scaling (γ/ν, β/ν), with jackknife errors. Works for φ⁴ (coupling μ²) and Ising (β).

import { basename, join } from "node:path";
import { rngFor } from "../lattice/rng.js";
import { conjugateSeries, forEachBlocked } from "./block.js";
import { buildCurves, crossing, CURVE_OBSERVABLES, type CurveObservable, type Curves, type CurveRun, fssSlope, jackknifed, nuFromCouplingMap } from "../analysis/mcrg.js";
import { type Estimate, uwerr } from "../analysis/stats.js";
import { openEnsemble, readEnsembleMeta } from "../io/ensemble.js";
import { checkPlotPath, checkReportPath, readTextFile, writeReport, writeSvg } from "../io/files.js";
import { h5Ready } from "../io/h5.js";
import { type CriticalReference } from "../models/model.js";
import { UsageError } from "../models/params.js";
import { modelOf } from "../models/registry.js";
import { parseGrid } from "./scan.js";

export interface ScanPoint {
  L: number;
  value: number;
  file: string;
}

export interface ScanManifest {
  model: string;
  coupling: "beta" | "mu2";
  sizes: number[];
  values: number[];
  points: ScanPoint[];
}

export function readManifest(dir: string): ScanManifest {
  const path = join(dir, "scan.json");
  let m: ScanManifest;
  try {
    m = JSON.parse(readTextFile(path)) as ScanManifest;
  } catch {
    throw new UsageError(`cannot read ${path}: run irg scan with --out-dir ${dir} first`);
  }
  // Files are looked up next to the manifest, so a scan directory can be moved.
  m.points = m.points.map((p) => ({ ...p, file: join(dir, basename(p.file)) }));
  return m;
}

/** A run of original configurations: every measurement of chain-interleaved series. */
export function originalRun(model: string, file: string): CurveRun & { samples: number; V: number } {
  const r = openEnsemble(file);
  try {
    const V = r.meta.L ** r.meta.dim;
    const x = conjugateSeries(r);
    const m = r.series("magnetization").map((v) => v / V);
    const coupling = Number(r.meta.params[modelOf(model).coupling]);
    const tauInt = Math.max(uwerr(x).tauInt, uwerr(m.map(Math.abs)).tauInt);
    return { coupling, x, m, tauInt, samples: x.length, V };
  } finally {
    r.close();
  }
}

/** The stored configurations of a run blocked once (b = 2), each with its parent's conjugate variable. */
export function blockedRun(model: string, file: string, seed: number, task: number): CurveRun & { samples: number; V: number } {
  const r = openEnsemble(file);
  try {
    const n = r.configRows;
    const x = new Float64Array(n), m = new Float64Array(n);
    const d = modelOf(model);
    if (!d.orderParameter) throw new UsageError(`MCRG curves need an order parameter, which ${model} does not define`);
    forEachBlocked(r, rngFor({ seed, task, replica: 1 }), (row, _chain, blocked, parentX) => {
      m[row] = d.orderParameter!(blocked, r.meta.params);
      x[row] = parentX;
    });
    const coupling = Number(r.meta.params[d.coupling]);
    const V = (r.meta.L / 2) ** r.meta.dim;
    return { coupling, x, m, tauInt: Math.max(uwerr(x).tauInt, uwerr(m.map(Math.abs)).tauInt), samples: n, V };
  } finally {
    r.close();
  }
}

export interface McrgOptions {
  dir: string;
  groups?: number;
  seed?: number;
  /** Observable matched for the coupling map (default |m|, as in the seed). */
  matchObservable?: CurveObservable;
  /** Half-width of the coupling window for the ν fit, in units of the scanned range (default 0.15). */
  window?: number;
  progress?: (msg: string) => void;
}

export interface McrgResult {
  model: string;
  coupling: string;
  sizes: number[];
  /** Original curves per size and renormalised (blocked from 2L) curves per size L. */
  original: Map<number, Curves>;
  blocked: Map<number, Curves>;
  crossings: { kind: string; L: number; observable: CurveObservable; value: Estimate }[];
  critical: Estimate;
  nu: { L: number; observable: CurveObservable; nu: Estimate; slope: Estimate; map: { c: number; cPrime: number }[] }[];
  /** From χ = V⟨m²⟩. */
  gammaOverNu: Estimate;
  /** From the connected χ = V(⟨m²⟩ − ⟨|m|⟩²) (larger corrections to scaling on small lattices). */
  gammaOverNuConnected: Estimate;
  betaOverNu: Estimate;
  fssPoints: { observable: CurveObservable; points: { L: number; value: Estimate }[] }[];
  statistics: { L: number; kind: "original" | "blocked"; runs: number; samples: number }[];
  /** Known critical values of the model at the scanned parameters (the descriptor's). */
  reference?: CriticalReference;
  /** The scanned point without its coupling, e.g. "q=3" (empty when nothing else is set). */
  label: string;
}

/**
 * `irg mcrg <model> --scan <dir> --report <file.html>` with its flags as given: the analysis, and the
 * report that `render` makes of it (HTML; reports sit above the jobs, so the command hands it over).
 */
export async function mcrgCommand(o: { model: string; scan: string; report: string; groups: string; observable: string; log: (m: string) => void }, render: (r: McrgResult) => Promise<string>): Promise<McrgResult> {
  await h5Ready();
  checkReportPath(o.report);
  const man = readManifest(o.scan);
  if (man.model !== o.model) throw new UsageError(`${o.scan} holds a ${man.model} scan, not ${o.model}`);
  if (o.observable !== "abs_m" && o.observable !== "binder") throw new UsageError(`--observable must be abs_m or binder, got ${o.observable}`);
  const groups = Number(o.groups);
  if (!Number.isInteger(groups) || groups < 4) throw new UsageError(`--groups must be an integer >= 4, got ${o.groups}`);
  const r = runMcrg({ dir: o.scan, groups, matchObservable: o.observable, progress: o.log });
  writeReport(o.report, await render(r));
  return r;
}

/** Runs the full analysis of a scan directory. */
export function runMcrg(opts: McrgOptions): McrgResult {
  const man = readManifest(opts.dir);
  const groups = opts.groups ?? 20;
  const seed = opts.seed ?? 1;
  const obs = opts.matchObservable ?? "abs_m";
  const sizes = [...new Set(man.points.map((p) => p.L))].sort((a, b) => a - b);
  const original = new Map<number, Curves>();
  const blocked = new Map<number, Curves>();
  const statistics: McrgResult["statistics"] = [];
  const say = opts.progress ?? (() => {});
  const pointsAt = (L: number): ScanPoint[] => man.points.filter((p) => p.L === L).sort((a, b) => a.value - b.value);
  for (const L of sizes) {
    say(`original L=${L}: reweighting ${pointsAt(L).length} runs`);
    const runs = pointsAt(L).map((p) => originalRun(man.model, p.file));
    if (runs.length === 0) throw new UsageError(`no runs at L = ${L}`);
    original.set(L, buildCurves(runs, runs[0]!.V, groups));
    statistics.push({ L, kind: "original", runs: runs.length, samples: runs.reduce((a, r) => a + r.samples, 0) });
  }
  for (const L of sizes) {
    if (!sizes.includes(2 * L)) continue;
    say(`blocked ${2 * L} -> ${L}: blocking and reweighting ${pointsAt(2 * L).length} runs`);
    const runs = pointsAt(2 * L).map((p, k) => blockedRun(man.model, p.file, seed, 1000 * L + k));
    blocked.set(L, buildCurves(runs, runs[0]!.V, groups));
    statistics.push({ L, kind: "blocked", runs: runs.length, samples: runs.reduce((a, r) => a + r.samples, 0) });
  }
  const crossings: McrgResult["crossings"] = [];
  for (const [L, b] of blocked) {
    for (const o of ["abs_m", "binder"] as const) crossings.push({ kind: `original ${L} vs blocked ${2 * L}→${L}`, L, observable: o, value: crossing(original.get(L)!, b, o) });
  }
  for (const L of sizes) {
    if (original.has(2 * L)) crossings.push({ kind: `Binder original ${L} vs ${2 * L}`, L, observable: "binder", value: crossing(original.get(L)!, original.get(2 * L)!, "binder") });
  }
  // The critical coupling: the |m| crossing of original and blocked at the largest size available.
  const seedStyle = crossings.filter((c) => c.kind.includes("blocked") && c.observable === obs && Number.isFinite(c.value.value));
  const fallback = crossings.filter((c) => Number.isFinite(c.value.value));
  const pick = (seedStyle.length ? seedStyle : fallback).sort((a, b) => b.L - a.L)[0];
  if (!pick) throw new UsageError(`no crossing inside the scanned ${man.coupling} range; widen the scan around the critical point`);
  const critical = pick.value;
  const range = Math.max(...man.values) - Math.min(...man.values);
  const half = (opts.window ?? 0.15) * range;
  const nu: McrgResult["nu"] = [];
  for (const [L, b] of blocked) {
    for (const o of [obs, "binder"] as const) {
      const r = nuFromCouplingMap(original.get(L)!, b, o, critical.value, half);
      nu.push({ L, observable: o, ...r });
    }
  }
  const families = sizes.map((L) => ({ L, curves: original.get(L)! }));
  const chi = fssSlope(families, "chi_full", critical.value);
  const chiConnected = fssSlope(families, "chi", critical.value);
  const am = fssSlope(families, "abs_m", critical.value);
  const meta = readEnsembleMeta(man.points[0]!.file);
  const d = modelOf(man.model);
  const reference = d.reference?.(meta.params, meta.dim);
  return {
    ...(reference ? { reference } : {}),
    label: `${meta.dim}D${meta.params.q !== undefined ? ` q=${meta.params.q}` : ""}`,
    model: man.model,
    coupling: man.coupling,
    sizes,
    original,
    blocked,
    crossings,
    critical,
    nu,
    gammaOverNu: chi.slope,
    gammaOverNuConnected: chiConnected.slope,
    betaOverNu: { ...am.slope, value: -am.slope.value },
    fssPoints: [{ observable: "chi_full", points: chi.points }, { observable: "chi", points: chiConnected.points }, { observable: "abs_m", points: am.points }],
    statistics,
  };
}

export interface ReweightResult {
  model: string;
  L: number;
  coupling: string;
  /** One row per coupling: the coupling, then every curve observable and its error (`<name>_error`). */
  rows: Record<string, number>[];
}

/** `irg reweight <model> --scan <dir> --L <n>` with its flags as given; with --plot, the SVG that `plot` draws of the curves. */
export async function reweightCommand(o: { model: string; scan: string; L: string; at?: string; groups: string; plot?: string }, plot: (r: ReweightResult) => Promise<string>): Promise<ReweightResult> {
  await h5Ready();
  if (o.plot) checkPlotPath(o.plot);
  const r = reweightScan({ dir: o.scan, model: o.model, L: Number(o.L), at: o.at ? parseGrid("--at", o.at) : undefined, groups: Number(o.groups) });
  if (o.plot) writeSvg(o.plot, await plot(r));
  return r;
}

/**
 * Multiple-histogram curves of the runs of one size of a scan: ⟨|m|⟩, ⟨m²⟩, U₄, χ at `at` (default 41
 * points over the scanned range), each with its jackknife error.
 */
export function reweightScan(o: { dir: string; model: string; L: number; at?: number[]; groups?: number }): ReweightResult {
  const man = readManifest(o.dir);
  if (man.model !== o.model) throw new UsageError(`${o.dir} holds a ${man.model} scan, not ${o.model}`);
  const pts = man.points.filter((p) => p.L === o.L);
  if (pts.length === 0) throw new UsageError(`the scan in ${o.dir} has no runs at L = ${o.L} (sizes: ${man.sizes.join(", ")})`);
  const groups = o.groups ?? 20;
  if (!Number.isInteger(groups) || groups < 4) throw new UsageError(`--groups must be an integer >= 4, got ${o.groups}`);
  const runs = pts.map((p) => originalRun(o.model, p.file));
  const curves = buildCurves(runs, runs[0]!.V, groups);
  const at = o.at ?? Array.from({ length: 41 }, (_, k) => curves.range[0] + ((curves.range[1] - curves.range[0]) * k) / 40);
  // Outside the range the curves would only repeat their edge values: refuse rather than mislead.
  const [lo, hi] = curves.range, tol = 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi));
  const outside = at.filter((c) => c < lo - tol || c > hi + tol);
  if (outside.length > 0) throw new UsageError(`--at ${outside.join(",")} lies outside the range ${lo.toPrecision(6)} … ${hi.toPrecision(6)} that the runs at L = ${o.L} reweight to; scan couplings there first`);
  const rows = at.map((c) => {
    const row: Record<string, number> = { [man.coupling]: c };
    for (const ob of CURVE_OBSERVABLES) {
      const e = jackknifed(curves.groups, (g) => curves.value(ob, c, g));
      row[ob] = e.value;
      row[`${ob}_error`] = e.error;
    }
    return row;
  });
  return { model: o.model, L: o.L, coupling: man.coupling, rows };
}
