// `irg exact <model> --network net.json --L L0 --to L …`: exact inverse RG (jobs/exact.ts), with a
// progress bar, Ctrl-C/SIGTERM stops with a checkpoint and `--resume --out f.h5`.

import { type Command } from "commander";
import { UsageError } from "../models/params.js";
import { exactResumeOptions, parseLevelSweeps, runExact, exactSizes } from "../jobs/exact.js";
import { MODELS, SIMULATE_SPECS } from "../jobs/simulation.js";
import { addParams } from "./params.js";
import { progressReporter } from "./progress.js";
import { interruptFlag, summaryLine } from "./simulate.js";

export function registerExact(program: Command): void {
  const cmd = program
    .command("exact")
    .argument("[model]", `model: ${MODELS.join(", ")} (with --resume: read from the file)`)
    .description("exact inverse RG: a Markov chain over L0, 2L0, …, L whose exchanges between sizes use a decimation-compatible network (Metropolis-Hastings), so the ensemble of size L is exact")
    .option("--network <net.json>", "a network trained with irg train --rule decimation")
    .option("--to <L>", "the largest size (--L times a power of two)")
    .option("--level-sweeps <n|list>", "own sweeps (of --algorithm) per round of every size above --L: one number, or one per size; 0 (default) = network exchanges only")
    .option("--proposal <kind>", "heat-bath (default where the model has an exact site conditional, e.g. ising): the network draws the even sites and the exact conditional the odd ones; network: the network draws every site")
    .option("--resume", "continue --out from its checkpoint")
    .option("--force", "overwrite an existing output file")
    .option("--quiet", "no progress bar")
    .addHelpText("after", "\nA round: one sweep of size --L, the sizes' own sweeps, then one exchange between every pair of neighbouring sizes.\n--sweeps and --therm count rounds. The file holds the largest size and, per exchange, accepted_L<n> and logw_L<n>.\n\nExample:\n  irg train --model ising --data ising16.h5 --rule decimation --out dec.json\n  irg exact ising --network dec.json --L 16 --to 64 --beta 0.4406868 --algorithm wolff --sweeps 4000 --level-sweeps 0 --out exact64.h5");
  addParams(cmd, SIMULATE_SPECS);
  cmd.option("--stop-after <rounds>", "(testing) stop after this many rounds in this session");
  cmd.action(async (modelArg: string | undefined, raw: Record<string, unknown>) => {
    const resume = raw.resume === true;
    let model: string, simRaw: Record<string, unknown>, x: { network: string; to: number; levelSweeps?: number[]; proposal?: "network" | "heat-bath" };
    if (resume) {
      if (typeof raw.out !== "string") throw new UsageError("--resume needs --out <file.h5>");
      ({ model, raw: simRaw, x } = await exactResumeOptions(raw.out));
    } else {
      if (!modelArg) throw new UsageError(`the model is required: irg exact <${MODELS.join("|")}> …`);
      if (typeof raw.network !== "string") throw new UsageError("--network <net.json> is required (train one with irg train --rule decimation)");
      if (raw.to === undefined) throw new UsageError("--to <L> is required");
      const to = Number(raw.to), L0 = Number(raw.L);
      if (!Number.isInteger(to)) throw new UsageError(`--to must be an integer, got ${String(raw.to)}`);
      const sizes = exactSizes(L0, to);
      model = modelArg;
      simRaw = Object.fromEntries(Object.entries(raw).filter(([k]) => k in SIMULATE_SPECS));
      if (raw.proposal !== undefined && raw.proposal !== "network" && raw.proposal !== "heat-bath") throw new UsageError(`--proposal must be network or heat-bath, got ${String(raw.proposal)}`);
      x = { network: raw.network, to, levelSweeps: parseLevelSweeps(raw.levelSweeps as string | undefined, sizes.length - 1), ...(raw.proposal ? { proposal: raw.proposal as "network" | "heat-bath" } : {}) };
    }
    const progress = progressReporter({ quiet: raw.quiet === true, label: `exact ${model} L=${x.to}`, unit: "rounds" });
    const interrupt = interruptFlag();
    try {
      const r = await runExact(model, simRaw, x, { checkpointEvery: Number(raw.checkpointEvery ?? 5), maxTime: raw.maxTime === undefined ? undefined : Number(raw.maxTime), stopAfter: raw.stopAfter === undefined ? undefined : Number(raw.stopAfter), shouldStop: interrupt.stop, progress: progress.update }, resume, raw.force === true);
      progress.stop();
      process.stdout.write(`${summaryLine(model, r)}\n`);
      process.stdout.write(`exchange acceptance (this session): ${r.sizes.slice(1).map((L, k) => `${r.sizes[k]}->${L} ${(100 * r.acceptance[k]!).toFixed(1)}%`).join(", ")}\n`);
      for (const e of r.summary.exchanges) process.stdout.write(`exchange ${e.from}->${e.to} over the file: acceptance ${(100 * e.acceptance).toFixed(2)}%, ESS/N of the weights ${e.essFraction.toExponential(2)}\n`);
      const show = (x: Record<string, { value: number; error: number }>): string => Object.entries(x).map(([q, v]) => `${q} ${v.value.toPrecision(6)} ± ${Number.isFinite(v.error) ? v.error.toPrecision(2) : "?"}`).join(", ");
      for (const e of r.summary.exchanges) if (Object.keys(e.importance).length) process.stdout.write(`importance weights of the ${e.from}->${e.to} proposals (self-normalised, L=${e.to}): ${show(e.importance)}\n`);
      if (Object.keys(r.summary.chain).length) process.stdout.write(`Markov chain at L=${r.sizes.at(-1)}: ${show(r.summary.chain)}\n`);
      process.stdout.write(`tau_int (rounds) of size ${r.sizes.at(-1)}: ${Object.entries(r.summary.tauInt).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}\n`);
      if (!r.completed) process.exitCode = interrupt.exitCode();
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}
