// `irg validate <generated.h5…> --against <direct.h5…>`: generated (inverse-RG) ensembles against direct
// Monte Carlo of the same size, as reweighted curves with jackknife errors, and a verdict table.

import { type Command } from "commander";
import { VALIDATE_SPECS, validateCommand, type Validation } from "../jobs/validate.js";
import { addParams } from "./params.js";
import { htmlDocument } from "../report/html.js";
import { fmt } from "../report/mcrg-report.js";
import { validationBlocks, verdict, verdictSummary } from "../report/validation-report.js";

export function registerValidate(program: Command): void {
  const cmd = program
    .command("validate")
    .argument("<generated.h5...>", "generated ensembles of one size (from irg generate)")
    .option("--report <file.html>", "write an HTML report")
    .option("--json", "print JSON")
    .description("compare generated configurations with direct Monte Carlo: |m|, U4, chi, G(r) with errors");
  addParams(cmd, VALIDATE_SPECS);
  cmd.action(async (generated: string[], o: Record<string, unknown> & { report?: string; json?: boolean }) => {
    const report = o.report ? { path: o.report, render: (v: Validation) => htmlDocument(`Validation of generated L = ${v.L}`, validationBlocks(v, `L = ${v.L}`)) } : undefined;
    const v = await validateCommand(generated, o, report);
    const vd = verdict(v);
    // Scripts gate on the exit code: 0 agree, 1 disagree (2 stays bad input).
    if (!vd.pass) process.exitCode = 1;
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
