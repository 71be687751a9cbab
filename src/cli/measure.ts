// `irg measure <file.h5> [--json]`: the standard observables of an ensemble with jackknife errors
// and integrated autocorrelation times (automatic windowing), computed by jobs/measure.ts.

import { type Command } from "commander";
import { type Estimate } from "../analysis/stats.js";
import { measureCommand, type MeasureOutcome, type MeasureResult } from "../jobs/measure.js";
import { levelLines } from "./compatible.js";

/** Human-readable table. */
export function formatMeasure(m: MeasureResult): string {
  const disorder = (m.disorder_samples !== undefined ? `, ${m.disorder_samples} disorder samples; errors: jackknife over samples` : "") +
    (m.reweighted_from !== undefined ? `; reweighted from beta=${m.reweighted_from}, histogram overlap ${m.histogram_overlap!.toFixed(3)}${m.histogram_overlap! < 0.1 ? " — WEAK: few rows carry the weight, do not trust these values" : ""}` : "");
  const head = `${m.model} ${m.dim}D L=${m.L} ${m.label ?? (m.beta !== undefined ? `beta=${m.beta}` : `mu2=${m.mu2}`)}  (${m.samples} measurements${disorder})`;
  const rows = Object.entries(m.observables).map(([k, v]) => {
    const digits = v.error > 0 ? Math.max(0, Math.min(12, 1 - Math.floor(Math.log10(v.error)))) : 6;
    return `  ${k.padEnd(8)} ${v.value.toFixed(digits).padStart(16)} ± ${v.error.toFixed(digits).padEnd(14)} tau_int ${v.tau_int.toFixed(2)}`;
  });
  return [head, ...rows].join("\n");
}

/** The table of several spin-glass files: one line per (L, T), then the crossings between sizes. */
export function formatSpinGlassTable(t: Extract<MeasureOutcome, { kind: "table" }>["table"]): string {
  const f = (e: Estimate | undefined, d: number): string => (e ? `${e.value.toFixed(d)} ± ${e.error.toFixed(d)}` : "-").padEnd(18);
  const lines = [`${"L".padEnd(5)}${"T".padEnd(9)}${"beta".padEnd(9)}${"samples".padEnd(9)}${"[<q^2>]".padEnd(18)}${"chi_SG".padEnd(18)}${"g".padEnd(18)}xi_SG/L`];
  for (const r of t.rows) {
    lines.push(`${String(r.L).padEnd(5)}${r.T.toFixed(4).padEnd(9)}${r.beta.toFixed(4).padEnd(9)}${String(r.samples).padEnd(9)}${f(r.estimates.q2, 4)}${f(r.estimates.chi_sg, 2)}${f(r.estimates.g, 4)}${f(r.estimates.xi_l, 4)}`);
  }
  for (const c of t.crossings) lines.push(`crossing of ${c.quantity} between L = ${c.L1} and ${c.L2}: ${Number.isFinite(c.T) ? `T = ${c.T.toFixed(4)} ± ${Number.isFinite(c.error) ? c.error.toFixed(4) : "? (some jackknife samples do not cross inside the common temperatures: widen the ladder)"}` : "none inside the common temperatures"}`);
  for (const n of t.notes) lines.push(n);
  lines.push("errors: jackknife over disorder samples (crossings: joint over each size's temperatures, sizes in quadrature)");
  return lines.join("\n");
}

export function registerMeasure(program: Command): void {
  program
    .command("measure")
    .argument("<files...>", "ensemble written by irg simulate (or block, generate), or a file of irg compatible; several ea files give the spin-glass table against T with crossings between sizes")
    .option("--json", "print one JSON object instead of a table")
    .option("--beta <b>", "ea: reweight to this inverse temperature (single histogram in E(s)+E(t), or the parent's for blocked and generated fields)")
    .description("observables with jackknife errors and autocorrelation times")
    .action(async (paths: string[], o: { json?: boolean; beta?: string }) => {
      const r = await measureCommand(paths, o.beta);
      if (r.kind === "table") {
        process.stdout.write(o.json ? `${JSON.stringify(r.table)}\n` : `${formatSpinGlassTable(r.table)}\n`);
      } else if (r.kind === "compatible") {
        const json = { format: r.format, dim: r.dim, chains: r.chains, levels: r.levels };
        process.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `compatible Monte Carlo, ${r.dim}D, ${r.chains} chains (errors: jackknife over chains)\n${levelLines(r.levels).join("\n")}\n`);
      } else {
        process.stdout.write(o.json ? `${JSON.stringify(r.measure)}\n` : `${formatMeasure(r.measure)}\n`);
      }
    });
}
