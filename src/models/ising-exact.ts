// Exact Ising results for tests and reports: Kaufman's partition function of the finite L×L torus
// (B. Kaufman, Phys. Rev. 76, 1232 (1949); Ferdinand & Fisher, Phys. Rev. 185, 832 (1969)) and
// complete enumeration of tiny lattices in any dimension (Gray-code order, one spin flip per state).

import { type Lattice, neighbours } from "../lattice/geometry.js";

/** Exact finite-L results per site: energy e = ⟨H⟩/V, specific heat c = β²(⟨H²⟩−⟨H⟩²)/V. */
export interface KaufmanResult {
  lnZ: number;
  e: number;
  c: number;
}

/** A value with its first two derivatives in K, times e^{scale} (scale fixed at the current K). */
type Jet = [number, number, number];

function mul(p: Jet, q: Jet): Jet {
  return [p[0] * q[0], p[0] * q[1] + p[1] * q[0], p[0] * q[2] + 2 * p[1] * q[1] + p[2] * q[0]];
}

/**
 * Kaufman's Z on an M×N torus (here M = N = L) at coupling K = βJ, with analytic first and second
 * derivatives so that e and c carry no finite-difference error:
 *   Z = ½ (2 sinh 2K)^{MN/2} Σ_{i=1..4} Z_i,  Z_{1,2} = Π_r 2cosh|2sinh(M γ_{2r+1}/2),
 *   Z_{3,4} = Π_r 2cosh|2sinh(M γ_{2r}/2),
 *   cosh γ_l = cosh 2K coth 2K − cos(π l / N),  γ_0 = 2K + ln tanh K (signed).
 * Every factor is carried as e^{scale}·(a, a′, a″) so that nothing overflows at large L, and the
 * factor 2 sinh(M γ_0 / 2), which vanishes at K_c, never enters a logarithm.
 */
export function kaufman(L: number, beta: number): KaufmanResult {
  if (!Number.isInteger(L) || L < 2) throw new RangeError(`L must be an integer >= 2, got ${L}`);
  if (!(beta > 0)) throw new RangeError(`beta must be positive, got ${beta}`);
  const K = beta, M = L, N = L, V = M * N;
  const s2 = Math.sinh(2 * K), c2 = Math.cosh(2 * K);
  const c = (c2 * c2) / s2;
  const dc = (2 * c2 * (s2 * s2 - 1)) / (s2 * s2);
  const ddc = 4 * (s2 - 1 / s2 + (2 * c2 * c2) / s2 ** 3);
  const half = M / 2;
  // γ_l and its derivatives for l = 0 … 2N−1.
  const gamma = (l: number): [number, number, number] => {
    if (l === 0) {
      const g = 2 * K + Math.log(Math.tanh(K));
      return [g, 2 + 2 / s2, (-4 * c2) / (s2 * s2)];
    }
    const ch = c - Math.cos((Math.PI * l) / N);
    const g = Math.acosh(ch);
    const sh = Math.sinh(g);
    const g1 = dc / sh;
    const g2 = (ddc - ch * g1 * g1) / sh;
    return [g, g1, g2];
  };
  const terms: { scale: number; jet: Jet }[] = [];
  for (const offset of [1, 0]) {
    for (const hyper of ["cosh", "sinh"] as const) {
      let scale = 0;
      let jet: Jet = [1, 0, 0];
      for (let r = 0; r < N; r++) {
        const [g, g1, g2] = gamma(2 * r + offset);
        const x = half * g, x1 = half * g1, x2 = half * g2;
        const ax = Math.abs(x);
        const em = Math.exp(-2 * ax);
        let f: Jet;
        if (hyper === "cosh") {
          // 2cosh x = e^{|x|}(1 + e^{−2|x|})
          const th = Math.tanh(x);
          f = [1 + em, (1 + em) * th * x1, (1 + em) * (x1 * x1 + th * x2)];
        } else {
          // 2sinh x = e^{|x|} sign(x)(1 − e^{−2|x|}); (2sinh)′ = 2cosh·x′
          const a = Math.sign(x) * -Math.expm1(-2 * ax);
          f = [a, (1 + em) * x1, a * x1 * x1 + (1 + em) * x2];
        }
        scale += ax;
        jet = mul(jet, f);
      }
      terms.push({ scale, jet });
    }
  }
  const top = Math.max(...terms.map((t) => t.scale));
  const W: Jet = [0, 0, 0];
  for (const t of terms) {
    const w = Math.exp(t.scale - top);
    for (let k = 0; k < 3; k++) W[k] += w * t.jet[k]!;
  }
  const G = (V / 2) * Math.log(2 * s2);
  const G1 = V * (c2 / s2);
  const G2 = (-2 * V) / (s2 * s2);
  const lnZ = Math.log(0.5) + G + top + Math.log(W[0]);
  const d1 = G1 + W[1] / W[0];
  const d2 = G2 + W[2] / W[0] - (W[1] / W[0]) ** 2;
  return { lnZ, e: -d1 / V, c: (K * K * d2) / V };
}

