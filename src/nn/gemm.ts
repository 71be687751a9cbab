// Register-blocked matrix products over strided rows of typed arrays: the inner kernels every convolution
// reduces to (im2col + GEMM: Chellapilla, Puri & Simard 2006, "High performance CNNs for document processing").
//
// Why 4×4 blocks: V8 keeps ~16 doubles in registers; a 4 (outputs) × 4 (inputs) tile reads each
// input row once per 4 outputs and each output once per 4 inputs, which measured 2.3 GMAC/s against
// 0.5 for the plain axpy loop on the same machine (Zen 3, Node 20). No SIMD is available to plain JS.

import { type Arr } from "./tensor.js";
import { wasmGemm } from "./gemm-wasm.js";

/**
 * out[oo + i·os + x] += Σ_j w[wo + i·ws + j] · a[ao + j·as + x] for i < M, j < J, x < len.
 * (M×J weights times J rows of length len, accumulated into M rows.) Float32 operands of a product worth
 * it run in the WebAssembly SIMD kernel (asm/nn-gemm.ts), which gives bit-identical results about 2.5×
 * faster; the rest, and float64 operands (training), in gemmAccTs.
 */
export function gemmAcc(M: number, J: number, len: number, w: Arr, wo: number, ws: number, a: Arr, ao: number, as: number, out: Arr, oo: number, os: number): void {
  if (M * J * len >= 4096 && w instanceof Float32Array && a instanceof Float32Array && out instanceof Float32Array) {
    const g = wasmGemm();
    if (g) return g(M, J, len, w, wo, ws, a, ao, as, out, oo, os);
  }
  gemmAccTs(M, J, len, w, wo, ws, a, ao, as, out, oo, os);
}

/** gemmAcc in TypeScript (any operands; doubles in the arithmetic, one rounding per store). */
export function gemmAccTs(M: number, J: number, len: number, w: Arr, wo: number, ws: number, a: Arr, ao: number, as: number, out: Arr, oo: number, os: number): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const o0 = oo + i * os, o1 = o0 + os, o2 = o1 + os, o3 = o2 + os;
    const r0 = wo + i * ws, r1 = r0 + ws, r2 = r1 + ws, r3 = r2 + ws;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const w00 = w[r0 + j]!, w01 = w[r0 + j + 1]!, w02 = w[r0 + j + 2]!, w03 = w[r0 + j + 3]!;
      const w10 = w[r1 + j]!, w11 = w[r1 + j + 1]!, w12 = w[r1 + j + 2]!, w13 = w[r1 + j + 3]!;
      const w20 = w[r2 + j]!, w21 = w[r2 + j + 1]!, w22 = w[r2 + j + 2]!, w23 = w[r2 + j + 3]!;
      const w30 = w[r3 + j]!, w31 = w[r3 + j + 1]!, w32 = w[r3 + j + 2]!, w33 = w[r3 + j + 3]!;
      const a0 = ao + j * as, a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
      let x = 0;
      // Two sites per iteration: ~10% less loop overhead (V8 does not unroll).
      for (; x + 2 <= len; x += 2) {
        const v0 = a[a0 + x]!, v1 = a[a1 + x]!, v2 = a[a2 + x]!, v3 = a[a3 + x]!;
        const u0 = a[a0 + x + 1]!, u1 = a[a1 + x + 1]!, u2 = a[a2 + x + 1]!, u3 = a[a3 + x + 1]!;
        out[o0 + x]! += w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3;
        out[o0 + x + 1]! += w00 * u0 + w01 * u1 + w02 * u2 + w03 * u3;
        out[o1 + x]! += w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3;
        out[o1 + x + 1]! += w10 * u0 + w11 * u1 + w12 * u2 + w13 * u3;
        out[o2 + x]! += w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3;
        out[o2 + x + 1]! += w20 * u0 + w21 * u1 + w22 * u2 + w23 * u3;
        out[o3 + x]! += w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3;
        out[o3 + x + 1]! += w30 * u0 + w31 * u1 + w32 * u2 + w33 * u3;
      }
      for (; x < len; x++) {
        const v0 = a[a0 + x]!, v1 = a[a1 + x]!, v2 = a[a2 + x]!, v3 = a[a3 + x]!;
        out[o0 + x]! += w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3;
        out[o1 + x]! += w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3;
        out[o2 + x]! += w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3;
        out[o3 + x]! += w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3;
      }
    }
    // The 1–3 leftover inputs in one pass, so the output rows are read and written once more, not up to 3 times.
    const rem = J - j, a0 = ao + j * as, a1 = a0 + as, a2 = a1 + as;
    if (rem === 3) {
      const w00 = w[r0 + j]!, w01 = w[r0 + j + 1]!, w02 = w[r0 + j + 2]!, w10 = w[r1 + j]!, w11 = w[r1 + j + 1]!, w12 = w[r1 + j + 2]!;
      const w20 = w[r2 + j]!, w21 = w[r2 + j + 1]!, w22 = w[r2 + j + 2]!, w30 = w[r3 + j]!, w31 = w[r3 + j + 1]!, w32 = w[r3 + j + 2]!;
      for (let x = 0; x < len; x++) {
        const v0 = a[a0 + x]!, v1 = a[a1 + x]!, v2 = a[a2 + x]!;
        out[o0 + x]! += w00 * v0 + w01 * v1 + w02 * v2;
        out[o1 + x]! += w10 * v0 + w11 * v1 + w12 * v2;
        out[o2 + x]! += w20 * v0 + w21 * v1 + w22 * v2;
        out[o3 + x]! += w30 * v0 + w31 * v1 + w32 * v2;
      }
    } else if (rem === 2) {
      const w00 = w[r0 + j]!, w01 = w[r0 + j + 1]!, w10 = w[r1 + j]!, w11 = w[r1 + j + 1]!;
      const w20 = w[r2 + j]!, w21 = w[r2 + j + 1]!, w30 = w[r3 + j]!, w31 = w[r3 + j + 1]!;
      for (let x = 0; x < len; x++) {
        const v0 = a[a0 + x]!, v1 = a[a1 + x]!;
        out[o0 + x]! += w00 * v0 + w01 * v1;
        out[o1 + x]! += w10 * v0 + w11 * v1;
        out[o2 + x]! += w20 * v0 + w21 * v1;
        out[o3 + x]! += w30 * v0 + w31 * v1;
      }
    } else if (rem === 1) {
      const w0 = w[r0 + j]!, w1 = w[r1 + j]!, w2 = w[r2 + j]!, w3 = w[r3 + j]!;
      for (let x = 0; x < len; x++) {
        const v = a[a0 + x]!;
        out[o0 + x]! += w0 * v;
        out[o1 + x]! += w1 * v;
        out[o2 + x]! += w2 * v;
        out[o3 + x]! += w3 * v;
      }
    }
  }
  for (; i < M; i++) {
    const o0 = oo + i * os, r0 = wo + i * ws;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const w0 = w[r0 + j]!, w1 = w[r0 + j + 1]!, w2 = w[r0 + j + 2]!, w3 = w[r0 + j + 3]!;
      const a0 = ao + j * as, a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
      for (let x = 0; x < len; x++) out[o0 + x]! += w0 * a[a0 + x]! + w1 * a[a1 + x]! + w2 * a[a2 + x]! + w3 * a[a3 + x]!;
    }
    for (; j < J; j++) {
      const w0 = w[r0 + j]!, a0 = ao + j * as;
      for (let x = 0; x < len; x++) out[o0 + x]! += w0 * a[a0 + x]!;
    }
  }
}

