// The two-point function along the lattice axes of one configuration (spins, fields, or any embedding
// of states in vectors): G(r) at separations r = 1, 2, 4, … L/2.

/** Separations of G(r): powers of two up to L/2. */
export function separations(L: number): number[] {
  const out: number[] = [];
  for (let r = 1; r <= L / 2; r *= 2) out.push(r);
  return out;
}

/**
 * Two-point function along the axes, G(r) = (1/dV) Σ_x Σ_μ φ_x φ_{x+r ê_μ}, for the given
 * separations (the nearest-neighbour correlation is G(1)). Works for spins and fields.
 */
export function twoPoint(cfg: ArrayLike<number>, L: number, dim: number, rs: readonly number[]): Float64Array {
  const V = L ** dim;
  // One monomorphic copy: the loops below then compile to plain float loads whatever the input type.
  const f = cfg instanceof Float64Array ? cfg : Float64Array.from(cfg);
  const out = new Float64Array(rs.length);
  for (let k = 0; k < rs.length; k++) {
    let s = 0;
    // Along axis d the lattice splits into blocks of L·stride sites in which the partner of offset j
    // is (j + r·stride) mod (L·stride): two straight loops, no division per site.
    for (let d = 0, stride = 1; d < dim; d++, stride *= L) {
      const block = L * stride, shift = (rs[k]! % L) * stride;
      for (let base = 0; base < V; base += block) {
        const end = base + block - shift;
        for (let i = base; i < end; i++) s += f[i]! * f[i + shift]!;
        for (let i = end; i < base + block; i++) s += f[i]! * f[i + shift - block]!;
      }
    }
    out[k] = s / (dim * V);
  }
  return out;
}
