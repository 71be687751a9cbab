// Checkerboard Metropolis / heat bath on spins packed four bits each, eight to a u32 word, drawing
// Philox numbers by (word, half-sweep): the GPU kernel's layout (Romero, Bisson, Fatica & Bernaschi,
// Comput. Phys. Commun. 256, 107473 (2020)) and, here, its CPU reference, equal to it bit for bit.
//
// Why four bits per spin: the 2d neighbour words add nibble by nibble without carries (at most 6 up
// neighbours), so one addition counts the up neighbours of eight spins and a sweep moves half a byte
// per spin. Why Philox and not the CPU's xoshiro streams: a counter-based draw is a pure function of
// (key, word, half-sweep), so any number of GPU threads, in any order, draw what this reference draws.
//
// Layout: colour c = (x + y + z) mod 2. A colour keeps its L/2 sites of each row (y, z) in row order,
// j = ⌊x/2⌋, nibble j mod 8 of word ⌊j/8⌋; colour 0's words come first. In row (y, z) of colour c the
// site j sits at x = 2j + p with p = (y + z + c) mod 2: its neighbours along y and z are site j of the
// other colour in the neighbouring rows, along x site j of the other colour's same row and site j − 1
// (p = 0) or j + 1 (p = 1), which a shift of the row's words by one nibble lines up. Below L = 16 a row
// is one word with its L/2 low nibbles in use (the others stay 0), so that tiny lattices can be checked
// against complete enumeration.

import { popcount } from "../lattice/bits.js";
import { type Lattice } from "../lattice/geometry.js";
import { philox4x32 } from "../lattice/philox.js";
import { type Rng, u32Threshold } from "../lattice/rng.js";
import { type Chains, type SamplerState } from "./chains.js";

/** The lowest bit of each of a word's 8 nibbles (the spins). */
export const MASK = 0x11111111;

export interface PackedLayout {
  dim: 2 | 3;
  L: number;
  /** Words per row of one colour (L/16, or 1 below L = 16). */
  R: number;
  /** Spins per word: 8, or L/2 below L = 16. */
  n: number;
  /** The bits of the nibbles in use. */
  valid: number;
  /** Rows per colour: L^(dim−1). */
  rows: number;
  /** Words per colour. */
  half: number;
  /** Words in all (V/8). */
  words: number;
}

export type PackedRule = "metropolis" | "heatbath";
export const PACKED_RULES: readonly PackedRule[] = ["metropolis", "heatbath"];

/** Whether the packed kernel takes L: even below 16 (one partial word per row), else a multiple of 16. */
export function packedSize(L: number): boolean {
  return Number.isInteger(L) && L >= 2 && (L < 16 ? L % 2 === 0 : L % 16 === 0);
}

/** The layout of an L^dim lattice (see packedSize). */
export function packedLayout(dim: number, L: number): PackedLayout {
  if (dim !== 2 && dim !== 3) throw new RangeError(`the packed checkerboard kernel runs in 2 or 3 dimensions, not ${dim}`);
  if (!packedSize(L)) throw new RangeError(`the packed checkerboard kernel needs L even below 16 or a multiple of 16 (a colour's row of L/2 spins fills words of 8), got L = ${L}`);
  const R = Math.max(1, L / 16), n = Math.min(8, L / 2), rows = L ** (dim - 1), half = rows * R;
  return { dim, L, R, n, valid: n === 8 ? 0xffffffff : 2 ** (4 * n) - 1, rows, half, words: 2 * half };
}

/**
 * Flip thresholds, indexed [s·(2d+1) + n] for the spin's bit s (1 = up) and its n up neighbours: a
 * site flips when its Philox number r < T, or always when T = 2^32 − 1 (the flip probability is 1,
 * or within 2^-32 of it). Metropolis: min(1, e^{−βΔE}); heat bath: the probability of the other state.
 */
export function packedTable(dim: number, beta: number, rule: PackedRule): Uint32Array {
  const z = 2 * dim, out = new Uint32Array(2 * (z + 1));
  for (let s = 0; s <= 1; s++) {
    for (let n = 0; n <= z; n++) {
      const dE = 2 * (2 * s - 1) * (2 * n - z);
      const p = rule === "metropolis" ? Math.min(1, Math.exp(-beta * dE)) : 1 / (1 + Math.exp(beta * dE));
      out[s * (z + 1) + n] = Math.min(u32Threshold(p), 0xffffffff);
    }
  }
  return out;
}

