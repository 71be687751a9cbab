// The SLURM flags and read-back shared by `irg scan` and `irg compatible`: --slurm writes a job array,
// --status says where its tasks stand, --collect joins finished batches and resubmits the rest.

import { type Command } from "commander";
import { readBackSlurm, type ScanStatus } from "../jobs/scan-slurm.js";
import { STOPPED_EXIT } from "./simulate.js";

/** Adds --slurm, --batch (described by `batch`), --submit, --throttle, --time, --partition, --account, --sbatch, --status, --collect. */
export function addSlurmOptions(cmd: Command, what: { tasks: string; batch: string }): Command {
  return cmd
    .option("--slurm", `do not run here: write a SLURM job array with ${what.tasks}`)
    .option("--batch <n>", what.batch)
    .option("--submit", "with --slurm or --collect: submit the array with sbatch")
    .option("--throttle <n>", "with --slurm: at most n tasks at once (%n)")
    .option("--time <limit>", "with --slurm: time limit per task (sbatch --time, e.g. 02:00:00); a task stopped by it checkpoints, and resumes when resubmitted")
    .option("--partition <name>", "with --slurm: partition")
    .option("--account <name>", "with --slurm: account")
    .option("--sbatch <line...>", "with --slurm: further #SBATCH lines, e.g. --sbatch --mem=2G")
    .option("--status", "where every task of a --slurm run stands (complete, running, pending, failed, checkpoint, not started), from its files, exit records and squeue; exit 0 when all are complete, 3 otherwise")
    .option("--collect", "read back a --slurm run: join the batches that are complete, and write (with --submit, submit) an array of the unfinished tasks only, which resume their checkpoints; exit 0 when all is complete, 3 otherwise");
}

function printStatus(st: ScanStatus): void {
  for (const p of st.points) process.stdout.write(`${String(p.index).padStart(4)} ${p.state.padEnd(12)} ${p.file}${p.detail ? `  (${p.detail})` : ""}\n`);
  const count = (state: string): number => st.points.filter((p) => p.state === state).length;
  const parts = ["complete", "joined", "running", "pending", "checkpoint", "failed", "not started", "unreadable"].filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  process.stdout.write(`${st.points.length} tasks: ${parts.join(", ")}${st.joinable.length ? `; ${st.joinable.length} ready to join (--collect)` : ""}\n`);
  if (st.queueNote) process.stdout.write(`note: ${st.queueNote}\n`);
}

/** --status / --collect of the plan in `dir`; `collect` is the command that continues it; `done` what to say at the end. */
export async function slurmReadBack(dir: string, raw: Record<string, unknown>, collect: string, done: string): Promise<void> {
  const r = await readBackSlurm(dir, raw);
  if ("status" in r) {
    const st = r.status;
    printStatus(st);
    process.stdout.write(st.unfinished.length || st.joinable.length ? `continue with: ${collect}\n` : "");
    if (st.unfinished.length || st.queued.length || st.joinable.length) process.exitCode = STOPPED_EXIT;
    return;
  }
  const c = r.collected;
  printStatus(c.status);
  for (const f of c.joined) process.stdout.write(`joined ${f}\n`);
  if (c.resubmitted) {
    process.stdout.write(c.resubmitted.jobId
      ? `resubmitted ${c.resubmitted.indices.length} unfinished tasks as job ${c.resubmitted.jobId}; they resume their checkpoints\n`
      : `wrote ${c.resubmitted.script} for the ${c.resubmitted.indices.length} unfinished tasks; submit with: sbatch ${c.resubmitted.script} (or add --submit)\n`);
  }
  if (c.done) process.stdout.write(`${done}\n`);
  else process.exitCode = STOPPED_EXIT;
}
