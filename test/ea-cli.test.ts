// `irg simulate ea` with the multi-spin engine as a user runs it: the same file for 1 and 2 worker threads
// and for either kernel, a run stopped on 2 workers resumed on 1 (and again on 2) equal to the uninterrupted
// one, explicit ladders (--betas, --temperatures), and bad input as one line with exit code 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { simulateOptions } from "../src/jobs/simulation.js";
import { eaLadder, eaOptions } from "../src/models/ea-model.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-ea-cli-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function content(path: string): Record<string, number[]> {
  const e = openEnsemble(path);
  try {
    const out: Record<string, number[]> = { configs: Array.from(e.configs(0, e.configRows)) };
    for (const k of e.meta.observables) out[k] = Array.from(e.series(k));
    return out;
  } finally {
    e.close();
  }
}

test("simulate ea (multispin): identical files for 1 and 2 workers and both kernels; stop on 2 workers, resume on 1 and 2", async () => {
  await h5Ready();
  // 70 samples from 20: three blocks, the first and last partly outside the run.
  const args = ["simulate", "ea", "--L", "4", "--beta", "0.9", "--temperatures", "2.5,1.8,1.4,1.1111111111111112", "--samples", "70", "--first-sample", "20",
    "--sweeps", "120", "--therm", "30", "--every", "2", "--save-every", "3", "--seed", "4", "--quiet"];
  const one = join(dir, "one.h5"), two = join(dir, "two.h5"), ts = join(dir, "ts.h5"), res = join(dir, "res.h5");
  for (const [out, extra] of [[one, ["--workers", "1"]], [two, ["--workers", "2"]], [ts, ["--workers", "2", "--kernel", "typescript"]]] as const) {
    const r = irg(...args, ...extra, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*: 60 measurements, 1400 configurations/);
    assert.match(r.stdout, /ladder round trips: \d+ in total over 70 samples/);
  }
  const ref = content(one);
  assert.deepEqual(ref.sample!.slice(0, 3), [20, 21, 22]);
  assert.ok(ref.configs!.every((v) => v === 1 || v === -1));
  assert.deepEqual(content(two), ref);
  assert.deepEqual(content(ts), ref);
  let r = irg(...args, "--workers", "2", "--out", res, "--stop-after", "50");
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /stopped after 50 of 150 sweeps/);
  r = irg("simulate", "ea", "--resume", "--out", res, "--workers", "1", "--stop-after", "40", "--quiet");
  assert.match(r.stdout, /stopped after 90 of 150 sweeps/, r.stderr);
  r = irg("simulate", "ea", "--resume", "--out", res, "--workers", "2", "--quiet");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(content(res), ref);
  const e = openEnsemble(res);
  try {
    assert.equal(e.meta.params.betas, [1 / 2.5, 1 / 1.8, 1 / 1.4, 0.9].join(","));
    assert.equal(e.meta.params.algorithm, "multispin");
  } finally {
    e.close();
  }
});

test("simulate ea: explicit ladders, and bad input as one line (exit code 2, no file)", () => {
  const base = { L: 4, beta: 0.9, out: join(dir, "bad.h5") };
  const o = eaOptions(simulateOptions("ea", { ...base, betas: "0.9, 0.5,0.7" }));
  assert.deepEqual(Array.from(eaLadder(o).betas), [0.5, 0.7, 0.9]);
  assert.equal(eaLadder(o).target, 2);
  const t = eaOptions(simulateOptions("ea", { ...base, temperatures: "2,1.25,1.1111111111111112" }));
  assert.deepEqual(Array.from(eaLadder(t).betas), [0.5, 0.8, 0.9]);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ betas: "0.5,0.7" }, /does not contain the measured --beta 0.9/],
    [{ betas: "0.9" }, /at least 2 temperatures/],
    [{ betas: "0.5,0.9,0.5" }, /appears twice/],
    [{ temperatures: "1.1111111111111112,0" }, /"0" is not a positive number/],
    [{ betas: "0.5,0.9", temps: 4 }, /--temps does not go with an explicit ladder/],
    [{ betas: "0.5,0.9", temperatures: "2,1.1" }, /--betas or --temperatures, not both/],
    [{ temps: 1 }, /--temps must be between 2 and 256/],
    [{ L: 2 }, /--L must be at least 4 for ea/],
    [{ samples: 0 }, /--samples must be between 1/],
    [{ beta: 0 }, /--beta must be > 0/],
    [{ kernel: "gpu" }, /--kernel must be one of auto, wasm, typescript/],
    [{ algorithm: "metropolis", workers: 2 }, /--workers applies to --algorithm multispin only/],
  ];
  for (const [extra, re] of bad) assert.throws(() => simulateOptions("ea", { ...base, ...extra }), (e: Error) => e.name === "UsageError" && re.test(e.message) && !e.message.includes("\n"), JSON.stringify(extra));
  const r = irg("simulate", "ea", "--L", "5", "--beta", "0.9", "--out", base.out);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.ok(!existsSync(base.out));
});

