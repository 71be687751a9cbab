// Against a real SLURM (Debian's slurm-wlm on a one-node cluster started by scripts/slurm-local.sh):
// a scan submitted as a job array gives the files of a local scan; a task stopped by its time limit is
// found by --collect and the resubmitted task resumes its checkpoint, continuing the run exactly.
// Skipped, with the reason printed, where SLURM cannot be started (not installed, not root).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const harness = fileURLToPath(new URL("../../scripts/slurm-local.sh", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(500);
  }
}

/** Series and configurations of a file, the first `rows` measurements (all when omitted). */
function contents(path: string, rows?: number): { series: number[][]; configs: number[] } {
  const e = openEnsemble(path);
  try {
    const n = rows ?? e.series(e.meta.observables[0]!).length;
    const every = Number(e.meta.params.saveEvery ?? 1);
    return {
      series: e.meta.observables.map((o) => Array.from(e.series(o).subarray(0, n))),
      configs: Array.from(e.configs(0, Math.min(e.configRows, Math.floor(n / every)))),
    };
  } finally {
    e.close();
  }
}

test("real SLURM: a scan array equals the local scan; a task stopped by its time limit is collected, resubmitted and resumes exactly", { timeout: 400_000 }, async (t) => {
  const cluster = mkdtempSync(join(tmpdir(), "irg-slurmctl-"));
  const start = spawnSync("bash", [harness, "start", cluster], { encoding: "utf8" });
  if (start.status !== 0) {
    const why = (start.stderr || start.stdout).trim().split("\n").pop() ?? `exit ${start.status}`;
    console.log(`# real-SLURM test skipped: ${why}`);
    t.skip(`no SLURM here: ${why}`);
    return;
  }
  const env = { ...process.env, SLURM_CONF: join(cluster, "slurm.conf"), IRG_TEST: "1" };
  const irg = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env });
  const jobcomp = (job: string): string => (existsSync(join(cluster, "jobcomp.txt")) ? readFileSync(join(cluster, "jobcomp.txt"), "utf8") : "")
    .split("\n").filter((l) => l.includes(`JobId=${job} `) || new RegExp(`JobId=\\d+ .*ArrayJobId=${job} `).test(l)).join("\n");
  try {
    await h5Ready();
    // 1. A grid as an array of four tasks, two at a time.
    const dir = mkdtempSync(join(tmpdir(), "irg-slurm-real-")), local = mkdtempSync(join(tmpdir(), "irg-slurm-real-local-"));
    const grid = ["scan", "phi4", "--L", "4,8", "--mu2", "-1.0,-0.9", "--sweeps", "400", "--therm", "40", "--save-every", "5", "--seed", "3"];
    const sub = irg(...grid, "--out-dir", dir, "--slurm", "--submit", "--throttle", "2");
    assert.equal(sub.status, 0, sub.stderr);
    const job = /submitted job (\d+)/.exec(sub.stdout)?.[1];
    assert.ok(job, sub.stdout);
    assert.equal(irg(...grid, "--out-dir", local, "--workers", "0").status, 0);
    await until("the array to finish", () => irg("scan", "phi4", "--status", "--out-dir", dir).status === 0, 120);
    const c = irg("scan", "phi4", "--collect", "--out-dir", dir);
    assert.equal(c.status, 0, c.stdout);
    assert.match(c.stdout, /4 tasks: 4 complete/);
    for (const p of (JSON.parse(readFileSync(join(local, "scan.json"), "utf8")) as { points: { file: string }[] }).points) {
      const name = p.file.split("/").pop()!;
      assert.deepEqual(contents(join(dir, name)), contents(join(local, name)), name);
    }

    // 2. One long task under a one-minute limit: SLURM signals it 30 s early (--signal=B:TERM@30), it
    // checkpoints and exits 143; --collect finds it and resubmits it; the resumed task continues the run.
    const long = mkdtempSync(join(tmpdir(), "irg-slurm-limit-"));
    const point = ["scan", "phi4", "--L", "32", "--mu2", "-0.95", "--sweeps", "100000000", "--therm", "0", "--every", "10", "--save-every", "50", "--seed", "4"];
    const s1 = irg(...point, "--out-dir", long, "--slurm", "--submit", "--time", "1");
    assert.equal(s1.status, 0, s1.stderr);
    const job1 = /submitted job (\d+)/.exec(s1.stdout)![1]!;
    await until("the time limit", () => /ExitCode=/.test(jobcomp(job1)), 150);
    assert.match(jobcomp(job1), /ExitCode=143:0/, "the task stopped itself on the signal (checkpoint written) instead of being killed");
    const file = join(long, "phi4_L32_mu2-0.950000.h5");
    const rows1 = contents(file).series[0]!.length;
    assert.ok(rows1 > 0, "measurements were checkpointed before the limit");
    const st = irg("scan", "phi4", "--status", "--out-dir", long);
    assert.equal(st.status, 3);
    assert.match(st.stdout, /checkpoint .*\(stopped, exit 143\)/);
    const s2 = irg("scan", "phi4", "--collect", "--submit", "--out-dir", long);
    assert.equal(s2.status, 3, s2.stderr);
    const job2 = /as job (\d+)/.exec(s2.stdout)?.[1];
    assert.ok(job2, s2.stdout);
    await until("the resubmitted task to run", () => /running/.test(irg("scan", "phi4", "--status", "--out-dir", long).stdout), 60);
    await sleep(4000);
    assert.equal(spawnSync("scancel", [job2], { env }).status, 0);
    // A cancelled job's recorded exit code is SLURM's, not the task's: the task's own record says how it ended.
    await until("the resubmitted task to stop", () => /JobState=CANCELLED/.test(jobcomp(job2)), 60);
    const recordOf = () => JSON.parse(readFileSync(join(long, "tasks", "0.json"), "utf8")) as { exit: number; state: string; job: string };
    await until("the task's exit record", () => recordOf().job === `${job2}_0`, 30);
    const record = recordOf();
    assert.deepEqual([record.exit, record.state, record.job], [143, "stopped", `${job2}_0`]);
    const resumed = contents(file);
    const rows2 = resumed.series[0]!.length;
    assert.ok(rows2 > rows1, `the resubmitted task continued the run (${rows1} → ${rows2} measurements)`);
    assert.match(readFileSync(join(long, `slurm-${job2}_0.out`), "utf8"), /stopped after/);
    // The stopped-and-resumed run equals an uninterrupted run of the same length, row for row.
    const ref = mkdtempSync(join(tmpdir(), "irg-slurm-ref-"));
    const refRun = irg(...point.slice(0, point.indexOf("--sweeps")), "--sweeps", String(rows2 * 10), ...point.slice(point.indexOf("--sweeps") + 2), "--out-dir", ref, "--workers", "0");
    assert.equal(refRun.status, 0, refRun.stderr);
    assert.deepEqual(resumed, contents(join(ref, "phi4_L32_mu2-0.950000.h5"), rows2));
  } finally {
    spawnSync("bash", [harness, "stop", cluster]);
  }
});
