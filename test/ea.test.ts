// The EA spin glass against exact enumeration: parallel tempering samples the Boltzmann distribution of
// every ladder temperature (χ² on the energy of the 4×4 torus, on P(q) of the 2×2×2 torus, ⟨q²⟩ within
// jackknife errors), replica exchange alone keeps the product distribution (detailed balance), the
// round-trip books on a hand case, and couplings that depend on (seed, sample) only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { eaBonds, eaCouplings, eaEnergy, overlapField, overlapQ } from "../src/models/ea.js";
import { eaBoltzmann, eaEnumerate, eaStateSpins, exactMoments, exactOverlapDistribution } from "../src/models/ea-exact.js";
import { makeEaSampler } from "../src/mc/ea-samplers.js";
import { betaLadder, exchangePass, exchangeProbability, makeTempering, nearestIndex, totalTrips } from "../src/mc/parallel-tempering.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { jackknife } from "../src/analysis/stats.js";

/** Index of each distinct energy of an enumeration, and the exact P(E) at β. */
function energyClasses(E: Float64Array): { values: number[]; index: Map<number, number> } {
  const values = [...new Set(E)].sort((a, b) => a - b);
  return { values, index: new Map(values.map((e, k) => [e, k])) };
}

function energyProbs(E: Float64Array, beta: number, cls: ReturnType<typeof energyClasses>): Float64Array {
  const p = eaBoltzmann(E, beta);
  const out = new Float64Array(cls.values.length);
  E.forEach((e, n) => (out[cls.index.get(e)!]! += p[n]!));
  return out;
}

/** Runs PT on one sample (index 0 of `seed`) and collects, per temperature, E of both replicas and q. */
function runLadder(lat: Lattice, betas: Float64Array, seed: number, sweeps: number, thin: number) {
  const smp = makeEaSampler({ lat, betas, target: betas.length - 1, samples: 1, seed });
  const T = betas.length;
  for (let k = 0; k < 200; k++) smp.sweep();
  const energies: number[][] = Array.from({ length: T }, () => []);
  const qs: number[][] = Array.from({ length: T }, () => []);
  const rho = new Int8Array(lat.V);
  const pt = smp.tempering(0);
  for (let n = 0; n < sweeps; n++) {
    smp.sweep();
    if (n % thin !== 0) continue;
    for (let k = 0; k < T; k++) {
      const a = pt.at[k]!, b = pt.at[T + k]!;
      energies[k]!.push(pt.energy[a]!, pt.energy[b]!);
      overlapField(smp.copySpins(0, a), smp.copySpins(0, b), rho);
      qs[k]!.push(overlapQ(rho));
    }
  }
  return { smp, energies, qs };
}

test("couplings depend only on (seed, sample); chains of a sample do not depend on how many samples run", () => {
  const lat = lattice(3, 4);
  const J = eaCouplings(lat, 5, 3);
  assert.deepEqual(eaCouplings(lat, 5, 3), J);
  assert.notDeepEqual(eaCouplings(lat, 5, 4), J);
  assert.notDeepEqual(eaCouplings(lat, 6, 3), J);
  const plus = J.reduce((a, v) => a + (v === 1 ? 1 : 0), 0);
  assert.ok(J.every((v) => v === 1 || v === -1));
  assert.ok(Math.abs(plus - J.length / 2) < 4 * Math.sqrt(J.length / 4), `${plus} of ${J.length} bonds are +1`);
  // Sample 2 alone (first-sample 2) and as the third of five samples: identical copies after 20 sweeps.
  const betas = betaLadder(0.4, 1, 4, 0.9);
  const a = makeEaSampler({ lat, betas, target: nearestIndex(betas, 0.9), samples: 5, seed: 9 });
  const b = makeEaSampler({ lat, betas, target: nearestIndex(betas, 0.9), samples: 1, firstSample: 2, seed: 9 });
  for (let k = 0; k < 20; k++) { a.sweep(); b.sweep(); }
  for (let c = 0; c < 8; c++) assert.deepEqual(Array.from(a.copySpins(2, c)), Array.from(b.copySpins(0, c)));
  assert.deepEqual(Array.from(a.tempering(2).at), Array.from(b.tempering(0).at));
  // A separate disorder seed changes the couplings but not the Monte Carlo streams' keys.
  const lat2 = lattice(2, 4);
  assert.notDeepEqual(eaBonds(lat2, eaCouplings(lat2, 1, 0)).jnb, eaBonds(lat2, eaCouplings(lat2, 2, 0)).jnb);
});

