// Scans: the same grid run with 2 worker threads and with none gives identical ensembles (streams
// are keyed by grid point, not by worker), and a rerun skips finished points.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { parseGrid } from "../src/jobs/scan.js";

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
