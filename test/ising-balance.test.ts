// Detailed balance and ergodicity of every Ising sampler: the histogram of visited states on the
// 2×2×2 torus, and of (E, M) on the 4×4 torus, must follow the exact distribution (χ², fixed seeds).
// (Not 2×2: its doubled bonds give ΔE = 0 moves that checkerboard Metropolis makes deterministically,
// and that chain is provably reducible — its transition matrix has several unit eigenvalues.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { ISING_ALGORITHMS, makeIsingSampler, type IsingAlgorithm } from "../src/mc/ising-samplers.js";
import { boltzmannProbabilities, dosProbabilities, enumerateIsing, stateIndex } from "../src/models/ising-exact.js";
import { chiSquareTest } from "../src/analysis/chisq.js";

/** Histogram of states visited every `thin` sweeps. */
function stateHistogram(algorithm: IsingAlgorithm, lat: Lattice, beta: number, samples: number, seed: number): Float64Array {
  const smp = makeIsingSampler({ algorithm, lat, beta, rng: rngFor({ seed, task: 1 }) });
  for (let k = 0; k < 50; k++) smp.sweep();
  smp.endThermalization();
  const hist = new Float64Array(2 ** lat.V);
  const s = new Int8Array(lat.V);
  const thin = 3; // odd: checkerboard Metropolis on 2×2 flips ΔE = 0 spins deterministically (period 2)
  for (let n = 0; n < Math.ceil(samples / smp.chains); n++) {
    for (let k = 0; k < thin; k++) smp.sweep();
    for (let c = 0; c < smp.chains; c++) {
      smp.config(c, s);
      hist[stateIndex(s)]!++;
    }
  }
  return hist;
}

/** Histogram over the (E, M) classes of a density of states, sampled every `thin` sweeps. */
function energyMagnetizationHistogram(algorithm: IsingAlgorithm, lat: Lattice, beta: number, samples: number, seed: number) {
  const dos = enumerateIsing(lat);
  const key = (E: number, M: number): string => `${E},${M}`;
  const index = new Map(dos.E.map((E, k) => [key(E, dos.M[k]!), k]));
  const smp = makeIsingSampler({ algorithm, lat, beta, rng: rngFor({ seed, task: 2 }) });
  for (let k = 0; k < 100; k++) smp.sweep();
  smp.endThermalization();
  const hist = new Float64Array(dos.count.length);
  const E = new Float64Array(smp.chains), M = new Float64Array(smp.chains);
  for (let n = 0; n < Math.ceil(samples / smp.chains); n++) {
    for (let k = 0; k < 3; k++) smp.sweep();
    smp.measure([E, M]);
    for (let c = 0; c < smp.chains; c++) hist[index.get(key(E[c]!, M[c]!))!]!++;
  }
  return { hist, probs: (b: number): Float64Array => dosProbabilities(dos, b) };
}

for (const algorithm of ISING_ALGORITHMS) {
  test(`${algorithm} samples the Boltzmann distribution on 2^3 (chi-square over all 256 states)`, () => {
    const lat = lattice(3, 2);
    const beta = 0.2;
    const hist = stateHistogram(algorithm, lat, beta, 40000, 13);
    const exact = boltzmannProbabilities(lat, beta);
    const res = chiSquareTest(hist, exact);
    assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
    // Ergodicity: every state with expected count above 20 was visited.
    exact.forEach((p, k) => assert.ok(p * 40000 < 20 || hist[k]! > 0, `state ${k} never visited`));
    // The test has power: the same histogram is rejected against a 10% different coupling.
    const wrong = chiSquareTest(hist, boltzmannProbabilities(lat, beta * 1.1));
    assert.ok(wrong.pValue < 1e-3, `a 10% wrong beta was not detected (p = ${wrong.pValue})`);
  });

  for (const beta of [0.3, 0.44]) {
    test(`${algorithm} samples the joint (E, M) distribution of the 4x4 torus at beta = ${beta} (chi-square)`, () => {
      const { hist, probs } = energyMagnetizationHistogram(algorithm, lattice(2, 4), beta, 60000, 17);
      const res = chiSquareTest(hist, probs(beta));
      assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
      const wrong = chiSquareTest(hist, probs(beta * 1.05));
      assert.ok(wrong.pValue < 1e-3, `a 5% wrong beta was not detected (p = ${wrong.pValue})`);
    });
  }
}

test("Wolff on power-of-two lattices (mask neighbours) draws the same clusters as the table version", async () => {
  const { neighbours } = await import("../src/lattice/geometry.js");
  const { wolffCluster, wolffClusterPow2, wolffThreshold } = await import("../src/mc/wolff.js");
  const { randomSpins } = await import("../src/models/ising.js");
  for (const [dim, L] of [[2, 16], [3, 8], [2, 2]] as const) {
    const lat = lattice(dim, L);
    const a = randomSpins(lat.V, rngFor({ seed: 1 })), b = a.slice();
    const ra = rngFor({ seed: 2 }), rb = rngFor({ seed: 2 });
    const nb = neighbours(lat), st = new Int32Array(lat.V), nbr = new Int32Array(6);
    const thr = wolffThreshold(dim === 2 ? 0.44 : 0.22);
    for (let k = 0; k < 200; k++) {
      assert.equal(wolffCluster(nb, 2 * dim, a, thr, ra, st), wolffClusterPow2(dim, L, b, thr, rb, st, nbr));
    }
    assert.deepEqual(Array.from(a), Array.from(b));
  }
});