test("energy: hand case and bond bookkeeping (each bond once, -mu bonds mirror +mu)", () => {
  const lat = lattice(2, 4);
  const J = eaCouplings(lat, 1, 0);
  const b = eaBonds(lat, J);
  const up = new Int8Array(lat.V).fill(1);
  assert.equal(eaEnergy(b, up), -J.reduce((a, v) => a + v, 0));
  const s = new Int8Array(lat.V);
  eaStateSpins(0x1234, lat.V, s);
  let direct = 0;
  for (let i = 0; i < lat.V; i++) {
    const x = i % 4, y = Math.floor(i / 4);
    direct -= J[i * 2]! * s[i]! * s[((x + 1) % 4) + 4 * y]! + J[i * 2 + 1]! * s[i]! * s[x + 4 * ((y + 1) % 4)]!;
  }
  assert.equal(eaEnergy(b, s), direct);
});

test("PT on the 4x4 torus samples P(E) at every ladder beta (chi-square), and <q^2> agrees with enumeration", () => {
  const lat = lattice(2, 4);
  const betas = Float64Array.of(0.3, 0.6, 1.0);
  const E = eaEnumerate(eaBonds(lat, eaCouplings(lat, 11, 0)));
  const cls = energyClasses(E);
  const { energies, qs, smp } = runLadder(lat, betas, 11, 24000, 2);
  betas.forEach((beta, k) => {
    const hist = new Float64Array(cls.values.length);
    for (const e of energies[k]!) hist[cls.index.get(e)!]!++;
    const res = chiSquareTest(hist, energyProbs(E, beta, cls));
    assert.ok(res.pValue > 1e-4, `beta ${beta}: chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
    const wrong = chiSquareTest(hist, energyProbs(E, beta * 1.1, cls));
    assert.ok(wrong.pValue < 1e-3, `beta ${beta}: a 10% wrong beta was not detected (p = ${wrong.pValue})`);
    const exact = exactMoments(E, eaBoltzmann(E, beta), lat.V);
    const q2 = jackknife([qs[k]!.map((q) => q * q)], (m) => m[0]!);
    assert.ok(q2.error < 0.02, `beta ${beta}: error ${q2.error} too large for a meaningful test`);
    assert.ok(Math.abs(q2.value - exact.q2) < 4 * q2.error, `beta ${beta}: <q^2> = ${q2.value} ± ${q2.error}, exact ${exact.q2}`);
  });
  // The ladder walks: swaps are accepted and copies cross it.
  assert.ok(smp.acceptance().every((a) => a > 0.1 && a < 1), `acceptance ${Array.from(smp.acceptance())}`);
  assert.ok(smp.roundTrips()[0]! > 100, `only ${smp.roundTrips()[0]} round trips`);
});

test("PT on the 2x2x2 torus samples the exact P(q) of two replicas at every ladder beta (chi-square)", () => {
  const lat = lattice(3, 2);
  const betas = Float64Array.of(0.4, 0.8, 1.3);
  const E = eaEnumerate(eaBonds(lat, eaCouplings(lat, 4, 0)));
  const { qs } = runLadder(lat, betas, 4, 30000, 3);
  betas.forEach((beta, k) => {
    const hist = new Float64Array(lat.V + 1);
    for (const q of qs[k]!) hist[Math.round((q * lat.V + lat.V) / 2)]!++;
    const res = chiSquareTest(hist, exactOverlapDistribution(eaBoltzmann(E, beta), lat.V));
    assert.ok(res.pValue > 1e-4, `beta ${beta}: chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
    const wrong = chiSquareTest(hist, exactOverlapDistribution(eaBoltzmann(E, beta * 1.25), lat.V));
    assert.ok(wrong.pValue < 1e-3, `beta ${beta}: a 25% wrong beta was not detected (p = ${wrong.pValue})`);
  });
});

test("replica exchange alone keeps the product of Boltzmann distributions (detailed balance)", () => {
  const lat = lattice(2, 4);
  const betas = Float64Array.of(0.5, 0.9);
  const E = eaEnumerate(eaBonds(lat, eaCouplings(lat, 2, 0)));
  const cls = energyClasses(E);
  const p0 = eaBoltzmann(E, betas[0]!), p1 = eaBoltzmann(E, betas[1]!);
  const cdf = (p: Float64Array): Float64Array => { let a = 0; return p.map((x) => (a += x)); };
  const c0 = cdf(p0), c1 = cdf(p1);
  const draw = (c: Float64Array, u: number): number => { let lo = 0, hi = c.length - 1; while (lo < hi) { const m = (lo + hi) >> 1; if (c[m]! < u) lo = m + 1; else hi = m; } return lo; };
  const rng = rngFor({ seed: 3, task: 1 }), exch = rngFor({ seed: 3, task: 2 });
  const nE = cls.values.length;
  const joint = new Float64Array(nE * nE);
  const N = 60000;
  let expectedAcc = 0;
  const P0 = energyProbs(E, betas[0]!, cls), P1 = energyProbs(E, betas[1]!, cls);
  for (let a = 0; a < nE; a++) for (let b = 0; b < nE; b++) expectedAcc += P0[a]! * P1[b]! * exchangeProbability(betas[0]!, betas[1]!, cls.values[a]!, cls.values[b]!);
  const t = makeTempering(2, 1);
  for (let n = 0; n < N; n++) {
    // Exact, independent draws at β0 and β1, then one exchange proposal.
    t.at.set([0, 1]); t.temp.set([0, 1]);
    t.energy[0] = E[draw(c0, rng.double())]!;
    t.energy[1] = E[draw(c1, rng.double())]!;
    exchangePass(t, betas, exch);
    joint[cls.index.get(t.energy[t.at[0]!]!)! * nE + cls.index.get(t.energy[t.at[1]!]!)!]!++;
  }
  const prod = (A: Float64Array, B: Float64Array): Float64Array => Float64Array.from({ length: nE * nE }, (_, k) => A[Math.floor(k / nE)]! * B[k % nE]!);
  const res = chiSquareTest(joint, prod(P0, P1));
  assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
  // Power: swapping always (or with the sign of the exponent reversed) gives the exchanged product.
  assert.ok(chiSquareTest(joint, prod(P1, P0)).pValue < 1e-6);
  const acc = t.accepted[0]! / t.attempted[0]!;
  const err = Math.sqrt(expectedAcc * (1 - expectedAcc) / N);
  assert.ok(Math.abs(acc - expectedAcc) < 4 * err, `acceptance ${acc}, exact ${expectedAcc} ± ${err}`);
});

test("round trips: hand case with every swap accepted (copies rotate through a 3-temperature ladder)", () => {
  const t = makeTempering(3, 1);
  for (let n = 0; n < 30; n++) exchangePass(t, [0.1, 0.2, 0.3], rngFor({ seed: 1 }));
  // Equal energies: every swap is accepted; copy 0 visits 0 → 2 → 1 → 0 … (10 trips), copies 1 and 2 need one pass to start (9 each).
  assert.deepEqual(Array.from(t.trips), [10, 9, 9]);
  assert.equal(totalTrips(t), 28);
  assert.deepEqual(Array.from(t.accepted), [30, 30]);
  assert.equal(exchangeProbability(0.5, 1, -10, -12), Math.exp(-1));
  assert.equal(exchangeProbability(0.5, 1, -12, -10), 1);
});

test("beta ladder: ascending, evenly spaced in T, the measured beta on it exactly", () => {
  const b = betaLadder(0.4, 1.2, 9, 0.9075);
  assert.equal(b.length, 9);
  assert.equal(b[0], 0.4);
  assert.ok(Math.abs(b[8]! - 1.2) < 1e-12);
  for (let k = 1; k < 9; k++) assert.ok(b[k]! > b[k - 1]!);
  assert.ok(Array.from(b).includes(0.9075));
  assert.throws(() => betaLadder(0.4, 1.2, 9, 1.5), /outside the ladder/);
});

test("the energies that parallel tempering exchanges on are kept exactly by the sweeps (3D, 2 samples)", () => {
  const lat = lattice(3, 6);
  const betas = betaLadder(0.4, 0.9, 5);
  const smp = makeEaSampler({ lat, betas, target: 4, samples: 2, seed: 12 });
  for (let k = 0; k < 30; k++) smp.sweep();
  for (let c = 0; c < 2; c++) {
    const bonds = eaBonds(lat, eaCouplings(lat, 12, c));
    for (let copy = 0; copy < 2 * betas.length; copy++) assert.equal(smp.tempering(c).energy[copy], eaEnergy(bonds, smp.copySpins(c, copy)), `sample ${c} copy ${copy}`);
  }
});
