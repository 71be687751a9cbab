// The EA spin glass with multi-spin coding behind the run loop's Chains interface: disorder samples in
// the bits of words (mc/ea-multispin.ts), parallel tempering decided per sample (Hukushima & Nemoto, JPSJ 65, 1604 (1996)).
//
// Why the same observables, chain numbering and Tempering books as the one-spin sampler (ea-samplers.ts):
// files, measure, block and the equilibration report then serve both engines, and the tests compare the
// two on equal terms. A sample's trajectory depends only on (seed, disorder seed, sample index, ladder):
// its block's sweep streams are keyed by the block's first sample, its exchanges by the sample itself, so
// it is the same whichever other samples run beside it, in which group, or on which worker.

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { eaBonds, eaCouplings, eaStream, EXCHANGE_STREAM } from "../models/ea.js";
import { type SamplerState } from "./chains.js";
import {
  BLOCK, type MsKernel, type MsLayout, msCountSlot, msLayout, packCouplings, setThresholds, slabOverlaps, slabWaves, typescriptKernel, unpackOverlap, unpackSpins,
} from "./ea-multispin.js";
import { WASM_BLOCKS, wasmKernel, wasmUnavailable } from "./ea-multispin-wasm.js";
import { checkEaOptions, type EaOptions, type EaSampler, EA_OBSERVABLES } from "./ea-samplers.js";
import { booksWords, exchangeBatch, makeTempering, makeTemperingBatch, restoreBooks, saveBooks, swapAcceptance, type Tempering, totalTrips } from "./parallel-tempering.js";

/** Replica slot of the sweep stream of (block, slot): far above the per-sample slots (≤ 2 + 2T). */
export const MULTISPIN_STREAM_BASE = 2 ** 24;

/** Which kernel sweeps the words: WebAssembly SIMD (four blocks per group) or the TypeScript reference. */
export type MsEngine = "auto" | "typescript" | "wasm";

/** Makes a kernel for a lattice, a ladder of T temperatures and `groups(W)` groups of W blocks. */
export type MsKernelFactory = (lat: Lattice, T: number, groups: (W: number) => number) => MsKernel;

/** The kernel factory of an engine; "auto" takes WebAssembly SIMD where it loads, else TypeScript. */
export function msKernelFactory(engine: MsEngine, W = 1): MsKernelFactory {
  return (lat, T, groups) => {
    if (engine !== "typescript") {
      const k = wasmKernel(lat, T, groups(WASM_BLOCKS));
      if (k) return k;
      if (engine === "wasm") throw new Error(wasmUnavailable());
    }
    return typescriptKernel(msLayout(lat, T, W), groups(W));
  };
}

export interface EaMultispinOptions extends EaOptions {
  /** Kernel factory (default: msKernelFactory("auto")). */
  kernel?: MsKernelFactory;
  /**
   * Ladder indices whose overlaps are measured and stored (default: [target]). Chain j·samples + c is
   * sample c at temperature stored[j]: the run loop then writes every temperature in one pass.
   */
  stored?: number[];
}

interface Chain {
  index: number;
  g: number;
  lane: number;
  pt: Tempering;
}

const LAYOUT = 2;

/** Blocks of 32 touched by samples [first, first + n). */
export function blockCount(first: number, n: number): number {
  return Math.floor((first + n - 1) / BLOCK) - Math.floor(first / BLOCK) + 1;
}

/**
 * Words of a multi-spin checkpoint (`extra.ea_layout` = 2): per block and slot V spins and 4 stream words,
 * then per sample its exchange stream (4) and tempering books. The threaded sampler assembles the same layout.
 */
export function msStateWords(blocks: number, samples: number, T: number, V: number): { blockWords: number; chainWords: number } {
  return { blockWords: blocks * 2 * T * (V + 4), chainWords: samples * (4 + booksWords(makeTempering(T, 2))) };
}

/** The `extra` of a multi-spin checkpoint, checked on restore. */
export function msStateExtra(samples: number, T: number, V: number, first: number): Record<string, number> {
  return { ea_layout: LAYOUT, samples, temps: T, V, first_sample: first };
}

/** The sweep stream of block `block` (samples 32·block …) and slot `slot`. */
export function blockStream(seed: number, block: number, slot: number): Rng {
  return eaStream(seed, BLOCK * block, MULTISPIN_STREAM_BASE + slot);
}

