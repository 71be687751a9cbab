// Forward RG maps on hand-computed blocks: majority rule (with both tie rules), decimation, and the
// φ⁴ block rule including single-sign and zero-sum blocks; block geometry for d = 2 and 3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { blockOf, blockSites, lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { decimate, majorityBlock } from "../src/rg/majority.js";
import { phi4Block, phi4BlockValue } from "../src/rg/phi4-block.js";

test("block geometry: every fine site belongs to exactly one block of 2^d sites at 2X + e", () => {
  for (const [dim, L] of [[2, 4], [3, 4], [2, 6]] as const) {
    const lat = lattice(dim, L);
    const sites = blockSites(lat);
    assert.equal(sites.length, lat.V);
    assert.equal(new Set(sites).size, lat.V);
    const of = blockOf(lat);
    for (let j = 0; j < sites.length; j++) assert.equal(of[sites[j]!], Math.floor(j / (1 << dim)));
  }
  // 4×4: block 1 is X = (1, 0) → sites (2,0), (3,0), (2,1), (3,1).
  assert.deepEqual(Array.from(blockSites(lattice(2, 4)).slice(4, 8)), [2, 3, 6, 7]);
  assert.throws(() => blockSites(lattice(2, 5)), /odd/);
});

test("majority rule on hand-made 4x4 blocks, ties random or first-spin", () => {
  const lat = lattice(2, 4);
  // Rows y = 0..3; blocks: (0,0) all +; (1,0) three −; (0,1) tie with first +; (1,1) tie with first −.
  const s = Int8Array.from([
    1, 1, -1, -1,
    1, 1, -1, 1,
    1, -1, -1, 1,
    -1, 1, 1, -1,
  ]);
  const out = new Int8Array(4);
  majorityBlock(lat, s, out, { tie: "first" });
  assert.deepEqual(Array.from(out), [1, -1, 1, -1]);
  // Random ties: both outcomes occur for a tied block, never for decided ones.
  const seen = new Set<string>();
  const rng = rngFor({ seed: 3 });
  for (let k = 0; k < 64; k++) {
    majorityBlock(lat, s, out, { tie: "random", rng });
    assert.equal(out[0], 1);
    assert.equal(out[1], -1);
    seen.add(`${out[2]},${out[3]}`);
  }
  assert.equal(seen.size, 4);
  const d = new Int8Array(4);
  decimate(lat, s, d);
  assert.deepEqual(Array.from(d), [1, -1, 1, -1]);
});

test("phi4 block rule: mean of the majority-sign values, zero sums take a random sign", () => {
  const rng = rngFor({ seed: 4 });
  assert.equal(phi4BlockValue([0.5, 1.5, -0.2, 0.1], rng), (0.5 + 1.5 + 0.1) / 3);
  assert.equal(phi4BlockValue([-0.5, -1.5, 0.2, 0.1], rng), -1);
  assert.equal(phi4BlockValue([2, 3, 1, 4], rng), 2.5); // single sign: the plain mean
  const zero = new Set<number>();
  for (let k = 0; k < 50; k++) zero.add(phi4BlockValue([1, -1, 0.5, -0.5], rng));
  assert.deepEqual([...zero].sort(), [-0.75, 0.75]);
  assert.equal(phi4BlockValue([0, 0, 0, 0], rng), 0);
  // A whole 4×4 field blocks to 2×2 with the same rule per block.
  const lat = lattice(2, 4);
  const phi = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
  const out = new Float32Array(4);
  phi4Block(lat, phi, out, rng);
  const b0 = phi4BlockValue([phi[0]!, phi[1]!, phi[4]!, phi[5]!], rng);
  assert.ok(Math.abs(out[0]! - b0) < 1e-7);
  assert.throws(() => phi4Block(lat, phi, new Float32Array(3), rng), /4 sites/);
});
