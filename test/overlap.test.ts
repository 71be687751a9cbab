// The overlap block rule on hand cases, and the spin-glass commands as a user runs them: simulate ea
// (bad input → one line, exit 2; stop/resume bit-for-bit), measure, block --rule overlap, train --model
// overlap, generate (a network of another model and --refine are refused with one line, exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { overlapBlock } from "../src/rg/overlap.js";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { runSimulation, simulateOptions } from "../src/jobs/simulation.js";
import { train } from "../src/jobs/train.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-overlap-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^irg: error: /);
  assert.match(lines[0]!, pattern);
}

test("overlap rule: hand-made 2D and 3D blocks, random ties with both outcomes, a ±1 field blocks to ±1", () => {
  const lat = lattice(2, 4);
  // Blocks (2x2) of a 4x4 field: sums +4, -2, +2, 0 (tie).
  const rho = Int8Array.from([
    1, 1, -1, -1,
    1, 1, -1, 1,
    1, 1, 1, -1,
    -1, 1, -1, 1,
  ]);
  const out = new Int8Array(4);
  const seen = new Set<number>();
  const rng = rngFor({ seed: 1 });
  for (let k = 0; k < 64; k++) {
    overlapBlock(lat, rho, out, rng);
    assert.deepEqual(Array.from(out.subarray(0, 3)), [1, -1, 1]);
    seen.add(out[3]!);
  }
  assert.deepEqual([...seen].sort(), [-1, 1], "a tied block must take both signs");
  // 3D: 2x2x2 blocks of a 4^3 field; 5 of 8 positive → +1, 3 of 8 → -1; any random ±1 field → ±1.
  const l3 = lattice(3, 4);
  const f = new Int8Array(l3.V).fill(-1);
  [0, 1, 4, 5, 16].forEach((i) => (f[i] = 1));
  const o3 = new Int8Array(8);
  overlapBlock(l3, f, o3, rng);
  assert.equal(o3[0], 1);
  assert.deepEqual(Array.from(o3.subarray(1)), [-1, -1, -1, -1, -1, -1, -1]);
  const r = rngFor({ seed: 2 });
  const rand = Int8Array.from({ length: l3.V }, () => (r.u32() & 1 ? 1 : -1));
  overlapBlock(l3, rand, o3, rng);
  assert.ok(o3.every((v) => v === 1 || v === -1));
});

test("simulate ea: bad input is one line and exit code 2", () => {
  // Through the command line (exit code, one line) …
  oneLineError(irg("simulate", "ea", "--dim", "3", "--L", "7", "--beta", "0.9", "--out", join(dir, "bad.h5")), /--L must be even/);
  oneLineError(irg("simulate", "ea", "--L", "4", "--beta", "-1", "--out", join(dir, "bad.h5")), /--beta must be > 0/);
  // … and the same validation in process for the rest (each spawn costs a second on a loaded machine).
  const base = { dim: 3, L: 4, beta: 0.9, out: join(dir, "bad.h5") };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ betaMin: 1.2 }, /--beta-min .* must be below --beta-max|outside the ladder/],
    [{ betaMax: 0.8 }, /outside the ladder/],
    [{ temps: 0 }, /--temps must be between 2 and 256/],
    [{ samples: 0 }, /--samples must be between/],
    [{ start: "cold" }, /--start does not apply to ea/],
    [{ algorithm: "wolff" }, /--algorithm must be one of multispin, metropolis/],
    [{ beta: undefined }, /--beta <b> is required for ea/],
    [{ dim: 4 }, /--dim must be between 2 and 3/],
  ];
  for (const [extra, re] of bad) assert.throws(() => simulateOptions("ea", { ...base, ...extra }), (e: Error) => e.name === "UsageError" && re.test(e.message) && !e.message.includes("\n"));
});

