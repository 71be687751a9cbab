// `irg mcrg ising|phi4|potts --scan <dir>`: critical coupling and exponents from a scan by Monte Carlo RG
// (crossings, coupling map, finite-size scaling), printed and written as an HTML report.

import { type Command } from "commander";
import { mcrgCommand } from "../jobs/mcrg.js";
import { htmlDocument } from "../report/html.js";
import { fmt, mcrgBlocks } from "../report/mcrg-report.js";

export function registerMcrg(program: Command): void {
  program
    .command("mcrg")
    .argument("<model>", "the model of the scan: ising, phi4 or potts (any model with a block rule and an order parameter)")
    .requiredOption("--scan <dir>", "scan directory (irg scan … --out-dir <dir>) with sizes L and 2L, configurations stored")
    .option("--report <file.html>", "HTML report", "out/mcrg.html")
    .option("--groups <n>", "jackknife groups per run", "20")
    .option("--observable <name>", "observable matched for the coupling map: abs_m or binder", "abs_m")
    .option("--json", "print the results as JSON")
    .description("critical coupling and exponents by Monte Carlo renormalization group")
    .action(async (model: string, o: { scan: string; report: string; groups: string; observable: string; json?: boolean }) => {
      const r = await mcrgCommand({ model, ...o, log: (m) => process.stderr.write(`irg: ${m}\n`) }, async (r) => htmlDocument(`MCRG of ${model} (${o.scan})`, await mcrgBlocks(r, `MCRG ${model}`)));
      if (o.json) {
        process.stdout.write(`${JSON.stringify({
          model: r.model, coupling: r.coupling, sizes: r.sizes, critical: r.critical,
          crossings: r.crossings.map((c) => ({ kind: c.kind, observable: c.observable, value: c.value })),
          nu: r.nu.map((n) => ({ L: n.L, observable: n.observable, nu: n.nu })),
          gamma_over_nu: r.gammaOverNu, gamma_over_nu_connected: r.gammaOverNuConnected, beta_over_nu: r.betaOverNu, statistics: r.statistics,
          ...(r.reference ? { reference: r.reference } : {}),
        })}\n`);
        return;
      }
      const cl = r.coupling;
      const ref = r.reference;
      process.stdout.write(`critical ${cl}: ${fmt(r.critical)}${ref?.coupling !== undefined ? ` (${ref.source}: ${ref.coupling.toFixed(7)}, ${((r.critical.value - ref.coupling) / r.critical.error).toFixed(1)} sigma)` : ""}\n`);
      for (const n of r.nu) process.stdout.write(`nu (L=${n.L}, ${n.observable}): ${fmt(n.nu)}\n`);
      process.stdout.write(`gamma/nu: ${fmt(r.gammaOverNu)} (connected chi: ${fmt(r.gammaOverNuConnected)})\nbeta/nu: ${fmt(r.betaOverNu)}\nreport: ${o.report}\n`);
    });
}
