// Validation of generated (inverse-RG) ensembles against direct Monte Carlo of the same size: ⟨|m|⟩,
// U₄, χ, the nearest-neighbour correlation and the two-point function G(r), each as reweighted curves
// in the coupling with jackknife errors, and a verdict table of the deviations in units of σ.

import { uwerr, type Estimate } from "../analysis/stats.js";
import { buildCurves, type CurveObservable, type Curves, type CurveRun, grid, jackknifed } from "../analysis/mcrg.js";
import { openEnsemble } from "../io/ensemble.js";
import { checkReportPath, writeReport } from "../io/files.js";
import { h5Ready } from "../io/h5.js";
import { lattice } from "../lattice/geometry.js";
import { conjugateSeries } from "./block.js";
import { files, int, num, type ParamSpecs, parseParams, UsageError } from "../models/params.js";
import { modelOfFile } from "../models/registry.js";
import { separations, twoPoint } from "../analysis/correlation.js";

export { separations, twoPoint } from "../analysis/correlation.js";

export interface ConfigRun extends CurveRun {
  L: number;
  dim: number;
  model: string;
  /** The energy (action) density at coupling c as coefficients of the `extra` series (see ModelDescriptor.actionTerms). */
  action?: (c: number) => Record<string, number>;
  file: string;
  samples: number;
}

/** Per stored configuration: m, G(r), and the reweighting variable (the parent's for generated/blocked files). */
export function configRun(file: string): ConfigRun {
  const r = openEnsemble(file);
  try {
    const { meta } = r;
    const n = r.configRows;
    if (n < 40) throw new UsageError(`${file} stores ${n} configurations; at least 40 are needed for errors`);
    const V = meta.L ** meta.dim;
    const rs = separations(meta.L);
    let x: Float64Array;
    if (meta.observables.includes("parent_x")) x = r.series("parent_x");
    else {
      const all = conjugateSeries(r);
      const saveEvery = Number(meta.params.saveEvery ?? 1);
      x = Float64Array.from({ length: n }, (_, row) => all[Math.floor(row / meta.chains) * saveEvery * meta.chains + (row % meta.chains)]!);
    }
    const d = modelOfFile(meta.model, file);
    const m = new Float64Array(n);
    const extra: Record<string, Float64Array> = Object.fromEntries(rs.map((r) => [`G${r}`, new Float64Array(n)]));
    // The observables of each configuration (the model's), so that the energy or action density can be
    // formed at any reweighted coupling from them.
    const names = d.actionTerms ? [...(d.configObservables ?? [])] : [];
    for (const o of names) extra[`obs_${o}`] = new Float64Array(n);
    const lat = lattice(meta.dim, meta.L);
    const observe = names.length ? d.observe!(lat, meta.params) : null;
    const tmp = new Float64Array(names.length);
    if (!d.orderParameter) throw new UsageError(`${file}: ${meta.model} configurations have no order parameter to validate`);
    const order = d.orderParameter;
    const chunk = Math.max(1, Math.floor((8 << 20) / (V * 4)));
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const block = r.configs(start, end);
      for (let row = start; row < end; row++) {
        const cfg = block.subarray((row - start) * V, (row - start + 1) * V);
        m[row] = order(cfg, meta.params);
        if (observe) {
          observe(cfg, tmp);
          names.forEach((o, k) => (extra[`obs_${o}`]![row] = tmp[k]!));
        }
        (d.correlation ?? twoPoint)(cfg, meta.L, meta.dim, rs, meta.params).forEach((g, k) => (extra[`G${rs[k]}`]![row] = g));
      }
    }
    const coupling = Number(meta.params[d.coupling]);
    const terms = d.actionTerms;
    return {
      coupling, x, m, extra, tauInt: Math.max(uwerr(x).tauInt, uwerr(m.map(Math.abs)).tauInt), L: meta.L, dim: meta.dim, file, samples: n, model: meta.model,
      ...(terms ? { action: (c: number) => Object.fromEntries(Object.entries(terms(meta.params, c, meta.dim)).map(([o, w]) => [`obs_${o}`, w / V])) } : {}),
    };
  } finally {
    r.close();
  }
}

/** The flags of `irg validate` besides the generated files (validated here; the CLI derives its options from them). */
export const VALIDATE_SPECS: ParamSpecs = {
  against: { flag: "--against <direct.h5...>", description: "direct Monte Carlo ensembles of the same size", schema: files(), required: true },
  points: { flag: "--points <n>", description: "couplings compared across the common range", schema: int(1), default: 5 },
  groups: { flag: "--groups <n>", description: "jackknife groups", schema: int(4), default: 20 },
  at: { flag: "--at <coupling>", description: "take the verdict at this coupling (e.g. the critical one) instead of over the whole range", schema: num() },
};

