// The overlap block rule (b = 2): majority rule on the overlap field ρ_i = s_i t_i over 2^d blocks, ties
// broken at random. Wang & Swendsen, PRB 37, 7745 (1988); Bachtis, J. Phys. A (2024) "overlap RG".
//
// Why a separate file that delegates: majority.ts already implements exactly this rule for ±1 fields
// (sign of the block sum, a fair coin for a zero sum); the overlap field is a ±1 field, so the rule is
// the same function. Keeping the name lets callers (block, train) say which physics they mean and
// gives one place to check that the input really is an overlap field.

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { majorityBlock } from "./majority.js";

/** Blocks one overlap field ρ (values ±1) into `out` (L/2)^d; zero-sum blocks take ±1 with probability ½ each. */
export function overlapBlock(lat: Lattice, rho: Int8Array, out: Int8Array, rng: Rng): void {
  majorityBlock(lat, rho, out, { tie: "random", rng });
}
