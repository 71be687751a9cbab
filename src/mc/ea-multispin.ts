// Multi-spin-coded checkerboard Metropolis for the EA ±J spin glass: 32 disorder samples in the bits of
// an int32 lane. Jacobs & Rebbi, J. Comput. Phys. 41, 203 (1981); for spin glasses Bhanot, Duke & Salvador, J. Stat. Phys. 44, 985 (1986).
//
// Layout (shared with the WebAssembly kernel in wasm/ea-multispin.ts, which must stay bit-identical):
// a *block* is 32 consecutive disorder samples (block b holds samples 32b … 32b + 31, bit ℓ = sample
// 32b + ℓ); a *group* is W blocks side by side (W = 4 fills a 128-bit SIMD vector). Every group owns
//   couplings  [site][k][w]      bit set where the bond from the site to its k-th neighbour is J = −1
//   spins      [slot][site][w]   bit set = spin +1; slot = replica·T + temperature index
//   rng        [slot][4][w]      the xoshiro128** state of block w's stream for that slot
//   thresholds [temperature][4]  u31 acceptance entries for u = 0, 1, 2 unsatisfied bonds (see below)
//   counters   [slot][B][w]      bit-sliced count of unsatisfied bonds after the last sweep, per sample
//   masks      [replica][T−1][w] exchange masks: bit set = that sample swaps temperatures k and k+1
// Every slot sits at one temperature; parallel tempering moves configurations between slots with
// masked bit swaps, so one acceptance table serves the whole word.
//
// Why one random number per site, block and sweep, shared by the 32 samples of a block: it makes the
// Metropolis test a comparison of one number with the site's three thresholds, and the flip decision
// bit-parallel. Identical systems fed the same random numbers would coalesce (mc/multispin.ts draws
// independent bits for that reason), but the samples of a block have different couplings, so their
// trajectories stay different; what remains is a weak correlation between samples of one block, which
// test/ea-multispin.test.ts measures (it must be consistent with zero within errors). Each of the
// block's copies (replica × temperature slot) has its own stream, so the two replicas of a sample are
// never driven by the same numbers.
//
// The Metropolis rule with u unsatisfied bonds out of z = 2d: ΔE = 2(z − 2u), accepted when
// r ≤ t_u = u31Entry(e^{−2β(z−2u)}) (r a uniform 31-bit number; t_u = 2^31 − 1 for u ≥ d). Since
// t_0 < t_1 < t_2, the site flips iff u ≥ k(r), with k(r) the number of t_u (u < 3) below r: with the
// masks m_j = [u ≥ j] and sel_j = [r > t_{j−1}], flip = ¬sel_1 ∨ (¬sel_2 ∧ m_1) ∨ (¬sel_3 ∧ m_2) ∨ m_3,
// the same decision as the one-spin kernel (mc/ea-metropolis.ts) fed the same random number.
//
// Energies are tracked in the sweep: every bond joins the two colours, so after the second colour the
// unsatisfied bonds are the sum over its sites of their (new) counts u' (u' = u, or z − u when the site
// flipped), accumulated bit-sliced per sample in a 6-bit counter that is added into the B-plane
// counter every 10 sites. E = 2U − dV with U the number of unsatisfied bonds.

import { colour, type Lattice, neighbours, requireEven } from "../lattice/geometry.js";
import { u31Entry } from "./checkerboard.js";
import { type BatchStorage } from "./parallel-tempering.js";

/** Samples per block (bits of a lane). */
export const BLOCK = 32;

