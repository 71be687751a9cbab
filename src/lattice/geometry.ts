// Hypercubic periodic lattices L^d (d = 2, 3): site indexing, neighbours, checkerboard and b = 2 blocks.
// Conventions: site i = x + L·y (+ L²·z); block X holds the sites 2X + e, e ∈ {0,1}^d.

export type Dim = 2 | 3;

export interface Lattice {
  readonly dim: Dim;
  readonly L: number;
  /** Number of sites L^d. */
  readonly V: number;
}

/** Validates and builds a lattice description. */
export function lattice(dim: number, L: number): Lattice {
  if (dim !== 2 && dim !== 3) throw new RangeError(`dimension must be 2 or 3, got ${dim}`);
  if (!Number.isInteger(L) || L < 2) throw new RangeError(`lattice size L must be an integer >= 2, got ${L}`);
  const V = L ** dim;
  if (V > 2 ** 31) throw new RangeError(`lattice ${L}^${dim} has more than 2^31 sites`);
  return { dim, L, V };
}

/** Lattice shape as an array [L, L(, L)] (row-major with x fastest, i.e. HDF5 shape [z,] y, x). */
export function shape(lat: Lattice): number[] {
  return new Array<number>(lat.dim).fill(lat.L);
}

/** Coordinates of site i. */
export function coords(lat: Lattice, i: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < lat.dim; d++) {
    out.push(i % lat.L);
    i = Math.floor(i / lat.L);
  }
  return out;
}

/** Site index of coordinates (taken modulo L). */
export function siteIndex(lat: Lattice, c: readonly number[]): number {
  let i = 0;
  for (let d = lat.dim - 1; d >= 0; d--) i = i * lat.L + ((((c[d] ?? 0) % lat.L) + lat.L) % lat.L);
  return i;
}

/**
 * Neighbour table, 2d entries per site in the order +x, −x, +y, −y(, +z, −z). Cluster algorithms
 * use it; the local kernels compute neighbours by row arithmetic because that is faster.
 */
export function neighbours(lat: Lattice): Int32Array {
  const { dim, L, V } = lat;
  const z = 2 * dim;
  const nb = new Int32Array(V * z);
  let stride = 1;
  for (let d = 0; d < dim; d++) {
    for (let i = 0; i < V; i++) {
      const c = Math.floor(i / stride) % L;
      const base = i - c * stride;
      nb[i * z + 2 * d] = base + ((c + 1) % L) * stride;
      nb[i * z + 2 * d + 1] = base + ((c + L - 1) % L) * stride;
    }
    stride *= L;
  }
  return nb;
}

/** The sum of site i's 2d neighbours in cfg (the local field of a site conditional), from `neighbours`. */
export function neighbourSum(nb: Int32Array, dim: number, cfg: ArrayLike<number>, i: number): number {
  const z = 2 * dim;
  let h = 0;
  for (let k = 0; k < z; k++) h += cfg[nb[z * i + k]!]!;
  return h;
}

/** Checkerboard colour (0 or 1) of site i: parity of the coordinate sum. Needs even L. */
export function colour(lat: Lattice, i: number): number {
  let s = 0;
  for (let d = 0; d < lat.dim; d++) {
    s += i % lat.L;
    i = Math.floor(i / lat.L);
  }
  return s & 1;
}

/** Throws unless L is even (checkerboard updates and b = 2 blocks need it). */
export function requireEven(lat: Lattice, why: string): void {
  if (lat.L % 2 !== 0) throw new RangeError(`L = ${lat.L} is odd, but ${why} needs an even L`);
}

/** The coarse lattice of b = 2 blocks. */
export function coarse(lat: Lattice): Lattice {
  requireEven(lat, "blocking with b = 2");
  return lattice(lat.dim, lat.L / 2);
}

/**
 * Fine sites of every block: entry [X·2^d + k] is the site 2X + e_k with e_k the binary digits of
 * k (bit 0 → x, bit 1 → y, bit 2 → z).
 */
export function blockSites(lat: Lattice): Int32Array {
  const key = `${lat.dim}:${lat.L}`;
  let out = blockCache.get(key);
  if (!out) {
    out = computeBlockSites(lat);
    // Blocking is applied per configuration; the table is shared (and must not be modified).
    if (blockCache.size > 16) blockCache.clear();
    blockCache.set(key, out);
  }
  return out;
}

const blockCache = new Map<string, Int32Array>();

function computeBlockSites(lat: Lattice): Int32Array {
  const c = coarse(lat);
  const nb = 1 << lat.dim;
  const out = new Int32Array(c.V * nb);
  for (let X = 0; X < c.V; X++) {
    const cx = coords(c, X);
    for (let k = 0; k < nb; k++) {
      out[X * nb + k] = siteIndex(lat, cx.map((v, d) => 2 * v + ((k >> d) & 1)));
    }
  }
  return out;
}

/** Block index of every fine site (inverse of `blockSites`). */
export function blockOf(lat: Lattice): Int32Array {
  const sites = blockSites(lat);
  const nb = 1 << lat.dim;
  const out = new Int32Array(lat.V);
  for (let j = 0; j < sites.length; j++) out[sites[j]!] = Math.floor(j / nb);
  return out;
}
