// Swendsen–Wang multi-cluster update for the Ising model: activate bonds between equal spins with
// p = 1 − e^{−2β}, flip every cluster with probability ½. Swendsen & Wang, PRL 58, 86 (1987).

import { type Rng } from "../lattice/rng.js";

/** The root of i's cluster, compressing the path on the way (union–find). */
export function find(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r]!;
  while (parent[i] !== r) {
    const next = parent[i]!;
    parent[i] = r;
    i = next;
  }
  return r;
}

/**
 * Labels the Fortuin–Kasteleyn clusters: a bond between equal neighbours is active when a 31-bit
 * uniform is <= `threshold` (one draw per equal pair, in site and direction order), and `parent`
 * (length V) becomes a union–find forest whose roots are the smallest site of each cluster.
 * Shared by every model whose clusters join equal values (Ising spins, Potts states).
 */
export function bondClusters(nb: Int32Array, dim: number, s: Int8Array, threshold: number, rng: Rng, parent: Int32Array): void {
  const V = s.length;
  const z = 2 * dim;
  for (let i = 0; i < V; i++) parent[i] = i;
  for (let i = 0; i < V; i++) {
    const si = s[i]!;
    for (let d = 0; d < dim; d++) {
      const j = nb[i * z + 2 * d]!;
      if (s[j] === si && rng.u31() <= threshold) {
        const ri = find(parent, i), rj = find(parent, j);
        if (ri < rj) parent[rj] = ri;
        else if (rj < ri) parent[ri] = rj;
      }
    }
  }
}

/**
 * One Swendsen–Wang update; returns the number of clusters. `parent` (Int32Array) and `decision`
 * (Int8Array) are scratch arrays of length V. Union–find with path compression labels clusters;
 * each root draws its flip when first met in site order, so the update is reproducible.
 */
/** `threshold` is the table entry of `wolffThreshold` (bond active when a 31-bit uniform is <= it). */
export function swendsenWangSweep(
  nb: Int32Array, dim: number, s: Int8Array, threshold: number, rng: Rng, parent: Int32Array, decision: Int8Array,
): number {
  const V = s.length;
  bondClusters(nb, dim, s, threshold, rng, parent);
  decision.fill(0);
  let clusters = 0;
  for (let i = 0; i < V; i++) {
    const r = find(parent, i);
    if (decision[r] === 0) {
      decision[r] = rng.u32() & 1 ? 1 : -1;
      clusters++;
    }
    if (decision[r] === 1) s[i] = -s[i]!;
  }
  return clusters;
}
