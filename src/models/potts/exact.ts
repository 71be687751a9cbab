// Exact Potts results on tiny 2D tori by complete enumeration (row by row: q^L row states, q^{L²}
// configurations), as a histogram over (satisfied bonds, state counts) from which every average follows.

/** Number of configurations with `same` satisfied bonds and state counts n (flattened). */
export interface PottsDensity {
  L: number;
  q: number;
  /** Histogram: counts[same·(V+1)^q + Σ_s n_s (V+1)^s] configurations. */
  counts: Float64Array;
}

/** Enumerates the L×L torus (q^{L²} ≤ 10^8 configurations). */
export function enumeratePotts(L: number, q: number): PottsDensity {
  const V = L * L;
  if (q ** V > 1e8) throw new RangeError(`${q}^${V} configurations are too many to enumerate`);
  const R = q ** L;
  const rows = Array.from({ length: R }, (_, r) => {
    const s: number[] = [];
    for (let x = 0, t = r; x < L; x++, t = Math.floor(t / q)) s.push(t % q);
    return s;
  });
  const base = V + 1;
  // Satisfied bonds inside a row, and the count key of a row.
  const intra = rows.map((s) => s.reduce((a, v, x) => a + (v === s[(x + 1) % L] ? 1 : 0), 0));
  const key = rows.map((s) => s.reduce((a, v) => a + base ** v, 0));
  const pair = new Int32Array(R * R);
  for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) pair[a * R + b] = rows[a]!.reduce((n, v, x) => n + (v === rows[b]![x] ? 1 : 0), 0);
  const sameBase = base ** q;
  const counts = new Float64Array((2 * V + 1) * sameBase);
  // Rows y = 0 … L−1, bonds between consecutive rows and from the last back to the first.
  const rec = (y: number, first: number, prev: number, same: number, k: number): void => {
    if (y === L) {
      counts[(same + pair[prev * R + first]!) * sameBase + k]!++;
      return;
    }
    for (let r = 0; r < R; r++) rec(y + 1, first, r, same + intra[r]! + pair[prev * R + r]!, k + key[r]!);
  };
  for (let r = 0; r < R; r++) rec(1, r, r, intra[r]!, key[r]!);
  return { L, q, counts };
}

export interface PottsExact {
  /** ⟨H⟩/V with H = −(satisfied bonds). */
  e: number;
  /** ⟨|M|⟩/V, ⟨(|M|/V)²⟩, ⟨(|M|/V)⁴⟩ with |M| as in `pottsOrder`. */
  absM: number;
  m2: number;
  m4: number;
}

export function pottsExact(d: PottsDensity, beta: number): PottsExact {
  const V = d.L * d.L, base = V + 1, sameBase = base ** d.q;
  const entries = [...d.counts.entries()].filter(([, g]) => g > 0).map(([id, g]) => {
    const same = Math.floor(id / sameBase);
    let k = id % sameBase, sum = 0;
    for (let s = 0; s < d.q; s++, k = Math.floor(k / base)) sum += ((k % base) - V / d.q) ** 2;
    return { same, g, m: Math.sqrt((d.q / (d.q - 1)) * sum) / V };
  });
  const top = Math.max(...entries.map((x) => x.same));
  let z = 0, e = 0, am = 0, m2 = 0, m4 = 0;
  for (const x of entries) {
    const w = x.g * Math.exp(beta * (x.same - top));
    z += w;
    e += w * -x.same;
    am += w * x.m;
    m2 += w * x.m ** 2;
    m4 += w * x.m ** 4;
  }
  return { e: e / z / V, absM: am / z, m2: m2 / z, m4: m4 / z };
}
