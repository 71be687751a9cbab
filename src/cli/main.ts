#!/usr/bin/env node
// The `irg` command line: simulate, measure, block, … Each command validates its input at the
// edge and reports bad input as one line with exit code 2 (never a stack trace).

import { Command, CommanderError } from "commander";
import { exitCodeOf } from "../models/params.js";
import { VERSION } from "../version.js";

/** Prints a one-line error and exits 2 for user errors, 4 for a full disk; 1 with a short report otherwise. */
export function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const e = err as Error & { diskFull?: boolean; code?: string; path?: string };
  const code = exitCodeOf(err);
  if (code === 4) {
    process.stderr.write(`irg: error: ${e.diskFull ? e.message : `the disk is full (${e.code}) writing ${e.path ?? "a file"}; free space and rerun (runs continue with --resume)`}\n`);
    process.exit(4);
  }
  if (code === 2 || code === 5) {
    process.stderr.write(`irg: error: ${e.message}\n`);
    process.exit(code);
  }
  process.stderr.write(`irg: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.IRG_DEBUG) process.stderr.write(`${e?.stack ?? ""}\n`);
  else process.stderr.write("irg: this is a bug; rerun with IRG_DEBUG=1 for details and report it\n");
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command("irg")
    .description("Lattice Monte Carlo and the inverse renormalization group")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith("error:") ? `irg: ${s}` : s) });
  // Commands are loaded lazily so that `irg --help` and light commands start fast.
  const { registerSimulate } = await import("./simulate.js");
  const { registerMeasure } = await import("./measure.js");
  const { registerScan, registerScanTask } = await import("./scan.js");
  const { registerMcrg } = await import("./mcrg.js");
  const { registerBlock } = await import("./block.js");
  const { registerReweight } = await import("./reweight.js");
  const { registerValidate } = await import("./validate.js");
  const { registerTrain } = await import("./train.js");
  const { registerGenerate } = await import("./generate.js");
  const { registerExact } = await import("./exact.js");
  const { registerPipeline } = await import("./pipeline.js");
  const { registerCompatible } = await import("./compatible.js");
  const { registerExport } = await import("./export.js");
  const { registerModels } = await import("./models.js");
  const { registerDoctor } = await import("./doctor.js");
  const { registerBench } = await import("./bench.js");
  registerSimulate(program);
  registerScan(program);
  registerExact(program);
  registerScanTask(program);
  registerMcrg(program);
  registerBlock(program);
  registerReweight(program);
  registerValidate(program);
  registerTrain(program);
  registerGenerate(program);
  registerPipeline(program);
  registerCompatible(program);
  registerExport(program);
  registerMeasure(program);
  registerModels(program);
  registerDoctor(program);
  registerBench(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError("(run with --help for usage)");
  await program.parseAsync(argv);
}

// A closed pipe (`irg measure f.h5 | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
main(process.argv).catch(fail);
