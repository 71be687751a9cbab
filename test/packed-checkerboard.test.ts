// The packed (4 bits per spin, Philox) checkerboard kernel that the GPU runs, through its CPU reference:
// Philox against the published known-answer vectors, the packed bookkeeping against plain site-by-site
// code, one half-sweep against a site-by-site implementation drawing the same Philox numbers, and the
// chain against Kaufman's exact finite-L energy and specific heat.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, neighbours } from "../src/lattice/geometry.js";
import { philox4x32 } from "../src/lattice/philox.js";
import { rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, isingEnergyWith, magnetization, randomSpins } from "../src/models/ising.js";
import { boltzmannProbabilities, dosProbabilities, enumerateIsing, kaufman, stateIndex } from "../src/models/ising-exact.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { cpuPackedKernel, packedHalfSweep, packedLayout, packedSampler, packedSite, packedSums, packedTable, packSpins, unpackSpins, type PackedRule } from "../src/mc/packed-checkerboard.js";
import { isingEstimates } from "../src/analysis/observables.js";

test("Philox4x32-10 reproduces the Random123 known-answer vectors", () => {
  const out = new Uint32Array(4);
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  for (const [c, k, want] of kat) {
    philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
    assert.deepEqual([...out], want);
  }
});

test("packed layout: pack/unpack round trip, every site in its own nibble, energy and magnetisation sums exact (2D, 3D)", () => {
  for (const [dim, L] of [[2, 16], [2, 32], [3, 16], [2, 4], [2, 6], [3, 2], [3, 4], [2, 14]] as const) {
    const lat = lattice(dim, L), lay = packedLayout(dim, L), rng = rngFor({ seed: 5, task: dim * 100 + L });
    const seen = new Set<number>();
    for (let i = 0; i < lat.V; i++) {
      const { word, bit } = packedSite(lay, i);
      seen.add(word * 32 + bit);
    }
    assert.equal(seen.size, lat.V);
    const nb = neighbours(lat);
    for (let rep = 0; rep < 3; rep++) {
      const s = rep === 0 ? new Int8Array(lat.V).fill(1) : randomSpins(lat.V, rng);
      const w = packSpins(lay, s), back = new Int8Array(lat.V);
      unpackSpins(lay, w, back);
      assert.deepEqual(back, s);
      const sums = packedSums(lay, w);
      assert.equal(-sums.bonds, isingEnergyWith(nb, dim, s), `${dim}D L=${L} energy`);
      assert.equal(2 * sums.up - lat.V, magnetization(s), `${dim}D L=${L} magnetisation`);
    }
  }
  assert.throws(() => packedLayout(2, 24), /multiple of 16/);
  assert.throws(() => packedLayout(2, 5), /even below 16/);
  assert.throws(() => packedLayout(4, 16), /2 or 3 dimensions/);
});

test("one packed half-sweep equals a site-by-site update drawing the same Philox numbers (2D, 3D, both rules)", () => {
  for (const [dim, L] of [[2, 16], [2, 48], [3, 16], [2, 2], [2, 4], [2, 10], [3, 2], [3, 6]] as const) {
    for (const rule of ["metropolis", "heatbath"] as PackedRule[]) {
      const lat = lattice(dim, L), lay = packedLayout(dim, L), nb = neighbours(lat), z = 2 * dim;
      const table = packedTable(dim, 0.35, rule);
      const key: [number, number] = [0x12345678, 0x9abcdef0];
      const s = randomSpins(lat.V, rngFor({ seed: 9, task: L }));
      const w = packSpins(lay, s);
      const r4 = new Uint32Array(4);
      for (const [c, t] of [[0, 6], [1, 2 ** 33 + 7]] as const) {
        packedHalfSweep(lay, w, c, t, key, table);
        const next = s.slice();
        for (let i = 0; i < lat.V; i++) {
          const coords = [i % L, Math.floor(i / L) % L, Math.floor(i / L / L)];
          if ((coords[0]! + coords[1]! + (dim === 3 ? coords[2]! : 0)) % 2 !== c) continue;
          let up = 0;
          for (let q = 0; q < z; q++) up += s[nb[i * z + q]!]! > 0 ? 1 : 0;
          const T = table[(s[i]! > 0 ? 1 : 0) * (z + 1) + up]!;
          const { word, bit } = packedSite(lay, i);
          const nib = bit / 4;
          philox4x32(word - c * lay.half, t % 2 ** 32, Math.floor(t / 2 ** 32), nib >> 2, key[0], key[1], r4);
          if (T === 0xffffffff || r4[nib & 3]! < T) next[i] = -s[i]! as -1 | 1;
        }
        const got = new Int8Array(lat.V);
        unpackSpins(lay, w, got);
        assert.deepEqual(got, next, `${dim}D L=${L} ${rule} colour ${c}`);
        s.set(next);
      }
    }
  }
});

