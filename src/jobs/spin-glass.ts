// Spin-glass ensembles after the run: disorder averages with jackknife errors over samples (measure) and
// the equilibration evidence printed by `irg simulate ea` — log binning of [⟨q²⟩] and ladder round trips.

import { essFraction, type Estimate, jackknife } from "../analysis/stats.js";
import { familySigmas, groupBySample, logBinning, logBinsAgree, sampleMeans, spinGlassEstimates } from "../analysis/spin-glass.js";
import { type EnsembleReader, openEnsemble, setEnsembleAttrs } from "../io/ensemble.js";
import { intAttr } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { modelOfFile } from "../models/registry.js";
import { type Crossing, samplePrimaries, sizeCrossings, type SizeCurve } from "../analysis/sg-crossings.js";

/** The sample index of every row: the "sample" series, or row mod chains for files without one. */
export function sampleSeries(r: EnsembleReader, rows: number): Float64Array {
  if (r.meta.observables.includes("sample")) return r.series("sample");
  return Float64Array.from({ length: rows }, (_, k) => k % r.meta.chains);
}

/**
 * [⟨q²⟩], [⟨q⁴⟩], χ_SG, g, ξ_SG of an ea ensemble (original, blocked or generated); with `reweightTo`, at
 * that β by single-histogram reweighting in E(s) + E(t) ("energy", or the parent's "parent_x" of blocked
 * and generated files). Exact for any β; useful where the energy histograms of the two β overlap, which
 * `overlap` measures (mean over samples of the effective fraction (Σw)²/(nΣw²) of the rows).
 */
export function spinGlassOfFile(r: EnsembleReader, path: string, reweightTo?: number): { samples: number; measurements: number; estimates: Record<string, Estimate>; overlap?: number } {
  const { meta } = r;
  if (!meta.observables.includes("q")) throw new UsageError(`${path} has no overlap series "q"`);
  const q = r.series("q");
  const sample = sampleSeries(r, q.length);
  const groups = new Set(sample).size;
  if (q.length < 2 || (groups < 2 && q.length < 32)) throw new UsageError(`${path} holds ${q.length} overlap measurements of ${groups} sample(s); need 2 samples or at least 32 measurements for errors`);
  const qk2 = meta.observables.includes("qk2") ? r.series("qk2") : null;
  if (reweightTo === undefined) return { ...spinGlassEstimates({ q, qk2, sample, V: meta.L ** meta.dim, L: meta.L }), measurements: q.length };
  const xName = meta.observables.includes("energy") ? "energy" : meta.observables.includes("parent_x") ? "parent_x" : null;
  if (!xName) throw new UsageError(`${path} holds no energy (nor the parent's) to reweight with`);
  if (!(reweightTo > 0)) throw new UsageError(`--beta must be > 0, got ${reweightTo}`);
  const beta0 = Number(meta.params.beta);
  const x = r.series(xName);
  const logWeight = Float64Array.from(x, (e) => -(reweightTo - beta0) * e);
  const res = spinGlassEstimates({ q, qk2, sample, V: meta.L ** meta.dim, L: meta.L, logWeight });
  // Effective fraction of the rows per sample: 1 for no reweighting, → 0 where the histograms part.
  const groups2 = groupBySample(logWeight, sample);
  let overlap = 0;
  for (const w of groups2) overlap += essFraction(w) / groups2.length;
  return { ...res, measurements: q.length, overlap };
}

/** The equilibration evidence of an ea file: log binning of [⟨q²⟩] and the fewest round trips of a sample. */
export interface EquilibrationVerdict {
  lines: string[];
  /** Every log bin after the first within 3σ of the last, and at least MIN_ROUND_TRIPS round trips in every sample. */
  equilibrated: boolean;
  maxAbsZ: number;
  minRoundTrips: number;
}

/** Ladder round trips every sample should have made before its averages are trusted. */
export const MIN_ROUND_TRIPS = 10;

