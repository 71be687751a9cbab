// `irg compatible` (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): compatible Monte Carlo L0 → 2L0 → … → L
// into one HDF5 file, and `irg pipeline compatible`: the 3D Ising study with its HTML report.

import { type Command } from "commander";
import { addParams } from "./params.js";
import { compatibleCommand, compatibleCommandOptions, COMPATIBLE_SPECS, type LevelEstimates } from "../jobs/compatible.js";
import { compatibleStudyCommand, compatibleStudyOptions } from "../jobs/compatible-study.js";
import { type Estimate } from "../analysis/stats.js";
import { htmlDocument } from "../report/html.js";
import { compatibleBlocks } from "../report/compatible-report.js";
import { fmt } from "../report/mcrg-report.js";
import { progressReporter } from "./progress.js";
import { interruptFlag } from "./simulate.js";
import { addSlurmOptions, slurmReadBack } from "./slurm.js";
import { compatibleReadBackDir, compatibleSlurmCommand } from "../jobs/scan-slurm.js";

/** One line per size: ⟨e⟩, ⟨|m|⟩, U₄ over the chains and the relaxation time of the energy. */
export function levelLines(levels: readonly LevelEstimates[]): string[] {
  return levels.map((x, k) => {
    const many = x.chains > 1;
    const show = (v: Estimate): string => (many ? fmt(v) : v.value.toFixed(5));
    return `L=${x.L}${k === 0 ? " (start)" : ""}: <e> = ${show(x.e)}, <|m|> = ${show(x.absM)}, U4 = ${x.binder ? fmt(x.binder) : "—"}` +
      (k > 0 ? `, relaxation time of e = ${Number.isFinite(x.relaxation) ? x.relaxation.toFixed(2) : "—"} sweeps, changed ${(100 * x.changedFraction).toFixed(1)}% of site visits` : "");
  });
}

export function registerCompatible(program: Command): void {
  const cmd = program
    .command("compatible")
    .description("compatible Monte Carlo (Ron-Swendsen-Brandt): equilibrated L0 configurations → 2L0 → … → L, every size into one HDF5 file")
    .option("--force", "overwrite an existing output file (and any checkpoint of it)")
    .option("--resume", "continue a stopped or killed run from its checkpoint (<out>, or <out>.partial after a kill), with the same options; a larger --chains adds chains, also to a complete file; the file is the same as one uninterrupted run")
    .option("--quiet", "no progress bar")
    .addHelpText("after", "\nExamples:\n  irg compatible --dim 3 --beta 0.221654626 --from 4 --to 128 --sweeps 10 --chains 32 --out c.h5\n  irg compatible --dim 2 --from 8 --to 256 --chains 100 --unconstrained 5 --out c2d.h5\n  irg compatible --dim 3 --from 4 --to 128 --chains 32 --out c.h5 --resume   (after Ctrl-C)");
  addParams(cmd, COMPATIBLE_SPECS);
  cmd.option("--stop-after <chains>", "(testing) stop after this many chains in this session");
  addSlurmOptions(cmd, {
    tasks: "one task per --batch of chains, in <out>.slurm/ (plan, script, parts); --collect joins the parts into --out",
    batch: "with --slurm: chains per array task (default 16)",
  });
  cmd.addHelpText("after", "  irg compatible --dim 3 --from 4 --to 128 --chains 400 --out c.h5 --slurm --batch 25 --time 04:00:00 --submit\n  irg compatible --out c.h5 --collect --submit   (join what is done, resubmit the rest)");
  cmd.action(async (raw: Record<string, unknown>) => {
    if (raw.status === true || raw.collect === true) {
      const out = String(raw.out);
      await slurmReadBack(compatibleReadBackDir(raw), raw, `irg compatible --out ${out} --collect --submit`, `all chains are in ${out}`);
      return;
    }
    const o = compatibleCommandOptions(raw);
    if (raw.slurm === true) {
      const r = await compatibleSlurmCommand(o, raw);
      const w = r.written;
      process.stdout.write(!w ? `all ${r.tasks} tasks in ${r.dir} are complete; join them with: irg compatible --out ${o.out} --collect\n`
        : w.jobId ? `submitted job ${w.jobId}: ${w.indices.length} of ${r.tasks} array tasks; follow it with irg compatible --out ${o.out} --status, then join with --collect\n`
        : `wrote ${w.script}: ${w.indices.length} of ${r.tasks} array tasks; submit with: sbatch ${w.script}, then join with irg compatible --out ${o.out} --collect\n`);
      return;
    }
    const progress = progressReporter({ quiet: raw.quiet === true, label: `compatible ${o.from}→${o.to}`, unit: "chains" });
    const interrupt = interruptFlag();
    try {
      const r = await compatibleCommand(o, raw, { progress: progress.update, shouldStop: interrupt.stop });
      progress.stop();
      if (!r.completed) {
        process.stdout.write(`stopped after ${r.written} of ${o.chains} chains (${r.seconds.toFixed(1)} s); checkpoint in ${r.checkpoint}; continue with the same command and --resume\n`);
        process.exitCode = interrupt.exitCode();
        return;
      }
      if (r.resumedAt > 0) process.stdout.write(`resumed at chain ${r.resumedAt}\n`);
      for (const line of levelLines(r.levels ?? [])) process.stdout.write(`${line}\n`);
      process.stdout.write(`wrote ${r.out}: sizes ${r.sizes.join(", ")}, ${o.chains} chains (${r.seconds.toFixed(1)} s)\n`);
    } finally {
      progress.stop();
      interrupt.dispose();
    }
  });
}

