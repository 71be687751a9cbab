// `irg block <in.h5> --out <out.h5>`: the b = 2 block transformation of every stored configuration,
// keeping each parent's row and reweighting variable.

import { type Command } from "commander";
import { blockCommand } from "../jobs/block.js";

export function registerBlock(program: Command): void {
  program
    .command("block")
    .argument("<in.h5>", "ensemble with stored configurations")
    .requiredOption("--out <out.h5>", "blocked ensemble (L/2)")
    .option("--seed <s>", "seed for tie-breaking (default: the parent's seed)")
    .option("--rule <name>", "majority (ising), phi4 (phi4), plurality (potts), overlap (ea: majority of rho = s*t), or decimation (any model: the site 2X of every block, for exact inverse RG); default: the model's")
    .option("--force", "overwrite an existing output file")
    .description("apply the block RG transformation (b = 2): the model's rule (phi4 block rule, Ising majority, Potts plurality, the overlap rule of ea) or decimation")
    .action(async (input: string, o: { out: string; seed?: string; force?: boolean; rule?: string }) => {
      const r = await blockCommand(input, o);
      process.stdout.write(`wrote ${r.out}: ${r.configurations} blocked configurations of size ${r.L}\n`);
    });
}
