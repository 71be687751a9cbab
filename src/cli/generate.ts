// `irg generate --net net.json --from small.h5 --steps 4 --out big`: apply the inverse map repeatedly
// (L → 2L → …), writing big_L<size>.h5 for every size; each configuration keeps its ancestor's weight.

import { type Command } from "commander";
import { GENERATE_SPECS, generateOptions, generateWithNetwork } from "../jobs/generate.js";
import { addParams } from "./params.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";

export function registerGenerate(program: Command): void {
  const cmd = program
    .command("generate")
    .option("--quiet", "no progress bar")
    .description("generate configurations of growing size with a trained inverse RG network");
  addParams(cmd, GENERATE_SPECS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const { net, options } = generateOptions(raw);
    const progress = progressReporter({ quiet: raw.quiet === true, label: "generate", unit: "configurations" });
    const interrupt = interruptFlag();
    try {
      const r = await generateWithNetwork(net, { ...options, progress: progress.update, shouldStop: interrupt.stop, notice: (line) => process.stderr.write(`irg: ${line}\n`) });
      progress.stop();
      if (!r.completed) {
        process.stdout.write(`stopped after ${r.configurations} of ${r.planned} configurations per size; ${r.files.map((f) => f.path).join(", ")} are marked incomplete (generate again with --force)\n`);
        process.exitCode = interrupt.exitCode();
        return;
      }
      process.stdout.write(`generated ${r.configurations} configurations per size in ${r.seconds.toFixed(1)} s: ${r.files.map((f) => f.path).join(", ")}\n`);
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
