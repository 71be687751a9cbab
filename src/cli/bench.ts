// `irg bench [--backend auto|gpu|cpu] [--quick] [--out file.json]`: the GPU kernels beside the CPU
// figures of the same run (see jobs/bench-gpu.ts).

import { type Command } from "commander";
import { benchCommand, gpuBenchLines } from "../jobs/bench-gpu.js";

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
      const r = await benchCommand(o, (line) => process.stderr.write(`irg: ${line}\n`));
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${gpuBenchLines(r).join("\n")}\n`);
    });
}
