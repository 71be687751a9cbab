// Scans: the same grid run with 2 worker threads and with none gives identical ensembles (streams
// are keyed by grid point, not by worker), and a rerun skips finished points.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { parseGrid } from "../src/jobs/scan.js";
import { arraySpec } from "../src/cluster/slurm.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const irg = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });

test("grid syntax: inclusive ranges and lists", () => {
  assert.deepEqual(parseGrid("--mu2", "-1.0:-0.9:0.05"), [-1, -0.95, -0.9]);
  assert.deepEqual(parseGrid("--L", "8,16,32"), [8, 16, 32]);
  assert.throws(() => parseGrid("--mu2", "-1:-0.9:-0.1"), /range/);
  assert.throws(() => parseGrid("--L", "8,x"), /list/);
});

test("scan results do not depend on the number of workers; reruns skip finished points", async () => {
  await h5Ready();
  const dirs = [mkdtempSync(join(tmpdir(), "irg-scan-")), mkdtempSync(join(tmpdir(), "irg-scan-"))];
  const args = ["scan", "phi4", "--L", "4,8", "--mu2", "-1.0,-0.9", "--sweeps", "200", "--therm", "20", "--save-every", "5", "--seed", "9"];
  const r0 = irg(...args, "--out-dir", dirs[0]!, "--workers", "2");
  assert.equal(r0.status, 0, r0.stderr);
  assert.match(r0.stdout, /4 of 4 runs completed/);
  const r1 = irg(...args, "--out-dir", dirs[1]!, "--workers", "0");
  assert.equal(r1.status, 0, r1.stderr);
  const manifest = JSON.parse(readFileSync(join(dirs[0]!, "scan.json"), "utf8"));
  assert.equal(manifest.points.length, 4);
  const seen = new Set<string>();
  for (const p of manifest.points as { file: string }[]) {
    const read = (d: string) => {
      const e = openEnsemble(join(d, p.file.split("/").pop()!));
      try {
        return { m: Array.from(e.series("magnetization")), c: Array.from(e.configs(0, e.configRows)) };
      } finally {
        e.close();
      }
    };
    const a = read(dirs[0]!), b = read(dirs[1]!);
    assert.deepEqual(a, b);
    seen.add(JSON.stringify(a.m.slice(0, 3)));
  }
  assert.equal(seen.size, 4, "every grid point has its own random stream");
  const again = irg(...args, "--out-dir", dirs[0]!);
  assert.match(again.stdout, /all 4 grid points .* are complete/);
});

test("a scan into a directory with earlier runs: other physics is refused; a new coupling keeps the earlier points and gets its own stream", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-scan-merge-"));
  const args = ["scan", "phi4", "--L", "4", "--sweeps", "100", "--therm", "10", "--save-every", "5", "--seed", "3", "--out-dir", dir];
  assert.equal(irg(...args, "--mu2", "-1.0,-0.9").status, 0);
  for (const [flag, value, stored] of [["--lambda", "0.5", "0.7"], ["--seed", "4", "3"], ["--sweeps", "300", "100"]] as const) {
    const bad = irg(...args.map((a, k) => (args[k - 1] === flag ? value : a)), ...(flag === "--lambda" ? [flag, value] : []), "--mu2", "-1.0,-0.9");
    assert.equal(bad.status, 2, `${flag}: ${bad.stdout}`);
    assert.match(bad.stderr, new RegExp(`was run with ${flag} ${stored}, not ${value}: scan into another --out-dir, or rerun it with --force`));
  }
  const more = irg(...args, "--mu2", "-0.8");
  assert.equal(more.status, 0, more.stderr);
  const m = JSON.parse(readFileSync(join(dir, "scan.json"), "utf8")) as { values: number[]; points: { value: number; task: number }[] };
  assert.deepEqual(m.values, [-1, -0.9, -0.8]);
  assert.deepEqual(m.points.map((p) => p.task).sort(), [0, 1, 2]);
  const other = irg("scan", "ising", "--L", "4", "--beta", "0.4", "--out-dir", dir);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /holds a phi4 scan; scan ising into another --out-dir/);
});

test("slurm: the array syntax of task indices", () => {
  assert.equal(arraySpec([0, 1, 2, 3]), "0-3");
  assert.equal(arraySpec([7, 0, 2, 1, 9, 10]), "0-2,7,9-10");
  assert.equal(arraySpec([5]), "5");
});