/** `irg pipeline compatible` (dispatched from src/cli/pipeline.ts with that command's parsed options). */
export async function compatiblePipeline(o: Record<string, string | boolean | undefined>, cmd: Command): Promise<void> {
  const opts = compatibleStudyOptions(o, (k) => o[k] !== undefined && cmd.getOptionValueSource(k) !== "default");
  const { from, to } = opts;
  const progress = progressReporter({ quiet: o.quiet === true, label: `compatible ${from}→${to}`, unit: "‰" });
  const interrupt = interruptFlag();
  try {
    const { result: r, report } = await compatibleStudyCommand(opts, {
      progress: progress.update, shouldStop: interrupt.stop,
      log: (m) => {
        progress.stop();
        process.stderr.write(`irg: ${m}\n`);
      },
    }, async (r) => htmlDocument(`Compatible Monte Carlo, 3D Ising at K_c: L = ${from} → ${to}`, await compatibleBlocks(r)));
    progress.stop();
    for (const e of r.ensembles) {
      for (const m of e.mcrg) process.stdout.write(`${e.label}, ${m.Lfine}->${m.Lfine / 2}${m.step ? ` (step ${m.step + 1})` : ""}: nu = ${fmt({ ...m.nu.at(-1)!, tauInt: NaN })}, eta = ${fmt({ ...m.eta.at(-1)!, tauInt: NaN })} (bootstrap 0.629971, 0.0362978)\n`);
      for (const f of e.fss) process.stdout.write(`${e.label}, FSS L=${f.sizes.join(",")}: gamma/nu = ${fmt(f.gammaOverNu)} (1.96370), beta/nu = ${fmt(f.betaOverNu)} (0.51815)\n`);
    }
    for (const v of r.validation) {
      for (const row of v.rows) process.stdout.write(`validation L=${v.L} ${row.quantity}: direct ${fmt(row.direct)}; ${row.generated.map((g) => `${g.label} ${fmt(g.value)} (${g.z.toFixed(1)} sigma)`).join("; ")}\n`);
    }
    if (r.cost.wolff) process.stdout.write(`cost at L=${r.cost.L}: compatible ${r.cost.compatible.toFixed(3)} s per configuration, Wolff ${r.cost.wolff.perIndependent.toFixed(3)} s per independent configuration (tau_int ${r.cost.wolff.tau.toFixed(2)} sweeps)\n`);
    process.stdout.write(`report: ${report} (${r.seconds.toFixed(0)} s)\n`);
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}
