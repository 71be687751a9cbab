// Swendsen–Wang update for the q-state Potts model: activate bonds between equal states with
// p = 1 − e^{−β}, give every cluster a new uniform state. Swendsen & Wang, PRL 58, 86 (1987).

import { type Rng } from "../../lattice/rng.js";
import { bondClusters, find } from "../../mc/swendsen-wang.js";
import { u31Entry } from "../../mc/checkerboard.js";

/** Bond threshold: a bond is active when a uniform 31-bit integer is <= it (p = 1 − e^{−β}; see u31Entry). */
export function pottsBondThreshold(beta: number): number {
  return u31Entry(-Math.expm1(-beta));
}

/**
 * One update; returns the number of clusters. `parent` and `label` are Int32Array scratch of length V.
 * Roots draw their new state when first met in site order, so the update is reproducible.
 */
export function pottsSwendsenWang(nb: Int32Array, dim: number, q: number, s: Int8Array, threshold: number, rng: Rng, parent: Int32Array, label: Int32Array): number {
  const V = s.length;
  bondClusters(nb, dim, s, threshold, rng, parent);
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
