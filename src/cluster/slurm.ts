// The SLURM back-end: a job-array script whose task k runs one piece of work (a grid point), and its
// submission through the scheduler's own `sbatch`. No scheduler of our own: SLURM runs, retries and
// limits the tasks; each task's random streams come from its (seed, task) key, so the results equal a
// local run's bit for bit.

import { spawnSync } from "node:child_process";

export interface ArrayScriptOptions {
  /** Job name shown by squeue. */
  name: string;
  /** Array indices to run (0 … n−1 for a new scan; the unfinished ones for a resubmission). */
  indices: readonly number[];
  /** At most this many tasks at once (`%N`). */
  throttle?: number;
  /** Time limit per task, as sbatch takes it (e.g. "02:00:00"). */
  time?: string;
  partition?: string;
  account?: string;
  /** Further `#SBATCH` lines, given without the prefix (e.g. "--mem=2G"). */
  extra?: readonly string[];
  /** Where each task's log goes (`%A` job id, `%a` task index). */
  log: string;
  /** The command a task runs; `$SLURM_ARRAY_TASK_ID` is its index. */
  command: string;
}

/** Compresses indices into sbatch's array syntax: 0-3,7,9-10. */
export function arraySpec(indices: readonly number[]): string {
  const s = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** The sbatch script of a job array. */
export function arrayScript(o: ArrayScriptOptions): string {
  if (o.indices.length === 0) throw new RangeError("a job array needs at least one task");
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${o.name}`,
    `#SBATCH --array=${arraySpec(o.indices)}${o.throttle ? `%${o.throttle}` : ""}`,
    `#SBATCH --output=${o.log}`,
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    // SIGTERM at the time limit reaches the run, which writes a checkpoint; requeued tasks resume.
    "#SBATCH --signal=B:TERM@30",
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.account ? [`#SBATCH --account=${o.account}`] : []),
    ...(o.extra ?? []).map((l) => `#SBATCH ${l}`),
    "set -u",
    o.command,
    "",
  ];
  return lines.join("\n");
}

/** Submits a script with `sbatch --parsable`; returns the job id, or throws with sbatch's own message. */
export function submit(script: string): string {
  const r = spawnSync("sbatch", ["--parsable", script], { encoding: "utf8" });
  if (r.error) throw new RangeError(`cannot run sbatch (${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "not installed here" : r.error.message}); submit ${script} on a machine with SLURM`);
  if (r.status !== 0) throw new RangeError(`sbatch refused ${script}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`);
  return r.stdout.trim().split(";")[0]!;
}

/**
 * The queue state (PENDING, RUNNING, …) of every array task of `jobs` still known to the scheduler,
 * by task index (later jobs win: a resubmission supersedes the earlier array). Finished tasks leave the
 * queue; the caller reads their outcome from the files they wrote.
 */
export function queueStates(jobs: readonly string[]): { states: Map<number, string>; note?: string } {
  const states = new Map<number, string>();
  for (const job of jobs) {
    const r = spawnSync("squeue", ["-h", "-r", "-j", job, "-o", "%K %T"], { encoding: "utf8" });
    if (r.error) return { states, note: `squeue cannot be run here (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): tasks still queued cannot be told from killed ones` };
    if (r.status !== 0) continue; // a job the scheduler no longer knows: all its tasks have ended
    for (const line of r.stdout.split("\n")) {
      const [task, state] = line.trim().split(/\s+/);
      if (task !== undefined && state !== undefined && /^\d+$/.test(task)) states.set(Number(task), state);
    }
  }
  return { states };
}
