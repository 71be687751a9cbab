// `irg compatible` and `irg pipeline compatible` end to end at tiny sizes: the majority-rule constraint holds
// in the written file (blocking every level returns the previous one, chain by chain), the file does not
// depend on the number of workers, bad input is one line with exit code 2, and the report is written.
// Each CLI start costs about a second, so most input checks run in-process against `compatibleOptions`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeFile, h5Ready, openFile, readAttrs, readDataset } from "../src/io/h5.js";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { blockSpinsFirst } from "../src/mc/compatible.js";
import { isingEnergyRows } from "../src/models/ising.js";
import { isingEnergy, magnetization, randomSpins } from "../src/models/ising.js";
import { compatibleOptions } from "../src/jobs/compatible.js";
import { UsageError } from "../src/models/params.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-compatible-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Level { L: number; configs: Int8Array; shape: number[]; energy: Float64Array; magnetization: Float64Array; relax?: number[] }

function readLevels(path: string): { attrs: Record<string, unknown>; levels: Level[] } {
  const f = openFile(path, "r");
  try {
    const attrs = readAttrs(f, "/") as Record<string, unknown>;
    const sizes = Array.from(attrs.sizes as number[]);
    const levels = sizes.map((L) => {
      const c = readDataset(f, `/L${L}/configs`);
      const lv: Level = { L, configs: c.data as Int8Array, shape: c.shape, energy: readDataset(f, `/L${L}/energy`).data as Float64Array, magnetization: readDataset(f, `/L${L}/magnetization`).data as Float64Array };
      if (L > sizes[0]!) lv.relax = readDataset(f, `/L${L}/relax_energy`).shape;
      return lv;
    });
    return { attrs, levels };
  } finally {
    closeFile(f);
  }
}

test("isingEnergyRows equals isingEnergy in 2D and 3D (L = 2 included)", () => {
  const rng = rngFor({ seed: 5 });
  for (const [dim, L] of [[2, 2], [2, 6], [3, 2], [3, 4], [3, 6]] as const) {
    const lat = lattice(dim, L);
    for (let k = 0; k < 5; k++) {
      const s = randomSpins(lat.V, rng);
      assert.equal(isingEnergyRows(lat, s), isingEnergy(lat, s));
    }
  }
});

for (const [dim, from, to, workers] of [[3, 2, 16, "2"], [2, 4, 32, "0"]] as const) {
  test(`${dim}D ${from} → ${to}: every level blocks (tie → first spin) to the previous one, chain by chain`, async () => {
    await h5Ready();
    const out = join(dir, `c${dim}.h5`);
    const args = ["compatible", "--dim", String(dim), "--from", String(from), "--to", String(to), "--chains", "3", "--sweeps", "3", "--therm", "20", "--seed", "4", "--out", out];
    const r = irg(...args, "--workers", workers);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`wrote .*c${dim}\\.h5: sizes`));
    assert.ok(!readdirSync(dir).some((n) => n.endsWith(".partial")), "checkpoint file left behind");
    const { attrs, levels } = readLevels(out);
    assert.equal(attrs.format, "irg-compatible");
    assert.equal(attrs.dim, dim);
    assert.equal(attrs.chains, 3);
    assert.equal(attrs.complete, 1);
    assert.equal(attrs.algorithm, "heatbath");
    assert.deepEqual(levels.map((l) => l.L), Array.from({ length: Math.log2(to / from) + 1 }, (_, k) => from << k));
    for (const [k, lv] of levels.entries()) {
      const lat = lattice(dim, lv.L);
      assert.deepEqual(lv.shape, [3, ...new Array<number>(dim).fill(lv.L)]);
      assert.ok(lv.configs.every((v) => v === 1 || v === -1));
      for (let c = 0; c < 3; c++) {
        const s = lv.configs.subarray(c * lat.V, (c + 1) * lat.V);
        assert.equal(lv.energy[c], isingEnergy(lat, s));
        assert.equal(lv.magnetization[c], magnetization(s));
        if (k === 0) continue;
        const prev = levels[k - 1]!;
        const parent = prev.configs.subarray(c * prev.L ** dim, (c + 1) * prev.L ** dim);
        assert.deepEqual(Array.from(blockSpinsFirst(lat, s)), Array.from(parent), `L=${lv.L} chain ${c} does not block to its parent`);
      }
      if (k > 0) assert.deepEqual(lv.relax, [3, 4]);
    }
    // The chains are independent: the largest lattices differ.
    const top = levels.at(-1)!, V = top.L ** dim;
    assert.notDeepEqual(Array.from(top.configs.subarray(0, V)), Array.from(top.configs.subarray(V, 2 * V)));
    if (dim === 2) return;
    // An existing file is refused; --force overwrites it, and the result does not depend on the number of workers.
    const again = irg(...args);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    assert.equal(irg(...args, "--workers", "0", "--force").code, 0);
    readLevels(out).levels.forEach((l, k) => assert.deepEqual(Array.from(l.configs), Array.from(levels[k]!.configs)));
  });
}

