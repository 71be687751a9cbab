// Every Ising sampler against exact answers with the code's own error bars: Kaufman's finite-L ⟨e⟩
// and C (2D, L = 4…32, β incl. β_c), complete enumeration (4×4, 2×2×2) for the magnetisation
// moments and U₄, 3D series expansions at high and low temperature, and the 3D U₄ crossing at K_c.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, BETA_C_3D } from "../src/models/ising.js";
import { enumerateIsing, exactObservables, kaufman } from "../src/models/ising-exact.js";
import { ISING_ALGORITHMS, makeIsingSampler, type IsingAlgorithm } from "../src/mc/ising-samplers.js";
import { isingEstimates } from "../src/analysis/observables.js";
import { type Estimate } from "../src/analysis/stats.js";

/** Runs a sampler and returns the standard estimates (about `samples` measurements over all chains). */
function simulate(algorithm: IsingAlgorithm, lat: Lattice, beta: number, samples: number, seed: number, start: "hot" | "cold" = "hot"): Record<string, Estimate> {
  const smp = makeIsingSampler({ algorithm, lat, beta, start, rng: rngFor({ seed, task: ISING_ALGORITHMS.indexOf(algorithm) }) });
  for (let k = 0; k < 300; k++) smp.sweep();
  smp.endThermalization();
  const n = Math.ceil(samples / smp.chains);
  const E = new Float64Array(n * smp.chains), M = new Float64Array(n * smp.chains);
  const e = new Float64Array(smp.chains), m = new Float64Array(smp.chains);
  for (let t = 0; t < n; t++) {
    smp.sweep();
    smp.measure([e, m]);
    E.set(e, t * smp.chains);
    M.set(m, t * smp.chains);
  }
  return isingEstimates(E, M, { V: lat.V, beta, chains: smp.chains });
}

function agree(name: string, est: Estimate, exact: number, maxRel: number, extra = 0): void {
  assert.ok(est.error < maxRel * Math.abs(exact), `${name}: error ${est.error} too large for a meaningful test (exact ${exact})`);
  assert.ok(Math.abs(est.value - exact) < 4 * est.error + extra, `${name}: ${est.value} ± ${est.error} vs exact ${exact}`);
}

/** Measurements per run: local updates decorrelate slowly at β_c, so they get more. */
function budget(algorithm: IsingAlgorithm, L: number): number {
  const local = algorithm === "metropolis" || algorithm === "heatbath" || algorithm === "multispin";
  return Math.round((local ? 60000 : 30000) * Math.min(1, 16 / L + 0.25));
}

for (const algorithm of ISING_ALGORITHMS) {
  test(`${algorithm}: <e> and C equal Kaufman's exact finite-L values (L = 4, 8, 16, 32; 4 sigma)`, () => {
    for (const L of [4, 8, 16, 32]) {
      for (const beta of [0.3, BETA_C_2D, 0.6]) {
        const est = simulate(algorithm, lattice(2, L), beta, budget(algorithm, L), 1000 + L);
        const exact = kaufman(L, beta);
        agree(`L=${L} beta=${beta} e`, est.e!, exact.e, 0.01);
        agree(`L=${L} beta=${beta} C`, est.c!, exact.c, 0.2);
      }
    }
  });

  test(`${algorithm}: <|m|>, <m^2>, <m^4> and U4 equal complete enumeration (4x4 and 2x2x2)`, () => {
    for (const [dim, L, beta] of [[2, 4, 0.3], [2, 4, BETA_C_2D], [3, 2, 0.2], [3, 2, 0.4]] as const) {
      const lat = lattice(dim, L);
      const exact = exactObservables(enumerateIsing(lat), beta);
      const est = simulate(algorithm, lat, beta, 60000, 2000 + dim);
      agree(`${L}^${dim} beta=${beta} |m|`, est.abs_m!, exact.absM, 0.02);
      agree(`${L}^${dim} beta=${beta} m2`, est.m2!, exact.m2, 0.02);
      agree(`${L}^${dim} beta=${beta} m4`, est.m4!, exact.m4, 0.03);
      agree(`${L}^${dim} beta=${beta} U4`, est.binder!, exact.binder, 0.05);
    }
  });

  test(`${algorithm}: 3D <e> on 8^3 equals the high- and low-temperature series`, () => {
    // High T (v = tanh β): ln Z/N = ln 2 + 3 ln cosh β + 3v⁴ + 22v⁶ + O(v⁸), so
    // e = −3v − (1 − v²)(12v³ + 132v⁵) with the v⁸ term (192 v⁸) bounding the truncation.
    const bHigh = 0.08, v = Math.tanh(bHigh);
    const eHigh = -3 * v - (1 - v * v) * (12 * v ** 3 + 132 * v ** 5);
    const truncHigh = (1 - v * v) * 8 * 192 * v ** 7 * 1.5;
    // Low T (u = e^{−4β}): ln Z/N = 3β + u³ + 3u⁵ − 7/2 u⁶ + 15u⁷ + O(u⁸) (single flips, adjacent
    // pairs, separated pairs, three-site clusters), so e = −3 + 4(3u³ + 15u⁵ − 21u⁶ + 105u⁷).
    const bLow = 0.6, u = Math.exp(-4 * bLow);
    const eLow = -3 + 4 * (3 * u ** 3 + 15 * u ** 5 - 21 * u ** 6 + 105 * u ** 7);
    const truncLow = 4 * 8 * 40 * u ** 8;
    const lat = lattice(3, 8);
    agree("beta=0.08 e", simulate(algorithm, lat, bHigh, 40000, 3001).e!, eHigh, 0.002, truncHigh);
    // Cold start: from a hot start, local updates at β = 0.6 freeze into long-lived domain walls.
    agree("beta=0.6 e", simulate(algorithm, lat, bLow, 40000, 3002, "cold").e!, eLow, 0.002, truncLow);
  });
}

test("3D Binder cumulants of L = 8 and 16 cross between K_c - 0.003 and K_c + 0.003 (Wolff)", () => {
  const U = (L: number, K: number): Estimate => simulate("wolff", lattice(3, L), K, L === 8 ? 20000 : 6000, 4000 + L).binder!;
  const below = [U(8, BETA_C_3D - 0.003), U(16, BETA_C_3D - 0.003)];
  const above = [U(8, BETA_C_3D + 0.003), U(16, BETA_C_3D + 0.003)];
  const diff = (p: Estimate[]): { d: number; s: number } => ({ d: p[1]!.value - p[0]!.value, s: Math.hypot(p[0]!.error, p[1]!.error) });
  const lo = diff(below), hi = diff(above);
  // Below K_c the larger system is more disordered (smaller U), above it more ordered.
  assert.ok(lo.d < -3 * lo.s, `below K_c: U16 − U8 = ${lo.d} ± ${lo.s}`);
  assert.ok(hi.d > 3 * hi.s, `above K_c: U16 − U8 = ${hi.d} ± ${hi.s}`);
});