/** Where everything of one group lies in the engine's int32 buffer (offsets in int32 words). */
export interface MsLayout {
  readonly lat: Lattice;
  /** Neighbours per site (2d). */
  readonly z: number;
  /** Temperatures of the ladder. */
  readonly T: number;
  /** Copies per sample: 2 replicas × T. */
  readonly slots: number;
  /** Blocks per group. */
  readonly W: number;
  /** Bit planes of the unsatisfied-bond counters. */
  readonly B: number;
  /** Bit planes of the slab counters of the overlap (a slab holds L^{d−1} sites). */
  readonly P: number;
  /** Site indices of neighbours, [site][k], in the order of lattice/geometry.ts (shared by all groups). */
  readonly nb: Int32Array;
  /** The sites of colour 0, then of colour 1. */
  readonly colours: readonly [Int32Array, Int32Array];
  /** Offsets inside a group. */
  readonly couplings: number;
  readonly spins: number;
  readonly rng: number;
  readonly thresholds: number;
  readonly counters: number;
  readonly masks: number;
  /** Slab counters [axis][coordinate][plane][w]: sites with ρ = +1 per slab and sample (see msSlabCounts). */
  readonly slabs: number;
  /** Words per group (a multiple of 4, so that groups stay 16-byte aligned). */
  readonly groupWords: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function msLayout(lat: Lattice, T: number, W: number): MsLayout {
  requireEven(lat, "a checkerboard update");
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`need at least one temperature, got ${T}`);
  if (!Number.isInteger(W) || W < 1) throw new RangeError(`need at least one block per group, got ${W}`);
  const { V, dim } = lat;
  const z = 2 * dim;
  const slots = 2 * T;
  const B = Math.ceil(Math.log2(dim * V + 1));
  const lists: number[][] = [[], []];
  for (let i = 0; i < V; i++) lists[colour(lat, i)]!.push(i);
  let o = 0;
  const take = (n: number): number => {
    const at = o;
    o += align4(n);
    return at;
  };
  const couplings = take(V * z * W);
  const spins = take(slots * V * W);
  const rng = take(slots * 4 * W);
  const thresholds = take(T * 4);
  const counters = take(slots * B * W);
  const masks = take(2 * Math.max(1, T - 1) * W);
  const P = Math.ceil(Math.log2(V / lat.L + 1));
  const slabs = take(dim * lat.L * P * W);
  return {
    lat, z, T, slots, W, B, P, nb: neighbours(lat), colours: [Int32Array.from(lists[0]!), Int32Array.from(lists[1]!)],
    couplings, spins, rng, thresholds, counters, masks, slabs, groupWords: o,
  };
}

/** The three acceptance entries of β (u = 0, 1, 2 unsatisfied bonds; 2^31 − 1 where ΔE ≤ 0). */
export function msThresholds(dim: number, beta: number): Int32Array {
  const z = 2 * dim;
  return Int32Array.from([0, 1, 2], (u) => u31Entry(Math.exp(-2 * beta * (z - 2 * u))));
}

/** Writes the thresholds of every ladder temperature into group g. */
export function setThresholds(buf: Int32Array, lay: MsLayout, g: number, betas: ArrayLike<number>): void {
  if (betas.length !== lay.T) throw new RangeError(`the layout has ${lay.T} temperatures, ${betas.length} betas given`);
  const base = g * lay.groupWords + lay.thresholds;
  for (let k = 0; k < lay.T; k++) buf.set(msThresholds(lay.lat.dim, betas[k]!), base + 4 * k);
}

/** Packs sample `lane` (0 … 32W − 1) of group g: its bonds in neighbour order (eaBonds' jnb). */
export function packCouplings(buf: Int32Array, lay: MsLayout, g: number, lane: number, jnb: Int8Array): void {
  const { z, W, lat } = lay;
  if (jnb.length !== lat.V * z) throw new RangeError(`bonds must have V·2d = ${lat.V * z} entries`);
  const w = lane >> 5, bit = 1 << (lane & 31);
  const base = g * lay.groupWords + lay.couplings + w;
  for (let n = 0; n < jnb.length; n++) {
    const at = base + n * W;
    buf[at] = jnb[n]! < 0 ? buf[at]! | bit : buf[at]! & ~bit;
  }
}

/** Sets the spins of one sample and slot from ±1 values. */
export function packSpins(buf: Int32Array, lay: MsLayout, g: number, slot: number, lane: number, s: ArrayLike<number>): void {
  const { W, lat } = lay;
  const w = lane >> 5, bit = 1 << (lane & 31);
  const base = g * lay.groupWords + lay.spins + slot * lat.V * W + w;
  for (let i = 0; i < lat.V; i++) {
    const at = base + i * W;
    buf[at] = s[i]! > 0 ? buf[at]! | bit : buf[at]! & ~bit;
  }
}

