// Compatible Monte Carlo (src/irg/compatible.ts): the majority-rule constraint holds exactly, the
// constrained chain samples the Boltzmann distribution restricted to the compatible set (χ² against
// exact enumeration, with a power check), and from block spins of equilibrated fine configurations it
// reproduces the fine Boltzmann averages; the discrepancy when the coarse configurations come from the
// original Hamiltonian at the coarse size is measured and reported (not asserted: it is physics).
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import {
  blockCorrelation, blockSpinsFirst, blockSums, compatibleInit, compatibleSampler, constrainedSweep, type ConstrainedRule, isCompatible,
} from "../src/mc/compatible.js";
import { inverseLevels, relaxationTime } from "../src/irg/compatible.js";
import { majorityBlock } from "../src/rg/majority.js";
import { boltzmannProbabilities, kaufman, stateIndex } from "../src/models/ising-exact.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { uwerr } from "../src/analysis/stats.js";
import { BETA_C_2D, BETA_C_3D, isingEnergy, magnetization, randomSpins } from "../src/models/ising.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";
import { chainParams, runChain } from "../src/jobs/compatible.js";

const RULES: ConstrainedRule[] = ["heatbath", "metropolis"];

function firstTie(lat: Lattice, s: Int8Array): Int8Array {
  const out = new Int8Array(s.length >> lat.dim);
  majorityBlock(lat, s, out, { tie: "first" });
  return out;
}

test("blockSpinsFirst equals majorityBlock(tie first); compatibleInit blocks back to its coarse configuration", () => {
  const rng = rngFor({ seed: 101 });
  for (const [dim, L] of [[2, 8], [3, 4], [2, 6]] as const) {
    const lat = lattice(dim, L);
    for (let k = 0; k < 50; k++) {
      const s = randomSpins(lat.V, rng);
      assert.deepEqual(Array.from(blockSpinsFirst(lat, s)), Array.from(firstTie(lat, s)));
      const sigma = randomSpins(lat.V >> dim, rng);
      const init = compatibleInit(lat, sigma);
      assert.deepEqual(Array.from(firstTie(lat, init)), Array.from(sigma));
      assert.ok(isCompatible(lat, init, sigma));
    }
  }
  // 3D 2×2×2: one block (coarse() refuses L = 1, blockSpinsFirst does not). Four minus spins: a tie.
  const one = lattice(3, 2);
  assert.deepEqual(Array.from(blockSpinsFirst(one, Int8Array.from([1, -1, -1, 1, -1, 1, 1, -1]))), [1]);
  assert.deepEqual(Array.from(blockSpinsFirst(one, Int8Array.from([-1, 1, 1, -1, 1, -1, -1, 1]))), [-1]);
  assert.throws(() => compatibleInit(lattice(2, 4), Int8Array.from([1, 1, 1])), /4 sites/);
  assert.throws(() => compatibleInit(lattice(2, 4), Int8Array.from([1, 1, 0, 1])), /not ±1/);
});

test("the block spins never change: every sweep of 2D 32^2 and 3D 16^3 blocks (tie → first) to the coarse parent", () => {
  const cases = [
    { dim: 2 as const, L: 32, betas: [0.1, BETA_C_2D, 1.0] },
    { dim: 3 as const, L: 16, betas: [0.1, BETA_C_3D, 0.6] },
  ];
  for (const { dim, L, betas } of cases) {
    const lat = lattice(dim, L);
    for (const beta of betas) {
      for (const rule of RULES) {
        const rng = rngFor({ seed: 102, task: dim, replica: Math.round(beta * 1000) + (rule === "heatbath" ? 0 : 1) });
        // Start from a random fine configuration (many tied blocks), its blocking is σ.
        const s = randomSpins(lat.V, rng);
        const sigma = firstTie(lat, s);
        const bsum = blockSums(lat, s);
        const ref = s.slice();
        let changed = 0;
        const sweeps = dim === 2 ? 60 : 15;
        for (let t = 0; t < sweeps; t++) {
          changed += constrainedSweep(lat, s, sigma, beta, rng, { rule, blockSum: bsum });
          assert.deepEqual(firstTie(lat, s), sigma, `${dim}D β=${beta} ${rule}: block spins changed at sweep ${t}`);
        }
        assert.deepEqual(Array.from(bsum), Array.from(blockSums(lat, s)), "incremental block sums drifted");
        // The chain moves (the test would pass vacuously otherwise).
        let diff = 0;
        for (let i = 0; i < lat.V; i++) diff += ref[i] !== s[i] ? 1 : 0;
        assert.ok(changed > 0.05 * sweeps * lat.V && diff > 0.05 * lat.V, `${dim}D β=${beta} ${rule}: only ${changed} changes`);
      }
    }
  }
  // Without the block sums the sweep checks compatibility itself.
  const lat = lattice(2, 8);
  assert.throws(() => constrainedSweep(lat, new Int8Array(64).fill(1), new Int8Array(16).fill(-1), 0.4, rngFor({ seed: 1 })), /not compatible/);
});

