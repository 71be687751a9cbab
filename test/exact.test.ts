// The exact references themselves are checked first: Kaufman's Z against complete enumeration,
// the enumeration against hand counts, and the χ² p-value against known quantiles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice } from "../src/lattice/geometry.js";
import { BETA_C_2D } from "../src/models/ising.js";
import { boltzmannProbabilities, enumerateIsing, exactObservables, kaufman, stateIndex } from "../src/models/ising-exact.js";
import { chiSquareTest, gammaQ } from "../src/analysis/chisq.js";

test("Kaufman's finite-L solution equals complete enumeration (L = 2, 4)", () => {
  for (const L of [2, 4]) {
    const dos = enumerateIsing(lattice(2, L));
    for (const beta of [0.1, 0.3, BETA_C_2D, 0.5, 0.9]) {
      const k = kaufman(L, beta);
      const x = exactObservables(dos, beta);
      assert.ok(Math.abs(k.e - x.e) < 1e-12, `e at L=${L}, beta=${beta}: ${k.e} vs ${x.e}`);
      assert.ok(Math.abs(k.c - x.c) < 1e-10, `c at L=${L}, beta=${beta}: ${k.c} vs ${x.c}`);
    }
  }
});

test("Kaufman's solution approaches Onsager's infinite-lattice energy at beta_c", () => {
  // e(∞, β_c) = −√2, with finite-size correction of order 1/L.
  const e1024 = kaufman(1024, BETA_C_2D).e;
  assert.ok(Math.abs(e1024 + Math.SQRT2) < 1e-3, `${e1024}`);
  // The specific heat grows like (8/π) β_c² ln L (Ferdinand–Fisher): check the slope.
  const slope = kaufman(1024, BETA_C_2D).c - kaufman(512, BETA_C_2D).c;
  assert.ok(Math.abs(slope / Math.LN2 - (8 / Math.PI) * BETA_C_2D ** 2) < 1e-3, `${slope / Math.LN2}`);
});

test("Kaufman's lnZ gives the high-temperature limit and is smooth across beta_c", () => {
  const L = 16;
  const k = kaufman(L, 1e-4);
  assert.ok(Math.abs(k.lnZ - (L * L * Math.LN2 + 2 * L * L * Math.log(Math.cosh(1e-4)))) < 1e-6);
  // d lnZ/dβ = −V e, checked by a central difference across the critical point.
  const h = 1e-5;
  const fd = (kaufman(L, BETA_C_2D + h).lnZ - kaufman(L, BETA_C_2D - h).lnZ) / (2 * h);
  assert.ok(Math.abs(-fd / (L * L) - kaufman(L, BETA_C_2D).e) < 1e-6);
});

test("enumeration counts: 2^V states, ground states, single flips", () => {
  const dos = enumerateIsing(lattice(2, 4));
  assert.equal(dos.count.reduce((a, b) => a + b, 0), 2 ** 16);
  const ground = dos.count.filter((_, k) => dos.E[k] === -32).reduce((a, b) => a + b, 0);
  assert.equal(ground, 2);
  // One flipped spin breaks 4 bonds: E = −32 + 8, M = ±14, 16 states each.
  const k = dos.E.findIndex((e, i) => e === -24 && dos.M[i] === 14);
  assert.equal(dos.count[k], 16);
  const dos3 = enumerateIsing(lattice(3, 2));
  assert.equal(dos3.count.reduce((a, b) => a + b, 0), 256);
});

test("Boltzmann probabilities are normalised and agree with the density of states", () => {
  const lat = lattice(2, 2);
  const p = boltzmannProbabilities(lat, 0.4);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-14);
  // All up and all down are the two most probable states.
  assert.ok(Math.abs(p[0]! - p[15]!) < 1e-15);
  assert.equal(stateIndex([1, 1, 1, 1]), 0);
  assert.equal(stateIndex([-1, 1, 1, -1]), 9);
  const x = exactObservables(enumerateIsing(lat), 0.4);
  let m2 = 0;
  for (let s = 0; s < 16; s++) {
    let M = 0;
    for (let i = 0; i < 4; i++) M += (s >>> i) & 1 ? -1 : 1;
    m2 += p[s]! * (M / 4) ** 2;
  }
  assert.ok(Math.abs(m2 - x.m2) < 1e-14);
});

test("chi-square p-values: quantiles and a deliberately wrong histogram", () => {
  assert.ok(Math.abs(gammaQ(5, 3.2) - 0.7806125) < 1e-6);
  assert.ok(Math.abs(gammaQ(0.5, 2) - 0.0455003) < 1e-6);
  const probs = [0.1, 0.2, 0.3, 0.4];
  assert.ok(chiSquareTest([1000, 2000, 3000, 4000], probs).pValue > 0.99);
  assert.ok(chiSquareTest([1300, 1900, 2900, 3900], probs).pValue < 1e-6);
});