/** Word index and bit of site i (x fastest, then y, then z). */
export function packedSite(lay: PackedLayout, i: number): { word: number; bit: number } {
  const { L, R } = lay;
  const x = i % L, r = Math.floor(i / L);
  const y = r % L, z = Math.floor(r / L);
  const c = (x + y + z) & 1, j = x >> 1;
  return { word: c * lay.half + r * R + (j >> 3), bit: 4 * (j & 7) };
}

/** ±1 spins (site order) into words. */
export function packSpins(lay: PackedLayout, s: Int8Array, out = new Uint32Array(lay.words)): Uint32Array {
  out.fill(0);
  for (let i = 0; i < s.length; i++) {
    if (s[i]! > 0) {
      const { word, bit } = packedSite(lay, i);
      out[word] = (out[word]! | (1 << bit)) >>> 0;
    }
  }
  return out;
}

/** Words into ±1 spins (site order). */
export function unpackSpins(lay: PackedLayout, w: Uint32Array, out: Int8Array): void {
  const { L, R, half } = lay;
  let i = 0;
  for (let r = 0; r < lay.rows; r++) {
    const yz = (r % L) + Math.floor(r / L);
    for (let x = 0; x < L; x++, i++) {
      const c = (x + yz) & 1, j = x >> 1;
      out[i] = (w[c * half + r * R + (j >> 3)]! >>> (4 * (j & 7))) & 1 ? 1 : -1;
    }
  }
}

/** The rows of the 2(d−1) neighbours of row r across rows (±y, then ±z), and its parity y + z. */
function rowNeighbours(lay: PackedLayout, r: number, out: Int32Array): number {
  const { L } = lay;
  const y = r % L, z = Math.floor(r / L), base = r - y;
  out[0] = base + ((y + 1) % L);
  out[1] = base + ((y + L - 1) % L);
  if (lay.dim === 3) {
    out[2] = ((z + 1) % L) * L + y;
    out[3] = ((z + L - 1) % L) * L + y;
  }
  return y + z;
}

/** Nibble sums of the 2d neighbours of colour c's word (r, k): the up-neighbour count of each of its 8 sites. */
function neighbourCounts(lay: PackedLayout, w: Uint32Array, c: number, r: number, k: number, rowsNb: Int32Array, yz: number): number {
  const { R, half, n } = lay;
  const o = (1 - c) * half;
  const same = w[o + r * R + k]!;
  // Site j's other x neighbour is j − 1 (p = 0) or j + 1 (p = 1): shift in the end nibble of the next
  // word (of this word itself when a row is one word).
  const side = ((yz + c) & 1) === 0
    ? (same << 4) | (w[o + r * R + (k === 0 ? R - 1 : k - 1)]! >>> (4 * (n - 1)))
    : (same >>> 4) | (w[o + r * R + (k === R - 1 ? 0 : k + 1)]! << (4 * (n - 1)));
  let sum = same + ((side & lay.valid) >>> 0);
  for (let q = 0; q < 2 * (lay.dim - 1); q++) sum += w[o + rowsNb[q]! * R + k]!;
  return sum >>> 0;
}

/**
 * One half-sweep of colour c at half-sweep counter t (= 2·sweep + c): each word of the colour draws
 * Philox(counter (g, t mod 2^32, ⌊t/2^32⌋, q), key) for q = 0 (sites 0–3) and q = 1 (sites 4–7), g the
 * word's index in its colour, and only when one of those sites can be refused.
 */
