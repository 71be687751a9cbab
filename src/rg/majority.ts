// Majority rule for Ising spins with b = 2: the block spin is the sign of the block sum; ties
// (possible with 2^d = 4 or 8 spins) are broken at random. Niemeijer & van Leeuwen (1976); Swendsen, PRL 42, 859 (1979).

import { type Lattice, blockSites, coarse } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";

/**
 * Blocks one configuration. `tie` decides a block whose sum is 0: "random" draws ±1 from `rng`
 * (the standard choice, unbiased), "first" takes the block's first spin (site 2X, deterministic,
 * used by the compatible-MC constraint which must be able to keep it fixed).
 */
export function majorityBlock(
  lat: Lattice, s: Int8Array, out: Int8Array, opts: { tie: "random" | "first"; rng?: Rng },
): void {
  const c = coarse(lat);
  const sites = blockSites(lat);
  const nb = 1 << lat.dim;
  if (out.length !== c.V) throw new RangeError(`blocked configuration must have ${c.V} sites`);
  if (opts.tie === "random" && !opts.rng) throw new RangeError("random tie-breaking needs a random generator");
  for (let X = 0; X < c.V; X++) {
    let sum = 0;
    for (let k = 0; k < nb; k++) sum += s[sites[X * nb + k]!]!;
    if (sum > 0) out[X] = 1;
    else if (sum < 0) out[X] = -1;
    else out[X] = opts.tie === "first" ? s[sites[X * nb]!]! : opts.rng!.u32() & 1 ? 1 : -1;
  }
}

/** Decimation: keep the spin (or field value) at site 2X of every block. */
export function decimate<T extends Int8Array | Float32Array | Float64Array>(lat: Lattice, s: T, out: T): void {
  const c = coarse(lat);
  const sites = blockSites(lat);
  const nb = 1 << lat.dim;
  for (let X = 0; X < c.V; X++) out[X] = s[sites[X * nb]!]!;
}