/**
 * The lines `irg simulate ea` prints after a run, and the verdict it stores in the file. `family` is the
 * number of files judged together (the temperatures of one run): the log-bin threshold is chosen so that an
 * equilibrated run is flagged with probability at most 1 % over all of them (Bonferroni), since with ten
 * files of twelve bins a flat 3σ cut would flag about one equilibrated run in three.
 */
export function equilibrationVerdict(path: string, family = 1): EquilibrationVerdict {
  const r = openEnsemble(path);
  try {
    const q = r.series("q");
    const sample = sampleSeries(r, q.length);
    const S = r.meta.chains;
    let minRoundTrips = Number.NaN;
    if (r.meta.observables.includes("round_trips")) {
      const last = new Map<number, number>();
      const t = r.series("round_trips");
      for (let k = 0; k < t.length; k++) last.set(sample[k]!, t[k]!);
      minRoundTrips = Math.min(...last.values());
    }
    const temps = r.meta.arrays?.beta_ladder?.length ?? String(r.meta.params.betas ?? "").split(",").length;
    const tripsOk = !(temps > 1) || minRoundTrips >= MIN_ROUND_TRIPS;
    if (S < 2) return { lines: ["log binning: needs at least 2 disorder samples (errors are taken over samples)"], equilibrated: false, maxAbsZ: Number.NaN, minRoundTrips };
    const bins = logBinning(q, sample);
    const lines = [`log binning of [<q^2>] at beta = ${r.meta.params.beta} over ${S} samples (measurements per sample in [from, to)):`];
    for (const b of bins) {
      lines.push(`  [${String(b.from).padStart(7)}, ${String(b.to).padStart(7)})  ${b.value.toFixed(5)} ± ${b.error.toFixed(5)}${b === bins.at(-1) ? "  (last)" : `  ${b.z >= 0 ? "+" : ""}${b.z.toFixed(1)} sigma from the last`}`);
    }
    const sigmas = familySigmas(Math.max(1, bins.length - 2) * family, 0.01);
    const binsOk = logBinsAgree(bins, sigmas);
    const maxAbsZ = Math.max(0, ...bins.slice(1).map((b) => Math.abs(b.z)));
    const why = `${sigmas.toFixed(1)} sigma: a 1 % false alarm over ${bins.length - 2} bins${family > 1 ? ` in each of ${family} files` : ""}`;
    lines.push(binsOk ? `log binning: every bin after the first agrees with the last within ${why}` : `log binning: some bin after the first differs from the last by more than ${why}`);
    if (!tripsOk) lines.push(`round trips: the worst sample made ${minRoundTrips}, fewer than ${MIN_ROUND_TRIPS}`);
    const equilibrated = binsOk && tripsOk;
    lines.push(equilibrated ? "equilibration: shown (log binning and round trips)" : "equilibration: NOT shown — run longer (more --sweeps and --therm) before trusting these averages");
    return { lines, equilibrated, maxAbsZ, minRoundTrips };
  } finally {
    r.close();
  }
}

/** The verdict of an ea file, also written into it (attributes equilibrated, logbin_max_abs_z, round_trips_min). */
export function recordEquilibration(path: string, family = 1): EquilibrationVerdict {
  const v = equilibrationVerdict(path, family);
  // round_trips_min is a count, but NaN (no ladder) has no integer form.
  const trips = Number.isFinite(v.minRoundTrips) ? intAttr(v.minRoundTrips) : v.minRoundTrips;
  setEnsembleAttrs(path, { equilibrated: intAttr(v.equilibrated ? 1 : 0), logbin_max_abs_z: v.maxAbsZ, round_trips_min: trips });
  return v;
}

export interface SpinGlassRow {
  path: string;
  L: number;
  dim: number;
  beta: number;
  T: number;
  samples: number;
  estimates: Record<string, Estimate>;
}