/** The ±1 spins of one sample and slot. */
export function unpackSpins(buf: Int32Array, lay: MsLayout, g: number, slot: number, lane: number, out: Int8Array): Int8Array {
  const { W, lat } = lay;
  const w = lane >> 5, sh = lane & 31;
  const base = g * lay.groupWords + lay.spins + slot * lat.V * W + w;
  for (let i = 0; i < lat.V; i++) out[i] = (buf[base + i * W]! >>> sh) & 1 ? 1 : -1;
  return out;
}

/** Overlap field ρ = s·t of one sample between two slots (the two replicas at one temperature). */
export function unpackOverlap(buf: Int32Array, lay: MsLayout, g: number, slotA: number, slotB: number, lane: number, out: Int8Array): Int8Array {
  const { W, lat } = lay;
  const w = lane >> 5, sh = lane & 31;
  const spins = g * lay.groupWords + lay.spins;
  const a = spins + slotA * lat.V * W + w, b = spins + slotB * lat.V * W + w;
  for (let i = 0; i < lat.V; i++) out[i] = ((buf[a + i * W]! ^ buf[b + i * W]!) >>> sh) & 1 ? -1 : 1;
  return out;
}

/** E = 2U − dV per sample of one slot, from the counters the last sweep left (out: 32W values). */
export function slotEnergies(buf: Int32Array, lay: MsLayout, g: number, slot: number, out: Float64Array): Float64Array {
  const { W, B, lat } = lay;
  const base = g * lay.groupWords + lay.counters + slot * B * W;
  const dV = lat.dim * lat.V;
  for (let w = 0; w < W; w++) {
    for (let l = 0; l < 32; l++) {
      let U = 0;
      for (let b = B - 1; b >= 0; b--) U = 2 * U + ((buf[base + b * W + w]! >>> l) & 1);
      out[w * 32 + l] = 2 * U - dV;
    }
  }
  return out;
}

/** Adds the 6-bit per-sample counts l0…l5 into the B-plane counter at `at` (stride W): a ripple-carry add. */
function flushCounter(buf: Int32Array, at: number, W: number, B: number, l0: number, l1: number, l2: number, l3: number, l4: number, l5: number): void {
  let c = 0;
  for (let b = 0; b < B; b++) {
    const x = b === 0 ? l0 : b === 1 ? l1 : b === 2 ? l2 : b === 3 ? l3 : b === 4 ? l4 : b === 5 ? l5 : 0;
    const h = buf[at + b * W]!;
    const hx = h ^ x;
    buf[at + b * W] = hx ^ c;
    c = (h & x) | (hx & c);
    if (c === 0 && b >= 5) break;
  }
}

/**
 * One checkerboard Metropolis sweep (colour 0, then colour 1) of one slot of group g, every block of
 * the group; leaves the unsatisfied-bond count of every sample in the slot's counters. The reference
 * implementation of the WebAssembly kernel: the same random numbers, the same bits.
 */
