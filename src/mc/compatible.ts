// Compatible Monte Carlo, the constrained sweep and its sampler: Ron, Swendsen & Brandt, PRL 89, 275701 (2002).
//
// Given a coarse Ising configuration σ on L^d, a fine configuration s on (2L)^d is drawn from the
// ORIGINAL Hamiltonian H = −Σ⟨ij⟩ s_i s_j at coupling β restricted to the compatible set
// {s : B(s) = σ}, B the b = 2 majority rule with ties (block sum 0) taking the block's first spin
// (site 2X; `majorityBlock(…, {tie: "first"})`). The chain is a single-spin update (Metropolis or heat
// bath) in checkerboard order in which a change of s_i is refused whenever it would change its block
// spin. Each site update satisfies detailed balance with respect to e^{−βH} restricted to the
// compatible set (the proposal is symmetric, and a refused move keeps the state), so that restricted
// distribution is stationary; a block's compatible states are connected by single flips (from the
// aligned block every compatible state is reached by flipping its minority spins one at a time), so
// the chain is irreducible on the compatible set. Long-wavelength modes are fixed by σ: no critical
// slowing down. Iterating L → 2L → 4L … (`inverseLevels`) builds large equilibrated-looking lattices.
//
// Exactness: the fine ensemble is the fine Boltzmann ensemble only if the coarse configurations are
// distributed as the block spins of the fine model, i.e. drawn from the renormalised Hamiltonian, not
// from the original one at size L (see test/compatible.test.ts for the measured discrepancy).
//
// Tie rule and the constraint: with σ_X and the block sum S (|S| ≤ 2^d), flipping s_i in block X
// gives S' = S − 2 s_i; it is allowed iff S'·σ_X > 0, or S' = 0 and the block's first spin after the
// move equals σ_X. The block index and first site are computed from the coordinates (x>>1, x&~1),
// which is O(1) and cheaper than per-site tables; the block sums are kept incrementally.

import { type Dim, type Lattice, neighbours, requireEven } from "../lattice/geometry.js";
import { Rng } from "../lattice/rng.js";
import { type Chains, type SamplerState } from "./chains.js";
import { heatbathTable } from "./heatbath.js";
import { metropolisTable } from "./metropolis.js";
import { isingEnergyWith, magnetization } from "../models/ising.js";

/** The single-site update inside the constraint. */
export type ConstrainedRule = "metropolis" | "heatbath";

/** Number of blocks (L/2)^d of a fine lattice; works for L = 2 (one block), where `coarse()` cannot. */
export function coarseVolume(latFine: Lattice): number {
  requireEven(latFine, "b = 2 blocks");
  return (latFine.L / 2) ** latFine.dim;
}

/** Block index of every fine site, X = Σ_μ (x_μ >> 1)·(L/2)^μ (the order of geometry.ts `blockSites`). */
function blockIndex(latFine: Lattice, i: number): number {
  const { L, dim } = latFine;
  const Lc = L >> 1;
  const x = i % L, y = Math.floor(i / L) % L, z = dim === 3 ? Math.floor(i / (L * L)) : 0;
  return (x >> 1) + Lc * ((y >> 1) + Lc * (z >> 1));
}

function checkCoarse(latFine: Lattice, sigma: ArrayLike<number>): void {
  const Vc = coarseVolume(latFine);
  if (sigma.length !== Vc) throw new RangeError(`coarse configuration must have ${Vc} sites, got ${sigma.length}`);
  for (let X = 0; X < Vc; X++) {
    if (sigma[X] !== 1 && sigma[X] !== -1) throw new RangeError(`coarse spin ${X} is ${sigma[X]}, not ±1`);
  }
}

/** The compatible start: every spin of block X set to σ_X. */
export function compatibleInit(latFine: Lattice, coarse: Int8Array): Int8Array {
  checkCoarse(latFine, coarse);
  const s = new Int8Array(latFine.V);
  for (let i = 0; i < latFine.V; i++) s[i] = coarse[blockIndex(latFine, i)]!;
  return s;
}

