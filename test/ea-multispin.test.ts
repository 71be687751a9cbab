// The multi-spin EA engine against its references: bit level (packing round trips; every lane of a block
// equals the one-spin sweep fed the same random numbers; the WebAssembly kernel equals the TypeScript one),
// energies tracked in the sweep against recomputation, exact enumeration of 2×2×2 samples ([⟨q²⟩], [⟨e⟩] at
// two ladder temperatures), the one-spin engine on the same couplings, and the weak coupling of samples
// that share random numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { Rng } from "../src/lattice/rng.js";
import { eaBonds, eaCouplings, eaEnergy, minWaves, overlapField, overlapQ, overlapQk2 } from "../src/models/ea.js";
import { eaBoltzmann, eaEnumerate, exactMoments } from "../src/models/ea-exact.js";
import { msCountSlot, msLayout, msSweepSlot, packCouplings, packSpins, setThresholds, slotEnergies, unpackOverlap, unpackSpins } from "../src/mc/ea-multispin.js";
import { makeEaMultispinSampler, msKernelFactory } from "../src/mc/ea-multispin-sampler.js";
import { wasmUnavailable } from "../src/mc/ea-multispin-wasm.js";
import { colourSites, eaMetropolisSweep, eaMetropolisTable } from "../src/mc/ea-metropolis.js";
import { type EaSampler, makeEaSampler } from "../src/mc/ea-samplers.js";
import { betaLadder, exchangeBatch, exchangePass, makeTempering, makeTemperingBatch } from "../src/mc/parallel-tempering.js";
import { jackknife } from "../src/analysis/stats.js";

test("packing: couplings and spins of every lane round-trip to the plain layout", () => {
  const lat = lattice(3, 4);
  const lay = msLayout(lat, 2, 3);
  const buf = new Int32Array(lay.groupWords * 2);
  const rng = new Rng([7, 8, 9, 10]);
  const spins = Array.from({ length: 96 }, () => Int8Array.from({ length: lat.V }, () => (rng.u32() & 1 ? 1 : -1)));
  spins.forEach((s, l) => packSpins(buf, lay, 1, 2, l, s));
  const out = new Int8Array(lat.V);
  spins.forEach((s, l) => assert.deepEqual(unpackSpins(buf, lay, 1, 2, l, out), s));
  // Group 0 untouched; the overlap of a slot with itself is +1 everywhere.
  assert.ok(buf.subarray(0, lay.groupWords).every((x) => x === 0));
  assert.ok(unpackOverlap(buf, lay, 1, 2, 2, 5, out).every((x) => x === 1));
  // Couplings: unsatisfied-bond counts of the packed words equal the plain energies, lane by lane.
  const bonds = spins.map((_, l) => eaBonds(lat, eaCouplings(lat, 4, l)));
  bonds.forEach((b, l) => packCouplings(buf, lay, 1, l, b.jnb));
  msCountSlot(buf, lay, 1, 2);
  const E = slotEnergies(buf, lay, 1, 2, new Float64Array(96));
  spins.forEach((s, l) => assert.ok(E[l] === eaEnergy(bonds[l]!, s), `lane ${l}: ${E[l]}`));
});