test("simulate ea --store-betas writes one ea file per stored temperature; measure of several files gives the table and crossings", async () => {
  await h5Ready();
  const out = join(dir, "st.h5");
  const ladder = ["--temperatures", "1.6,1.4,1.25,1.1"];
  const common = ["--samples", "40", "--sweeps", "200", "--therm", "100", "--every", "2", "--save-every", "5", "--workers", "2", "--quiet"];
  let r = irg("simulate", "ea", "--L", "4", ...ladder, "--store-betas", "0.625,0.8", ...common, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  const files = [out, join(dir, "st_beta0.625000.h5"), join(dir, "st_beta0.800000.h5")];
  assert.match(r.stdout, /wrote .*st\.h5, .*st_beta0\.625000\.h5, .*st_beta0\.800000\.h5: 100 measurements/);
  const betas = [1 / 1.1, 0.625, 0.8];
  files.forEach((f, j) => {
    const e = openEnsemble(f);
    try {
      assert.ok(Math.abs(Number(e.meta.params.beta) - betas[j]!) < 1e-12, `${f}: beta ${e.meta.params.beta}`);
      assert.equal(e.meta.chains, 40);
      assert.equal(e.configRows, 20 * 40);
      assert.deepEqual(Array.from(e.series("sample").subarray(0, 3)), [0, 1, 2]);
      if (j > 0) assert.equal(e.meta.params.main_file, "st.h5");
    } finally {
      e.close();
    }
  });
  // The stored temperatures of one run are the same chains: the main file equals a run without --store-betas.
  const plain = join(dir, "plain.h5");
  r = irg("simulate", "ea", "--L", "4", ...ladder, ...common, "--out", plain);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(content(out), content(plain));
  r = irg("simulate", "ea", "--resume", "--out", files[1]!);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /resume the run through its main file st\.h5/);
  // A second size, then the table against T with crossings.
  r = irg("simulate", "ea", "--L", "6", ...ladder, "--store-betas", "all", ...common, "--out", join(dir, "st6.h5"));
  assert.equal(r.code, 0, r.stderr);
  const six = ["st6.h5", "st6_beta0.625000.h5", "st6_beta0.714286.h5", "st6_beta0.800000.h5"].map((f) => join(dir, f));
  const m = irg("measure", ...files, ...six, "--json");
  assert.equal(m.code, 0, m.stderr);
  const t = JSON.parse(m.stdout) as { rows: { L: number; T: number; estimates: Record<string, { value: number; error: number }> }[]; crossings: { L1: number; L2: number; quantity: string }[] };
  assert.deepEqual(t.rows.map((x) => x.L), [4, 4, 4, 6, 6, 6, 6]);
  assert.ok(t.rows[0]!.T < t.rows[1]!.T);
  for (const row of t.rows) assert.ok(row.estimates.xi_l!.error > 0 && row.estimates.g!.value > 0);
  assert.deepEqual(t.crossings.map((c) => `${c.L1}-${c.L2} ${c.quantity}`), ["4-6 xi/L", "4-6 g"]);
  const text = irg("measure", ...files, ...six);
  assert.match(text.stdout, /crossing of xi\/L between L = 4 and 6/);
  assert.match(irg("measure", out, join(dir, "one.h5")).stdout, /L +T +beta/);
});

test("scan ea: one run per size with every ladder temperature stored; a rerun finds the sizes complete", () => {
  const d = join(dir, "scan");
  const args = ["scan", "ea", "--L", "4,6", "--temperatures", "1.5,1.2,1.0", "--samples", "40", "--sweeps", "100", "--therm", "50", "--every", "2", "--save-every", "0", "--workers", "2", "--out-dir", d, "--quiet"];
  let r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 of 2 sizes complete/);
  for (const f of ["ea_L4.h5", "ea_L4_beta0.666667.h5", "ea_L4_beta0.833333.h5", "ea_L6.h5", "scan.json"]) assert.ok(existsSync(join(d, f)), f);
  r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /wrote/);
  assert.match(r.stdout, /2 of 2 sizes complete/);
});
