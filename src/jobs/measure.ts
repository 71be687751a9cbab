// The observables of one ensemble file: the model's estimates (jackknife errors, τ_int), or for a
// spin-glass file the disorder average, optionally reweighted to another β.

import { openEnsemble } from "../io/ensemble.js";
import { closeFile, h5Ready, openFile, readAttrs } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { modelOfFile } from "../models/registry.js";
import { COMPATIBLE_FORMAT, levelEstimates, type LevelEstimates, readCompatibleFile } from "./compatible.js";
import { spinGlassOfFile, spinGlassTable } from "./spin-glass.js";

export interface MeasureResult {
  model: string;
  dim: number;
  L: number;
  /** The point in words, e.g. "q=3 beta=1.005" (potts), "mu2=-0.95" (phi4). */
  label?: string;
  beta?: number;
  mu2?: number;
  samples: number;
  /** ea: disorder samples (errors are jackknifed over them). */
  disorder_samples?: number;
  /** ea with --beta: the β of the file, and the mean effective fraction of rows left by the weights. */
  reweighted_from?: number;
  histogram_overlap?: number;
  observables: Record<string, { value: number; error: number; tau_int: number }>;
}

/** Computes the observables of an ensemble file. */
export function measureFile(path: string, reweightTo?: number): MeasureResult {
  const r = openEnsemble(path);
  try {
    const { meta } = r;
    const V = meta.L ** meta.dim;
    const d = modelOfFile(meta.model, path);
    if (reweightTo !== undefined && !d.disorder) throw new UsageError(`--beta reweights spin-glass files; for ${meta.model} ensembles use irg reweight`);
    if (d.disorder) {
      const sg = spinGlassOfFile(r, path, reweightTo);
      const out: MeasureResult = { model: meta.model, dim: meta.dim, L: meta.L, beta: reweightTo ?? Number(meta.params.beta), samples: sg.measurements, disorder_samples: sg.samples, observables: {} };
      if (reweightTo !== undefined) {
        out.reweighted_from = Number(meta.params.beta);
        out.histogram_overlap = sg.overlap!;
      }
      for (const [k, v] of Object.entries(sg.estimates)) out.observables[k] = { value: v.value, error: v.error, tau_int: v.tauInt };
      return out;
    }
    if (!d.estimates) throw new UsageError(`${path}: no measurements defined for model "${meta.model}"`);
    const main = meta.observables[0]!;
    const n = r.series(main).length;
    if (n < 2 * meta.chains) throw new UsageError(`${path} holds ${n} measurements; at least 2 per chain are needed`);
    const est = d.estimates((name) => r.series(name), { V, chains: meta.chains, params: meta.params, observables: meta.observables });
    const out: MeasureResult = { model: meta.model, dim: meta.dim, L: meta.L, label: d.label(meta.params), samples: n, observables: {} };
    if (d.coupling === "beta") out.beta = Number(meta.params.beta);
    else out.mu2 = Number(meta.params.mu2);
    for (const [k, v] of Object.entries(est)) out.observables[k] = { value: v.value, error: v.error, tau_int: v.tauInt };
    return out;
  } finally {
    r.close();
  }
}

/** What `irg measure` found: the spin-glass table of several files, the sizes of a compatible-MC file, or one ensemble's observables. */
export type MeasureOutcome =
  | { kind: "table"; table: ReturnType<typeof spinGlassTable> }
  | { kind: "compatible"; format: typeof COMPATIBLE_FORMAT; dim: number; chains: number; levels: LevelEstimates[] }
  | { kind: "ensemble"; measure: MeasureResult };

/** The root `format` attribute, or undefined when the file cannot be read (measureFile then says why). */
function rootFormat(path: string): string | undefined {
  try {
    const f = openFile(path, "r");
    try {
      return String(readAttrs(f, "/").format);
    } finally {
      closeFile(f);
    }
  } catch {
    return undefined;
  }
}

/** `irg measure <files…> [--beta b]` (--beta as given, checked here). */
export async function measureCommand(paths: string[], beta?: string): Promise<MeasureOutcome> {
  await h5Ready();
  if (paths.length > 1) return { kind: "table", table: spinGlassTable(paths) };
  const path = paths[0]!;
  if (rootFormat(path) === COMPATIBLE_FORMAT) {
    const c = readCompatibleFile(path);
    return { kind: "compatible", format: COMPATIBLE_FORMAT, dim: c.dim, chains: c.chains, levels: levelEstimates(c.levels, c.dim) };
  }
  const b = beta === undefined ? undefined : Number(beta);
  if (b !== undefined && !(b > 0)) throw new UsageError(`--beta must be a positive number, got ${beta}`);
  return { kind: "ensemble", measure: measureFile(path, b) };
}