test("a stopped run resumes from its checkpoint and writes the file of an uninterrupted run", async () => {
  await h5Ready();
  const whole = join(dir, "whole.h5"), parts = join(dir, "parts.h5");
  const args = ["compatible", "--dim", "2", "--from", "4", "--to", "16", "--chains", "7", "--sweeps", "3", "--therm", "20", "--seed", "9", "--quiet"];
  assert.equal(irg(...args, "--out", whole).code, 0);
  const stop = irg(...args, "--out", parts, "--stop-after", "3", "--workers", "2");
  assert.equal(stop.code, 3, stop.stderr);
  assert.match(stop.stdout, /stopped after 3 of 7 chains.*--resume/);
  // As for irg simulate: a stopped run leaves its file, incomplete, with the checkpoint in it.
  assert.ok(!existsSync(`${parts}.partial`) && existsSync(parts));
  assert.equal(readLevels(parts).attrs.complete, 0);
  // A fresh start over a checkpoint, or a resume with other physics, is refused in one line.
  const sweeps4 = args.map((a, k) => (args[k - 1] === "--sweeps" ? "4" : a));
  for (const [run, msg] of [[[...args, "--out", parts], /continue it with --resume or overwrite it with --force/], [[...sweeps4, "--out", parts, "--resume"], /--sweeps 4 does not match the checkpoint's 3/]] as const) {
    const r = irg(...run);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, msg);
  }
  // Resumed twice (the second stop is in the middle again), on another number of workers.
  assert.match(irg(...args, "--out", parts, "--resume", "--stop-after", "2", "--workers", "0").stdout, /stopped after 5 of 7 chains/);
  const done = irg(...args, "--out", parts, "--resume");
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /resumed at chain 5/);
  assert.match(done.stdout, /L=16: <e> = /);
  assert.ok(!existsSync(`${parts}.partial`));
  const a = readLevels(whole), b = readLevels(parts);
  assert.equal(b.attrs.complete, 1);
  a.levels.forEach((l, k) => {
    assert.deepEqual(Array.from(b.levels[k]!.configs), Array.from(l.configs), `L=${l.L} configurations`);
    assert.deepEqual(Array.from(b.levels[k]!.energy), Array.from(l.energy));
    assert.deepEqual(b.levels[k]!.relax, l.relax);
  });
  // irg measure reads the layout: one line per level over all 7 chains.
  const m = irg("measure", parts);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /7 chains/);
  assert.match(m.stdout, /L=16: <e> = -?\d/);
  const again = irg(...args, "--out", parts, "--resume");
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already complete \(7 chains\); add chains with a larger --chains/);
  // A complete file grows with --resume and a larger --chains into the file of one run over all chains.
  const chains9 = args.map((a, k) => (args[k - 1] === "--chains" ? "9" : a));
  assert.equal(irg(...chains9, "--out", parts, "--resume").code, 0);
  const whole9 = join(dir, "whole9.h5");
  assert.equal(irg(...chains9, "--out", whole9).code, 0);
  const c = readLevels(whole9), d = readLevels(parts);
  assert.equal(d.attrs.chains_written, 9);
  c.levels.forEach((l, k) => {
    assert.deepEqual(Array.from(d.levels[k]!.configs), Array.from(l.configs), `L=${l.L} configurations after growing to 9 chains`);
    assert.deepEqual(Array.from(d.levels[k]!.magnetization), Array.from(l.magnetization));
  });
});