/** Every lane of a group of W blocks, swept `sweeps` times, against the one-spin kernel with its block's stream. */
function laneByLane(lat: Lattice, W: number, beta: number, sweeps: number): void {
  const T = 2, slot = 3;
  const lay = msLayout(lat, T, W);
  const buf = new Int32Array(lay.groupWords);
  setThresholds(buf, lay, 0, [beta / 2, beta]);
  const init = new Rng([1, 2, 3, 4]);
  const lanes = 32 * W;
  const bonds = Array.from({ length: lanes }, (_, l) => eaBonds(lat, eaCouplings(lat, 3, l)));
  const spins = bonds.map((b, l) => {
    packCouplings(buf, lay, 0, l, b.jnb);
    const s = Int8Array.from({ length: lat.V }, () => (init.u32() & 1 ? 1 : -1));
    packSpins(buf, lay, 0, slot, l, s);
    return s;
  });
  const states = Array.from({ length: W }, (_, w) => [11 + w, 22, 33 * (w + 1), 44]);
  states.forEach((st, w) => st.forEach((v, j) => (buf[lay.rng + slot * 4 * W + j * W + w] = v)));
  for (let n = 0; n < sweeps; n++) msSweepSlot(buf, lay, 0, slot);
  const E = slotEnergies(buf, lay, 0, slot, new Float64Array(lanes));
  const colours = colourSites(lat);
  const table = eaMetropolisTable(lat.dim, beta);
  const out = new Int8Array(lat.V);
  let flipped = 0;
  for (let l = 0; l < lanes; l++) {
    const rng = new Rng(states[l >> 5]!);
    const s = spins[l]!.slice();
    for (let n = 0; n < sweeps; n++) eaMetropolisSweep(bonds[l]!, colours, s, table, rng);
    assert.deepEqual(unpackSpins(buf, lay, 0, slot, l, out), s, `lane ${l}`);
    assert.equal(E[l], eaEnergy(bonds[l]!, s), `tracked energy of lane ${l}`);
    flipped += s.reduce((a, v, i) => a + (v !== spins[l]![i] ? 1 : 0), 0);
  }
  assert.ok(flipped > lanes * lat.V * 0.1, "the sweeps flipped spins");
}

test("bit level: each lane of a block equals the one-spin sweep fed the same random numbers (3D, 2D, 2x2x2; one and two blocks per group)", () => {
  laneByLane(lattice(3, 4), 1, 0.9, 4);
  laneByLane(lattice(3, 6), 2, 0.5, 3);
  laneByLane(lattice(2, 6), 2, 1.2, 5);
  laneByLane(lattice(3, 2), 1, 0.7, 6);
});

const ladder = betaLadder(0.4, 0.95, 5, 0.9);

test("the WebAssembly SIMD kernel is bit-identical to the TypeScript kernel (sweeps, energies, exchanges, checkpoints across kernels)", (t) => {
  const why = wasmUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  for (const [dim, L] of [[3, 4], [2, 6], [3, 6]] as const) {
    const lat = lattice(dim, L);
    const mk = (engine: "wasm" | "typescript", W: number, samples = 150, firstSample = 7): EaSampler => makeEaMultispinSampler({ lat, betas: ladder, target: 4, samples, firstSample, seed: 2, kernel: msKernelFactory(engine, W) });
    const a = mk("wasm", 4), b = mk("typescript", 1), c = mk("typescript", 3);
    for (let k = 0; k < 25; k++) { a.sweep(); b.sweep(); c.sweep(); }
    for (let s = 0; s < 150; s += 7) {
      for (let w = 0; w < 10; w++) {
        assert.deepEqual(a.copySpins(s, w), b.copySpins(s, w), `${dim}D sample ${s} copy ${w}`);
        assert.deepEqual(c.copySpins(s, w), b.copySpins(s, w));
      }
      assert.deepEqual(a.tempering(s).energy, b.tempering(s).energy);
      assert.deepEqual(a.tempering(s).at, b.tempering(s).at);
    }
    // A checkpoint of the SIMD run continues on the TypeScript kernel exactly.
    const d = mk("typescript", 1);
    d.restore(a.save());
    for (let k = 0; k < 5; k++) { a.sweep(); d.sweep(); }
    assert.deepEqual(d.save().spins, a.save().spins);
  }
});

