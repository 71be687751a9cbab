// The q-state Potts model against exact answers with the code's own error bars: q = 2 is the Ising model
// at β_Potts = 2β_Ising (Kaufman's finite-L energy and specific heat), q = 3 on the 4×4 torus against
// complete enumeration (3^16 states), the plurality block rule's ties, and the exact critical point
// β_c = ln(1 + √3) found by MCRG from a scan run through the CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blockSites, lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { kaufman } from "../src/models/ising-exact.js";
import { BETA_C_2D } from "../src/models/ising.js";
import { isingEstimates } from "../src/analysis/observables.js";
import { type Estimate } from "../src/analysis/stats.js";
import { makePottsSampler, POTTS_ALGORITHMS, type PottsAlgorithm } from "../src/models/potts/sampler.js";
import { pottsBetaC2D, pottsOrder } from "../src/models/potts/potts.js";
import { enumeratePotts, pottsExact } from "../src/models/potts/exact.js";
import { pluralityBlock } from "../src/models/potts/plurality.js";
import { h5Ready } from "../src/io/h5.js";
import { reweightScan, runMcrg } from "../src/jobs/mcrg.js";
import { openEnsemble } from "../src/io/ensemble.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

function simulate(algorithm: PottsAlgorithm, lat: Lattice, q: number, beta: number, n: number, seed: number): Record<string, Estimate> {
  const smp = makePottsSampler({ algorithm, lat, q, beta, rng: rngFor({ seed, task: POTTS_ALGORITHMS.indexOf(algorithm) }) });
  for (let k = 0; k < 300; k++) smp.sweep();
  smp.endThermalization();
  const E = new Float64Array(n), M = new Float64Array(n);
  const e = new Float64Array(1), m = new Float64Array(1);
  for (let t = 0; t < n; t++) {
    smp.sweep();
    smp.measure([e, m]);
    E[t] = e[0]!;
    M[t] = m[0]!;
  }
  return isingEstimates(E, M, { V: lat.V, beta, chains: 1 });
}

function agree(name: string, est: Estimate, exact: number, maxError: number): void {
  assert.ok(est.error < maxError, `${name}: error ${est.error} too large for a meaningful test (exact ${exact})`);
  assert.ok(Math.abs(est.value - exact) < 4 * est.error, `${name}: ${est.value} ± ${est.error} vs exact ${exact}`);
}

test("exact: q = 2 enumeration equals Kaufman's Ising solution at beta_Potts = 2 beta_Ising; beta_c(q = 2) = 2 beta_c(Ising)", () => {
  const d = enumeratePotts(4, 2);
  for (const bI of [0.2, BETA_C_2D, 0.7]) assert.ok(Math.abs(pottsExact(d, 2 * bI).e - (-1 + kaufman(4, bI).e / 2)) < 1e-12);
  assert.ok(Math.abs(pottsBetaC2D(2) - 2 * BETA_C_2D) < 1e-15);
  assert.equal(d.counts.reduce((a, b) => a + b, 0), 2 ** 16);
});

test("order parameter: q = 2 gives |sum of Ising spins|; q = 3 vanishes for equal counts and is V when ordered", () => {
  const rng = rngFor({ seed: 9 });
  const s = Int8Array.from({ length: 64 }, () => rng.below(2));
  const ising = s.reduce((a, v) => a + (1 - 2 * v), 0);
  assert.ok(Math.abs(pottsOrder(s, 2) - Math.abs(ising)) < 1e-9);
  assert.ok(Math.abs(pottsOrder(Int8Array.from([0, 1, 2, 0, 1, 2]), 3)) < 1e-12);
  assert.ok(Math.abs(pottsOrder(new Int8Array(10).fill(2), 3) - 10) < 1e-9);
});