export function makeEaMultispinSampler(o: EaMultispinOptions): EaSampler & { readonly kernel: MsKernel } {
  checkEaOptions(o);
  const { lat, betas, target } = o;
  const T = betas.length;
  const first = o.firstSample ?? 0;
  const b0 = Math.floor(first / BLOCK);
  const nBlocks = blockCount(first, o.samples);
  const kernel = (o.kernel ?? msKernelFactory("auto"))(lat, T, (W) => Math.ceil(nBlocks / W));
  const lay: MsLayout = kernel.lay;
  const { buf } = kernel;
  const W = lay.W;
  const groups = Math.ceil(nBlocks / W);
  const V = lat.V;
  const slots = lay.slots;
  // Couplings and starting spins, block by block (padding lanes outside the run keep zero bits: a
  // ferromagnet nobody reads).
  for (let j = 0; j < nBlocks; j++) {
    const g = Math.floor(j / W), w = j % W;
    for (let l = 0; l < BLOCK; l++) {
      const s = BLOCK * (b0 + j) + l;
      if (s < first || s >= first + o.samples) continue;
      packCouplings(buf, lay, g, w * BLOCK + l, eaBonds(lat, eaCouplings(lat, o.disorderSeed ?? o.seed, s)).jnb);
    }
    for (let slot = 0; slot < slots; slot++) {
      const rng = blockStream(o.seed, b0 + j, slot);
      const sp = g * lay.groupWords + lay.spins + slot * V * W + w;
      for (let i = 0; i < V; i++) buf[sp + i * W] = rng.u32() | 0;
      const rs = g * lay.groupWords + lay.rng + slot * 4 * W + w;
      buf[rs] = rng.s0; buf[rs + W] = rng.s1; buf[rs + 2 * W] = rng.s2; buf[rs + 3 * W] = rng.s3;
    }
  }
  for (let g = 0; g < groups; g++) setThresholds(buf, lay, g, betas);
  // The SIMD kernel keeps the tempering books in its memory and decides the exchanges itself.
  const inKernel = kernel.exchange !== undefined;
  const batch = makeTemperingBatch(o.samples, T, 2, inKernel ? kernel.batchStorage!(o.samples) : undefined);
  const chains: Chain[] = Array.from({ length: o.samples }, (_, c) => {
    const index = first + c;
    const j = Math.floor(index / BLOCK) - b0;
    batch.rng.set(eaStream(o.seed, index, EXCHANGE_STREAM).state(), 4 * c);
    return { index, g: Math.floor(j / W), lane: (j % W) * BLOCK + (index % BLOCK), pt: batch.ladders[c]! };
  });
  // Where each chain's exchange masks live: word of pair (set a, k) = maskWord[c] + (a·(T−1) + k)·W.
  const maskWord = Int32Array.from(chains, (ch) => ch.g * lay.groupWords + lay.masks + (ch.lane >> 5));
  const maskBit = Int32Array.from(chains, (ch) => 1 << (ch.lane & 31));
  if (inKernel) kernel.setExchange!(betas, Int32Array.from(chains, (ch) => ch.g), Int32Array.from(chains, (ch) => ch.lane));
  const onSwap = (c: number, a: number, k: number): void => {
    buf[maskWord[c]! + (a * (T - 1) + k) * W]! |= maskBit[c]!;
  };
  /** Copies the counters of every slot into the walkers' energies. */
  const byGroup = Array.from({ length: groups }, (_, g) => chains.filter((ch) => ch.g === g));
  const lanes = BLOCK * W;
  const readEnergies = (): void => {
    for (let g = 0; g < groups; g++) {
      const E = kernel.energies(g);
      for (const ch of byGroup[g]!) {
        const { at, energy } = ch.pt;
        for (let slot = 0; slot < slots; slot++) energy[at[slot]!] = E[slot * lanes + ch.lane]!;
      }
    }
  };
  const recount = (): void => {
    for (let g = 0; g < groups; g++) for (let slot = 0; slot < slots; slot++) msCountSlot(buf, lay, g, slot);
    readEnergies();
  };
  recount();
  kernel.push?.();
  const stored = o.stored ?? [target];
  if (stored.length < 1 || stored.some((k) => !(Number.isInteger(k) && k >= 0 && k < T))) throw new RangeError(`stored temperatures ${stored.join(",")} are not on a ladder of ${T}`);
  const S = o.samples;
  const waves = slabWaves(lat.L);
  const overlaps = new Float64Array(2 * BLOCK * W);
  const maskBase = (g: number): number => g * lay.groupWords + lay.masks;
  const words = msStateWords(nBlocks, o.samples, T, V);
  /** The sweep of a device kernel: the same steps, the counters and masks crossing between host and device. */
  const deviceSweep = async (): Promise<boolean> => {
    await kernel.sweepAll!();
    for (let g = 0; g < groups; g++) buf.fill(0, maskBase(g), maskBase(g) + 2 * Math.max(1, T - 1) * W);
    readEnergies();
    exchangeBatch(batch, betas, onSwap);
    if (T > 1) kernel.swapAll!();
    return true;
  };
  return {
    lat, betas, target, chains: S * stored.length, observables: EA_OBSERVABLES, kernel,
    sweep() {
      if (kernel.sweepAll) return deviceSweep();
      for (let g = 0; g < groups; g++) kernel.sweep(g);
      for (let g = 0; g < groups; g++) buf.fill(0, maskBase(g), maskBase(g) + 2 * Math.max(1, T - 1) * W);
      if (inKernel) kernel.exchange!();
      else {
        readEnergies();
        exchangeBatch(batch, betas, onSwap);
      }
      if (T > 1) for (let g = 0; g < groups; g++) kernel.swap(g);
    },
    endThermalization() {},
    // A device kernel's state is read back for checkpoints; measurements and configurations need only the
    // spins of the stored temperatures' two replicas.
    ...(kernel.pull ? { prepare: (needs: { save: boolean }) => kernel.pull!(needs.save ? undefined : stored.flatMap((k) => [k, T + k])) } : {}),
    ...(kernel.dispose ? { dispose: async () => kernel.dispose!() } : {}),
    measure(out) {
      stored.forEach((k, j) => {
        for (let g = 0; g < groups; g++) {
          kernel.slabs(g, k, T + k);
          slabOverlaps(buf, lay, g, waves, overlaps);
          for (const ch of byGroup[g]!) {
            const c = j * S + ch.index - first;
            out[0]![c] = overlaps[2 * ch.lane]!;
            out[1]![c] = overlaps[2 * ch.lane + 1]!;
            out[2]![c] = ch.pt.energy[ch.pt.at[k]!]! + ch.pt.energy[ch.pt.at[T + k]!]!;
            out[3]![c] = ch.index;
            out[4]![c] = totalTrips(ch.pt);
          }
        }
      });
    },
    config(c, out) {
      const ch = chains[c % S]!, k = stored[Math.floor(c / S)]!;
      unpackOverlap(buf, lay, ch.g, k, T + k, ch.lane, out);
    },
    // The checkpoint is laid out per block (spins of every slot, then the slot streams), independent of
    // how many blocks a group holds, so a run saved by one kernel resumes on the other.
    save() {
      const out = new Int32Array(words.blockWords + words.chainWords);
      let p = 0;
      for (let j = 0; j < nBlocks; j++) {
        const g = Math.floor(j / W), w = j % W, base = g * lay.groupWords;
        for (let slot = 0; slot < slots; slot++) {
          const sp = base + lay.spins + slot * V * W + w;
          for (let i = 0; i < V; i++) out[p++] = buf[sp + i * W]!;
          const rs = base + lay.rng + slot * 4 * W + w;
          for (let k = 0; k < 4; k++) out[p++] = buf[rs + k * W]!;
        }
      }
      for (const ch of chains) {
        out.set(batch.rng.subarray(4 * (ch.index - first), 4 * (ch.index - first) + 4), p);
        p = saveBooks(ch.pt, out, p + 4);
      }
      return { rng: Uint32Array.from(batch.rng.subarray(0, 4)), spins: out, extra: msStateExtra(chains.length, T, V, first) };
    },
    restore(st: SamplerState) {
      const e = st.extra;
      if (e.ea_layout !== LAYOUT || e.samples !== chains.length || e.temps !== T || e.V !== V || e.first_sample !== first) {
        throw new RangeError(`checkpoint does not match this spin-glass run (layout ${e.ea_layout}, ${e.samples} samples from ${e.first_sample}, ${e.temps} temperatures, V = ${e.V}; this run: layout ${LAYOUT}, ${chains.length} from ${first}, ${T}, ${V})`);
      }
      const a = st.spins;
      if (!(a instanceof Int32Array) || a.length !== words.blockWords + words.chainWords) throw new RangeError("checkpoint state has the wrong size for this spin-glass run");
      let p = 0;
      for (let j = 0; j < nBlocks; j++) {
        const g = Math.floor(j / W), w = j % W, base = g * lay.groupWords;
        for (let slot = 0; slot < slots; slot++) {
          const sp = base + lay.spins + slot * V * W + w;
          for (let i = 0; i < V; i++) buf[sp + i * W] = a[p++]!;
          const rs = base + lay.rng + slot * 4 * W + w;
          for (let k = 0; k < 4; k++) buf[rs + k * W] = a[p++]!;
        }
      }
      for (const ch of chains) {
        batch.rng.set(a.subarray(p, p + 4), 4 * (ch.index - first));
        p = restoreBooks(ch.pt, a, p + 4);
      }
      recount();
      kernel.push?.();
    },
    acceptance: () => swapAcceptance(batch.ladders, T),
    roundTrips: () => Int32Array.from(chains, (ch) => totalTrips(ch.pt)),
    tempering: (c) => chains[c]!.pt,
    copySpins(c, copy) {
      const ch = chains[c]!;
      const slot = Math.floor(copy / T) * T + ch.pt.temp[copy]!;
      return unpackSpins(buf, lay, ch.g, slot, ch.lane, new Int8Array(V));
    },
  };
}
