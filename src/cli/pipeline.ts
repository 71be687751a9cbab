// `irg pipeline phi4|ising|potts`: the seed's inverse-RG study end to end (simulate, train, generate,
// validate, critical point and exponents) with an HTML report. `npm start` runs it at a small size.

import { type Command } from "commander";
import { addParams } from "./params.js";
import { pipelineCommand, pipelineModelFlags, pipelineOptions, pipelineStudy, type ScalingAt } from "../jobs/pipeline.js";
import { htmlDocument } from "../report/html.js";
import { errorParts, pipelineBlocks } from "../report/pipeline-report.js";
import { verdictSummary } from "../report/validation-report.js";
import { fmt } from "../report/mcrg-report.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";
import { compatiblePipeline } from "./compatible.js";
import { eaPipelineCommand, eaPipelineOptions } from "../jobs/pipeline-ea.js";
import { eaPipelineBlocks } from "../report/ea-pipeline-report.js";

/** A progress bar, Ctrl-C handling and the log/progress/stop hooks every pipeline takes. */
function pipelineHooks(quiet: boolean, label: string) {
  const progress = progressReporter({ quiet, label, unit: "" });
  const interrupt = interruptFlag();
  const hooks = {
    log: (m: string): void => {
      progress.stop();
      process.stderr.write(`irg: ${m}\n`);
    },
    progress: (_label: string, done: number, total: number): void => progress.update(done, total),
    shouldStop: interrupt.stop,
  };
  return { progress, interrupt, hooks };
}