/** Block sums Σ_{i∈X} s_i (|sum| ≤ 8 fits an Int8Array). */
export function blockSums(latFine: Lattice, s: Int8Array, out: Int8Array = new Int8Array(coarseVolume(latFine))): Int8Array {
  const Vc = coarseVolume(latFine);
  if (out.length !== Vc || s.length !== latFine.V) throw new RangeError("blockSums: array sizes do not match the lattice");
  out.fill(0);
  const { L, dim } = latFine;
  const Lc = L >> 1, Lz = dim === 3 ? L : 1;
  let i = 0;
  for (let z = 0; z < Lz; z++) {
    for (let y = 0; y < L; y++) {
      const base = Lc * ((y >> 1) + Lc * (z >> 1));
      for (let x = 0; x < L; x++, i++) out[base + (x >> 1)]! += s[i]!;
    }
  }
  return out;
}

/**
 * Majority rule with ties taking the first spin (site 2X), the rule the constraint keeps fixed. Equal
 * to `majorityBlock(lat, s, out, {tie: "first"})` but also defined for L = 2 (a single block).
 */
export function blockSpinsFirst(latFine: Lattice, s: Int8Array, out: Int8Array = new Int8Array(coarseVolume(latFine))): Int8Array {
  const sums = blockSums(latFine, s);
  const { L, dim } = latFine;
  const Lc = L >> 1;
  for (let X = 0; X < sums.length; X++) {
    const S = sums[X]!;
    if (S !== 0) {
      out[X] = S > 0 ? 1 : -1;
      continue;
    }
    const cx = X % Lc, cy = Math.floor(X / Lc) % Lc, cz = dim === 3 ? Math.floor(X / (Lc * Lc)) : 0;
    out[X] = s[2 * cx + L * (2 * cy + L * 2 * cz)]!;
  }
  return out;
}

/** True when blocking s (tie → first spin) gives σ. */
export function isCompatible(latFine: Lattice, s: Int8Array, sigma: ArrayLike<number>): boolean {
  checkCoarse(latFine, sigma);
  const b = blockSpinsFirst(latFine, s);
  for (let X = 0; X < b.length; X++) if (b[X] !== sigma[X]) return false;
  return true;
}

/** Threshold table of the rule (the layouts of src/mc/metropolis.ts and src/mc/heatbath.ts). */
export function constrainedTable(dim: Dim, beta: number, rule: ConstrainedRule): Int32Array {
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new RangeError(`beta must be a finite number >= 0, got ${beta}`);
  return rule === "heatbath" ? heatbathTable(dim, beta) : metropolisTable(dim, beta);
}

export interface ConstrainedSweepOptions {
  /** Default "heatbath". */
  rule?: ConstrainedRule;
  /** Precomputed `constrainedTable(dim, beta, rule)` (saves building it per sweep). */
  table?: Int32Array;
  /**
   * Current block sums of s (`blockSums`), kept up to date by the sweep. When given, s is trusted to be
   * compatible with σ; when omitted, the sums are computed and compatibility is checked (O(V)).
   */
  blockSum?: Int8Array;
}

/**
 * One constrained checkerboard sweep (both colours, every site once) of the fine configuration s,
 * which must be compatible with σ; returns the number of changed spins. One 32-bit random number per site.
 */
export function constrainedSweep(
  latFine: Lattice, s: Int8Array, sigma: Int8Array, beta: number, rng: Rng, opts: ConstrainedSweepOptions = {},
): number {
  const rule = opts.rule ?? "heatbath";
  const table = opts.table ?? constrainedTable(latFine.dim, beta, rule);
  if (table.length !== 4 * latFine.dim + 1) throw new RangeError("threshold table does not match the dimension");
  if (s.length !== latFine.V) throw new RangeError(`fine configuration must have ${latFine.V} sites`);
  let bsum = opts.blockSum;
  if (!bsum) {
    if (!isCompatible(latFine, s, sigma)) throw new RangeError("the fine configuration is not compatible with the coarse one");
    bsum = blockSums(latFine, s);
  } else if (bsum.length !== sigma.length || sigma.length !== coarseVolume(latFine)) {
    throw new RangeError("block sums / coarse configuration do not match the lattice");
  }
  const heat = rule === "heatbath";
  return latFine.dim === 2
    ? kernel2D(s, latFine.L, sigma, bsum, heat, table, rng)
    : kernel3D(s, latFine.L, sigma, bsum, heat, table, rng);
}