/** `irg validate <generated…> --against <direct…>`; with --report, the HTML that `render` makes of the validation. */
export async function validateCommand(generated: string[], raw: Record<string, unknown>, report?: { path: string; render: (v: Validation) => string }): Promise<Validation> {
  await h5Ready();
  if (report) checkReportPath(report.path);
  const v = validateFiles(generated, raw);
  if (report) writeReport(report.path, report.render(v));
  return v;
}

/** Validates generated against direct files with raw flags; a verdict coupling outside the common range is refused. */
export function validateFiles(generated: string[], raw: Record<string, unknown>): Validation {
  const o = parseParams<{ against: string[]; points: number; groups: number; at?: number }>(VALIDATE_SPECS, raw);
  const v = validate(generated, o.against, { points: o.points, groups: o.groups, at: o.at });
  if (o.at !== undefined && v.at === undefined) throw new UsageError(`--at ${o.at} is outside the coupling range ${v.range[0].toFixed(4)} … ${v.range[1].toFixed(4)} common to both ensembles`);
  return v;
}

export interface Comparison {
  quantity: string;
  coupling: number;
  generated: Estimate;
  direct: Estimate;
  /** (generated − direct) / combined error. */
  z: number;
  /** (generated − direct) / |direct|. */
  relative: number;
}

export interface Validation {
  L: number;
  generated: Curves;
  direct: Curves;
  /** Coupling range where both families reweight reliably. */
  range: [number, number];
  rows: Comparison[];
  samples: { generated: number; direct: number };
  /** The coupling at which the verdict is taken (the critical one in the pipeline), if any. */
  at?: number;
}

const QUANTITIES: (CurveObservable | `G${number}`)[] = ["abs_m", "binder", "chi_full", "chi"];

/**
 * Compares generated and direct ensembles of one size at `points` couplings of their common range,
 * and at `at` when given (inside the range). Away from the critical point the two need not agree:
 * the inverse RG drives a generated system towards the fixed point, so at a coupling off μ_c it
 * resembles a direct system at a coupling closer to μ_c (the seed's Fig. 3 relies on exactly this).
 */
export function validate(generatedFiles: (string | ConfigRun)[], directFiles: (string | ConfigRun)[], opts: { groups?: number; points?: number; at?: number } = {}): Validation {
  if (generatedFiles.length === 0 || directFiles.length === 0) throw new UsageError("validation needs generated and direct ensembles");
  const load = (f: string | ConfigRun): ConfigRun => (typeof f === "string" ? configRun(f) : f);
  const gen = generatedFiles.map(load), dir = directFiles.map(load);
  const L = gen[0]!.L;
  for (const r of [...gen, ...dir]) if (r.L !== L) throw new UsageError(`${r.file} has L = ${r.L}, but ${gen[0]!.file} has L = ${L}; compare ensembles of one size`);
  const groups = opts.groups ?? 20;
  const V = L ** gen[0]!.dim;
  const g = buildCurves(gen, V, groups), d = buildCurves(dir, V, groups);
  const range: [number, number] = [Math.max(g.range[0], d.range[0]), Math.min(g.range[1], d.range[1])];
  if (!(range[0] <= range[1])) throw new UsageError("the generated and direct ensembles have no coupling range in common");
  const inside = opts.at !== undefined && opts.at >= range[0] && opts.at <= range[1];
  const cs = [...new Set([...grid(range[0], range[1], opts.points ?? 5), ...(inside ? [opts.at!] : [])])].sort((a, b) => a - b);
  const rows: Comparison[] = [];
  const names = [...QUANTITIES, ...(gen[0]!.action ? ["energy"] : []), ...g.extras.filter((e) => e.startsWith("G"))] as string[];
  // The energy (Ising, Potts) or action (φ⁴) density at the coupling c, from the model's terms.
  const action = gen[0]!.action;
  const energy = (cv: Curves, c: number, k: number): number =>
    Object.entries(action!(c)).reduce((a, [name, w]) => a + w * cv.mean(name, c, k), 0);
  for (const c of cs) {
    for (const q of names) {
      const val = (cv: Curves) => (k: number): number => (q === "energy" ? energy(cv, c, k) : q.startsWith("G") ? cv.mean(q, c, k) : cv.value(q as CurveObservable, c, k));
      const ge = jackknifed(groups, val(g)), de = jackknifed(groups, val(d));
      const z = (ge.value - de.value) / Math.hypot(ge.error, de.error);
      rows.push({ quantity: q, coupling: c, generated: ge, direct: de, z, relative: (ge.value - de.value) / Math.abs(de.value) });
    }
  }
  return { L, generated: g, direct: d, range, rows, at: inside ? opts.at : undefined, samples: { generated: gen.reduce((a, r) => a + r.samples, 0), direct: dir.reduce((a, r) => a + r.samples, 0) } };
}