test("a sample's chain depends only on (seed, sample): other samples, group and worker split do not enter", () => {
  const lat = lattice(3, 4);
  const a = makeEaMultispinSampler({ lat, betas: ladder, target: 4, samples: 70, seed: 9 });
  const b = makeEaMultispinSampler({ lat, betas: ladder, target: 4, samples: 3, firstSample: 40, seed: 9 });
  for (let k = 0; k < 20; k++) { a.sweep(); b.sweep(); }
  for (let c = 0; c < 10; c++) assert.deepEqual(a.copySpins(41, c), b.copySpins(1, c));
  assert.deepEqual(a.tempering(41).at, b.tempering(1).at);
  // Tracked energies equal the recomputed ones after sweeps and exchanges.
  for (const s of [0, 31, 32, 69]) {
    const bonds = eaBonds(lat, eaCouplings(lat, 9, s));
    for (let c = 0; c < 10; c++) assert.equal(a.tempering(s).energy[c], eaEnergy(bonds, a.copySpins(s, c)), `sample ${s} copy ${c}`);
  }
});

/** Per-sample time averages of q² and e = E/V at ladder temperatures `ks` (both replicas), after `therm` sweeps. */
function averages(smp: EaSampler, S: number, ks: number[], therm: number, sweeps: number): { q2: Float64Array[]; e: Float64Array[] } {
  const T = smp.betas.length, V = smp.lat.V;
  const q2 = ks.map(() => new Float64Array(S)), e = ks.map(() => new Float64Array(S));
  const rho = new Int8Array(V);
  for (let n = 0; n < therm; n++) smp.sweep();
  for (let n = 0; n < sweeps; n++) {
    smp.sweep();
    for (let c = 0; c < S; c++) {
      const pt = smp.tempering(c);
      ks.forEach((k, j) => {
        overlapField(smp.copySpins(c, pt.at[k]!), smp.copySpins(c, pt.at[T + k]!), rho);
        q2[j]![c]! += overlapQ(rho) ** 2 / sweeps;
        e[j]![c]! += (pt.energy[pt.at[k]!]! + pt.energy[pt.at[T + k]!]!) / (2 * V * sweeps);
      });
    }
  }
  return { q2, e };
}

/** Disorder average of x − y with its jackknife error over samples. */
function pairedDifference(x: Float64Array, y: Float64Array): { value: number; error: number } {
  const est = jackknife([Float64Array.from(x, (v, i) => v - y[i]!)], (m) => m[0]!, { binSize: 1 });
  return { value: est.value, error: est.error };
}

test("exact enumeration: [<q^2>] and [<e>] of 64 samples of 2x2x2 at two ladder temperatures, within 4 errors; a 25% wrong beta is rejected", () => {
  const lat = lattice(3, 2);
  const betas = Float64Array.of(0.3, 0.6, 1.0, 1.5);
  const S = 64, ks = [1, 3];
  const smp = makeEaMultispinSampler({ lat, betas, target: 3, samples: S, seed: 5 });
  const mc = averages(smp, S, ks, 200, 4000);
  ks.forEach((k, j) => {
    for (const [factor, mustAgree] of [[1, true], [1.25, false]] as const) {
      const exQ = new Float64Array(S), exE = new Float64Array(S);
      for (let c = 0; c < S; c++) {
        const E = eaEnumerate(eaBonds(lat, eaCouplings(lat, 5, c)));
        const m = exactMoments(E, eaBoltzmann(E, betas[k]! * factor), lat.V);
        exQ[c] = m.q2;
        exE[c] = m.energy / lat.V;
      }
      const dq = pairedDifference(mc.q2[j]!, exQ), de = pairedDifference(mc.e[j]!, exE);
      if (mustAgree) {
        assert.ok(dq.error < 0.01 && de.error < 0.01, `beta ${betas[k]}: errors ${dq.error}, ${de.error} too large for a meaningful test`);
        assert.ok(Math.abs(dq.value) < 4 * dq.error, `beta ${betas[k]}: [<q^2>] off by ${dq.value} ± ${dq.error}`);
        assert.ok(Math.abs(de.value) < 4 * de.error, `beta ${betas[k]}: [<e>] off by ${de.value} ± ${de.error}`);
      } else {
        assert.ok(Math.abs(dq.value) > 4 * dq.error || Math.abs(de.value) > 4 * de.error, `beta ${betas[k]}: a 25% wrong beta was not detected`);
      }
    }
  });
});