export function packedHalfSweep(lay: PackedLayout, w: Uint32Array, c: number, t: number, key: readonly [number, number], table: Uint32Array): void {
  const { R, half } = lay;
  const z1 = 2 * lay.dim + 1;
  const tLo = t >>> 0, tHi = Math.floor(t / 4294967296) >>> 0;
  const rnd = new Uint32Array(8), tmp = new Uint32Array(4);
  const rowsNb = new Int32Array(4);
  for (let r = 0; r < lay.rows; r++) {
    const yz = rowNeighbours(lay, r, rowsNb);
    for (let k = 0; k < R; k++) {
      const g = r * R + k, at = c * half + g;
      const own = w[at]!;
      const sum = neighbourCounts(lay, w, c, r, k, rowsNb, yz);
      let flips = 0, drawn = 0;
      for (let i = 0; i < lay.n; i++) {
        const s = (own >>> (4 * i)) & 1, n = (sum >>> (4 * i)) & 15;
        const T = table[s * z1 + n]!;
        if (T === 0xffffffff) {
          flips |= 1 << (4 * i);
          continue;
        }
        const q = i >> 2;
        if (!(drawn & (1 << q))) {
          philox4x32(g, tLo, tHi, q, key[0], key[1], tmp);
          rnd.set(tmp, 4 * q);
          drawn |= 1 << q;
        }
        if (rnd[i]! < T) flips |= 1 << (4 * i);
      }
      w[at] = (own ^ flips) >>> 0;
    }
  }
}

/** Up spins and Σ_bonds s_i s_j: the energy is −bonds and the magnetisation 2·up − V. */
export interface PackedSums {
  up: number;
  bonds: number;
}

/** The sums over colour 0's words (every bond has one end there). */
export function packedSums(lay: PackedLayout, w: Uint32Array): PackedSums {
  const { R, half } = lay;
  const z = 2 * lay.dim;
  const rowsNb = new Int32Array(4);
  let up = 0, bonds = 0;
  for (let r = 0; r < lay.rows; r++) {
    const yz = rowNeighbours(lay, r, rowsNb);
    for (let k = 0; k < R; k++) {
      const own = w[r * R + k]!;
      const sum = neighbourCounts(lay, w, 0, r, k, rowsNb, yz);
      up += popcount((own & MASK) >>> 0) + popcount((w[half + r * R + k]! & MASK) >>> 0);
      for (let i = 0; i < lay.n; i++) {
        const s = (own >>> (4 * i)) & 1, n = (sum >>> (4 * i)) & 15;
        bonds += (2 * s - 1) * (2 * n - z);
      }
    }
  }
  return { up, bonds };
}

/** What the kernel needs: layout, Philox key and flip thresholds. */
export interface PackedSpec {
  lay: PackedLayout;
  key: [number, number];
  table: Uint32Array;
}

/**
 * Where the words live and the sweeps run: the CPU reference below, or a GPU back-end. Methods may
 * return promises (a device works asynchronously); `sweeps` may return before the work is done.
 */
export interface PackedKernel {
  /** The device in words ("CPU reference", or the GPU adapter). */
  readonly device: string;
  write(w: Uint32Array): void;
  /** `n` sweeps (colour 0 then 1) from sweep number `from`. */
  sweeps(from: number, n: number): void | Promise<void>;
  read(): Uint32Array | Promise<Uint32Array>;
  sums(): PackedSums | Promise<PackedSums>;
  /** Resolves when every sweep asked for is done (benchmarks time to it). */
  finish(): Promise<void>;
  dispose(): void;
}

export type PackedKernelFactory = (spec: PackedSpec) => PackedKernel | Promise<PackedKernel>;

/** The CPU reference of the kernel (what the GPU kernel must equal bit for bit). */
export function cpuPackedKernel(spec: PackedSpec): PackedKernel {
  const w = new Uint32Array(spec.lay.words);
  return {
    device: "CPU reference",
    write: (v) => w.set(v),
    sweeps(from, n) {
      for (let s = from; s < from + n; s++) {
        packedHalfSweep(spec.lay, w, 0, 2 * s, spec.key, spec.table);
        packedHalfSweep(spec.lay, w, 1, 2 * s + 1, spec.key, spec.table);
      }
    },
    read: () => w.slice(),
    sums: () => packedSums(spec.lay, w),
    finish: () => Promise.resolve(),
    dispose() {},
  };
}

export interface PackedSamplerOptions {
  lat: Lattice;
  beta: number;
  rule: PackedRule;
  rng: Rng;
  start?: "hot" | "cold";
}

