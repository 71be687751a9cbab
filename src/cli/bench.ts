// `irg bench [--backend auto|gpu|cpu] [--quick] [--out file.json]`: the GPU kernels beside the CPU
// figures of the same run (see jobs/bench-gpu.ts).

import { type Command } from "commander";
import { benchCommand, gpuBenchLines } from "../jobs/bench-gpu.js";
import { BACKENDS } from "../jobs/backend.js";
import { type BackendChoice } from "../mc/backend.js";
import { UsageError } from "../models/params.js";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("measure the GPU kernels (Ising updates/ns, spin-glass ps per sample-spin, network inference) beside the CPU")
    .option("--backend <name>", "auto (a hardware GPU), gpu (any adapter, a software one included) or cpu (CPU figures only)", "auto")
    .option("--quick", "small sizes and short timings")
    .option("--L <n>", "a further 2D Ising size on the GPU")
    .option("--out <file.json>", "write the result as JSON")
    .option("--json", "print JSON instead of the tables")
    .action(async (o: { backend: string; quick?: boolean; L?: string; out?: string; json?: boolean }) => {
      if (!(BACKENDS as readonly string[]).includes(o.backend)) throw new UsageError(`--backend must be ${BACKENDS.join(", ")}, got ${o.backend}`);
      const L = o.L === undefined ? undefined : Number(o.L);
      if (L !== undefined && !(Number.isInteger(L) && L >= 16 && L % 16 === 0)) throw new UsageError(`--L must be a multiple of 16, got ${o.L}`);
      const r = await benchCommand({ backend: o.backend as BackendChoice, quick: o.quick === true, L, out: o.out, notice: (line) => process.stderr.write(`irg: ${line}\n`) });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${gpuBenchLines(r).join("\n")}\n`);
    });
}