test("multi-spin and one-spin engines agree on [<q^2>] and [<e>] of the same 32 samples of 4^3 (paired over samples)", () => {
  const lat = lattice(3, 4);
  const betas = betaLadder(0.5, 1.0, 4);
  const S = 32, ks = [1, 3];
  const fast = averages(makeEaMultispinSampler({ lat, betas, target: 3, samples: S, seed: 6 }), S, ks, 500, 2500);
  const slow = averages(makeEaSampler({ lat, betas, target: 3, samples: S, seed: 6 }), S, ks, 500, 2500);
  ks.forEach((k, j) => {
    const dq = pairedDifference(fast.q2[j]!, slow.q2[j]!), de = pairedDifference(fast.e[j]!, slow.e[j]!);
    assert.ok(dq.error < 0.02 && de.error < 0.01, `errors ${dq.error}, ${de.error}`);
    assert.ok(Math.abs(dq.value) < 4 * dq.error, `beta ${betas[k]}: [<q^2>] differs by ${dq.value} ± ${dq.error}`);
    assert.ok(Math.abs(de.value) < 4 * de.error, `beta ${betas[k]}: [<e>] differs by ${de.value} ± ${de.error}`);
  });
});

test("shared random numbers: identical samples in a block coalesce, different ones do not; their overlaps stay uncorrelated", () => {
  // Positive control at the bit level: lanes 0…15 get the couplings of one sample, lanes 16…31 those of
  // others. Fed the same random numbers, the identical systems lock onto lane 0 or onto its global flip
  // (the Metropolis move is symmetric under s → −s); the different ones never do.
  const lat = lattice(3, 4);
  const lay = msLayout(lat, 1, 1);
  const buf = new Int32Array(lay.groupWords);
  setThresholds(buf, lay, 0, [1.0]);
  const one = eaBonds(lat, eaCouplings(lat, 1, 0)).jnb;
  for (let l = 0; l < 32; l++) packCouplings(buf, lay, 0, l, l < 16 ? one : eaBonds(lat, eaCouplings(lat, 1, l)).jnb);
  const init = new Rng([5, 6, 7, 8]);
  for (let i = 0; i < lat.V; i++) buf[lay.spins + i] = init.u32() | 0;
  buf.set([1, 2, 3, 4], lay.rng);
  const s0 = new Int8Array(lat.V), sl = new Int8Array(lat.V);
  const locked = (l: number): boolean => {
    unpackSpins(buf, lay, 0, 0, l, sl);
    const q = s0.reduce((a, v, i) => a + v * sl[i]!, 0);
    return Math.abs(q) === lat.V;
  };
  let differentLocked = 0;
  for (let n = 0; n < 3000; n++) {
    msSweepSlot(buf, lay, 0, 0);
    unpackSpins(buf, lay, 0, 0, 0, s0);
    for (let l = 16; l < 32; l++) if (locked(l)) differentLocked++;
  }
  let identicalLocked = 0;
  for (let l = 1; l < 16; l++) if (locked(l)) identicalLocked++;
  assert.ok(identicalLocked >= 12, `only ${identicalLocked} of 15 identical systems coalesced with lane 0`);
  assert.equal(differentLocked, 0, "a sample with other couplings locked onto lane 0");
  // In a tempered run, q^2 of samples of one block is uncorrelated (pairs in a block against pairs across blocks).
  const betas = betaLadder(0.4, 0.9, 6, 0.9);
  const S = 64, N = 4000;
  const smp = makeEaMultispinSampler({ lat, betas, target: 5, samples: S, seed: 8 });
  for (let n = 0; n < 500; n++) smp.sweep();
  const q2 = Array.from({ length: S }, () => new Float64Array(N));
  const out = smp.observables.map(() => new Float64Array(S));
  for (let n = 0; n < N; n++) {
    smp.sweep();
    smp.measure(out);
    for (let c = 0; c < S; c++) q2[c]![n] = out[0]![c]! ** 2;
  }
  const corr = (x: Float64Array, y: Float64Array): number => {
    const mx = x.reduce((a, v) => a + v, 0) / N, my = y.reduce((a, v) => a + v, 0) / N;
    let sxy = 0, sxx = 0, syy = 0;
    for (let n = 0; n < N; n++) {
      sxy += (x[n]! - mx) * (y[n]! - my);
      sxx += (x[n]! - mx) ** 2;
      syy += (y[n]! - my) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  };
  const inBlock = Float64Array.from({ length: 32 }, (_, p) => corr(q2[2 * p]!, q2[2 * p + 1]!));
  const across = Float64Array.from({ length: 32 }, (_, p) => corr(q2[p]!, q2[p + 32]!));
  const a = jackknife([inBlock], (m) => m[0]!, { binSize: 1 }), b = jackknife([across], (m) => m[0]!, { binSize: 1 });
  assert.ok(a.error < 0.02, `error ${a.error} too large to see a correlation`);
  assert.ok(Math.abs(a.value - b.value) < 4 * Math.hypot(a.error, b.error), `q^2 correlation in a block ${a.value} ± ${a.error}, across blocks ${b.value} ± ${b.error}`);
});

test("exchangeBatch makes the decisions of exchangePass with the same random numbers (integer and non-integer energies)", () => {
  const betas = betaLadder(0.3, 1.2, 7);
  const n = 20;
  const batch = makeTemperingBatch(n, 7, 2);
  const single = Array.from({ length: n }, () => makeTempering(7, 2));
  const rngs = Array.from({ length: n }, (_, l) => new Rng([l + 1, 2, 3, 4]));
  rngs.forEach((r, l) => batch.rng.set(r.state(), 4 * l));
  const draw = new Rng([9, 9, 9, 9]);
  const swaps: string[] = [], swaps1: string[] = [];
  for (let pass = 0; pass < 300; pass++) {
    for (let l = 0; l < n; l++) {
      for (let c = 0; c < 14; c++) {
        // Energies on the EA grid (even integers), and now and then off it.
        const e = pass % 7 === 3 ? -40 * draw.double() : -2 * (draw.u32() % 60);
        batch.ladders[l]!.energy[c] = e;
        single[l]!.energy[c] = e;
      }
    }
    exchangeBatch(batch, betas, (l, a, k) => swaps.push(`${pass}:${l}:${a}:${k}`));
    single.forEach((t, l) => exchangePass(t, betas, rngs[l]!, (a, k) => swaps1.push(`${pass}:${l}:${a}:${k}`)));
  }
  assert.deepEqual(swaps, swaps1);
  assert.ok(swaps.length > 1000 && swaps.length < 300 * n * 12, `${swaps.length} swaps`);
  single.forEach((t, l) => {
    const b = batch.ladders[l]!;
    assert.deepEqual([b.at, b.temp, b.trips, b.cold, b.attempted, b.accepted], [t.at, t.temp, t.trips, t.cold, t.attempted, t.accepted]);
    assert.deepEqual(Array.from(batch.rng.subarray(4 * l, 4 * l + 4), (x) => x >>> 0), Array.from(rngs[l]!.state()));
  });
});

test("measure: slab counts give q, |q(k_min)|^2 and the energy of every sample at every stored temperature, as the plain definitions do", () => {
  const engines: ["typescript" | "wasm", number][] = [["typescript", 2]];
  if (!wasmUnavailable()) engines.push(["wasm", 4]);
  for (const [engine, W] of engines) {
    for (const [dim, L] of [[3, 4], [2, 6], [3, 6]] as const) {
      const lat = lattice(dim, L);
      const S = 40, stored = [1, 4];
      const smp = makeEaMultispinSampler({ lat, betas: ladder, target: 4, samples: S, firstSample: 3, seed: 2, kernel: msKernelFactory(engine, W), stored });
      assert.equal(smp.chains, 2 * S);
      for (let k = 0; k < 7; k++) smp.sweep();
      const out = smp.observables.map(() => new Float64Array(2 * S));
      smp.measure(out);
      const waves = minWaves(lat);
      const rho = new Int8Array(lat.V), cfg = new Int8Array(lat.V);
      stored.forEach((k, j) => {
        for (let c = 0; c < S; c++) {
          const pt = smp.tempering(c);
          overlapField(smp.copySpins(c, pt.at[k]!), smp.copySpins(c, pt.at[ladder.length + k]!), rho);
          const row = j * S + c;
          assert.ok(Math.abs(out[0]![row]! - overlapQ(rho)) < 1e-12, `${engine} ${dim}D q of sample ${c} at temperature ${k}`);
          assert.ok(Math.abs(out[1]![row]! - overlapQk2(rho, waves)) < 1e-12, `${engine} ${dim}D qk2 of sample ${c}: ${out[1]![row]} vs ${overlapQk2(rho, waves)}`);
          assert.equal(out[2]![row], pt.energy[pt.at[k]!]! + pt.energy[pt.at[ladder.length + k]!]!);
          assert.equal(out[3]![row], 3 + c);
          smp.config(row, cfg);
          assert.deepEqual(cfg, rho);
        }
      });
    }
  }
});

/** R = Var(Σ_block δ) / Σ Var(δ) of window means of q² and E: 1 + 31·(mean pair correlation inside a block of 32 samples). */
function blockVarianceRatio(smp: EaSampler, S: number, windows: number, length: number): { q2: number; energy: number } {
  const out = smp.observables.map(() => new Float64Array(S));
  const q = Array.from({ length: windows }, () => new Float64Array(S)), e = Array.from({ length: windows }, () => new Float64Array(S));
  for (let n = 0; n < 500; n++) smp.sweep();
  for (let w = 0; w < windows; w++) {
    for (let n = 0; n < length; n++) {
      smp.sweep();
      smp.sweep();
      smp.measure(out);
      for (let s = 0; s < S; s++) {
        q[w]![s]! += out[0]![s]! ** 2 / length;
        e[w]![s]! += out[2]![s]! / length;
      }
    }
  }
  const ratio = (m: Float64Array[]): number => {
    const mean = new Float64Array(S);
    for (const row of m) for (let s = 0; s < S; s++) mean[s]! += row[s]! / windows;
    let num = 0, den = 0;
    for (const row of m) {
      for (let b = 0; b < S / 32; b++) {
        let t = 0;
        for (let s = 32 * b; s < 32 * b + 32; s++) t += row[s]! - mean[s]!;
        num += t * t;
      }
      for (let s = 0; s < S; s++) den += (row[s]! - mean[s]!) ** 2;
    }
    return num / den;
  };
  return { q2: ratio(q), energy: ratio(e) };
}

test("shared random numbers, the thermal noise of 32 samples of a block: overlaps as independent as with separate streams; energies correlated (measured)", () => {
  const lat = lattice(3, 4);
  const betas = Float64Array.of(1 / 1.5, 1 / 1.3, 1 / 1.1);
  const ms = blockVarianceRatio(makeEaMultispinSampler({ lat, betas, target: 2, samples: 1024, seed: 3 }), 1024, 30, 20);
  const one = blockVarianceRatio(makeEaSampler({ lat, betas, target: 2, samples: 256, seed: 3 }), 256, 30, 20);
  // With independent streams R fluctuates around 1 (±0.15 here); a pair correlation of 0.02 would give R = 1.6.
  assert.ok(Math.abs(one.q2 - 1) < 0.3 && Math.abs(one.energy - 1) < 0.3, `independent streams: R = ${one.q2}, ${one.energy}`);
  assert.ok(ms.q2 < 1.3, `overlaps of one block: variance ratio ${ms.q2} (pair correlation ${(ms.q2 - 1) / 31})`);
  // The energies of a block rise and fall together (a sweep with many small random numbers accepts more
  // uphill moves in every sample): documented in docs/ea.md; the bounds notice a change either way.
  assert.ok(ms.energy > 1.5 && ms.energy < 6, `energies of one block: variance ratio ${ms.energy}`);
});