/**
 * [⟨q²⟩], χ_SG, g, ξ_SG/L of several ea ensembles (sizes × stored temperatures), sorted by L then T, and
 * the crossings of ξ/L and g between neighbouring sizes at their common temperatures.
 */
export function spinGlassTable(paths: string[]): { rows: SpinGlassRow[]; crossings: Crossing[]; notes: string[] } {
  const rows = paths.map(spinGlassRow).sort((a, b) => a.L - b.L || a.T - b.T);
  const sizes = [...loadCurves(paths).values()].sort((a, b) => a.L - b.L);
  const crossings: Crossing[] = [];
  const notes: string[] = [];
  for (let n = 0; n + 1 < sizes.length; n++) {
    const res = crossingsOf(sizes[n]!, sizes[n + 1]!);
    if (typeof res === "string") notes.push(res);
    else crossings.push(...res);
  }
  return { rows, crossings, notes };
}

/** Crossings of two curves, or why there are none. */
export function crossingsOf(a: SizeCurve, b: SizeCurve): Crossing[] | string {
  const same = (c: SizeCurve): boolean => c.points.every((p) => p.samples.join() === c.points[0]!.samples.join());
  if (!same(a) || !same(b)) return `L = ${a.L}, ${b.L}: the files of one size hold different samples; no joint jackknife, no crossing`;
  const common = a.T.filter((t) => b.T.some((u) => Math.abs(u - t) <= 1e-9 * t));
  if (common.length < 2) return `L = ${a.L}, ${b.L}: fewer than 2 common temperatures; no crossing`;
  return sizeCrossings(a, b);
}

/** One row of the table: the estimates of one ea file, with ξ/L. */
export function spinGlassRow(path: string): SpinGlassRow {
  const r = openEnsemble(path);
  try {
    const { meta } = r;
    if (!modelOfFile(meta.model, path).disorder) throw new UsageError(`${path} holds a ${meta.model} ensemble; several files are measured together only for ea (spin-glass curves against T)`);
    const sg = spinGlassOfFile(r, path);
    const beta = Number(meta.params.beta);
    const est = { ...sg.estimates };
    if (est.xi_sg) est.xi_l = { ...est.xi_sg, value: est.xi_sg.value / meta.L, error: est.xi_sg.error / meta.L };
    return { path, L: meta.L, dim: meta.dim, beta, T: 1 / beta, samples: sg.samples, estimates: est };
  } finally {
    r.close();
  }
}

/** The per-sample primaries of ea files grouped by size, each size's points sorted by T (files without |q(k_min)|² or with one sample are left out). */
export function loadCurves(paths: string[]): Map<number, SizeCurve> {
  const curves = new Map<number, SizeCurve>();
  for (const path of paths) {
    const r = openEnsemble(path);
    try {
      const { meta } = r;
      if (!modelOfFile(meta.model, path).disorder) throw new UsageError(`${path} holds a ${meta.model} ensemble, not ea`);
      if (!meta.observables.includes("qk2")) continue;
      const q = r.series("q");
      const sample = sampleSeries(r, q.length);
      if (new Set(sample).size < 2) continue;
      const c = curves.get(meta.L) ?? { L: meta.L, V: meta.L ** meta.dim, T: [], points: [] };
      c.T.push(1 / Number(meta.params.beta));
      c.points.push(samplePrimaries(q, r.series("qk2"), sample));
      curves.set(meta.L, c);
    } finally {
      r.close();
    }
  }
  for (const [L, c] of curves) {
    const order = c.T.map((_, k) => k).sort((x, y) => c.T[x]! - c.T[y]!);
    curves.set(L, { ...c, T: order.map((k) => c.T[k]!), points: order.map((k) => c.points[k]!) });
  }
  return curves;
}