// The kernels mirror src/mc/checkerboard.ts (row arithmetic for neighbours, xoshiro128** in locals,
// sign-bit thresholds); the proposed value is computed branch-free and the constraint is only
// checked when it differs from the current spin.
function kernel2D(s: Int8Array, L: number, sigma: Int8Array, bsum: Int8Array, heat: boolean, table: Int32Array, rng: Rng): number {
  const Lc = L >> 1;
  let s0 = rng.s0, s1 = rng.s1, s2 = rng.s2, s3 = rng.s3;
  let changed = 0;
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < L; y++) {
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      const brow = (y >> 1) * Lc;
      const frow = (y & ~1) * L;
      for (let x = (y + c) & 1; x < L; x += 2) {
        const i = row + x;
        const si = s[i]!;
        const h = s[x === 0 ? i + L - 1 : i - 1]! + s[x === L - 1 ? i - L + 1 : i + 1]! + s[up + x]! + s[dn + x]!;
        const m = Math.imul(s1, 5);
        const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 1;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        const ns = heat ? ((table[h + 4]! - r) >> 31) | 1 : si ^ (~((table[si * h + 4]! - r) >> 31) & -2);
        if (ns !== si) {
          const X = brow + (x >> 1);
          const Sn = bsum[X]! - 2 * si;
          const sg = sigma[X]!;
          const f = frow + (x & ~1);
          if (Sn !== 0 ? Sn * sg > 0 : (f === i ? ns : s[f]!) === sg) {
            s[i] = ns;
            bsum[X] = Sn;
            changed++;
          }
        }
      }
    }
  }
  rng.s0 = s0; rng.s1 = s1; rng.s2 = s2; rng.s3 = s3;
  return changed;
}

function kernel3D(s: Int8Array, L: number, sigma: Int8Array, bsum: Int8Array, heat: boolean, table: Int32Array, rng: Rng): number {
  const L2 = L * L;
  const Lc = L >> 1;
  const Lc2 = Lc * Lc;
  let s0 = rng.s0, s1 = rng.s1, s2 = rng.s2, s3 = rng.s3;
  let changed = 0;
  for (let c = 0; c < 2; c++) {
    for (let z = 0; z < L; z++) {
      const plane = z * L2;
      const front = (z === L - 1 ? 0 : z + 1) * L2;
      const back = (z === 0 ? L - 1 : z - 1) * L2;
      const bplane = (z >> 1) * Lc2;
      const fplane = (z & ~1) * L2;
      for (let y = 0; y < L; y++) {
        const row = y * L;
        const up = plane + (y === L - 1 ? 0 : y + 1) * L;
        const dn = plane + (y === 0 ? L - 1 : y - 1) * L;
        const brow = bplane + (y >> 1) * Lc;
        const frow = fplane + (y & ~1) * L;
        for (let x = (y + z + c) & 1; x < L; x += 2) {
          const i = plane + row + x;
          const si = s[i]!;
          const h =
            s[x === 0 ? i + L - 1 : i - 1]! + s[x === L - 1 ? i - L + 1 : i + 1]! + s[up + x]! + s[dn + x]! +
            s[front + row + x]! + s[back + row + x]!;
          const m = Math.imul(s1, 5);
          const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 1;
          const t = s1 << 9;
          s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
          const ns = heat ? ((table[h + 6]! - r) >> 31) | 1 : si ^ (~((table[si * h + 6]! - r) >> 31) & -2);
          if (ns !== si) {
            const X = brow + (x >> 1);
            const Sn = bsum[X]! - 2 * si;
            const sg = sigma[X]!;
            const f = frow + (x & ~1);
            if (Sn !== 0 ? Sn * sg > 0 : (f === i ? ns : s[f]!) === sg) {
              s[i] = ns;
              bsum[X] = Sn;
              changed++;
            }
          }
        }
      }
    }
  }
  rng.s0 = s0; rng.s1 = s1; rng.s2 = s2; rng.s3 = s3;
  return changed;
}

/**
 * Nearest-neighbour correlation of the block magnetisations, (1/(d·V_c)) Σ_X Σ_μ m_X m_{X+μ} with
 * m_X = (block sum)/2^d: a relaxation probe of compatible MC (the block SIGNS are fixed, their
 * magnitudes relax).
 */
export function blockCorrelation(latFine: Lattice, s: Int8Array, sums?: Int8Array): number {
  const bs = sums ?? blockSums(latFine, s);
  const { dim } = latFine;
  const Lc = latFine.L >> 1;
  const Vc = bs.length;
  const nb = 1 << dim;
  let acc = 0;
  for (let X = 0; X < Vc; X++) {
    const cx = X % Lc, cy = Math.floor(X / Lc) % Lc;
    const mX = bs[X]!;
    acc += mX * bs[X - cx + ((cx + 1) % Lc)]!;
    acc += mX * bs[X + (((cy + 1) % Lc) - cy) * Lc]!;
    if (dim === 3) {
      const cz = Math.floor(X / (Lc * Lc));
      acc += mX * bs[X + (((cz + 1) % Lc) - cz) * Lc * Lc]!;
    }
  }
  return acc / (dim * Vc * nb * nb);
}