for (const algorithm of POTTS_ALGORITHMS) {
  test(`${algorithm}, q = 2: <e> and C equal Kaufman's (e = -1 + e_Ising/2, C = C_Ising) at L = 16, 32 (4 sigma)`, () => {
    for (const L of [16, 32]) {
      for (const bI of [0.3, BETA_C_2D, 0.6]) {
        const est = simulate(algorithm, lattice(2, L), 2, 2 * bI, algorithm === "heatbath" ? 30000 : 20000, 100 + L);
        const exact = kaufman(L, bI);
        agree(`L=${L} beta_P=${2 * bI} e`, est.e!, -1 + exact.e / 2, 0.005);
        agree(`L=${L} beta_P=${2 * bI} C`, est.c!, exact.c, 0.2 * exact.c);
      }
    }
  });

  test(`${algorithm}, q = 3: <e>, <|m|>, <m^2> and U4 on the 4x4 torus equal complete enumeration (4 sigma)`, () => {
    const d = enumeratePotts(4, 3);
    for (const beta of [0.6, pottsBetaC2D(3), 1.4]) {
      const est = simulate(algorithm, lattice(2, 4), 3, beta, 60000, 7);
      const x = pottsExact(d, beta);
      agree(`beta=${beta} e`, est.e!, x.e, 0.01);
      agree(`beta=${beta} |m|`, est.abs_m!, x.absM, 0.01);
      agree(`beta=${beta} m2`, est.m2!, x.m2, 0.01);
      agree(`beta=${beta} U4`, est.binder!, 1 - x.m4 / (3 * x.m2 ** 2), 0.01);
    }
  });
}

test("plurality rule: a strict plurality wins; ties are broken uniformly among the tied states (2D and 3D)", () => {
  const rng = rngFor({ seed: 4 });
  // The pattern goes into block 0 of an L = 4 lattice (the other blocks are all state 0).
  const blockOf = (cfg: number[], q: number, dim: number): number => {
    const l = lattice(dim, 4), sites = blockSites(l), s = new Int8Array(l.V), out = new Int8Array(l.V >> dim);
    cfg.forEach((v, k) => (s[sites[k]!] = v));
    pluralityBlock(l, q, s, out, rng);
    return out[0]!;
  };
  assert.equal(blockOf([2, 1, 2, 0], 3, 2), 2);
  assert.equal(blockOf([1, 1, 1, 0, 0, 2, 2, 1], 3, 3), 1);
  const tally = (cfg: number[], q: number, dim: number, n: number): number[] => {
    const c = new Array<number>(q).fill(0);
    for (let k = 0; k < n; k++) c[blockOf(cfg, q, dim)]!++;
    return c;
  };
  const n = 20000;
  const two = tally([0, 1, 1, 0], 3, 2, n);
  assert.equal(two[2], 0);
  assert.ok(Math.abs(two[0]! - n / 2) < 4 * Math.sqrt(n / 4), `2-2 tie: ${two}`);
  const four = tally([3, 0, 2, 1], 4, 2, n);
  for (const c of four) assert.ok(Math.abs(c - n / 4) < 4 * Math.sqrt((n * 3) / 16), `four-way tie: ${four}`);
  const cube = tally([0, 0, 0, 1, 1, 1, 2, 2], 3, 3, n);
  assert.equal(cube[2], 0);
  assert.ok(Math.abs(cube[0]! - n / 2) < 4 * Math.sqrt(n / 4), `3D tie: ${cube}`);
});