/**
 * The overlap correlation of every stored field: g[j][k] = V⁻¹ d⁻¹ Σ_i Σ_μ ρ_i ρ_{i+r_j e_μ} of field k, with
 * its sample and the variable that reweights it in β (E(s) + E(t) of its measurement, or its parent's);
 * null when the file stores no fields.
 */
export interface CorrelationRows {
  distances: number[];
  g: Float64Array[];
  sample: Float64Array;
  /** The row of the file's series that belongs to each field (its measurement). */
  row: Int32Array;
  /** Reweighting variable of each field (null: the file has none) and the β it was drawn at. */
  x: Float64Array | null;
  beta: number;
}

export function overlapCorrelationRows(path: string, distances: number[]): CorrelationRows | null {
  const r = openEnsemble(path);
  try {
    const { meta } = r;
    if (r.configRows === 0) return null;
    const L = meta.L, dim = meta.dim, V = L ** dim;
    const rows = r.configRows;
    const nq = r.series("q").length;
    const series = sampleSeries(r, Math.max(rows, nq));
    // Field k is row k of its measurement block: fields of every saveEvery-th measurement (direct files),
    // or one per row (blocked and generated files, whose series have a row per field).
    const S = meta.chains;
    const every = nq === rows ? 1 : Number(meta.params.saveEvery ?? 1);
    const rowOf = (k: number): number => (Math.floor(k / S) * every) * S + (k % S);
    const xName = meta.observables.includes("energy") ? "energy" : meta.observables.includes("parent_x") ? "parent_x" : null;
    const xs = xName ? r.series(xName) : null;
    const g = distances.map(() => new Float64Array(rows));
    const sample = new Float64Array(rows);
    const row = Int32Array.from({ length: rows }, (_, k) => rowOf(k));
    const x = xs ? new Float64Array(rows) : null;
    const chunk = Math.max(1, Math.floor((16 << 20) / V));
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      const cfg = r.configs(start, end);
      for (let k = start; k < end; k++) {
        const off = (k - start) * V;
        sample[k] = series[k % series.length]!;
        if (x) x[k] = xs![row[k]!]!;
        distances.forEach((d, j) => {
          let t = 0, stride = 1;
          for (let mu = 0; mu < dim; mu++) {
            for (let i = 0; i < V; i++) {
              const c = Math.floor(i / stride) % L;
              t += cfg[off + i]! * cfg[off + i + (((c + d) % L) - c) * stride]!;
            }
            stride *= L;
          }
          g[j]![k] = t / (dim * V);
        });
      }
    }
    return { distances, g, sample, row, x, beta: Number(meta.params.beta) };
  } finally {
    r.close();
  }
}

/**
 * G(r) = [⟨ρ_i ρ_{i+r e_μ}⟩] (mean over sites and axes) with jackknife errors over samples; with
 * `reweightTo`, the thermal averages of each sample are reweighted to that β (single histogram in the
 * rows' variable, as spinGlassOfFile). Null with fewer than 2 samples.
 */
export function correlationEstimates(c: CorrelationRows, reweightTo?: number): Record<string, Estimate> | null {
  if (reweightTo !== undefined && !c.x) throw new UsageError("these fields carry no energy (nor their parent's) to reweight with");
  const logWeight = reweightTo === undefined ? undefined : Float64Array.from(c.x!, (e) => -(reweightTo - c.beta) * e);
  if (new Set(c.sample).size < 2) return null;
  const out: Record<string, Estimate> = {};
  c.distances.forEach((d, j) => {
    out[`G${d}`] = jackknife([sampleMeans(c.g[j]!, c.sample, (v) => v, logWeight)], (m) => m[0]!, { binSize: 1 });
  });
  return out;
}

/** G(r) of a file's stored overlap fields at the distances given (see correlationEstimates). */
export function overlapCorrelation(path: string, distances: number[]): Record<string, Estimate> | null {
  const rows = overlapCorrelationRows(path, distances);
  return rows ? correlationEstimates(rows) : null;
}
