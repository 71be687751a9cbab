// `irg reweight <model> --scan <dir> --L <n>`: multiple-histogram curves ⟨|m|⟩, ⟨m²⟩, U₄, χ of one
// size over a coupling grid, with jackknife error bands; a table, JSON, or an SVG plot.

import { type Command } from "commander";
import { h5Ready } from "../io/h5.js";
import { writeFileAtomic } from "../io/files.js";
import { buildCurves, CURVE_OBSERVABLES, jackknifed } from "../analysis/mcrg.js";
import { UsageError } from "../models/params.js";
import { originalRun, readManifest } from "../jobs/mcrg.js";
import { linePlotSpec, renderSvg } from "../report/plot.js";
import { parseGrid } from "../jobs/scan.js";

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
      await h5Ready();
      const man = readManifest(o.scan);
      if (man.model !== model) throw new UsageError(`${o.scan} holds a ${man.model} scan, not ${model}`);
      const L = Number(o.L);
      const pts = man.points.filter((p) => p.L === L);
      if (pts.length === 0) throw new UsageError(`the scan in ${o.scan} has no runs at L = ${o.L} (sizes: ${man.sizes.join(", ")})`);
      const runs = pts.map((p) => originalRun(model, p.file));
      const groups = Number(o.groups);
      if (!Number.isInteger(groups) || groups < 4) throw new UsageError(`--groups must be an integer >= 4, got ${o.groups}`);
      const curves = buildCurves(runs, runs[0]!.V, groups);
      const at = o.at ? parseGrid("--at", o.at) : Array.from({ length: 41 }, (_, k) => curves.range[0] + ((curves.range[1] - curves.range[0]) * k) / 40);
      const rows = at.map((c) => {
        const row: Record<string, number> = { [man.coupling]: c };
        for (const ob of CURVE_OBSERVABLES) {
          const e = jackknifed(curves.groups, (g) => curves.value(ob, c, g));
          row[ob] = e.value;
          row[`${ob}_error`] = e.error;
        }
        return row;
      });
      if (o.plot) {
        const lines = rows.flatMap((r) => [
          { x: r[man.coupling]!, y: r.abs_m!, err: r.abs_m_error!, series: "<|m|>" },
          { x: r[man.coupling]!, y: r.binder!, err: r.binder_error!, series: "U4" },
        ]);
        writeFileAtomic(o.plot, await renderSvg(linePlotSpec({ title: `${model} L=${L}: reweighted curves`, xLabel: man.coupling, yLabel: "value", lines })));
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ model, L, coupling: man.coupling, curves: rows })}\n`);
        return;
      }
      process.stdout.write(`${man.coupling.padStart(10)} ${"<|m|>".padStart(22)} ${"U4".padStart(22)} ${"chi".padStart(22)}\n`);
      for (const r of rows) {
        const f = (k: string): string => `${r[k]!.toFixed(5)} ± ${r[`${k}_error`]!.toFixed(5)}`.padStart(22);
        process.stdout.write(`${r[man.coupling]!.toFixed(5).padStart(10)} ${f("abs_m")} ${f("binder")} ${f("chi")}\n`);
      }
    });
}
