// `irg models [--json]`: what every registered model offers — dimensions, algorithms, parameters,
// block rule, network head and pipeline — read from the descriptors (jobs/models.ts).

import { type Command } from "commander";
import { modelSummaries } from "../jobs/models.js";

export function registerModels(program: Command): void {
  program
    .command("models")
    .option("--json", "print JSON")
    .description("list the models and what each one supports")
    .action((o: { json?: boolean }) => {
      const all = modelSummaries();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(all)}\n`);
        return;
      }
      for (const m of all) {
        const net = m.network as { name: string } | null, pipe = m.pipeline as { algorithm: string } | null;
        process.stdout.write([
          `${m.name}: ${m.title}`,
          `  dimensions ${(m.dims as number[]).join(", ")}; algorithms ${(m.algorithms as string[]).join(", ")}; coupling --${m.coupling}`,
          `  parameters ${(m.parameters as string[]).join(" ")}`,
          `  block rule: ${m.block_rule ?? "none"}`,
          `  inverse RG: ${net ? `networks "${net.name}"` : "no networks"}${m.refinement ? ", refinement sweeps" : ""}${pipe ? `; irg pipeline ${m.name} (${pipe.algorithm})` : ""}${m.disorder ? "; disorder samples (irg pipeline ea)" : ""}`,
          `  exact inverse RG: ${m.exact ? `irg exact (proposals ${(m.exact as { proposals: string[] }).proposals.join(", ")})` : "no (no action)"}`,
          `  GPU kernels (--backend gpu): ${(m.gpu_algorithms as string[]).length > 0 ? `--algorithm ${(m.gpu_algorithms as string[]).join(", ")}` : "none"}`,
        ].join("\n") + "\n");
      }
    });
}
