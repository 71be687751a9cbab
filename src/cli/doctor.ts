// `irg doctor [--json]`: what this machine offers (see jobs/doctor.ts).

import { type Command } from "commander";
import { doctorLines, doctorReport } from "../jobs/doctor.js";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .option("--json", "print JSON")
    .description("report Node, CPU cores and the GPU adapter that --backend would use")
    .action(async (o: { json?: boolean }) => {
      const r = await doctorReport();
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${doctorLines(r).join("\n")}\n`);
    });
}
