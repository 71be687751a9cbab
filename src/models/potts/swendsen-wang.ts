// Swendsen–Wang update for the q-state Potts model: activate bonds between equal states with
// p = 1 − e^{−β}, give every cluster a new uniform state. Swendsen & Wang, PRL 58, 86 (1987).

import { type Rng } from "../../lattice/rng.js";
import { u32Threshold } from "../../lattice/rng.js";
import { find } from "../../mc/swendsen-wang.js";

/** Bond threshold: a bond is active when a uniform u32 is below it (p = 1 − e^{−β}). */
export function pottsBondThreshold(beta: number): number {
  return u32Threshold(-Math.expm1(-beta));
}

/**
 * One update; returns the number of clusters. `parent` and `label` are Int32Array scratch of length V.
 * Roots draw their new state when first met in site order, so the update is reproducible.
 */
export function pottsSwendsenWang(nb: Int32Array, dim: number, q: number, s: Int8Array, threshold: number, rng: Rng, parent: Int32Array, label: Int32Array): number {
  const V = s.length;
  const z = 2 * dim;
  for (let i = 0; i < V; i++) parent[i] = i;
  for (let i = 0; i < V; i++) {
    const si = s[i]!;
    for (let d = 0; d < dim; d++) {
      const j = nb[i * z + 2 * d]!;
      if (s[j] === si && rng.u32() < threshold) {
        const ri = find(parent, i), rj = find(parent, j);
        if (ri < rj) parent[rj] = ri;
        else if (rj < ri) parent[ri] = rj;
      }
    }
  }
  label.fill(-1);
  let clusters = 0;
  for (let i = 0; i < V; i++) {
    const r = find(parent, i);
    if (label[r] === -1) {
      label[r] = rng.below(q);
      clusters++;
    }
    s[i] = label[r]!;
  }
  return clusters;
}