/** Counters of a compatible sampler. */
export interface CompatibleCounters {
  /** Site visits. */
  updates: number;
  /** Spins changed. */
  flipped: number;
}

/** Compatible-MC chain on the fine lattice for one coarse configuration (one chain). */
export interface CompatibleSampler extends Chains<Int8Array> {
  readonly algorithm: "compatible";
  readonly rule: ConstrainedRule;
  /** The fine lattice. */
  readonly lat: Lattice;
  readonly beta: number;
  /** The coarse configuration σ that is kept fixed (a copy; change it with `reset`). */
  readonly sigma: Int8Array;
  readonly counters: CompatibleCounters;
  /** The current fine configuration (live view, do not modify). */
  readonly spins: Int8Array;
  /** Starts over for a new coarse configuration, from `init` (must be compatible) or the compatible start. */
  reset(coarse: Int8Array, init?: Int8Array): void;
}

export interface CompatibleSamplerOptions {
  /** The fine lattice (2L)^d. */
  lat: Lattice;
  beta: number;
  /** Coarse configuration on L^d. */
  coarse: Int8Array;
  rng: Rng;
  /** Default "heatbath". */
  rule?: ConstrainedRule;
  /** Fine start (must block to `coarse`); default `compatibleInit`. */
  init?: Int8Array;
}

/**
 * A `Chains<Int8Array>` (src/mc/chains.ts) for compatible MC, so the project's run loop can drive it:
 * `sweep` is one constrained checkerboard sweep, `measure` fills [energy H, magnetisation M] (the
 * Ising observables), save/restore carry the generator state and spins (σ is a construction
 * parameter and is not in the checkpoint; `restore` refuses spins that are incompatible with it).
 */
export function compatibleSampler(opt: CompatibleSamplerOptions): CompatibleSampler {
  const { lat, beta, rng } = opt;
  const rule = opt.rule ?? "heatbath";
  requireEven(lat, "compatible Monte Carlo");
  if (!(beta > 0) || !Number.isFinite(beta)) throw new RangeError(`beta must be a positive number, got ${beta}`);
  const sigma = new Int8Array(coarseVolume(lat));
  const s = new Int8Array(lat.V);
  const bsum = new Int8Array(sigma.length);
  const table = constrainedTable(lat.dim, beta, rule);
  const nb = neighbours(lat);
  const counters: CompatibleCounters = { updates: 0, flipped: 0 };
  const reset = (coarse: Int8Array, init?: Int8Array): void => {
    checkCoarse(lat, coarse);
    sigma.set(coarse);
    if (init) {
      if (init.length !== lat.V) throw new RangeError(`initial fine configuration must have ${lat.V} sites`);
      if (!isCompatible(lat, init, sigma)) throw new RangeError("the initial fine configuration does not block to the coarse one");
      s.set(init);
    } else {
      s.set(compatibleInit(lat, sigma));
    }
    blockSums(lat, s, bsum);
  };
  reset(opt.coarse, opt.init);
  return {
    algorithm: "compatible", rule, lat, beta, sigma, counters, spins: s, chains: 1,
    observables: ["energy", "magnetization"] as const,
    sweep() {
      counters.flipped += constrainedSweep(lat, s, sigma, beta, rng, { rule, table, blockSum: bsum });
      counters.updates += lat.V;
    },
    endThermalization() {},
    measure(out) {
      out[0]![0] = isingEnergyWith(nb, lat.dim, s);
      out[1]![0] = magnetization(s);
    },
    config(_c, out) { out.set(s); },
    save: (): SamplerState => ({ rng: rng.state(), spins: s.slice(), extra: {} }),
    restore(st) {
      if (!(st.spins instanceof Int8Array) || st.spins.length !== lat.V) throw new RangeError("checkpoint spins do not match this lattice");
      if (!isCompatible(lat, st.spins, sigma)) throw new RangeError("checkpoint spins are not compatible with this sampler's coarse configuration");
      rng.setState(st.rng);
      s.set(st.spins);
      blockSums(lat, s, bsum);
    },
    reset,
  };
}
