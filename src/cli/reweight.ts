// `irg reweight <model> --scan <dir> --L <n>`: multiple-histogram curves ⟨|m|⟩, ⟨m²⟩, U₄, χ of one
// size over a coupling grid, with jackknife error bands; a table, JSON, or an SVG plot.

import { type Command } from "commander";
import { reweightCommand, type ReweightResult } from "../jobs/mcrg.js";
import { linePlotSpec, renderSvg } from "../report/plot.js";

/** The SVG of --plot: ⟨|m|⟩ and U₄ against the coupling with their error bars. */
function curvesPlot(r: ReweightResult): Promise<string> {
  const lines = r.rows.flatMap((row) => [
    { x: row[r.coupling]!, y: row.abs_m!, err: row.abs_m_error!, series: "<|m|>" },
    { x: row[r.coupling]!, y: row.binder!, err: row.binder_error!, series: "U4" },
  ]);
  return renderSvg(linePlotSpec({ title: `${r.model} L=${r.L}: reweighted curves`, xLabel: r.coupling, yLabel: "value", lines }));
}

export function registerReweight(program: Command): void {
  program
    .command("reweight")
    .argument("<model>", "the model of the scan: ising, phi4 or potts")
    .requiredOption("--scan <dir>", "scan directory")
    .requiredOption("--L <n>", "lattice size to reweight")
    .option("--at <grid>", "couplings: a,b,c or start:stop:step (default: 41 points over the scanned range)")
    .option("--groups <n>", "jackknife groups", "20")
    .option("--json", "print JSON")
    .option("--plot <file.svg>", "write an SVG plot of <|m|> and U4")
    .description("multiple-histogram reweighting of the runs of one size into curves with jackknife errors")
    .action(async (model: string, o: { scan: string; L: string; at?: string; groups: string; json?: boolean; plot?: string }) => {
      const r = await reweightCommand({ model, ...o }, curvesPlot);
      const { coupling, rows } = r;
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ model, L: r.L, coupling, curves: rows })}\n`);
        return;
      }
      process.stdout.write(`${coupling.padStart(10)} ${"<|m|>".padStart(22)} ${"U4".padStart(22)} ${"chi".padStart(22)}\n`);
      for (const row of rows) {
        const f = (k: string): string => `${row[k]!.toFixed(5)} ± ${row[`${k}_error`]!.toFixed(5)}`.padStart(22);
        process.stdout.write(`${row[coupling]!.toFixed(5).padStart(10)} ${f("abs_m")} ${f("binder")} ${f("chi")}\n`);
      }
    });
}