export function msSweepSlot(buf: Int32Array, lay: MsLayout, g: number, slot: number): void {
  const { W, B, z, nb, lat } = lay;
  const V = lat.V;
  const base = g * lay.groupWords;
  const sp = base + lay.spins + slot * V * W;
  const jc = base + lay.couplings;
  const rs = base + lay.rng + slot * 4 * W;
  const th = base + lay.thresholds + 4 * (slot % lay.T);
  const t0 = buf[th]!, t1 = buf[th + 1]!, t2 = buf[th + 2]!;
  const cnt = base + lay.counters + slot * B * W;
  const three = z === 6;
  for (let w = 0; w < W; w++) {
    let s0 = buf[rs + w]!, s1 = buf[rs + W + w]!, s2 = buf[rs + 2 * W + w]!, s3 = buf[rs + 3 * W + w]!;
    for (let b = 0; b < B; b++) buf[cnt + b * W + w] = 0;
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, n = 0;
    for (let c = 0; c < 2; c++) {
      const sites = lay.colours[c]!;
      for (let q = 0; q < sites.length; q++) {
        const i = sites[q]!;
        const o = i * z;
        const jo = jc + o * W + w;
        const S = buf[sp + i * W + w]!;
        const a0 = S ^ buf[sp + nb[o]! * W + w]! ^ buf[jo]!;
        const a1 = S ^ buf[sp + nb[o + 1]! * W + w]! ^ buf[jo + W]!;
        const a2 = S ^ buf[sp + nb[o + 2]! * W + w]! ^ buf[jo + 2 * W]!;
        const a3 = S ^ buf[sp + nb[o + 3]! * W + w]! ^ buf[jo + 3 * W]!;
        const a4 = three ? S ^ buf[sp + nb[o + 4]! * W + w]! ^ buf[jo + 4 * W]! : 0;
        const a5 = three ? S ^ buf[sp + nb[o + 5]! * W + w]! ^ buf[jo + 5 * W]! : 0;
        // u = a0 + … + a5 bit-sliced: two full adders, then the carries.
        const x1 = a0 ^ a1, sA = x1 ^ a2, cA = (a0 & a1) | (x1 & a2);
        const x2 = a3 ^ a4, sB = x2 ^ a5, cB = (a3 & a4) | (x2 & a5);
        const u0 = sA ^ sB, k0 = sA & sB;
        const xc = cA ^ cB, u1 = xc ^ k0, u2 = (cA & cB) | (xc & k0);
        const m1 = u0 | u1 | u2, m2 = u1 | u2, m3 = u2 | (u1 & u0);
        // xoshiro128** (the inlined step of lattice/rng.ts), top 31 bits.
        const mm = Math.imul(s1, 5);
        const r = Math.imul((mm << 7) | (mm >>> 25), 9) >>> 1;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        const flip = (r > t0 ? 0 : -1) | (r > t1 ? 0 : m1) | (r > t2 ? 0 : m2) | m3;
        buf[sp + i * W + w] = S ^ flip;
        if (c === 1) {
          // u' = u, or z − u where flipped; z − u has the low bit of u (z even).
          const v1 = three ? u1 ^ (flip & ~u0) : u1 ^ (flip & u0);
          const v2 = u2 ^ (flip & ((three ? ~m3 : ~m1) ^ u2));
          let cc = l0 & u0;
          l0 ^= u0;
          let h = l1 ^ v1;
          let cn = (l1 & v1) | (h & cc);
          l1 = h ^ cc;
          cc = cn;
          h = l2 ^ v2;
          cn = (l2 & v2) | (h & cc);
          l2 = h ^ cc;
          cc = cn;
          cn = l3 & cc; l3 ^= cc; cc = cn;
          cn = l4 & cc; l4 ^= cc; cc = cn;
          l5 ^= cc;
          if (++n === 10) {
            flushCounter(buf, cnt + w, W, B, l0, l1, l2, l3, l4, l5);
            l0 = l1 = l2 = l3 = l4 = l5 = 0;
            n = 0;
          }
        }
      }
    }
    if (n > 0) flushCounter(buf, cnt + w, W, B, l0, l1, l2, l3, l4, l5);
    buf[rs + w] = s0; buf[rs + W + w] = s1; buf[rs + 2 * W + w] = s2; buf[rs + 3 * W + w] = s3;
  }
}

/** Recounts the unsatisfied bonds of one slot from its spins into its counters (construction, resume, tests). */
export function msCountSlot(buf: Int32Array, lay: MsLayout, g: number, slot: number): void {
  const { W, B, z, nb, lat } = lay;
  const base = g * lay.groupWords;
  const sp = base + lay.spins + slot * lat.V * W;
  const jc = base + lay.couplings;
  const cnt = base + lay.counters + slot * B * W;
  const sites = lay.colours[1];
  for (let w = 0; w < W; w++) {
    for (let b = 0; b < B; b++) buf[cnt + b * W + w] = 0;
    for (let q = 0; q < sites.length; q++) {
      const i = sites[q]!;
      const S = buf[sp + i * W + w]!;
      for (let k = 0; k < z; k++) flushCounter(buf, cnt + w, W, B, S ^ buf[sp + nb[i * z + k]! * W + w]! ^ buf[jc + (i * z + k) * W + w]!, 0, 0, 0, 0, 0);
    }
  }
}