test("packed chain (CPU reference): <e> and C equal Kaufman's exact values at L = 16 (beta_c, 0.35, 0.5; both rules; 4 sigma)", async () => {
  for (const rule of ["metropolis", "heatbath"] as PackedRule[]) {
    for (const beta of [0.35, BETA_C_2D, 0.5]) {
      const L = 16, lat = lattice(2, L);
      const smp = await packedSampler({ lat, beta, rule, rng: rngFor({ seed: 31, task: Math.round(beta * 1000) }) }, cpuPackedKernel);
      const n = 40000, E = new Float64Array(n), M = new Float64Array(n), e = new Float64Array(1), m = new Float64Array(1);
      for (let k = 0; k < 500; k++) smp.sweep();
      for (let t = 0; t < n; t++) {
        smp.sweep();
        await smp.prepare!({ measure: true, config: false, save: false });
        smp.measure([e, m]);
        E[t] = e[0]!;
        M[t] = m[0]!;
      }
      const est = isingEstimates(E, M, { V: lat.V, beta, chains: 1 });
      const exact = kaufman(L, beta);
      for (const [name, got, want] of [["e", est.e!, exact.e], ["C", est.c!, exact.c]] as const) {
        assert.ok(got.error < 0.1 * Math.abs(want), `${rule} beta=${beta} ${name}: error ${got.error} too large`);
        assert.ok(Math.abs(got.value - want) < 4 * got.error, `${rule} beta=${beta} ${name}: ${got.value} ± ${got.error} vs exact ${want}`);
      }
    }
  }
});

test("packed chain: a checkpoint continues bit for bit", async () => {
  const lat = lattice(3, 16), opt = { lat, beta: 0.22, rule: "metropolis" as const };
  const a = await packedSampler({ ...opt, rng: rngFor({ seed: 3 }) }, cpuPackedKernel);
  for (let k = 0; k < 5; k++) a.sweep();
  await a.prepare!({ measure: false, config: false, save: true });
  const st = a.save();
  for (let k = 0; k < 5; k++) a.sweep();
  const b = await packedSampler({ ...opt, rng: rngFor({ seed: 3 }) }, cpuPackedKernel);
  b.restore(st);
  for (let k = 0; k < 5; k++) b.sweep();
  const ca = new Int8Array(lat.V), cb = new Int8Array(lat.V);
  await a.prepare!({ measure: false, config: true, save: false });
  await b.prepare!({ measure: false, config: true, save: false });
  a.config(0, ca);
  b.config(0, cb);
  assert.deepEqual(ca, cb);
  const other = await packedSampler({ ...opt, rng: rngFor({ seed: 4 }) }, cpuPackedKernel);
  assert.throws(() => other.restore(st), /random stream/);
});

test("packed chain (CPU reference) samples the joint (E, M) distribution of the 4x4 torus and every state of the 2x2x2 torus (chi-square; a 5 % wrong beta is rejected)", async () => {
  for (const [dim, L, beta, n] of [[2, 4, 0.3, 60000], [2, 4, BETA_C_2D, 60000], [3, 2, 0.2, 40000]] as const) {
    const lat = lattice(dim, L), dos = enumerateIsing(lat);
    const index = new Map(dos.E.map((E, k) => [`${E},${dos.M[k]}`, k]));
    for (const rule of ["metropolis", "heatbath"] as PackedRule[]) {
      const smp = await packedSampler({ lat, beta, rule, rng: rngFor({ seed: 41, task: L * 10 + dim }) }, cpuPackedKernel);
      const byState = dim === 3, e = new Float64Array(1), m = new Float64Array(1), s = new Int8Array(lat.V);
      const hist = new Float64Array(byState ? 2 ** lat.V : dos.count.length);
      for (let k = 0; k < 100; k++) smp.sweep();
      for (let t = 0; t < n; t++) {
        for (let k = 0; k < 3; k++) smp.sweep();
        await smp.prepare!({ measure: true, config: byState, save: false });
        if (byState) {
          smp.config(0, s);
          hist[stateIndex(s)]!++;
        } else {
          smp.measure([e, m]);
          hist[index.get(`${e[0]},${m[0]}`)!]!++;
        }
      }
      const probs = (b: number): Float64Array => (byState ? boltzmannProbabilities(lat, b) : dosProbabilities(dos, b));
      const res = chiSquareTest(hist, probs(beta));
      assert.ok(res.pValue > 1e-4, `${dim}D L=${L} beta=${beta} ${rule}: chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
      assert.ok(chiSquareTest(hist, probs(beta * 1.05)).pValue < 1e-3, `${dim}D L=${L} ${rule}: a 5% wrong beta was not detected`);
    }
  }
});
