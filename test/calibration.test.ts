// Clusters per sweep of the Wolff updates, calibrated from a hot start: after thermalisation a sweep
// flips about V sites of the equilibrium clusters (the hot start's tiny clusters must not count).
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D } from "../src/models/ising.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";
import { makePhi4Sampler } from "../src/mc/phi4-samplers.js";
import { calibrationAdd, calibrationInit, calibrationSweep, calibrationTotals } from "../src/mc/calibration.js";

test("calibration window: the sums cover at least the later half of the sweeps", () => {
  const e = calibrationInit();
  for (let sweep = 1; sweep <= 100; sweep++) {
    calibrationSweep(e);
    calibrationAdd(e, sweep); // one cluster of size = sweep index
  }
  const t = calibrationTotals(e);
  // Buckets shift at 64: the window is sweeps 32…100.
  assert.equal(t.clusters, 69);
  assert.equal(t.sites, ((32 + 100) * 69) / 2);
});

test("Wolff from a hot start: sites flipped per sweep after calibration ≈ V (Ising and φ⁴)", () => {
  const lat = lattice(2, 128);
  const ising = makeIsingSampler({ algorithm: "wolff", lat, beta: BETA_C_2D, rng: rngFor({ seed: 3 }) });
  const phi4 = makePhi4Sampler({ algorithm: "cluster", lat, couplings: { mu2: -0.9515, lambda: 0.7, kappa: 1 }, rng: rngFor({ seed: 4 }) });
  // φ⁴ thermalises more slowly from a hot start (the field amplitude has to grow first).
  for (const [name, s, therm] of [["ising", ising, 60], ["phi4", phi4, 200]] as const) {
    for (let k = 0; k < therm; k++) s.sweep();
    s.endThermalization();
    const f0 = s.counters.flipped;
    const sweeps = 200;
    for (let k = 0; k < sweeps; k++) s.sweep();
    const perSweep = (s.counters.flipped - f0) / sweeps / lat.V;
    // With the whole hot start in the average this was ~10² at L = 128 (and grows like L^{7/4}).
    assert.ok(perSweep > 0.4 && perSweep < 2.5, `${name}: ${perSweep.toFixed(2)} V flipped per sweep`);
  }
});
