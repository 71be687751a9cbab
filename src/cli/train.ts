// `irg train --data f.h5… --model phi4|ising --out net.json`: learn an inverse RG map from pairs
// (blocked configuration → original), with a progress bar, early stopping and resumable checkpoints.

import { type Command } from "commander";
import { h5Ready } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { modelOfNetwork } from "../models/registry.js";
import { train } from "../jobs/train.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";

const int = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
};

export function registerTrain(program: Command): void {
  program
    .command("train")
    .requiredOption("--data <files...>", "ensembles with stored configurations (one lattice size)")
    .requiredOption("--model <name>", "phi4, ising, potts, or overlap (spin-glass overlap fields from ea ensembles)")
    .requiredOption("--out <net.json>", "network file")
    .option("--epochs <n>", "maximum epochs", "30")
    .option("--batch <n>", "pairs per Adam step", "32")
    .option("--lr <x>", "Adam learning rate", "0.003")
    .option("--patience <n>", "stop after this many epochs without validation improvement", "5")
    .option("--validation <f>", "fraction of pairs held out for validation", "0.1")
    .option("--hidden <n>", "hidden channels", "16")
    .option("--kernel <k>", "first convolution's kernel size (odd)", "5")
    .option("--components <K>", "Gaussian mixture components (phi4)", "2")
    .option("--max-pairs <n>", "use at most this many configurations")
    .option("--seed <s>", "seed (initial weights, split, order, augmentation)", "1")
    .option("--workers <n>", "worker threads for the gradients (default: all cores; the result does not depend on it)")
    .option("--force", "overwrite an existing network and ignore a checkpoint")
    .option("--quiet", "no progress bar")
    .description("train a network that maps blocked configurations back to originals (stochastically)")
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      await h5Ready();
      const model = String(o.model);
      modelOfNetwork(model);
      const lr = Number(o.lr), validation = Number(o.validation);
      if (!(validation > 0 && validation < 0.5)) throw new UsageError(`--validation must be between 0 and 0.5, got ${String(o.validation)}`);
      const kernel = int("kernel", o.kernel as string, 1)!;
      if (kernel % 2 === 0) throw new UsageError(`--kernel must be odd, got ${kernel}`);
      const progress = progressReporter({ quiet: o.quiet === true, label: "train", unit: "steps" });
      const interrupt = interruptFlag();
      try {
        const r = await train({
          data: o.data as string[], model, out: String(o.out), lr, validation, kernel, force: o.force === true,
          epochs: int("epochs", o.epochs as string, 1), batch: int("batch", o.batch as string, 1), patience: int("patience", o.patience as string, 1),
          hidden: int("hidden", o.hidden as string, 1), components: int("components", o.components as string, 1),
          maxPairs: int("max-pairs", o.maxPairs as string, 10), seed: int("seed", o.seed as string, 0),
          workers: int("workers", o.workers as string, 0),
          shouldStop: interrupt.stop,
          progress: (epoch, done, total, loss) => progress.update(done, total, `epoch ${epoch + 1} | NLL/site ${loss.toFixed(4)}`),
        });
        progress.stop();
        if (r.stopped) {
          process.stdout.write(`stopped in epoch ${r.epochs + 1}; checkpoint ${r.out}.checkpoint.json — rerun the same command to continue\n`);
          return;
        }
        const best = r.validation[r.bestEpoch - 1]!;
        process.stdout.write(`wrote ${r.out}: ${r.pairs} pairs of L=${r.L}, ${r.epochs} epochs (best ${r.bestEpoch}), validation NLL ${best.toFixed(4)} per site (${r.seconds.toFixed(1)} s)\n`);
      } finally {
        progress.stop();
        interrupt.dispose();
      }
    });
}