test("bad input: one line on stderr, exit code 2, no file", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ to: "24" }, /power of two/],
    [{ from: "8", to: "8" }, /must be larger/],
    [{ from: "16", to: "8" }, /must be larger/],
    [{ to: "16", beta: "0" }, /--beta must be > 0/],
    [{ to: "16", beta: "-0.2" }, /--beta must be > 0/],
    [{ to: "16", dim: "4" }, /--dim/],
    [{ to: "16", algorithm: "wolff" }, /--algorithm/],
    [{ to: "16", chains: "0" }, /--chains/],
    [{ to: "16", sweeps: "x" }, /--sweeps/],
    [{ to: "16", unconstrained: "-1" }, /--unconstrained/],
    [{ to: "16", unconstrainedAlgorithm: "sw" }, /--unconstrained-algorithm/],
    [{ from: "1", to: "16" }, /--from/],
    [{ from: "3", to: "12" }, /--from must be even/],
    [{ dim: "3" }, /--to <L> is required/],
    [{ to: "16", out: undefined as unknown as string }, /--out/],
  ];
  for (const [raw, msg] of cases) assert.throws(() => compatibleOptions({ out: "x.h5", ...raw }), (e: Error) => e instanceof UsageError && msg.test(e.message), JSON.stringify(raw));
  const out = join(dir, "bad.h5");
  const r = irg("compatible", "--to", "16", "--beta=-0.2", "--out", out);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^irg: error: --beta must be > 0/);
  assert.ok(!existsSync(out));
  const p = irg("pipeline", "compatible", "--to", "12", "--out-dir", join(dir, "never"));
  assert.equal(p.code, 2, p.stderr);
  assert.equal(p.stderr.trim().split("\n").length, 1, p.stderr);
  assert.match(p.stderr, /power of two/);
});

test("pipeline compatible writes the report, its results and both ensembles", async () => {
  await h5Ready();
  const out = join(dir, "study");
  const r = irg("pipeline", "compatible", "--to", "16", "--chains", "20", "--unconstrained", "2", "--direct-sweeps", "300", "--out-dir", out, "--quiet");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report: .*report\.html/);
  assert.match(r.stdout, /validation L=16 U₄/);
  const html = readFileSync(join(out, "report.html"), "utf8");
  for (const s of ["Swendsen", "0.629971", "0.0362978", "Finite-size scaling", "Metropolis", "Wolff", "What limits the accuracy", "Cost per 16³", "data:image/png;base64", "<svg"]) assert.ok(html.includes(s), `report lacks ${s}`);
  const j = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(j.sizes, [4, 8, 16]);
  assert.equal(j.ensembles.length, 2);
  assert.ok(j.ensembles[0].mcrg.length >= 2 && Number.isFinite(j.ensembles[0].mcrg[0].nu[0].value));
  assert.equal(readLevels(join(out, "compatible.h5")).attrs.chains, 20);
  // The default refinement is hybrid (a heat-bath and a Wolff sweep each).
  const refined = readLevels(join(out, "compatible_h2.h5")).attrs;
  assert.equal(refined.unconstrained, 2);
  assert.equal(refined.unconstrained_algorithm, "hybrid");
  assert.ok(html.includes("hybrid sweeps"), "report does not name the refinement");
});

