// Training pairs for an inverse RG map: (blocked configuration → original), with the symmetries of the
// lattice model (the square's or cube's rotations and reflections, and the global sign flip or state permutation) applied
// at random as augmentation, and a seeded split into training and validation sets.

import { type Rng } from "../lattice/rng.js";

export interface PairSet {
  dim: 2 | 3;
  /** Fine linear size; coarse is L/2. */
  L: number;
  /** Coarse inputs, [n, Lc^d] flat. */
  coarse: Float32Array;
  /** Fine targets, [n, L^d] flat. */
  fine: Float32Array;
  n: number;
  /**
   * The internal symmetry used for augmentation: absent, a global sign flip (Z2 models); a number q,
   * a random permutation of the states 0 … q−1 (the Potts model's S_q).
   */
  states?: number;
}

/** Index permutation of a symmetry of the d-cube acting on an L^d lattice (axes permuted, some reversed). */
function symmetryIndex(L: number, dim: number, perm: readonly number[], flip: readonly boolean[]): Int32Array {
  const V = L ** dim;
  const out = new Int32Array(V);
  const c = new Array<number>(dim).fill(0);
  for (let i = 0; i < V; i++) {
    let r = i;
    for (let d = 0; d < dim; d++) {
      c[d] = r % L;
      r = Math.floor(r / L);
    }
    let j = 0;
    for (let d = dim - 1; d >= 0; d--) {
      const v = c[perm[d]!]!;
      j = j * L + (flip[d] ? L - 1 - v : v);
    }
    out[i] = j;
  }
  return out;
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** All 2^d·d! symmetries of the d-cube as index maps for lattices of size L (identity first). */
export function cubeSymmetries(L: number, dim: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (const perm of permutations(dim)) {
    for (let mask = 0; mask < 1 << dim; mask++) {
      out.push(symmetryIndex(L, dim, perm, Array.from({ length: dim }, (_, d) => ((mask >> d) & 1) === 1)));
    }
  }
  // Keep the identity first (perm in order, no flips).
  const id = out.findIndex((m) => m.every((v, i) => v === i));
  [out[0], out[id]] = [out[id]!, out[0]!];
  return out;
}

/**
 * Writes an augmented copy of pair k into (coarse, fine): the same random lattice symmetry on both
 * sizes (blocking commutes with the cube's symmetries because blocks align with the axes), and a
 * random global sign flip (Z2 models) or permutation of the states (`states` set).
 */
export function augmentPair(set: PairSet, k: number, symC: readonly Int32Array[], symF: readonly Int32Array[], rng: Rng, coarse: Float32Array, fine: Float32Array): void {
  const Vc = (set.L / 2) ** set.dim, V = set.L ** set.dim;
  const s = rng.below(symC.length);
  if (set.states !== undefined) {
    // Relabel the states by a uniform random permutation (blocking by plurality commutes with it).
    const perm = Int32Array.from({ length: set.states }, (_, i) => i);
    shuffle(perm, rng);
    const mc = symC[s]!, mf = symF[s]!;
    for (let i = 0; i < Vc; i++) coarse[mc[i]!] = perm[set.coarse[k * Vc + i]!]!;
    for (let i = 0; i < V; i++) fine[mf[i]!] = perm[set.fine[k * V + i]!]!;
    return;
  }
  const sign = rng.u32() & 1 ? -1 : 1;
  const mc = symC[s]!, mf = symF[s]!;
  for (let i = 0; i < Vc; i++) coarse[mc[i]!] = sign * set.coarse[k * Vc + i]!;
  for (let i = 0; i < V; i++) fine[mf[i]!] = sign * set.fine[k * V + i]!;
}

/** A seeded split of pair indices into training and validation sets. */
export function splitIndices(n: number, validationFraction: number, rng: Rng): { train: Int32Array; validation: Int32Array } {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  shuffle(idx, rng);
  const nv = Math.max(1, Math.min(n - 1, Math.round(n * validationFraction)));
  return { validation: idx.slice(0, nv), train: idx.slice(nv) };
}

/** Fisher–Yates shuffle in place. */
export function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