/**
 * Exchanges the configurations of slots (replica·T + k) and (replica·T + k + 1) for the samples whose
 * mask bit is set, pairs k = 0, 1, … in turn (the order of the decisions in parallel-tempering.ts).
 */
export function msSwap(buf: Int32Array, lay: MsLayout, g: number): void {
  const { W, T, lat } = lay;
  const base = g * lay.groupWords;
  const n = lat.V * W;
  for (let a = 0; a < 2; a++) {
    for (let k = 0; k + 1 < T; k++) {
      const mo = base + lay.masks + (a * (T - 1) + k) * W;
      for (let w = 0; w < W; w++) {
        const m = buf[mo + w]!;
        if (m === 0) continue;
        const p = base + lay.spins + (a * T + k) * n + w, q = p + n;
        for (let i = 0; i < n; i += W) {
          const x = (buf[p + i]! ^ buf[q + i]!) & m;
          buf[p + i]! ^= x;
          buf[q + i]! ^= x;
        }
      }
    }
  }
}

/**
 * Slab counts of the overlap between two slots: for every axis μ, coordinate x and sample, the number of
 * sites with x_μ = x where ρ = s·t = +1, bit-sliced into P planes (the reference of the SIMD kernel's
 * `slabs`). They give q = (2Σ_x n_{0,x} − V)/V and Σ_i ρ_i e^{ik x_μ} = 2 Σ_x n_{μ,x} e^{ikx} (Σ_x e^{ikx} = 0),
 * so q and |q(k_min)|² of all samples of a group cost one pass over the words instead of one per sample.
 */
export function msSlabCounts(buf: Int32Array, lay: MsLayout, g: number, slotA: number, slotB: number): void {
  const { W, P, lat } = lay;
  const { L, V, dim } = lat;
  const base = g * lay.groupWords;
  const a = base + lay.spins + slotA * V * W, b = base + lay.spins + slotB * V * W;
  const sc = base + lay.slabs;
  buf.fill(0, sc, sc + dim * L * P * W);
  for (let i = 0; i < V; i++) {
    const x = i % L, y = Math.floor(i / L) % L, z = Math.floor(i / (L * L));
    for (let w = 0; w < W; w++) {
      const rho = ~(buf[a + i * W + w]! ^ buf[b + i * W + w]!);
      addBit(buf, sc + x * P * W + w, W, P, rho);
      addBit(buf, sc + (L + y) * P * W + w, W, P, rho);
      if (dim === 3) addBit(buf, sc + (2 * L + z) * P * W + w, W, P, rho);
    }
  }
}

function addBit(buf: Int32Array, at: number, W: number, P: number, x: number): void {
  for (let p = 0; p < P && x !== 0; p++) {
    const h = buf[at + p * W]!;
    buf[at + p * W] = h ^ x;
    x &= h;
  }
}

/** cos and sin of 2πx/L, the weights of |q(k_min)|² from slab counts. */
export interface SlabWaves {
  cos: Float64Array;
  sin: Float64Array;
}

export function slabWaves(L: number): SlabWaves {
  return { cos: Float64Array.from({ length: L }, (_, x) => Math.cos((2 * Math.PI * x) / L)), sin: Float64Array.from({ length: L }, (_, x) => Math.sin((2 * Math.PI * x) / L)) };
}

/**
 * q and |q(k_min)|² (mean over the d axes) of every sample of group g from its slab counters:
 * out[2·lane] = q, out[2·lane + 1] = |q(k_min)|², as models/ea.ts's overlapQ and overlapQk2 define them.
 */