test("MCRG of a 2D 3-state Potts scan (irg scan potts, L = 8, 16, 32) finds beta_c = ln(1 + sqrt 3) within its error", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-potts-mcrg-"));
  const r = spawnSync(process.execPath, [main, "scan", "potts", "--q", "3", "--L", "8,16,32", "--beta", "0.98:1.03:0.01", "--algorithm", "sw",
    "--sweeps", "3000", "--therm", "300", "--seed", "5", "--out-dir", dir, "--quiet"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const res = runMcrg({ dir, groups: 16 });
  // Reweighted curves exist only over the scanned range: outside it the tool refuses instead of repeating the edge value.
  assert.throws(() => reweightScan({ dir, model: "potts", L: 16, at: [0.9] }), (e: Error) => e.name === "UsageError" && /--at 0.9 lies outside the range/.test(e.message));
  assert.equal(reweightScan({ dir, model: "potts", L: 16, at: [1.0] }).rows.length, 1);
  const bc = pottsBetaC2D(3);
  assert.ok(res.reference?.coupling === bc && res.reference.source.includes("Potts"));
  assert.ok(res.critical.error < 0.003, `error ${res.critical.error}`);
  assert.ok(Math.abs(res.critical.value - bc) < 4 * res.critical.error, `beta_c ${res.critical.value} ± ${res.critical.error} vs ${bc}`);
  // nu = 5/6 (exact) from the coupling map, resolved against the Ising value 1 (several sigma away).
  for (const n of res.nu.filter((x) => x.observable === "abs_m")) {
    assert.ok(n.nu.error < 0.05, `nu error ${n.nu.error}`);
    assert.ok(Math.abs(n.nu.value - 5 / 6) < 4 * n.nu.error, `nu(L=${n.L}) ${n.nu.value} ± ${n.nu.error} vs 5/6`);
    assert.ok(Math.abs(n.nu.value - 1) > 4 * n.nu.error, `nu(L=${n.L}) ${n.nu.value} does not tell Potts from Ising`);
  }
  // gamma/nu = 26/15 is too close to the Ising 7/4 for these sizes; it is only checked to lie near both.
  assert.ok(Math.abs(res.gammaOverNu.value - 26 / 15) < 4 * res.gammaOverNu.error + 0.03, `gamma/nu ${res.gammaOverNu.value} ± ${res.gammaOverNu.error}`);
});

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("CLI: simulate potts, stop and resume bit for bit, measure, block; bad input is one line with exit code 2", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-potts-cli-"));
  const base = ["simulate", "potts", "--q", "3", "--L", "8", "--beta", "1.0", "--sweeps", "300", "--therm", "50", "--seed", "2", "--quiet"];
  for (const algorithm of POTTS_ALGORITHMS) {
    const full = join(dir, `full-${algorithm}.h5`), part = join(dir, `part-${algorithm}.h5`);
    assert.equal(irg(...base, "--algorithm", algorithm, "--out", full).code, 0);
    const r1 = irg(...base, "--algorithm", algorithm, "--out", part, "--stop-after", "120");
    assert.match(r1.stdout, /stopped after 120 of 350 sweeps/);
    const r2 = irg("simulate", "potts", "--resume", "--out", part, "--quiet");
    assert.equal(r2.code, 0, r2.stderr);
    const read = (p: string): number[][] => {
      const e = openEnsemble(p);
      try {
        assert.equal(e.meta.model, "potts");
        assert.equal(e.meta.params.q, 3);
        return [Array.from(e.configs(0, e.configRows)), Array.from(e.series("energy")), Array.from(e.series("magnetization"))];
      } finally {
        e.close();
      }
    };
    const a = read(full);
    assert.deepEqual(read(part), a);
    assert.ok(a[0]!.every((v) => v >= 0 && v < 3) && new Set(a[0]).size === 3);
  }
  const m = irg("measure", join(dir, "full-sw.h5"), "--json");
  assert.equal(m.code, 0, m.stderr);
  const j = JSON.parse(m.stdout) as { label: string; observables: Record<string, { value: number }> };
  assert.equal(j.label, "q=3 beta=1");
  assert.ok(j.observables.e!.value < -1 && j.observables.e!.value > -2 && j.observables.binder!.value > 0);
  const blocked = join(dir, "blocked.h5");
  const b = irg("block", join(dir, "full-sw.h5"), "--out", blocked);
  assert.equal(b.code, 0, b.stderr);
  const e = openEnsemble(blocked);
  try {
    assert.equal(e.meta.L, 4);
    assert.equal(e.meta.configDtype, "int8");
    assert.ok(Array.from(e.configs(0, e.configRows)).every((v) => v >= 0 && v < 3));
    assert.match(String(e.meta.params.block_rule), /plurality/);
    assert.deepEqual(e.meta.observables.slice(0, 2), ["magnetization", "energy"]);
  } finally {
    e.close();
  }
  const bad: [string[], RegExp][] = [
    [["simulate", "potts", "--L", "8", "--beta", "1", "--out", join(dir, "x.h5")], /--q <n> is required for potts/],
    [["simulate", "potts", "--q", "9", "--L", "8", "--beta", "1", "--out", join(dir, "x.h5")], /--q must be between 2 and 8/],
    [["simulate", "potts", "--q", "3", "--L", "8", "--beta", "1", "--mu2", "1", "--out", join(dir, "x.h5")], /--mu2 does not apply to potts/],
    [["simulate", "potts", "--q", "3", "--L", "8", "--beta", "-1", "--out", join(dir, "x.h5")], /--beta must be > 0/],
    [["simulate", "potts", "--q", "3", "--L", "8", "--beta", "1", "--algorithm", "multispin", "--out", join(dir, "x.h5")], /--algorithm must be one of heatbath, sw, wolff/],
    [["block", join(dir, "full-sw.h5"), "--out", join(dir, "y.h5"), "--rule", "majority"], /--rule majority applies to ising ensembles; this one holds potts \(use --rule plurality or decimation\)/],
  ];
  for (const [args, re] of bad) {
    const r = irg(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
});

test("irg pipeline potts --q 3 (8 -> 32): categorical network, generated states, report; the IRG crossing lies near ln(1 + sqrt 3); the exact chains agree with direct Monte Carlo", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-potts-pipeline-"));
  const r = irg("pipeline", "potts", "--q", "3", "--L0", "8", "--target", "32", "--sweeps", "2000", "--direct-sweeps", "1500", "--epochs", "4", "--gen-limit", "300", "--out-dir", dir, "--quiet");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /critical beta \(generated 32 vs direct 32\)/);
  // The exact step (on by default): exact 16 and 32 against direct Monte Carlo in both ranges.
  for (const L of [16, 32]) assert.match(r.stdout, new RegExp(`^exact validation L=${L} at [\\d.]+: long range agree .*; short range agree `, "m"));
  const net = JSON.parse(readFileSync(join(dir, "network.json"), "utf8")) as { model: string; spec: { inChannels: number; head: { type: string; classes: number } } };
  assert.equal(net.model, "potts");
  assert.deepEqual(net.spec.head, { type: "categorical", classes: 3 });
  assert.equal(net.spec.inChannels, 3);
  const gen = openEnsemble(join(dir, "generated", "potts_from8_beta1.005053_L32.h5"));
  try {
    assert.equal(gen.meta.model, "potts");
    assert.equal(gen.meta.params.q, 3);
    const cfg = gen.configs(0, gen.configRows);
    assert.ok(cfg.every((v) => v >= 0 && v < 3) && new Set(cfg).size === 3);
    assert.deepEqual(gen.meta.observables, ["magnetization", "energy", "parent_x", "parent_index", "log_q"]);
  } finally {
    gen.close();
  }
  assert.ok(existsSync(join(dir, "report.html")));
  const m = /critical beta \(generated 32 vs direct 32\): ([\d.]+) ± ([\d.]+)/.exec(r.stdout)!;
  const bc = pottsBetaC2D(3), value = Number(m[1]), error = Number(m[2]);
  // Small sizes: a finite-size shift of up to 0.01 besides the statistical error.
  assert.ok(error < 0.01 && Math.abs(value - bc) < 4 * error + 0.01, `IRG crossing ${value} ± ${error} vs ${bc}`);
  const bad = irg("pipeline", "potts", "--L0", "8", "--target", "32", "--out-dir", dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--q <n> is required for the potts pipeline/);
});