test("simulate ea → measure, block --rule overlap; a stopped run resumes bit-for-bit", async () => {
  await h5Ready();
  const args = ["simulate", "ea", "--dim", "3", "--L", "4", "--beta", "0.9", "--beta-min", "0.4", "--temps", "4", "--samples", "3", "--sweeps", "400", "--therm", "100", "--save-every", "5", "--seed", "3", "--quiet"];
  const full = join(dir, "ea.h5");
  const r = irg(...args, "--out", full);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*ea\.h5: 400 measurements, 240 configurations/);
  assert.match(r.stdout, /ladder round trips: \d+ in total over 3 samples/);
  assert.match(r.stdout, /swap acceptance per pair \(hot -> cold\): [0-9.]+ [0-9.]+ [0-9.]+/);
  assert.match(r.stdout, /log binning of \[<q\^2>\]/);
  assert.match(r.stdout, /equilibration: /);
  const m = irg("measure", full, "--json");
  assert.equal(m.code, 0, m.stderr);
  const j = JSON.parse(m.stdout);
  assert.equal(j.model, "ea");
  assert.equal(j.disorder_samples, 3);
  for (const k of ["q2", "q4", "chi_sg", "g", "xi_sg"]) assert.ok(Number.isFinite(j.observables[k].value) && j.observables[k].error > 0, `${k}: ${JSON.stringify(j.observables[k])}`);
  assert.ok(Math.abs(j.observables.chi_sg.value - 64 * j.observables.q2.value) < 1e-9);
  const f = openEnsemble(full);
  try {
    assert.equal(f.meta.params.couplings_seed, 3);
    assert.equal(f.configs(0, 1).constructor, Int8Array);
    assert.ok(Array.from(f.configs(0, f.configRows)).every((v) => v === 1 || v === -1));
    assert.deepEqual(Array.from(f.series("sample").subarray(0, 6)), [0, 1, 2, 0, 1, 2]);
  } finally {
    f.close();
  }
  // Stop after 150 sweeps, then resume: the same file as the uninterrupted run.
  const part = join(dir, "ea-resumed.h5");
  const s = irg(...args, "--out", part, "--stop-after", "150");
  assert.equal(s.code, 3, s.stderr);
  assert.match(s.stdout, /stopped after 150 of 500 sweeps/);
  const res = irg("simulate", "ea", "--resume", "--out", part, "--quiet");
  assert.equal(res.code, 0, res.stderr);
  const read = (p: string) => {
    const e = openEnsemble(p);
    try {
      return { q: Array.from(e.series("q")), energy: Array.from(e.series("energy")), trips: Array.from(e.series("round_trips")), configs: Array.from(e.configs(0, e.configRows)) };
    } finally {
      e.close();
    }
  };
  assert.deepEqual(read(part), read(full));
  // Blocking with the overlap rule (and a refusal of the wrong rule).
  const b = irg("block", full, "--rule", "overlap", "--out", join(dir, "blocked.h5"));
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /240 blocked configurations of size 2/);
  oneLineError(irg("block", full, "--rule", "phi4", "--out", join(dir, "x.h5")), /--rule phi4 applies to phi4 ensembles/);
});

test("train --model overlap writes a network for overlap; generate uses it; a phi4 network and --refine are refused", async () => {
  await h5Ready();
  const ea = join(dir, "ea-train.h5");
  await runSimulation("ea", simulateOptions("ea", { dim: 2, L: 8, beta: 0.9, temps: 3, samples: 2, sweeps: 200, therm: 50, saveEvery: 10, out: ea }), { checkpointEvery: 60 }, false, true);
  const net = join(dir, "overlap-net.json");
  const t = irg("train", "--model", "overlap", "--data", ea, "--out", net, "--epochs", "1", "--hidden", "2", "--kernel", "3", "--workers", "0", "--quiet");
  assert.equal(t.code, 0, t.stderr);
  const j = JSON.parse(readFileSync(net, "utf8"));
  assert.equal(j.model, "overlap");
  assert.equal(j.spec.head.type, "bernoulli");
  const g = irg("generate", "--net", net, "--from", ea, "--steps", "1", "--out", join(dir, "gen"), "--limit", "8", "--quiet");
  assert.equal(g.code, 0, g.stderr);
  const gen = openEnsemble(join(dir, "gen_L16.h5"));
  try {
    assert.equal(gen.meta.model, "ea");
    assert.equal(gen.configRows, 8);
    assert.ok(Array.from(gen.configs(0, 8)).every((v) => v === 1 || v === -1));
  } finally {
    gen.close();
  }
  oneLineError(irg("generate", "--net", net, "--from", ea, "--out", join(dir, "gen2"), "--refine", "2"), /--refine is not defined for ea configurations/);
  // A phi4 network on an ea ensemble, and an overlap network trained on phi4 data, are refused.
  const phi4 = join(dir, "phi4.h5");
  await runSimulation("phi4", simulateOptions("phi4", { L: 4, mu2: -0.95, sweeps: 100, therm: 10, saveEvery: 5, out: phi4 }), { checkpointEvery: 60 }, false, true);
  const pnet = join(dir, "phi4-net.json");
  await train({ model: "phi4", data: [phi4], out: pnet, epochs: 1, hidden: 2, kernel: 3, workers: 0 });
  oneLineError(irg("generate", "--net", pnet, "--from", ea, "--out", join(dir, "gen3")), /trained for phi4, not overlap/);
  await assert.rejects(train({ model: "overlap", data: [phi4], out: join(dir, "n.json"), workers: 0 }), /holds phi4 configurations, not ea/);
});
