// `irg train --data f.h5… --model phi4|ising --out net.json`: learn an inverse RG map from pairs
// (blocked configuration → original), with a progress bar, early stopping and resumable checkpoints.

import { type Command } from "commander";
import { addParams } from "./params.js";
import { train, TRAIN_SPECS, trainOptions } from "../jobs/train.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";

export function registerTrain(program: Command): void {
  const cmd = program
    .command("train")
    .option("--quiet", "no progress bar")
    .description("train a network that maps blocked configurations back to originals (stochastically)");
  addParams(cmd, TRAIN_SPECS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const o = trainOptions(raw);
    const progress = progressReporter({ quiet: raw.quiet === true, label: "train", unit: "steps" });
    const interrupt = interruptFlag();
    try {
      const r = await train({
        ...o,
        shouldStop: interrupt.stop,
        progress: (epoch, done, total, loss) => progress.update(done, total, `epoch ${epoch + 1} | NLL/site ${loss.toFixed(4)}`),
      });
      progress.stop();
      if (r.stopped) {
        process.stdout.write(`stopped in epoch ${r.epochs + 1}; checkpoint ${r.out}.checkpoint.json — rerun the same command to continue\n`);
        process.exitCode = interrupt.exitCode();
        return;
      }
      const best = r.validation[r.bestEpoch - 1]!;
      const second = r.stage2 ? `; second stage ${r.stage2.epochs} epochs (best ${r.stage2.bestEpoch}), validation NLL ${r.stage2.validation[r.stage2.bestEpoch - 1]!.toFixed(4)} per odd site` : "";
      process.stdout.write(`wrote ${r.out}: ${r.pairs} pairs of L=${r.L}, ${r.epochs} epochs (best ${r.bestEpoch}), validation NLL ${best.toFixed(4)} per site${second} (${r.seconds.toFixed(1)} s)\n`);
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
