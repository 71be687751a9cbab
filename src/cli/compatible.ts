// `irg compatible` (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): compatible Monte Carlo L0 → 2L0 → … → L
// into one HDF5 file, and `irg pipeline compatible`: the 3D Ising study with its HTML report.

import { type Command } from "commander";
import { join } from "node:path";
import { h5Ready } from "../io/h5.js";
import { writeFileAtomic } from "../io/files.js";
import { UsageError } from "../models/params.js";
import { addParams } from "./params.js";
import { compatibleCommand, compatibleCommandOptions, COMPATIBLE_SPECS, type LevelEstimates, levelSizes } from "../jobs/compatible.js";
import { runCompatibleStudy, type StudyOptions } from "../jobs/compatible-study.js";
import { type Estimate } from "../analysis/stats.js";
import { type UnconstrainedAlgorithm } from "../irg/compatible.js";
import { writeReport } from "../report/html.js";
import { compatibleBlocks, studyJson } from "../report/compatible-report.js";
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
    .option("--resume", "continue an interrupted run from its checkpoint <out>.partial (same options; --chains may grow); the file is the same as without the interruption")
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

/** Defaults of `irg pipeline compatible`: a few minutes to 64³, the full study with --to 128. */
export function studyDefaults(to: number): Omit<StudyOptions, "outDir" | "workers"> {
  const full = to >= 128;
  return {
    from: 4, to, chains: full ? 200 : 256, sweeps: 10, unconstrained: 3, refineAlgorithm: "hybrid", refinedChains: full ? 400 : 128, therm: 100, seed: 1,
    metropolisMax: full ? 64 : 32, refinePoints: [0, 1, 2, 4, 8, 16, 32, 64, 128],
  };
}

function refineAlgorithm(v: string | boolean | undefined): UnconstrainedAlgorithm | undefined {
  if (v === undefined) return undefined;
  if (v !== "local" && v !== "wolff" && v !== "hybrid") throw new UsageError(`--unconstrained-algorithm must be local, wolff or hybrid, got ${String(v)}`);
  return v;
}

const NOT_FOR_COMPATIBLE = ["target", "L0", "genLimit", "couplings", "direct", "epochs"];

/** `irg pipeline compatible` (dispatched from src/cli/pipeline.ts with that command's parsed options). */
export async function compatiblePipeline(o: Record<string, string | boolean | undefined>, cmd: Command): Promise<void> {
  await h5Ready();
  const given = (k: string): boolean => o[k] !== undefined && cmd.getOptionValueSource(k) !== "default";
  for (const k of NOT_FOR_COMPATIBLE) {
    if (given(k)) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to pipeline compatible`);
  }
  const num = (k: string, min: number, max = 1e9): number | undefined => {
    if (o[k] === undefined) return undefined;
    const v = Number(o[k]);
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be an integer between ${min} and ${max}, got ${String(o[k])}`);
    return v;
  };
  const to = num("to", 8, 512) ?? 64;
  const d = studyDefaults(to);
  const from = num("from", 2, 256) ?? d.from;
  levelSizes(from, to);
  if (!(to / from >= 4)) throw new UsageError(`pipeline compatible needs at least two doublings (--to >= 4 × --from), got ${from} → ${to}`);
  const opts: StudyOptions = {
    ...d, from, to,
    chains: num("chains", 20) ?? d.chains,
    sweeps: num("sweeps", 2) ?? d.sweeps,
    unconstrained: num("unconstrained", 0) ?? d.unconstrained,
    refineAlgorithm: refineAlgorithm(o.unconstrainedAlgorithm) ?? d.refineAlgorithm,
    seed: num("seed", 0) ?? d.seed,
    ...(o.directSweeps !== undefined ? { directSweeps: num("directSweeps", 100) } : {}),
    outDir: given("outDir") ? String(o.outDir) : join(String(o.outDir), "compatible"),
    ...(o.workers !== undefined ? { workers: num("workers", 0, 256) } : {}),
  };
  opts.refinedChains = num("refinedChains", 20) ?? (o.chains !== undefined ? Math.max(20, Math.round(opts.chains / 2)) : d.refinedChains);
  const progress = progressReporter({ quiet: o.quiet === true, label: `compatible ${from}→${to}`, unit: "‰" });
  const interrupt = interruptFlag();
  try {
    const r = await runCompatibleStudy(opts, {
      progress: progress.update, shouldStop: interrupt.stop,
      log: (m) => {
        progress.stop();
        process.stderr.write(`irg: ${m}\n`);
      },
    });
    progress.stop();
    const report = join(opts.outDir, "report.html");
    writeReport(report, `Compatible Monte Carlo, 3D Ising at K_c: L = ${from} → ${to}`, await compatibleBlocks(r));
    writeFileAtomic(join(opts.outDir, "results.json"), JSON.stringify(studyJson(r), null, 1));
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
