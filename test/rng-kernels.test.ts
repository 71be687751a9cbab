// Every kernel that inlines the xoshiro128** step (for speed) must leave its generator in a state the
// real generator reaches from the same start: a wrong copy of the step (a shift, a rotation) leaves the
// generator's orbit at once. The number of draws found is also checked against what the kernel must use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, neighbours } from "../src/lattice/geometry.js";
import { Rng, rngFor } from "../src/lattice/rng.js";
import { checkerboardSweep, Rule } from "../src/mc/checkerboard.js";
import { heatbathTable } from "../src/mc/heatbath.js";
import { metropolisTable } from "../src/mc/metropolis.js";
import { wolffCluster, wolffClusterPow2, wolffThreshold } from "../src/mc/wolff.js";
import { phi4WolffCluster, phi4WolffClusterPow2 } from "../src/mc/phi4-cluster.js";
import { phi4LocalSweep } from "../src/mc/phi4-local.js";
import { multispinSweep, multispinTable } from "../src/mc/multispin.js";
import { constrainedSweep, compatibleInit } from "../src/mc/compatible.js";
import { colourSites, eaMetropolisSweep, eaMetropolisTable } from "../src/mc/ea-metropolis.js";
import { eaBonds, eaCouplings } from "../src/models/ea.js";
import { exchangePass, makeTempering } from "../src/mc/parallel-tempering.js";
import { randomSpins } from "../src/models/ising.js";
import { randomField } from "../src/models/phi4.js";

/** Draws from `start` after which the generator is in `state`, or -1 if not within `max`. */
function drawsTo(start: Uint32Array, state: Uint32Array, max = 4_000_000): number {
  const r = new Rng(start);
  for (let n = 0; n <= max; n++) {
    const s = r.state();
    if (s[0] === state[0] && s[1] === state[1] && s[2] === state[2] && s[3] === state[3]) return n;
    r.u32();
  }
  return -1;
}

/** Runs `kernel` with a fresh generator and returns the draws it made (asserting it stayed on the orbit). */
function draws(name: string, kernel: (rng: Rng) => void, seed = 1): number {
  const rng = rngFor({ seed, task: 77 });
  const start = rng.state();
  kernel(rng);
  const n = drawsTo(start, rng.state());
  assert.ok(n > 0, `${name}: the generator left the xoshiro128** orbit (an inlined step differs from lattice/rng.ts)`);
  return n;
}

test("inlined generator steps: checkerboard Metropolis and heat bath (2D, 3D) draw exactly one number per site", () => {
  for (const dim of [2, 3]) {
    const lat = lattice(dim, dim === 2 ? 16 : 8);
    const s = randomSpins(lat.V, rngFor({ seed: 3 }));
    for (const [rule, table] of [[Rule.Metropolis, metropolisTable(dim, 0.3)], [Rule.HeatBath, heatbathTable(dim, 0.3)]] as const) {
      assert.equal(draws(`checkerboard ${dim}D`, (rng) => checkerboardSweep(lat, s, rule, table, rng)), lat.V);
    }
  }
});

test("inlined generator steps: Ising Wolff (table and power-of-two versions) agree with the generator and with each other", () => {
  for (const dim of [2, 3]) {
    const lat = lattice(dim, 8), nb = neighbours(lat);
    const a = randomSpins(lat.V, rngFor({ seed: 4 })), b = a.slice();
    const th = wolffThreshold(0.3), stack = new Int32Array(lat.V), nbr = new Int32Array(6);
    const na = draws(`wolff ${dim}D`, (rng) => { for (let k = 0; k < 20; k++) wolffCluster(nb, 2 * dim, a, th, rng, stack); });
    const nb2 = draws(`wolff pow2 ${dim}D`, (rng) => { for (let k = 0; k < 20; k++) wolffClusterPow2(dim, 8, b, th, rng, stack, nbr); });
    assert.equal(na, nb2);
    assert.deepEqual(a, b);
  }
});

test("inlined generator steps: phi4 embedded clusters and the local sweep", () => {
  const lat = lattice(2, 16), nb = neighbours(lat), stack = new Int32Array(lat.V);
  const f = randomField(lat.V, rngFor({ seed: 5 })), g = Float64Array.from(f);
  const n1 = draws("phi4 cluster", (rng) => { for (let k = 0; k < 20; k++) phi4WolffCluster(nb, 4, f, 1, rng, stack); });
  const n2 = draws("phi4 cluster pow2", (rng) => { for (let k = 0; k < 20; k++) phi4WolffClusterPow2(16, g, 1, rng, stack); });
  assert.equal(n1, n2);
  // One normal (one word, occasionally more) and one acceptance word per site.
  const n = draws("phi4 local", (rng) => phi4LocalSweep(lat, f, { mu2: -0.95, lambda: 0.7, kappa: 1 }, rng));
  assert.ok(n >= 2 * lat.V && n < 2.1 * lat.V, `${n} draws for ${lat.V} sites`);
});

test("inlined generator steps: multi-spin sweeps, compatible constrained sweep, EA Metropolis, parallel-tempering exchanges", () => {
  for (const dim of [2, 3]) {
    const lat = lattice(dim, 8);
    const w = Int32Array.from({ length: lat.V }, (_, i) => (i * 2654435761) | 0);
    assert.ok(draws(`multispin ${dim}D`, (rng) => multispinSweep(lat, w, multispinTable(dim, 0.3), rng)) > 0);
  }
  const fine = lattice(2, 16), coarse = randomSpins(64, rngFor({ seed: 6 }));
  const s = compatibleInit(fine, coarse);
  assert.equal(draws("compatible", (rng) => constrainedSweep(fine, s, coarse, 0.44, rng)), fine.V);
  const lat3 = lattice(3, 6), bonds = eaBonds(lat3, eaCouplings(lat3, 1, 0)), cols = colourSites(lat3);
  const sp = randomSpins(lat3.V, rngFor({ seed: 7 }));
  assert.equal(draws("EA Metropolis", (rng) => eaMetropolisSweep(bonds, cols, sp, eaMetropolisTable(3, 0.9), rng)), lat3.V);
  const t = makeTempering(6, 2);
  t.energy.forEach((_, k) => (t.energy[k] = -100 + 7 * k));
  assert.ok(draws("exchange", (rng) => { for (let k = 0; k < 10; k++) exchangePass(t, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], rng); }) > 0);
});
