// Loads the WebAssembly SIMD builds of gemmAcc and of the 2D k = 2 transposed convolution (asm/nn-gemm.ts,
// compiled by `npm run asbuild` into dist/asm/) and runs them on float32 operands copied into its memory.
//
// Why copies and not tensors in wasm memory: a product of M×J weights and J rows reads and writes
// (J + 2M)·len floats for M·J·len multiply-adds, so for the convolutions of the networks (J ≥ 9·cin) the
// copies cost a few per cent; keeping every tensor in wasm memory would touch the whole engine.

import { compileKernel, instantiate, type WasmMemory, wasmMemory } from "../lattice/wasm.js";

type Gemm = (M: number, J: number, len: number, w: Float32Array, wo: number, ws: number, a: Float32Array, ao: number, as: number, out: Float32Array, oo: number, os: number) => void;
/** convT2Rows of src/nn/convt.ts in 2D (rows r0…r1 of width W; fine plane of channel c at fo + c·4·S). */
type ConvT = (cin: number, cout: number, W: number, S: number, r0: number, r1: number, a: Float32Array, ao: number, as: number, params: Float32Array, off: number, out: Float32Array, fo: number) => void;

let loaded: { gemm: Gemm; convT: ConvT } | null | undefined;
let forceTs = false;

/** Copies `rows` rows of `len` floats (stride `stride` from `from`) to f[at…], contiguous. */
function gather(f: Float32Array, at: number, src: Float32Array, from: number, stride: number, rows: number, len: number): void {
  if (stride === len) f.set(src.subarray(from, from + rows * len), at);
  else for (let r = 0; r < rows; r++) f.set(src.subarray(from + r * stride, from + r * stride + len), at + r * len);
}

function load(): { gemm: Gemm; convT: ConvT } | null {
  // IRG_NN_KERNEL=typescript selects the TypeScript kernels (tests compare the two; the results are identical).
  if (process.env.IRG_NN_KERNEL === "typescript") return null;
  let mem: WasmMemory, k: { gemmAcc(...a: number[]): void; convT2d(...a: number[]): void };
  try {
    mem = wasmMemory(16);
    k = instantiate(compileKernel("nn-gemm"), mem);
  } catch {
    return null; // not built (`npm run asbuild`) or no SIMD: the TypeScript kernels run
  }
  let f = new Float32Array(mem.buffer);
  const room = (floats: number): void => {
    if (floats <= f.length) return;
    mem.grow(Math.ceil((floats * 4 - mem.buffer.byteLength) / 65536));
    f = new Float32Array(mem.buffer);
  };
  return {
    gemm(M, J, len, w, wo, ws, a, ao, as, out, oo, os) {
      room(M * J + J * len + M * len);
      const pa = M * J, po = pa + J * len;
      gather(f, 0, w, wo, ws, M, J);
      gather(f, pa, a, ao, as, J, len);
      gather(f, po, out, oo, os, M, len);
      k.gemmAcc(M, J, len, 0, J, pa * 4, len, po * 4, len);
      for (let r = 0; r < M; r++) out.set(f.subarray(po + r * len, po + (r + 1) * len), oo + r * os);
    },
    convT(cin, cout, W, S, r0, r1, a, ao, as, params, off, out, fo) {
      const rows = r1 - r0, len = rows * W, nw = cout * cin * 4 + cout, plane = 4 * len;
      room(nw + cin * len + cout * plane);
      const pa = nw, po = pa + cin * len;
      f.set(params.subarray(off, off + nw), 0);
      gather(f, pa, a, ao, as, cin, len);
      k.convT2d(cin, cout, W, rows, pa * 4, len, 0, po * 4);
      // Channel c's fine rows 2·r0 … 2·r1 − 1 are contiguous in the fine plane.
      for (let c = 0; c < cout; c++) out.set(f.subarray(po + c * plane, po + (c + 1) * plane), fo + c * 4 * S + 4 * r0 * W);
    },
  };
}

function kernels(): { gemm: Gemm; convT: ConvT } | null {
  if (forceTs) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** The WebAssembly gemmAcc for float32 operands, or null where it is not available (or not wanted). */
export function wasmGemm(): Gemm | null {
  return kernels()?.gemm ?? null;
}

/** The WebAssembly 2D convT2Rows for float32 operands, or null. */
export function wasmConvT2d(): ConvT | null {
  return kernels()?.convT ?? null;
}

/** "typescript" makes every product run in TypeScript (benchmarks time both kernels in one process). */
export function setGemmKernel(kind: "auto" | "typescript"): void {
  forceTs = kind === "typescript";
}

/** Whether the WebAssembly kernel is loaded and in use. */
export function gemmKernel(): "wasm" | "typescript" {
  return wasmGemm() ? "wasm" : "typescript";
}
