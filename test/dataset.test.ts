// Training-pair augmentation: the cube's symmetries are bijections that commute with b = 2 blocking,
// so an augmented pair is still a (blocked, original) pair.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { phi4Block } from "../src/rg/phi4-block.js";
import { augmentPair, cubeSymmetries, splitIndices } from "../src/irg/dataset.js";

test("cube symmetries: 8 in 2D and 48 in 3D, all bijections, identity first", () => {
  for (const [dim, n] of [[2, 8], [3, 48]] as const) {
    const syms = cubeSymmetries(4, dim);
    assert.equal(syms.length, n);
    assert.equal(new Set(syms.map((m) => m.join(","))).size, n);
    for (const m of syms) assert.equal(new Set(m).size, 4 ** dim);
    assert.ok(syms[0]!.every((v, i) => v === i));
  }
});

test("augmented pairs are still blocked/original pairs", () => {
  const L = 8, lat = lattice(2, L);
  const rng = rngFor({ seed: 1 });
  const fine = Float32Array.from({ length: 64 }, () => rng.normal());
  const coarse = new Float32Array(16);
  phi4Block(lat, fine, coarse, rng);
  const set = { dim: 2 as const, L, coarse, fine, n: 1 };
  const symC = cubeSymmetries(4, 2), symF = cubeSymmetries(8, 2);
  const c = new Float32Array(16), f = new Float32Array(64), again = new Float32Array(16);
  for (let k = 0; k < 20; k++) {
    augmentPair(set, 0, symC, symF, rng, c, f);
    phi4Block(lat, f, again, rng);
    for (let i = 0; i < 16; i++) assert.ok(Math.abs(again[i]! - c[i]!) < 1e-6);
  }
  const { train, validation } = splitIndices(100, 0.1, rng);
  assert.equal(validation.length, 10);
  assert.equal(new Set([...train, ...validation]).size, 100);
});