/**
 * g[go + i·gs + j] += Σ_x e[eo + i·es + x] · a[ao + j·as + x] for i < M, j < J, x < len: the weight
 * gradient (output gradients times input rows, summed over sites). Sums are kept in doubles.
 */
export function gemmNT(M: number, J: number, len: number, e: Arr, eo: number, es: number, a: Arr, ao: number, as: number, g: Arr, go: number, gs: number): void {
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const e0 = eo + i * es, e1 = e0 + es;
    const g0 = go + i * gs, g1 = g0 + gs;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const a0 = ao + j * as, a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let x = 0; x < len; x++) {
        const u = e[e0 + x]!, v = e[e1 + x]!;
        const b0 = a[a0 + x]!, b1 = a[a1 + x]!, b2 = a[a2 + x]!, b3 = a[a3 + x]!;
        s00 += u * b0; s01 += u * b1; s02 += u * b2; s03 += u * b3;
        s10 += v * b0; s11 += v * b1; s12 += v * b2; s13 += v * b3;
      }
      g[g0 + j]! += s00; g[g0 + j + 1]! += s01; g[g0 + j + 2]! += s02; g[g0 + j + 3]! += s03;
      g[g1 + j]! += s10; g[g1 + j + 1]! += s11; g[g1 + j + 2]! += s12; g[g1 + j + 3]! += s13;
    }
    for (; j < J; j++) {
      const a0 = ao + j * as;
      let s0 = 0, s1 = 0;
      for (let x = 0; x < len; x++) {
        const b = a[a0 + x]!;
        s0 += e[e0 + x]! * b;
        s1 += e[e1 + x]! * b;
      }
      g[g0 + j]! += s0;
      g[g1 + j]! += s1;
    }
  }
  for (; i < M; i++) {
    const e0 = eo + i * es, g0 = go + i * gs;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const a0 = ao + j * as, a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let x = 0; x < len; x++) {
        const u = e[e0 + x]!;
        s0 += u * a[a0 + x]!; s1 += u * a[a1 + x]!; s2 += u * a[a2 + x]!; s3 += u * a[a3 + x]!;
      }
      g[g0 + j]! += s0; g[g0 + j + 1]! += s1; g[g0 + j + 2]! += s2; g[g0 + j + 3]! += s3;
    }
    for (; j < J; j++) {
      const a0 = ao + j * as;
      let s = 0;
      for (let x = 0; x < len; x++) s += e[e0 + x]! * a[a0 + x]!;
      g[g0 + j]! += s;
    }
  }
}

/** Σ_x e[eo + x] for each of M rows of stride es, added to g[go + i] (bias gradients). */
export function rowSums(M: number, len: number, e: Arr, eo: number, es: number, g: Arr, go: number): void {
  for (let i = 0; i < M; i++) {
    let s = 0;
    const e0 = eo + i * es;
    for (let x = 0; x < len; x++) s += e[e0 + x]!;
    g[go + i]! += s;
  }
}