/** Joint density of states g(E, M) of a tiny lattice, from all 2^V configurations. */
export interface DensityOfStates {
  V: number;
  E: number[];
  M: number[];
  count: number[];
}

/** Enumerates all 2^V states (V ≤ 30) with a Gray code, each bond counted once along +μ. */
export function enumerateIsing(lat: Lattice): DensityOfStates {
  const { V, dim } = lat;
  if (V > 30) throw new RangeError(`enumeration of 2^${V} states is too large`);
  const nb = neighbours(lat);
  const z = 2 * dim;
  const s = new Int8Array(V).fill(1);
  let E = -dim * V;
  let M = V;
  const hist = new Map<string, number>();
  const add = (): void => {
    const key = `${E},${M}`;
    hist.set(key, (hist.get(key) ?? 0) + 1);
  };
  add();
  const total = 2 ** V;
  for (let n = 1; n < total; n++) {
    // Gray code: the bit that changes between n−1 and n is the lowest set bit of n.
    let i = 0;
    while (((n >>> i) & 1) === 0) i++;
    let h = 0;
    for (let k = 0; k < z; k++) h += s[nb[i * z + k]!]!;
    // Flipping s_i changes H by 2 s_i h (a site that is its own neighbour twice, as on L = 2, is
    // counted through both bonds, consistently with the energy's bond sum).
    E += 2 * s[i]! * h;
    M -= 2 * s[i]!;
    s[i] = -s[i]!;
    add();
  }
  const out: DensityOfStates = { V, E: [], M: [], count: [] };
  for (const [key, cnt] of hist) {
    const [e, m] = key.split(",").map(Number) as [number, number];
    out.E.push(e);
    out.M.push(m);
    out.count.push(cnt);
  }
  return out;
}

/** Exact probability of every (E, M) class of a density of states at β (in its order): for χ² tests. */
export function dosProbabilities(dos: DensityOfStates, beta: number): Float64Array {
  const Emin = Math.min(...dos.E);
  const w = Float64Array.from(dos.count, (g, k) => g * Math.exp(-beta * (dos.E[k]! - Emin)));
  const Z = w.reduce((a, x) => a + x, 0);
  return w.map((x) => x / Z);
}

/** Exact observables at β from a density of states (per-site e and c; m = M/V). */
export interface ExactObservables {
  e: number;
  c: number;
  absM: number;
  m2: number;
  m4: number;
  binder: number;
}

export function exactObservables(dos: DensityOfStates, beta: number): ExactObservables {
  const { V } = dos;
  const Emin = Math.min(...dos.E);
  let Z = 0, e1 = 0, e2 = 0, am = 0, m2 = 0, m4 = 0;
  for (let k = 0; k < dos.count.length; k++) {
    const w = dos.count[k]! * Math.exp(-beta * (dos.E[k]! - Emin));
    const e = dos.E[k]! / V, m = dos.M[k]! / V;
    Z += w;
    e1 += w * e;
    e2 += w * e * e;
    am += w * Math.abs(m);
    m2 += w * m * m;
    m4 += w * m ** 4;
  }
  e1 /= Z; e2 /= Z; am /= Z; m2 /= Z; m4 /= Z;
  return { e: e1, c: beta * beta * V * (e2 - e1 * e1), absM: am, m2, m4, binder: 1 - m4 / (3 * m2 * m2) };
}

/** Exact probability of every configuration (index bit i = spin i is −1) at β: for χ² tests. */
export function boltzmannProbabilities(lat: Lattice, beta: number): Float64Array {
  const { V } = lat;
  if (V > 24) throw new RangeError(`2^${V} state probabilities are too many`);
  const nb = neighbours(lat);
  const z = 2 * lat.dim;
  const n = 2 ** V;
  const p = new Float64Array(n);
  for (let state = 0; state < n; state++) {
    let E = 0;
    for (let i = 0; i < V; i++) {
      const si = (state >>> i) & 1 ? -1 : 1;
      for (let d = 0; d < lat.dim; d++) {
        const j = nb[i * z + 2 * d]!;
        E -= si * ((state >>> j) & 1 ? -1 : 1);
      }
    }
    p[state] = -beta * E;
  }
  const top = Math.max(...p);
  let Z = 0;
  for (let k = 0; k < n; k++) Z += (p[k] = Math.exp(p[k]! - top));
  for (let k = 0; k < n; k++) p[k]! /= Z;
  return p;
}

/** Index of a ±1 configuration in `boltzmannProbabilities` order. */
export function stateIndex(s: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s[i]! < 0) k += 2 ** i;
  return k;
}