test("compatible MC as SLURM array tasks over batches of chains: the tasks, run as SLURM runs them, --collect joins them into the file of one local run, dataset for dataset", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-compat-slurm-"));
  const args = ["compatible", "--dim", "2", "--from", "4", "--to", "16", "--chains", "10", "--sweeps", "3", "--therm", "20", "--seed", "3"];
  const out = join(dir, "c.h5"), ref = join(dir, "ref.h5");
  const w = spawnSync(process.execPath, [main, ...args, "--out", out, "--slurm", "--batch", "4"], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  assert.equal(w.status, 0, w.stderr);
  const script = join(`${out}.slurm`, "scan.sbatch");
  assert.match(readFileSync(script, "utf8"), /#SBATCH --array=0-2\n/);
  const task = (k: number, extra: Record<string, string> = {}) => spawnSync("bash", [script], { encoding: "utf8", env: { ...process.env, SLURM_ARRAY_TASK_ID: String(k), IRG_TEST: "1", ...extra } });
  for (const k of [0, 2]) assert.equal(task(k).status, 0);
  const st = spawnSync(process.execPath, [main, "compatible", "--out", out, "--status"], { encoding: "utf8" });
  assert.equal(st.status, 3);
  assert.match(st.stdout, /3 tasks: 2 complete, 1 not started/);
  const c1 = spawnSync(process.execPath, [main, "compatible", "--out", out, "--collect"], { encoding: "utf8" });
  assert.equal(c1.status, 3);
  assert.match(readFileSync(script, "utf8"), /#SBATCH --array=1\n/);
  // Task 1 was stopped after one of its chains (as SIGTERM at the time limit stops it): the task resumes it.
  const plan = JSON.parse(readFileSync(join(`${out}.slurm`, "scan-plan.json"), "utf8")) as { points: { file: string; options: Record<string, number> }[] };
  const part = join(`${out}.slurm`, plan.points[1]!.file), p1 = plan.points[1]!.options;
  const stopped = irg(...args.map((a, k) => (args[k - 1] === "--chains" ? String(p1.chains) : a)), "--first-chain", String(p1.firstChain), "--out", part, "--stop-after", "1", "--quiet");
  assert.equal(stopped.code, 3, stopped.stderr);
  assert.equal(spawnSync(process.execPath, [main, "compatible", "--out", out, "--status"], { encoding: "utf8" }).status, 3);
  assert.equal(task(1).status, 0);
  const c2 = spawnSync(process.execPath, [main, "compatible", "--out", out, "--collect"], { encoding: "utf8" });
  assert.equal(c2.status, 0, c2.stdout + c2.stderr);
  assert.match(c2.stdout, /joined .*c\.h5/);
  assert.equal(spawnSync(process.execPath, [main, ...args, "--out", ref, "--quiet"]).status, 0);
  const data = (p: string) => {
    const f = openFile(p, "r");
    try {
      const a = readAttrs(f, "/");
      return [a.chains, a.chains_written, a.complete, ...["L4", "L8", "L16"].flatMap((g) => ["configs", "energy", "magnetization", "changed_fraction"].map((n) => Array.from(readDataset(f, `/${g}/${n}`).data)))];
    } finally {
      closeFile(f);
    }
  };
  assert.deepEqual(data(out), data(ref));
  const bad = irg(...args, "--out", join(dir, "x.h5"), "--slurm", "--batch", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--batch must be a positive integer/);
});

test("compatible: a second run on the same --out is refused while the first one lives (one line, exit 2); the lock of a killed run is taken over", async () => {
  const d = mkdtempSync(join(tmpdir(), "irg-compat-lock-"));
  const out = join(d, "c.h5");
  const args = ["compatible", "--dim", "3", "--from", "4", "--to", "32", "--chains", "100000", "--sweeps", "2", "--therm", "10", "--workers", "0", "--quiet", "--out", out];
  const first = spawn(process.execPath, [main, ...args], { stdio: "ignore", env: { ...process.env, IRG_TEST: "1" } });
  try {
    for (let t = 0; t < 400 && !existsSync(`${out}.partial`); t++) await new Promise((r) => setTimeout(r, 25));
    const second = irg(...args.slice(0, -2), "--out", out, "--force");
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /is being written by another irg run \(process \d+\)/);
  } finally {
    first.kill("SIGKILL");
    await new Promise((r) => first.on("exit", r));
  }
  const third = irg(...args.map((a) => (a === "100000" ? "4" : a)), "--force");
  assert.equal(third.code, 0, third.stderr);
});
