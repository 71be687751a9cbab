// Loads the WebAssembly SIMD build of the multi-spin EA kernel (asm/ea-multispin.ts, compiled by
// `npm run asbuild` into dist/asm/) and lays a multi-spin layout with W = 4 blocks per group into its memory.
//
// Why the memory is made here and imported by the module: the layout's size is known only at run time,
// and a memory made at the right size never grows, so the Int32Array views on it never detach.

import { type Lattice } from "../lattice/geometry.js";
import { compileKernel, instantiate, wasmMemory } from "../lattice/wasm.js";
import { type MsKernel, msLayout } from "./ea-multispin.js";

/** Blocks per group of the SIMD kernel (four 32-bit lanes of a v128). */
export const WASM_BLOCKS = 4;

interface Exports {
  configure(...a: number[]): void;
  sweep(g: number): void;
  swap(g: number): void;
  configureSlabs(p: number, slabs: number): void;
  slabs(g: number, a: number, b: number): void;
  energies(g: number, out: number): void;
  configureExchange(...a: number[]): void;
  exchange(): void;
}

/** Entries m = 0 … TABLE − 1 of the e^{−Δβ·m} table per ladder pair (past it the kernel calls Math.exp). */
const TABLE = 4096;

let compiled: object | null | undefined;
let whyNot = "";

/** The compiled module, or null (with `wasmUnavailable()` saying why) where it cannot be loaded. */
function wasmModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = compileKernel("ea-multispin");
  } catch (e) {
    compiled = null;
    whyNot = `the WebAssembly SIMD kernel could not be loaded (${(e as Error).message.split("\n")[0]}); run \`npm run asbuild\``;
  }
  return compiled;
}

/** Why the SIMD kernel is not available ("" when it is). */
export function wasmUnavailable(): string {
  wasmModule();
  return whyNot;
}

/** A kernel over `groups` groups of four blocks in WebAssembly memory, or null where SIMD is not available. */
export function wasmKernel(lat: Lattice, T: number, groups: number): MsKernel | null {
  const mod = wasmModule();
  if (!mod) return null;
  const lay = msLayout(lat, T, WASM_BLOCKS);
  const { V } = lat;
  const z = lay.z;
  const align = (n: number): number => (n + 15) & ~15;
  const nbAt = 16;
  const c0At = align(nbAt + 4 * V * z);
  const c1At = align(c0At + 4 * lay.colours[0].length);
  const energyAt = align(c1At + 4 * lay.colours[1].length);
  // The tempering books of up to every lane of every group, the chain table, the e^x table, the betas.
  const nMax = groups * 32 * WASM_BLOCKS, C = lay.slots, P = Math.max(1, T - 1);
  const books: Record<string, [number, number, number]> = {};
  let at = align(energyAt + 4 * lay.slots * 32 * WASM_BLOCKS);
  for (const [name, count, size] of [["at", nMax * C, 4], ["temp", nMax * C, 4], ["energy", nMax * C, 8], ["cold", nMax * C, 1], ["trips", nMax * C, 4],
    ["attempted", nMax * P, 8], ["accepted", nMax * P, 8], ["rng", 4 * nMax, 4], ["chains", 2 * nMax, 4], ["table", P * TABLE, 8], ["betas", T, 8]] as const) {
    books[name] = [at, count, size];
    at = align(at + count * size);
  }
  const groupsAt = at;
  const bytes = groupsAt + 4 * lay.groupWords * groups;
  if (bytes > 2 ** 32 - 2 ** 16) throw new RangeError(`the multi-spin state needs ${(bytes / 2 ** 30).toFixed(1)} GiB, more than WebAssembly's 4 GiB: use fewer temperatures or samples per run`);
  const memory = wasmMemory(Math.ceil(bytes / 65536));
  const ex = instantiate<Exports>(mod, memory, { exp: Math.exp, abort: () => { throw new Error("wasm abort"); } });
  const i32 = (name: string, n: number): Int32Array => new Int32Array(memory.buffer, books[name]![0], n);
  const f64 = (name: string, n: number): Float64Array => new Float64Array(memory.buffer, books[name]![0], n);
  new Int32Array(memory.buffer, nbAt, V * z).set(lay.nb);
  new Int32Array(memory.buffer, c0At, lay.colours[0].length).set(lay.colours[0]);
  new Int32Array(memory.buffer, c1At, lay.colours[1].length).set(lay.colours[1]);
  ex.configure(lat.L, V, z, T, lay.B, groupsAt, 4 * lay.groupWords, 4 * lay.couplings, 4 * lay.spins, 4 * lay.rng, 4 * lay.thresholds, 4 * lay.counters, 4 * lay.masks,
    nbAt, c0At, lay.colours[0].length, c1At, lay.colours[1].length);
  ex.configureSlabs(lay.P, 4 * lay.slabs);
  const buf = new Int32Array(memory.buffer, groupsAt, lay.groupWords * groups);
  const energyView = new Int32Array(memory.buffer, energyAt, lay.slots * 32 * WASM_BLOCKS);
  return { name: "wasm-simd", lay, buf, sweep: (g) => ex.sweep(g), swap: (g) => ex.swap(g), slabs: (g, a, b) => ex.slabs(g, a, b),
    energies(g) {
      ex.energies(g, energyAt);
      return energyView;
    },
    batchStorage(n) {
      if (n > nMax) throw new RangeError(`the kernel holds the books of at most ${nMax} chains, ${n} asked for`);
      return {
        at: i32("at", n * C), temp: i32("temp", n * C), energy: f64("energy", n * C), cold: new Uint8Array(memory.buffer, books.cold![0], n * C),
        trips: i32("trips", n * C), attempted: f64("attempted", n * (T - 1)), accepted: f64("accepted", n * (T - 1)), rng: i32("rng", 4 * n),
      };
    },
    setExchange(betas, groupOf, laneOf) {
      const n = groupOf.length;
      const chains = i32("chains", 2 * n);
      for (let c = 0; c < n; c++) {
        chains[2 * c] = groupOf[c]!;
        chains[2 * c + 1] = laneOf[c]!;
      }
      const table = f64("table", P * TABLE);
      for (let k = 0; k + 1 < T; k++) {
        const db = betas[k + 1]! - betas[k]!;
        for (let m = 0; m < TABLE; m++) table[k * TABLE + m] = Math.exp(db * -m);
      }
      f64("betas", T).set(Array.from(betas));
      const a = (name: string): number => books[name]![0];
      ex.configureExchange(n, a("at"), a("temp"), a("energy"), a("cold"), a("trips"), a("attempted"), a("accepted"), a("rng"), a("chains"), a("table"), TABLE, a("betas"));
    },
    exchange: () => ex.exchange(),
  };
}