/** Sweeps handed to the kernel at once. */
const SWEEP_BATCH = 64;

/** The checkpoint's generator: Philox, its state the key (2 words) and the sweeps done (2 words). */
export const PACKED_RNG_TYPE = "philox4x32-10";

/** A packed chain's checkpoint words: the Philox key, then the sweeps done (low, high 32 bits). */
function stateWords(key: readonly [number, number], sweeps: number): Uint32Array {
  return Uint32Array.of(key[0], key[1], sweeps >>> 0, Math.floor(sweeps / 4294967296));
}

/**
 * One Ising chain on a packed kernel. The key is drawn from the run's stream (seed, task, replica), the
 * hot start from the same stream, so a run is fixed by its seed whichever device sweeps it.
 */
export async function packedSampler(opt: PackedSamplerOptions, make: PackedKernelFactory): Promise<Chains<Int8Array> & { kernel: PackedKernel; counters: { updates: number } }> {
  const { lat, beta, rule, rng } = opt;
  const lay = packedLayout(lat.dim, lat.L);
  const key: [number, number] = [rng.u32(), rng.u32()];
  const w0 = new Uint32Array(lay.words);
  for (let i = 0; i < lay.words; i++) w0[i] = (opt.start === "cold" ? MASK & lay.valid : rng.u32() & MASK & lay.valid) >>> 0;
  const table = packedTable(lat.dim, beta, rule);
  const kernel = await make({ lay, key, table });
  kernel.write(w0);
  let sweepsDone = 0;
  // Sweeps are handed to the kernel in batches (one GPU submission each) when a batch is full or a
  // measurement, configuration or checkpoint needs the state: the order of the updates is unchanged.
  let pending = 0;
  const flush = (): void | Promise<void> => {
    if (pending === 0) return undefined;
    const p = kernel.sweeps(sweepsDone - pending, pending);
    pending = 0;
    return p;
  };
  let sums: PackedSums | null = null, words: Uint32Array | null = null;
  const counters = { updates: 0 };
  const sampler = {
    chains: 1,
    observables: ["energy", "magnetization"],
    kernel,
    counters,
    sweep(): void | Promise<boolean> {
      sweepsDone++;
      pending++;
      counters.updates += lat.V;
      sums = null;
      words = null;
      if (pending < SWEEP_BATCH) return undefined;
      const p = flush();
      return p ? p.then(() => true) : undefined;
    },
    endThermalization() {},
    async prepare(needs: { measure: boolean; config: boolean; save: boolean }) {
      await flush();
      if (needs.measure && !sums) sums = await kernel.sums();
      if ((needs.config || needs.save) && !words) words = await kernel.read();
    },
    measure(out: Float64Array[]) {
      if (!sums) throw new Error("packed sampler: measure before prepare");
      out[0]![0] = -sums.bonds;
      out[1]![0] = 2 * sums.up - lat.V;
    },
    config(_c: number, out: Int8Array) {
      if (!words) throw new Error("packed sampler: config before prepare");
      unpackSpins(lay, words, out);
    },
    save(): SamplerState {
      if (!words) throw new Error("packed sampler: save before prepare");
      return { rng: stateWords(key, sweepsDone), rngType: PACKED_RNG_TYPE, spins: new Int32Array(words.buffer.slice(0)), extra: {} };
    },
    restore(st: SamplerState) {
      if (!(st.spins instanceof Int32Array) || st.spins.length !== lay.words || st.rng.length !== 4 || st.rngType !== PACKED_RNG_TYPE) {
        throw new RangeError("checkpoint does not hold a packed-kernel state of this lattice");
      }
      if (st.rng[0] !== key[0] || st.rng[1] !== key[1]) throw new RangeError("checkpoint's random stream is not this run's (another seed or task)");
      kernel.write(new Uint32Array(st.spins.buffer.slice(st.spins.byteOffset, st.spins.byteOffset + st.spins.byteLength)));
      sweepsDone = st.rng[2]! + st.rng[3]! * 4294967296;
      pending = 0;
      sums = null;
      words = null;
    },
    async dispose() {
      kernel.dispose();
    },
  };
  return sampler as never;
}
