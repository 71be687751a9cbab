// The plurality block rule for Potts states (b = 2): a block takes the state held by most of its
// 2^d sites; a tie is broken uniformly at random among the tied states. Shiina et al., PRE 2021 (Potts inverse RG).

import { type Lattice, blockSites, coarse } from "../../lattice/geometry.js";
import { type Rng } from "../../lattice/rng.js";

/**
 * Blocks `s` (lattice `lat`) into `out` (lattice L/2). Why random ties: with 4 sites in 2D a 2–2 tie is
 * common, and any fixed preference (the lowest state, the corner site) would break the q-fold symmetry
 * of the blocked ensemble. One uniform is drawn per tied block only.
 */
export function pluralityBlock(lat: Lattice, q: number, s: Int8Array, out: Int8Array, rng: Rng, counts = new Int32Array(q)): void {
  const c = coarse(lat);
  const sites = blockSites(lat);
  const nb = 1 << lat.dim;
  if (out.length !== c.V) throw new RangeError(`blocked configuration must have ${c.V} sites, got ${out.length}`);
  for (let X = 0; X < c.V; X++) {
    counts.fill(0);
    for (let k = 0; k < nb; k++) counts[s[sites[X * nb + k]!]!]!++;
    let best = 0, ties = 0;
    for (let v = 0; v < q; v++) {
      if (counts[v]! > best) {
        best = counts[v]!;
        ties = 1;
      } else if (counts[v] === best) ties++;
    }
    let pick = ties > 1 ? rng.below(ties) : 0;
    for (let v = 0; v < q; v++) {
      if (counts[v] !== best) continue;
      if (pick === 0) {
        out[X] = v;
        break;
      }
      pick--;
    }
  }
}