/** `irg pipeline ea`: defaults (about 15 minutes on two cores; --full: hours), run, report, summary lines. */
async function eaPipeline(o: Record<string, string | boolean | undefined>, cmd: Command): Promise<void> {
  const opts = eaPipelineOptions(o, { outDirDefault: cmd.getOptionValueSource("outDir") === "default", targetDefault: cmd.getOptionValueSource("target") === "default" });
  const { progress, interrupt, hooks } = pipelineHooks(o.quiet === true, "pipeline ea");
  try {
    const { result: r, report } = await eaPipelineCommand({ ...opts, ...hooks }, async (r) => htmlDocument(`Inverse RG of the 3D spin glass: L = ${opts.L0} → ${opts.target}`, await eaPipelineBlocks(r)));
    progress.stop();
    if (!report) {
      process.stdout.write("pipeline ea stopped; rerun the same command to continue (finished ensembles are kept)\n");
      process.exitCode = interrupt.exitCode();
      return;
    }
    for (const c of r.crossings) process.stdout.write(`T_c from ${c.quantity} (${c.label}): ${Number.isFinite(c.T) ? `${c.T.toFixed(4)} ± ${c.error.toFixed(4)}` : "no crossing in the ladder"} (Janus 1.1019(29))\n`);
    for (const v of r.validations) {
      process.stdout.write(`validation L=${v.L} T=${v.T.toFixed(4)}: long range ${v.longAgree ? "agree" : "DISAGREE"} (${v.rows.filter((x) => x.range === "long").map((x) => `${x.quantity} ${x.z.toFixed(1)}σ`).join(", ")}); short range ${v.shortAgree === null ? "not measured" : v.shortAgree ? "agree" : "DISAGREE"}\n`);
    }
    const flow = r.rule?.flow;
    if (flow) {
      const m = flow.map;
      process.stdout.write(`coupling map L=${2 * flow.L0} -> ${flow.L0} ([<q^2>] matching): T* ${m.Tstar ? `${m.Tstar.value.toFixed(4)} ± ${m.Tstar.error.toFixed(4)}` : "outside the ladder"}, 1/nu ${m.inverseNu ? `${m.inverseNu.value.toFixed(3)} ± ${m.inverseNu.error.toFixed(3)}` : "—"} (Janus 0.390(6)); eta at T* ${flow.eta ? `${flow.eta.value.toFixed(3)} ± ${flow.eta.error.toFixed(3)}` : "—"} (Janus -0.390(4))\n`);
      for (const v of flow.validations) {
        const zs = (range: string): string => v.rows.filter((x) => x.range === range).map((x) => `${x.quantity} ${x.z.toFixed(1)}σ`).join(", ");
        process.stdout.write(`flow validation L=${v.L} T=${v.T.toFixed(4)} at T'=${v.Tp.toFixed(4)}: long range ${v.longAgree ? "agree" : "DISAGREE"} (${zs("long")}); short range ${v.shortAgree === null ? "not measured" : `${v.shortAgree ? "agree" : "DISAGREE"} (${zs("short")})`}\n`);
      }
    }
    process.stdout.write(`report: ${report} (${r.seconds.toFixed(0)} s)\n`);
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}

export function registerPipeline(program: Command): void {
  const command = program
    .command("pipeline")
    .argument("<model>", "phi4, ising, potts (with --q), ea (3D spin glass; out dir default out/ea) or compatible (3D Ising compatible Monte Carlo, out dir default out/compatible)")
    .option("--target <L>", "largest generated size (128: quick study; 512: the seed's)", "128")
    .option("--L0 <L>", "size of the simulated starting lattices (default 32; 64 for phi4 with --target >= 512)")
    .option("--gen-limit <n>", "starting configurations used per coupling for generation")
    .option("--couplings <grid>", "couplings (mu2 for phi4, beta for ising and potts): a,b,c or start:stop:step")
    .option("--direct <sizes>", "sizes simulated directly for validation, e.g. 64,128")
    .option("--sweeps <n>", "sweeps of the starting ensembles")
    .option("--direct-sweeps <n>", "sweeps of the direct ensembles")
    .option("--epochs <n>", "training epochs")
    .option("--refine <sweeps>", "local Monte Carlo sweeps after every generated doubling at the central coupling (default: 4 phi4, 20 ising, 10 potts)")
    .option("--stages <n>", "generator stages: 1 (default), or 2: a second network redraws the odd sites given the even ones (short-range correlations; see irg train --stages)")
    .option("--exact <rounds>", "rounds of the exact inverse-RG chains (a decimation network's exchanges between sizes, one cluster sweep per size and round) to every direct size; 0 skips them (default: --direct-sweeps, at most 4000)")
    .option("--exact-from <L>", "smallest size of the exact chains (default 4; L0 divided by a power of two)")
    .option("--seed <s>", "seed", "1")
    .option("--out-dir <dir>", "output directory (ensembles, network, report)", "out")
    .option("--workers <n>", "worker threads for the Monte Carlo (default: all cores)")
    .option("--quiet", "no progress bar")
    .option("--temperatures <list>", "ea: the ladder (T values); every temperature is stored and generated from")
    .option("--samples <n>", "ea: disorder samples at L0")
    .option("--direct-samples <n>", "ea: disorder samples at the direct sizes")
    .option("--therm <n>", "ea: thermalisation sweeps at L0")
    .option("--direct-therm <n>", "ea: thermalisation sweeps at the direct sizes")
    .option("--full", "ea: the full study (L0 = 8, 512 samples, direct 16 with 2^17 + 2^17 sweeps; hours)")
    .option("--hidden <n>", "ea: hidden channels of the overlap network")
    .option("--networks <kind>", "ea: one (a network for every temperature) or per-temperature (one trained on each temperature's fields)")
    .option("--max-pairs <n>", "ea: training pairs (default 4000; 8000 with --full)")
    .option("--allow-unequilibrated", "ea: go on when a direct ensemble fails its equilibration check (reported)")
    .option("--from <L>", "compatible: size of the equilibrated starting lattices (default 4)")
    .option("--to <L>", "compatible: largest generated size (default 64; 128 is the full study)")
    .option("--chains <n>", "compatible: independent chains")
    .option("--unconstrained <n>", "compatible: unconstrained sweeps per level of the second ensemble (default 3, 0: none)")
    .option("--refined-chains <n>", "compatible: chains of the second ensemble (default 128, 400 with --to 128; half of --chains when that is given)")
    .option("--unconstrained-algorithm <alg>", "compatible: the second ensemble's unconstrained sweeps: local (heat bath), wolff, or hybrid (default: a heat-bath and a Wolff sweep each)")
    .description("inverse RG study: simulate, train, generate, validate, critical point and exponents, report");
  // The parameters each model's pipeline takes besides the coupling (potts: --q), from its descriptor.
  const extra = pipelineModelFlags();
  addParams(command, extra);
  command.action(async (model: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const study = pipelineStudy(model);
      if (study === "compatible") return compatiblePipeline(o, cmd);
      if (study === "disorder") return eaPipeline(o, cmd);
      const opts = pipelineOptions(model, o, extra);
      const { progress, interrupt, hooks } = pipelineHooks(o.quiet === true, "pipeline");
      try {
        const title = `Inverse RG of ${model}${opts.params?.q !== undefined ? ` (q = ${opts.params.q})` : ""}: L = ${opts.L0} → ${opts.target}`;
        const done = await pipelineCommand({ ...opts, ...hooks }, async (r) => htmlDocument(title, await pipelineBlocks(r)));
        progress.stop();
        if ("stopped" in done) {
          process.stdout.write(`pipeline ${model} stopped (${done.stopped}); rerun the same command to continue (finished ensembles are kept)\n`);
          process.exitCode = interrupt.exitCode();
          return;
        }
        const { result: r, report } = done;
        for (const c of r.crossings) process.stdout.write(`critical ${r.coupling} (${c.label}): ${fmt(c.value)}\n`);
        const R = r.reference;
        const exact = (v: number | undefined): string => (v === undefined ? "" : ` (exact ${Number(v.toFixed(4))})`);
        const split = (sc: ScalingAt, k: "betaOverNu" | "gammaOverNu"): string => {
          const parts = errorParts(sc, k, r.coupling);
          return parts ? ` [${parts}]` : "";
        };
        const exponents = (sc: ScalingAt): string => `beta/nu = ${fmt(sc.betaOverNu)}${exact(R?.betaOverNu)}${split(sc, "betaOverNu")}, gamma/nu = ${fmt(sc.gammaOverNu)}${exact(R?.gammaOverNu)}${split(sc, "gammaOverNu")}`;
        for (const sc of r.scaling) {
          process.stdout.write(`at ${sc.label} (${sc.coupling.toFixed(5)}): ${exponents(sc)}, U4 = ${sc.binder.map((b) => `${fmt(b.value)} (L=${b.L})`).join(", ")} over L = ${r.fssSizes.join(", ")}\n`);
        }
        for (const v of r.validations) {
          process.stdout.write(`validation L=${v.L} at ${v.at?.toFixed(4) ?? "all couplings"}: ${verdictSummary(v)}\n`);
        }
        if (r.cost) process.stdout.write(`cost at L=${r.cost.L}: MC needs ${r.cost.ratio.toFixed(1)}x the time of IRG per independent configuration\n`);
        if (r.exact) {
          const X = r.exact, top = X.runs.at(-1)!;
          process.stdout.write(`exact chains at ${X.couplingSource}: ${r.coupling} = ${X.couplingEstimate ? fmt(X.couplingEstimate) : X.coupling.toFixed(5)}\n`);
          process.stdout.write(`exact chain ${X.from} -> ${top.L} at ${r.coupling} = ${X.coupling.toFixed(5)} (${X.rounds} rounds), exchange acceptance: ${top.exchanges.map((e) => `${e.from}->${e.to} ${(100 * e.acceptance).toFixed(2)}%`).join(", ")}\n`);
          for (const v of X.validations) process.stdout.write(`exact validation L=${v.L} at ${v.at?.toFixed(4) ?? "all couplings"}: ${verdictSummary(v)}\n`);
          for (const q of X.reference) process.stdout.write(`exact value L=${q.L} ${q.quantity}: ${q.kind} ${fmt(q.estimate)} at ${q.coupling}, exact ${q.exact.toFixed(6)} (${q.z.toFixed(1)} sigma)\n`);
          const sc = X.scaling;
          process.stdout.write(`exact ensembles at ${sc.coupling.toFixed(5)}: ${exponents(sc)}, U4 = ${sc.binder.map((b) => `${fmt(b.value)} (L=${b.L})`).join(", ")}\n`);
          for (const c of X.cost) process.stdout.write(`cost per independent configuration at L=${c.L}: cluster MC ${(1000 * c.directSeconds).toPrecision(3)} ms, exact chain (mixed kernel) ${(1000 * c.mixedSeconds).toPrecision(3)} ms (${(c.mixedSeconds / c.directSeconds).toFixed(1)}x MC), approximate IRG ${(1000 * c.generatedSeconds).toPrecision(3)} ms\n`);
        }
        process.stdout.write(`report: ${report} (${r.seconds.toFixed(0)} s)\n`);
      } finally {
        progress.stop();
        interrupt.dispose();
      }
    });
}
