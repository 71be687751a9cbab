// Spin-glass ensembles after the run: disorder averages with jackknife errors over samples (measure) and
// the equilibration evidence printed by `irg simulate ea` — log binning of [⟨q²⟩] and ladder round trips.

import { type Estimate } from "../analysis/stats.js";
import { logBinning, logBinsAgree, spinGlassEstimates } from "../analysis/spin-glass.js";
import { type EnsembleReader, openEnsemble } from "../io/ensemble.js";
import { UsageError } from "./params.js";

/** The sample index of every row: the "sample" series, or row mod chains for files without one. */
export function sampleSeries(r: EnsembleReader, rows: number): Float64Array {
  if (r.meta.observables.includes("sample")) return r.series("sample");
  return Float64Array.from({ length: rows }, (_, k) => k % r.meta.chains);
}

/** [⟨q²⟩], [⟨q⁴⟩], χ_SG, g, ξ_SG of an ea ensemble (original, blocked or generated). */
export function spinGlassOfFile(r: EnsembleReader, path: string): { samples: number; measurements: number; estimates: Record<string, Estimate> } {
  const { meta } = r;
  if (!meta.observables.includes("q")) throw new UsageError(`${path} has no overlap series "q"`);
  const q = r.series("q");
  const sample = sampleSeries(r, q.length);
  const groups = new Set(sample).size;
  if (q.length < 2 || (groups < 2 && q.length < 32)) throw new UsageError(`${path} holds ${q.length} overlap measurements of ${groups} sample(s); need 2 samples or at least 32 measurements for errors`);
  const qk2 = meta.observables.includes("qk2") ? r.series("qk2") : null;
  const res = spinGlassEstimates({ q, qk2, sample, V: meta.L ** meta.dim, L: meta.L });
  return { ...res, measurements: q.length };
}

/** The lines `irg simulate ea` prints after a run: log binning of [⟨q²⟩] and round trips from the file. */
export function equilibrationReport(path: string): string[] {
  const r = openEnsemble(path);
  try {
    const q = r.series("q");
    const sample = sampleSeries(r, q.length);
    const S = r.meta.chains;
    if (S < 2) return ["log binning: needs at least 2 disorder samples (errors are taken over samples)"];
    const bins = logBinning(q, sample);
    const lines = [`log binning of [<q^2>] at beta = ${r.meta.params.beta} over ${S} samples (measurements per sample in [from, to)):`];
    for (const b of bins) {
      lines.push(`  [${String(b.from).padStart(7)}, ${String(b.to).padStart(7)})  ${b.value.toFixed(5)} ± ${b.error.toFixed(5)}${b === bins.at(-1) ? "  (last)" : `  ${b.z >= 0 ? "+" : ""}${b.z.toFixed(1)} sigma from the last`}`);
    }
    // 3σ, not 2σ: about ten bins are compared, and 2σ would flag one in three equilibrated runs.
    const ok = logBinsAgree(bins, 3);
    lines.push(ok ? "equilibration: every bin after the first agrees with the last within 3 sigma" : "equilibration: NOT shown — some bin after the first differs from the last by more than 3 sigma; run longer (or with more --therm)");
    return lines;
  } finally {
    r.close();
  }
}