export function slabOverlaps(buf: Int32Array, lay: MsLayout, g: number, waves: SlabWaves, out: Float64Array): Float64Array {
  const { W, P, lat } = lay;
  const { L, V, dim } = lat;
  const sc = g * lay.groupWords + lay.slabs;
  const lanes = 32 * W;
  const n = new Float64Array(lanes);
  const q = new Float64Array(lanes), re = new Float64Array(lanes), im = new Float64Array(lanes), k2 = new Float64Array(lanes);
  for (let mu = 0; mu < dim; mu++) {
    re.fill(0);
    im.fill(0);
    for (let x = 0; x < L; x++) {
      n.fill(0);
      for (let p = P - 1; p >= 0; p--) {
        for (let w = 0; w < W; w++) {
          const word = buf[sc + ((mu * L + x) * P + p) * W + w]!;
          for (let l = 0; l < 32; l++) n[w * 32 + l] = 2 * n[w * 32 + l]! + ((word >>> l) & 1);
        }
      }
      const c = waves.cos[x]!, s = waves.sin[x]!;
      for (let l = 0; l < lanes; l++) {
        re[l]! += 2 * n[l]! * c;
        im[l]! += 2 * n[l]! * s;
        if (mu === 0) q[l]! += n[l]!;
      }
    }
    for (let l = 0; l < lanes; l++) k2[l]! += (re[l]! * re[l]! + im[l]! * im[l]!) / (V * V);
  }
  for (let l = 0; l < lanes; l++) {
    out[2 * l] = (2 * q[l]! - V) / V;
    out[2 * l + 1] = k2[l]! / dim;
  }
  return out;
}

/** Runs the sweeps and swaps of a layout over `groups` groups held in `buf` (TypeScript or WebAssembly). */
export interface MsKernel {
  readonly name: "typescript" | "wasm-simd" | "webgpu";
  readonly lay: MsLayout;
  readonly buf: Int32Array;
  /** One sweep of every slot of group g, counters left behind. */
  sweep(g: number): void;
  /** The masked exchanges of group g (masks set by the caller). */
  swap(g: number): void;
  /** The overlap slab counters of group g between two slots (see msSlabCounts). */
  slabs(g: number, slotA: number, slotB: number): void;
  /** Energies of every slot and sample of group g after the last sweep: [slot][32W] (a view, overwritten by the next call). */
  energies(g: number): Int32Array;
  /**
   * Optional (the SIMD kernel): the exchange pass in the kernel. batchStorage(n) gives the memory for the
   * tempering books of n chains (ladders) of 2T copies; setExchange names each chain's group and lane and
   * the ladder; exchange() then does what readEnergies + exchangeBatch + setting the masks do in
   * JavaScript, with the same decisions and random numbers.
   */
  batchStorage?(n: number): BatchStorage;
  setExchange?(betas: ArrayLike<number>, groupOf: Int32Array, laneOf: Int32Array): void;
  exchange?(): void;
  /**
   * A kernel whose state lives on a device (gpu/ea-multispin.ts) sweeps every group with `sweepAll`
   * (resolving once the counters are back in `buf`) and swaps with `swapAll` (masks read from `buf`);
   * `pull` brings spins and streams into `buf` (with `slots`, only those slots' spins), `push` sends `buf` back.
   */
  sweepAll?(): Promise<void>;
  swapAll?(): void;
  pull?(slots?: readonly number[]): Promise<void>;
  push?(): void;
  dispose?(): void;
}

/** The TypeScript kernel: the reference, and the fallback where WebAssembly SIMD is missing. */
export function typescriptKernel(lay: MsLayout, groups: number): MsKernel {
  const buf = new Int32Array(lay.groupWords * groups);
  const energyView = new Int32Array(lay.slots * 32 * lay.W);
  return {
    name: "typescript", lay, buf,
    sweep(g) {
      for (let slot = 0; slot < lay.slots; slot++) msSweepSlot(buf, lay, g, slot);
    },
    swap: (g) => msSwap(buf, lay, g),
    slabs: (g, a, b) => msSlabCounts(buf, lay, g, a, b),
    energies(g) {
      const lanes = 32 * lay.W, one = new Float64Array(lanes);
      for (let slot = 0; slot < lay.slots; slot++) energyView.set(slotEnergies(buf, lay, g, slot, one), slot * lanes);
      return energyView;
    },
  };
}