/** Boltzmann probabilities of every state restricted to (and renormalised on) the compatible set. */
function restricted(lat: Lattice, beta: number, sigma: Int8Array): { p: Float64Array; n: number } {
  const p = boltzmannProbabilities(lat, beta);
  const s = new Int8Array(lat.V);
  let Z = 0, n = 0;
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < lat.V; i++) s[i] = (k >>> i) & 1 ? -1 : 1;
    if (isCompatible(lat, s, sigma)) { Z += p[k]!; n++; } else p[k] = 0;
  }
  for (let k = 0; k < p.length; k++) p[k]! /= Z;
  return { p, n };
}

function chiSquareCase(t: { diagnostic: (m: string) => void }, lat: Lattice, beta: number, sigma: Int8Array, rule: ConstrainedRule, seed: number, samples: number, init?: Int8Array): void {
  const { p, n } = restricted(lat, beta, sigma);
  const smp = compatibleSampler({ lat, beta, coarse: sigma, rng: rngFor({ seed, task: 7 }), rule, init });
  for (let k = 0; k < 100; k++) smp.sweep();
  const hist = new Float64Array(p.length);
  for (let k = 0; k < samples; k++) {
    smp.sweep();
    smp.sweep(); // thinning
    hist[stateIndex(smp.spins)]!++;
  }
  const res = chiSquareTest(hist, p);
  const wrong = chiSquareTest(hist, restricted(lat, beta * 1.1, sigma).p);
  t.diagnostic(`${lat.dim}D L=${lat.L} σ=[${Array.from(sigma)}] ${rule}: ${n} compatible states, χ² = ${res.chi2.toFixed(1)} / ${res.dof} dof, p = ${res.pValue.toFixed(4)}; 10%-wrong β: χ² = ${wrong.chi2.toFixed(1)}, p = ${wrong.pValue.toExponential(2)}`);
  assert.ok(res.pValue > 1e-4, `χ² = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
  assert.ok(wrong.pValue < 1e-3, `a 10% wrong β was not detected (p = ${wrong.pValue})`);
  // No mass outside the compatible set, and every likely compatible state is visited.
  p.forEach((q, k) => {
    if (q === 0) assert.equal(hist[k], 0, `incompatible state ${k} visited`);
    else assert.ok(q * samples < 20 || hist[k]! > 0, `compatible state ${k} never visited`);
  });
}

test("2D 4x4 from fixed 2x2 coarse configurations: visited states follow the restricted Boltzmann distribution (chi-square)", (t) => {
  const lat = lattice(2, 4);
  const beta = 0.44;
  const aligned = Int8Array.from([1, 1, 1, 1]);
  const oneDown = Int8Array.from([1, 1, -1, 1]);
  // Staggered coarse state: heat bath only. Checkerboard Metropolis is not ergodic here: from the
  // compatible start every proposal has ΔE ≤ 0 or is forbidden, so it is accepted deterministically and
  // the chain cycles through a handful of states (the 2×2-torus pathology of test/ising-balance.test.ts).
  const staggered = Int8Array.from([1, -1, -1, 1]);
  for (const rule of RULES) {
    chiSquareCase(t, lat, beta, aligned, rule, 1, 150000);
    chiSquareCase(t, lat, beta, oneDown, rule, 2, 150000);
  }
  chiSquareCase(t, lat, beta, staggered, "heatbath", 3, 150000);
  // Tied blocks: σ from a fine configuration with three tied blocks, the chain starting there.
  const tied = Int8Array.from([
    1, -1, 1, 1,
    -1, 1, 1, -1,
    -1, -1, -1, 1,
    1, 1, 1, -1,
  ]);
  const sigmaTied = firstTie(lat, tied);
  assert.deepEqual(Array.from(blockSums(lat, tied)), [0, 2, 0, 0]);
  chiSquareCase(t, lat, beta, sigmaTied, "metropolis", 4, 150000, tied);
});

test("3D 2x2x2 (one block of 8) from a fixed coarse spin: restricted Boltzmann distribution over its 128 states (chi-square)", (t) => {
  // 4×4×4 from 2×2×2 has 128^8 = 2^56 compatible states (too many to enumerate); the 2×2×2 lattice
  // (bonds doubled by periodicity, as in boltzmannProbabilities) is one 3D block with 128.
  const lat = lattice(3, 2);
  const tied = Int8Array.from([1, -1, -1, 1, -1, 1, 1, -1]);
  for (const rule of RULES) {
    chiSquareCase(t, lat, 0.3, Int8Array.from([1]), rule, 5, 80000);
    chiSquareCase(t, lat, 0.3, Int8Array.from([1]), rule, 6, 80000, tied);
    chiSquareCase(t, lat, 0.3, Int8Array.from([-1]), rule, 7, 80000);
  }
});

/** Equilibrated direct Wolff configurations, `between` sweeps apart. */
function wolffConfigs(lat: Lattice, beta: number, n: number, seed: number, between = 1): Int8Array[] {
  const smp = makeIsingSampler({ algorithm: "wolff", lat, beta, rng: rngFor({ seed, task: 11 }) });
  for (let k = 0; k < 100; k++) smp.sweep();
  smp.endThermalization();
  const out: Int8Array[] = [];
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < between; j++) smp.sweep();
    const s = new Int8Array(lat.V);
    smp.config(0, s);
    out.push(s);
  }
  return out;
}

interface Obs { e: number[]; m: number[] }

function observe(lat: Lattice, configs: Iterable<Int8Array>): Obs {
  const e: number[] = [], m: number[] = [];
  for (const s of configs) {
    e.push(isingEnergy(lat, s) / lat.V);
    m.push(Math.abs(magnetization(s)) / lat.V);
  }
  return { e, m };
}

/** Fine configurations generated by `sweeps` constrained sweeps from the compatible start of every coarse one. */
function generate(latFine: Lattice, beta: number, coarse: Int8Array[], sweeps: number, rule: ConstrainedRule, seed: number): Int8Array[] {
  const smp = compatibleSampler({ lat: latFine, beta, coarse: coarse[0]!, rng: rngFor({ seed, task: 12 }), rule });
  return coarse.map((c) => {
    smp.reset(c);
    for (let k = 0; k < sweeps; k++) smp.sweep();
    assert.ok(isCompatible(latFine, smp.spins, c));
    return smp.spins.slice();
  });
}

/** z-score of the mean of a paired difference series. */
function zPaired(a: number[], b: number[]): { diff: number; error: number; z: number } {
  const d = uwerr(a.map((v, k) => v - b[k]!));
  return { diff: d.value, error: d.error, z: d.value / d.error };
}

// Shared between the exactness and the discrepancy tests: direct L = 16 at β_c.
const lat16 = lattice(2, 16), lat8 = lattice(2, 8);
let direct16: Int8Array[] | undefined;
const getDirect16 = (): Int8Array[] => (direct16 ??= wolffConfigs(lat16, BETA_C_2D, 3000, 21));

test("exactness: constrained MC from block spins of equilibrated 2D L=16 configurations reproduces the L=16 Boltzmann averages", (t) => {
  const beta = BETA_C_2D;
  const direct = getDirect16();
  const coarse = direct.map((s) => firstTie(lat16, s));
  const D = observe(lat16, direct);
  const exactE = kaufman(16, beta).e;
  const G = observe(lat16, generate(lat16, beta, coarse, 10, "heatbath", 22));
  const dE = zPaired(G.e, D.e), dM = zPaired(G.m, D.m);
  const eG = uwerr(G.e);
  const zK = (eG.value - exactE) / eG.error;
  t.diagnostic(`2D 16² at β_c, 3000 configs, 10 heat-bath sweeps: ⟨e⟩ = ${eG.value.toFixed(5)} ± ${eG.error.toFixed(5)} (Kaufman ${exactE.toFixed(5)}, z = ${zK.toFixed(2)}); paired vs direct: Δe = ${dE.diff.toFixed(5)} ± ${dE.error.toFixed(5)}, Δ|m| = ${dM.diff.toFixed(5)} ± ${dM.error.toFixed(5)}`);
  assert.ok(Math.abs(zK) < 4, `⟨e⟩ differs from Kaufman by ${zK.toFixed(2)} errors`);
  assert.ok(Math.abs(dE.z) < 4, `⟨e⟩ differs from direct MC by ${dE.z.toFixed(2)} errors`);
  assert.ok(Math.abs(dM.z) < 4, `⟨|m|⟩ differs from direct MC by ${dM.z.toFixed(2)} errors`);
  // Power: the unrelaxed compatible start (0 sweeps) is rejected.
  const G0 = observe(lat16, coarse.map((c) => compatibleInit(lat16, c)));
  const z0 = zPaired(G0.e, D.e).z;
  t.diagnostic(`compatible start without sweeps: z(Δe) = ${z0.toFixed(1)}`);
  assert.ok(Math.abs(z0) > 8, `the unrelaxed start was not detected (z = ${z0})`);
});

test("exactness in 3D: constrained Metropolis from block spins of equilibrated 8^3 configurations at K_c reproduces ⟨e⟩ and ⟨|m|⟩", (t) => {
  const lat = lattice(3, 8);
  const beta = BETA_C_3D;
  const direct = wolffConfigs(lat, beta, 1500, 31);
  const coarse = direct.map((s) => firstTie(lat, s));
  const D = observe(lat, direct);
  const G = observe(lat, generate(lat, beta, coarse, 10, "metropolis", 32));
  const dE = zPaired(G.e, D.e), dM = zPaired(G.m, D.m);
  t.diagnostic(`3D 8³ at K_c, 1500 configs: Δe = ${dE.diff.toFixed(5)} ± ${dE.error.toFixed(5)}, Δ|m| = ${dM.diff.toFixed(5)} ± ${dM.error.toFixed(5)}`);
  assert.ok(Math.abs(dE.z) < 4, `⟨e⟩ differs by ${dE.z.toFixed(2)} errors`);
  assert.ok(Math.abs(dM.z) < 4, `⟨|m|⟩ differs by ${dM.z.toFixed(2)} errors`);
  const z0 = zPaired(observe(lat, coarse.map((c) => compatibleInit(lat, c))).e, D.e).z;
  assert.ok(Math.abs(z0) > 8, `the unrelaxed start was not detected (z = ${z0})`);
});

test("measured (not asserted): L=8 coarse configurations from the ORIGINAL Hamiltonian generate an L=16 ensemble that differs from L=16 Boltzmann", (t) => {
  // The generated ensemble is exact only if the coarse configurations follow the block-spin
  // distribution of the fine model; those of the nearest-neighbour model at L = 8 do not. A long run
  // (bench/compatible.ts --physics, 10^5 configurations) resolves Δe ≈ −0.007 (about 8σ there); at this
  // test's statistics it is at the edge of the noise, so it is reported, not asserted.
  const beta = BETA_C_2D;
  const coarse = wolffConfigs(lat8, beta, 3000, 41);
  const G = observe(lat16, generate(lat16, beta, coarse, 10, "heatbath", 42));
  const D = observe(lat16, getDirect16());
  const eG = uwerr(G.e), mG = uwerr(G.m), mD = uwerr(D.m);
  const exactE = kaufman(16, beta).e;
  const zE = (eG.value - exactE) / eG.error;
  const zM = (mG.value - mD.value) / Math.hypot(mG.error, mD.error);
  t.diagnostic(`L=8 (original H) → 16: ⟨e⟩ = ${eG.value.toFixed(5)} ± ${eG.error.toFixed(5)} vs Kaufman ${exactE.toFixed(5)} (z = ${zE.toFixed(2)}); ⟨|m|⟩ = ${mG.value.toFixed(5)} ± ${mG.error.toFixed(5)} vs direct ${mD.value.toFixed(5)} ± ${mD.error.toFixed(5)} (z = ${zM.toFixed(2)})`);
  // Sanity only: the generated ensemble is near criticality and the numbers are finite.
  assert.ok(Number.isFinite(zE) && Number.isFinite(zM));
  assert.ok(Math.abs(eG.value - exactE) < 0.05 && Math.abs(mG.value - mD.value) < 0.05);
});

test("compatibleSampler: Chains interface, measure, save/restore bit-for-bit, refuses incompatible states", () => {
  const lat = lattice(2, 8);
  const rng = rngFor({ seed: 51 });
  const sigma = randomSpins(16, rng);
  const smp = compatibleSampler({ lat, beta: 0.4, coarse: sigma, rng: rngFor({ seed: 52 }) });
  assert.equal(smp.chains, 1);
  assert.deepEqual([...smp.observables], ["energy", "magnetization"]);
  for (let k = 0; k < 10; k++) smp.sweep();
  smp.endThermalization();
  const E = new Float64Array(1), M = new Float64Array(1);
  smp.measure([E, M]);
  const s = new Int8Array(lat.V);
  smp.config(0, s);
  assert.equal(E[0], isingEnergy(lat, s));
  assert.equal(M[0], magnetization(s));
  const st = smp.save();
  for (let k = 0; k < 5; k++) smp.sweep();
  const after = smp.spins.slice();
  smp.restore(st);
  assert.deepEqual(Array.from(smp.spins), Array.from(s));
  for (let k = 0; k < 5; k++) smp.sweep();
  assert.deepEqual(Array.from(smp.spins), Array.from(after));
  assert.equal(smp.counters.updates, 20 * lat.V);
  // A checkpoint of another coarse configuration is refused.
  const bad = { ...st, spins: compatibleInit(lat, Int8Array.from(sigma, (v) => -v)) };
  assert.throws(() => smp.restore(bad), /not compatible/);
  assert.throws(() => compatibleSampler({ lat, beta: 0.4, coarse: sigma, rng, init: new Int8Array(64).fill(1).map((_, i) => (i % 2 ? 1 : -1)) }), /does not block/);
  smp.reset(Int8Array.from(sigma, (v) => -v));
  assert.deepEqual(Array.from(smp.spins), Array.from(compatibleInit(lat, Int8Array.from(sigma, (v) => -v))));
});

test("inverseLevels: 2D 8 → 16 → 32 → 64 and 3D 4 → 8 → 16, each level blocks to the previous one and relaxes in a few sweeps", (t) => {
  const beta = BETA_C_2D;
  const starts = wolffConfigs(lat8, beta, 8, 61, 5);
  const energies: Float64Array[][] = [[], [], []];
  let last: Int8Array | undefined;
  for (const [k, c] of starts.entries()) {
    const lv = inverseLevels({ dim: 2, beta, coarse: c, L0: 8, levels: 3, sweepsPerLevel: 30, rng: rngFor({ seed: 62, replica: k }) });
    assert.deepEqual(lv.map((l) => l.L), [16, 32, 64]);
    let prev = c;
    lv.forEach((l, j) => {
      assert.deepEqual(firstTie(lattice(2, l.L), l.config), prev, `level ${l.L} does not block to its parent`);
      assert.equal(l.energy!.length, 31);
      assert.ok(Math.abs(l.blockCorrelation![0]! - blockCorrelation(lattice(2, l.L), compatibleInit(lattice(2, l.L), prev))) < 1e-12);
      energies[j]!.push(l.energy!);
      prev = l.config;
    });
    last = lv[2]!.config;
  }
  const taus = energies.map((e) => relaxationTime(e));
  const e64 = energies[2]!.reduce((a, e) => a + e[30]!, 0) / energies[2]!.length;
  t.diagnostic(`relaxation time of e (sweeps) at L = 16, 32, 64: ${taus.map((x) => x.toFixed(2)).join(", ")}; ⟨e⟩ at 64 over 8 chains ${e64.toFixed(4)} (Kaufman ${kaufman(64, beta).e.toFixed(4)})`);
  for (const tau of taus) assert.ok(tau > 0.5 && tau < 5, `relaxation time ${tau}`);
  // Not a precision test (8 configurations): the generated 64² lattices are near-critical.
  assert.ok(Math.abs(e64 - kaufman(64, beta).e) < 0.05, `⟨e⟩ at 64 = ${e64}`);
  assert.ok(last && isCompatible(lattice(2, 64), last, blockSpinsFirst(lattice(2, 64), last)));
  const lv3 = inverseLevels({ dim: 3, beta: BETA_C_3D, coarse: randomSpins(64, rngFor({ seed: 63 })), L0: 4, levels: 2, sweepsPerLevel: 5, rng: rngFor({ seed: 64 }), rule: "metropolis", record: false, unconstrainedSweeps: 0 });
  assert.deepEqual(firstTie(lattice(3, 16), lv3[1]!.config), lv3[0]!.config);
  assert.equal(lv3[0]!.energy, undefined);
});

test("relaxationTime of a pure exponential approach is its decay time", () => {
  for (const tau of [1, 3, 8]) {
    const x = Float64Array.from({ length: 200 }, (_, t) => 2 + Math.exp(-t / tau));
    const est = relaxationTime([x]);
    assert.ok(Math.abs(est - tau) < 0.1 * tau + 0.05, `τ = ${tau}: got ${est}`);
  }
});

for (const alg of ["wolff", "hybrid"] as const) test(`${alg} unconstrained sweeps after the compatible step: 2D 4x4 samples the full Boltzmann distribution of E (chi-square)`, (t) => {
  // The cluster sweeps use a fixed number of clusters (calibrated once per level); stopping each sweep
  // when V spins have flipped would make the stopping time depend on the state and bias it.
  const lat = lattice(2, 4), beta = BETA_C_2D;
  const p = boltzmannProbabilities(lat, beta);
  const bins = (b: number): Float64Array => {
    const q = new Float64Array(17), s = new Int8Array(lat.V);
    const pb = b === beta ? p : boltzmannProbabilities(lat, b);
    for (let k = 0; k < pb.length; k++) {
      for (let i = 0; i < lat.V; i++) s[i] = (k >>> i) & 1 ? -1 : 1;
      q[(isingEnergy(lat, s) + 32) / 4]! += pb[k]!;
    }
    return q;
  };
  const rng = rngFor({ seed: 71 });
  const hist = new Float64Array(17);
  const samples = 20000;
  for (let k = 0; k < samples; k++) {
    const coarse = randomSpins(4, rng);
    const [lv] = inverseLevels({ dim: 2, beta, coarse, L0: 2, levels: 1, sweepsPerLevel: 2, rng, record: false, unconstrainedSweeps: 4, unconstrainedAlgorithm: alg });
    hist[(isingEnergy(lat, lv!.config) + 32) / 4]!++;
  }
  const res = chiSquareTest(hist, bins(beta)), wrong = chiSquareTest(hist, bins(beta * 1.1));
  t.diagnostic(`χ² = ${res.chi2.toFixed(1)} / ${res.dof} dof, p = ${res.pValue.toFixed(4)}; 10%-wrong β: p = ${wrong.pValue.toExponential(2)}`);
  assert.ok(res.pValue > 1e-4, `χ² = ${res.chi2.toFixed(1)} for ${res.dof} dof`);
  assert.ok(wrong.pValue < 1e-3, "a 10% wrong β was not detected");
});

test("the Wolff-equilibrated starting configurations of the chains follow the Boltzmann distribution (2D 4x4, chi-square on E)", (t) => {
  // A configuration taken right after a calibration sweep (stopped once V spins have flipped) is biased.
  const lat = lattice(2, 4), beta = BETA_C_2D;
  const bins = (b: number): Float64Array => {
    const p = boltzmannProbabilities(lat, b), q = new Float64Array(17), s = new Int8Array(lat.V);
    for (let k = 0; k < p.length; k++) {
      for (let i = 0; i < lat.V; i++) s[i] = (k >>> i) & 1 ? -1 : 1;
      q[(isingEnergy(lat, s) + 32) / 4]! += p[k]!;
    }
    return q;
  };
  const p = chainParams({ dim: 2, beta, from: 4, to: 8, sweeps: 1, chains: 1, unconstrained: 0, unconstrainedAlgorithm: "local", algorithm: "heatbath", therm: 10, seed: 3 }, { recordChains: 0 });
  const hist = new Float64Array(17);
  const samples = 20000;
  for (let c = 0; c < samples; c++) hist[(runChain(p, c, new Map()).levels[0]!.H + 32) / 4]!++;
  const res = chiSquareTest(hist, bins(beta)), wrong = chiSquareTest(hist, bins(beta * 1.1));
  t.diagnostic(`χ² = ${res.chi2.toFixed(1)} / ${res.dof} dof, p = ${res.pValue.toFixed(4)}; 10%-wrong β: p = ${wrong.pValue.toExponential(2)}`);
  assert.ok(res.pValue > 1e-4, `χ² = ${res.chi2.toFixed(1)} for ${res.dof} dof`);
  assert.ok(wrong.pValue < 1e-3, "a 10% wrong β was not detected");
});
