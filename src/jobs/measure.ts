// The observables of one ensemble file: the model's estimates (jackknife errors, τ_int), or for a
// spin-glass file the disorder average, optionally reweighted to another β.

import { openEnsemble } from "../io/ensemble.js";
import { UsageError } from "../models/params.js";
import { modelOfFile } from "../models/registry.js";
import { spinGlassOfFile } from "./spin-glass.js";

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
