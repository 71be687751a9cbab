// `irg validate <generated.h5…> --against <direct.h5…>`: generated (inverse-RG) ensembles against direct
// Monte Carlo of the same size, as reweighted curves with jackknife errors, and a verdict table.

import { type Command } from "commander";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { h5Ready } from "../io/h5.js";
import { validate } from "../jobs/validate.js";
import { UsageError } from "../models/params.js";
import { writeReport } from "../report/html.js";
import { fmt } from "../report/mcrg-report.js";
import { validationBlocks, verdict, verdictSummary } from "../report/validation-report.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .argument("<generated.h5...>", "generated ensembles of one size (from irg generate)")
    .requiredOption("--against <direct.h5...>", "direct Monte Carlo ensembles of the same size")
    .option("--points <n>", "couplings compared across the common range", "5")
    .option("--groups <n>", "jackknife groups", "20")
    .option("--at <coupling>", "take the verdict at this coupling (e.g. the critical one) instead of over the whole range")
    .option("--report <file.html>", "write an HTML report")
    .option("--json", "print JSON")
    .description("compare generated configurations with direct Monte Carlo: |m|, U4, chi, G(r) with errors")
    .action(async (generated: string[], o: { against: string[]; points: string; groups: string; at?: string; report?: string; json?: boolean }) => {
      await h5Ready();
      const points = Number(o.points), groups = Number(o.groups);
      if (!Number.isInteger(points) || points < 1) throw new UsageError(`--points must be a positive integer, got ${o.points}`);
      if (!Number.isInteger(groups) || groups < 4) throw new UsageError(`--groups must be an integer >= 4, got ${o.groups}`);
      const at = o.at === undefined ? undefined : Number(o.at);
      if (at !== undefined && !Number.isFinite(at)) throw new UsageError(`--at must be a number, got ${o.at}`);
      const v = validate(generated, o.against, { points, groups, at });
      if (at !== undefined && v.at === undefined) throw new UsageError(`--at ${at} is outside the coupling range ${v.range[0].toFixed(4)} … ${v.range[1].toFixed(4)} common to both ensembles`);
      const vd = verdict(v);
      if (o.report) {
        mkdirSync(dirname(o.report), { recursive: true });
        writeReport(o.report, `Validation of generated L = ${v.L}`, validationBlocks(v, `L = ${v.L}`));
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ L: v.L, range: v.range, pass: vd.pass, worst: vd.worst, rows: v.rows })}\n`);
        return;
      }
      process.stdout.write(`L = ${v.L}: ${v.samples.generated} generated vs ${v.samples.direct} direct configurations\n`);
      process.stdout.write(`${"coupling".padStart(10)} ${"quantity".padEnd(9)} ${"generated".padStart(22)} ${"direct".padStart(22)} ${"z".padStart(6)}\n`);
      for (const r of v.rows) {
        process.stdout.write(`${r.coupling.toFixed(4).padStart(10)} ${r.quantity.padEnd(9)} ${fmt(r.generated).padStart(22)} ${fmt(r.direct).padStart(22)} ${r.z.toFixed(1).padStart(6)}\n`);
      }
      process.stdout.write(`verdict${v.at === undefined ? "" : ` at ${v.at}`}: ${vd.pass ? "agree" : "disagree"} (largest deviation ${vd.worst.z.toFixed(1)} sigma in ${vd.worst.quantity}); ${verdictSummary(v)}\n`);
    });
}