test("scan --slurm writes a job array whose tasks, run as SLURM runs them, give the files of a local scan bit for bit; --status and resubmission cover the unfinished points", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-slurm-")), local = mkdtempSync(join(tmpdir(), "irg-slurm-local-"));
  const args = ["scan", "phi4", "--L", "4,8", "--mu2", "-1.0,-0.9", "--sweeps", "200", "--therm", "20", "--save-every", "5", "--seed", "9"];
  const w = irg(...args, "--out-dir", dir, "--slurm", "--throttle", "2", "--time", "00:10:00", "--partition", "short", "--sbatch", "--mem=1G");
  assert.equal(w.status, 0, w.stderr);
  const script = join(dir, "scan.sbatch");
  const text = readFileSync(script, "utf8");
  for (const line of ["#SBATCH --array=0-3%2", "#SBATCH --time=00:10:00", "#SBATCH --partition=short", "#SBATCH --mem=1G", "#SBATCH --signal=B:TERM@30"]) assert.ok(text.includes(line), line);
  assert.match(text, /scan-task --out-dir "[^"]+" --index "\$SLURM_ARRAY_TASK_ID"/);
  // What sbatch does with the script, without a scheduler: run it with each task's index.
  const task = (k: number) => spawnSync("bash", [script], { encoding: "utf8", env: { ...process.env, SLURM_ARRAY_TASK_ID: String(k), IRG_TEST: "1" } });
  for (const k of [0, 2]) assert.equal(task(k).status, 0);
  const st = irg("scan", "phi4", "--status", "--out-dir", dir);
  assert.equal(st.status, 3);
  assert.match(st.stdout, /4 tasks: 2 complete, 2 not started\n/);
  assert.match(st.stdout, /continue with: irg scan phi4 --collect --submit/);
  // --collect (without --submit) writes an array of only the unfinished points.
  const c = irg("scan", "phi4", "--collect", "--out-dir", dir);
  assert.equal(c.status, 3, c.stderr);
  assert.match(readFileSync(script, "utf8"), /#SBATCH --array=1,3\n/);
  assert.match(c.stdout, /for the 2 unfinished tasks/);
  for (const k of [1, 3]) assert.equal(task(k).status, 0);
  assert.match(task(1).stdout, /already complete/);
  assert.equal(irg("scan", "phi4", "--status", "--out-dir", dir).status, 0);
  assert.equal(irg("scan", "phi4", "--collect", "--out-dir", dir).status, 0);
  assert.equal(irg(...args, "--out-dir", local, "--workers", "0").status, 0);
  const m = JSON.parse(readFileSync(join(local, "scan.json"), "utf8")) as { points: { file: string }[] };
  for (const p of m.points) {
    const name = p.file.split("/").pop()!;
    const read = (d: string) => {
      const e = openEnsemble(join(d, name));
      try {
        return [Array.from(e.configs(0, e.configRows)), Array.from(e.series("action"))];
      } finally {
        e.close();
      }
    };
    assert.deepEqual(read(dir), read(local), name);
  }
  const bad = irg(...args, "--out-dir", dir, "--slurm", "--batch", "32");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--batch splits the disorder samples of a --slurm scan; phi4 has none/);
});

test("a spin-glass scan as SLURM array tasks over batches of samples: --collect joins them into the files of a local scan, bit for bit; a failed task is reported with its exit code", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-slurm-ea-")), local = mkdtempSync(join(tmpdir(), "irg-slurm-ea-local-"));
  const args = ["scan", "ea", "--L", "4", "--samples", "96", "--temperatures", "1.4,1.2,1.0", "--sweeps", "100", "--therm", "100", "--every", "10", "--save-every", "2", "--seed", "5"];
  assert.match(irg(...args, "--out-dir", dir, "--slurm", "--batch", "20").stderr, /--batch must be a multiple of 32/);
  const w = irg(...args, "--out-dir", dir, "--slurm", "--batch", "32");
  assert.equal(w.status, 0, w.stderr);
  const script = join(dir, "scan.sbatch");
  assert.match(readFileSync(script, "utf8"), /#SBATCH --array=0-2\n/);
  const task = (k: number) => spawnSync("bash", [script], { encoding: "utf8", env: { ...process.env, SLURM_ARRAY_TASK_ID: String(k), IRG_TEST: "1" } });
  for (const k of [0, 1]) assert.equal(task(k).status, 0);
  // Task 2 finds a directory where its file should go: it fails, and says so to --status.
  mkdirSync(join(dir, "parts", "ea_L4_s000064.h5"));
  const t2 = task(2);
  assert.equal(t2.status, 2);
  const st = irg("scan", "ea", "--status", "--out-dir", dir);
  assert.equal(st.status, 3);
  assert.match(st.stdout, /failed .*ea_L4_s000064\.h5 {2}\(exit 2: /);
  rmSync(join(dir, "parts", "ea_L4_s000064.h5"), { recursive: true });
  assert.equal(task(2).status, 0);
  const c = irg("scan", "ea", "--collect", "--out-dir", dir);
  assert.equal(c.status, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /joined .*ea_L4\.h5/);
  assert.match(irg("scan", "ea", "--status", "--out-dir", dir).stdout, /3 tasks: 3 joined/);
  assert.equal(irg(...args, "--out-dir", local).status, 0);
  for (const name of ["ea_L4.h5", "ea_L4_beta0.714286.h5", "ea_L4_beta0.833333.h5"]) {
    const read = (d: string) => {
      const e = openEnsemble(join(d, name));
      try {
        return { chains: e.meta.chains, samples: e.meta.params.samples, eq: e.meta.params.equilibrated, configs: Array.from(e.configs(0, e.configRows)), series: e.meta.observables.map((o) => Array.from(e.series(o))) };
      } finally {
        e.close();
      }
    };
    assert.deepEqual(read(dir), read(local), name);
  }
});
