// `irg generate --net net.json --from small.h5 --steps 4 --out big`: apply the inverse map repeatedly
// (L → 2L → …), writing big_L<size>.h5 for every size; each configuration keeps its ancestor's weight.

import { type Command } from "commander";
import { h5Ready } from "../io/h5.js";
import { generateWithNetwork } from "../jobs/generate.js";
import { UsageError } from "../models/params.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .requiredOption("--net <net.json>", "network from irg train")
    .requiredOption("--from <small.h5>", "ensemble whose stored configurations are the starting points")
    .requiredOption("--out <prefix>", "output prefix: <prefix>_L<size>.h5 per size")
    .option("--steps <n>", "number of doublings", "1")
    .option("--seed <s>", "seed of the generation streams", "1")
    .option("--limit <n>", "use only the first n configurations")
    .option("--refine <sweeps>", "local Monte Carlo sweeps after every doubling (0: the network's draw alone)", "0")
    .option("--refine-at <coupling>", "coupling (beta or mu2) of the refinement sweeps (default: the input's; use one value for every ensemble you will reweight together)")
    .option("--force", "overwrite existing outputs")
    .option("--quiet", "no progress bar")
    .description("generate configurations of growing size with a trained inverse RG network")
    .action(async (o: { net: string; from: string; out: string; steps: string; seed: string; limit?: string; refine: string; refineAt?: string; force?: boolean; quiet?: boolean }) => {
      await h5Ready();
      const steps = Number(o.steps), seed = Number(o.seed), limit = o.limit === undefined ? undefined : Number(o.limit);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${o.seed}`);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit must be a positive integer, got ${o.limit}`);
      const refine = Number(o.refine);
      if (!Number.isInteger(refine) || refine < 0) throw new UsageError(`--refine must be a non-negative integer, got ${o.refine}`);
      const progress = progressReporter({ quiet: o.quiet === true, label: "generate", unit: "configurations" });
      const interrupt = interruptFlag();
      try {
        const r = await generateWithNetwork(o.net, { from: o.from, prefix: o.out, steps, seed, limit, refine, refineAt: o.refineAt === undefined ? undefined : Number(o.refineAt), force: o.force === true, progress: progress.update, shouldStop: interrupt.stop });
        progress.stop();
        process.stdout.write(`generated ${r.configurations} configurations per size in ${r.seconds.toFixed(1)} s: ${r.files.map((f) => f.path).join(", ")}\n`);
      } finally {
        progress.stop();
        interrupt.dispose();
      }
    });
}
