// The WebAssembly SIMD kernels of the network engine (asm/nn-gemm.ts: gemmAcc and the 2D k = 2
// transposed convolution) against the TypeScript ones: bit-identical outputs on awkward shapes (every
// remainder of the 4×4 blocking, odd lengths, strided operands, several row chunks) and on whole
// networks, so training (and its forward pass) gives the same numbers with either kernel. Inference
// (predict) runs the float32 engine of test/nn-infer.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { gemmAcc, gemmAccTs } from "../src/nn/gemm.js";
import { gemmKernel, setGemmKernel } from "../src/nn/gemm-wasm.js";
import { convT2Rows } from "../src/nn/convt.js";
import { efthymiouSpec, irgNetSpec } from "../src/nn/irgnet.js";
import { forward, initParams } from "../src/nn/model.js";

const rng = rngFor({ seed: 11 });
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.double() * 2 - 1);

test("the WebAssembly kernel is built and in use (npm run asbuild); IRG_NN_KERNEL=typescript and setGemmKernel switch it off", () => {
  assert.equal(gemmKernel(), "wasm");
  setGemmKernel("typescript");
  assert.equal(gemmKernel(), "typescript");
  setGemmKernel("auto");
});

test("gemmAcc: WebAssembly equals TypeScript bit for bit (M, J mod 4 = 0…3, odd and even lengths, strided rows)", () => {
  for (const [M, J, len] of [[4, 4, 256], [5, 7, 333], [6, 9, 64], [7, 10, 65], [3, 3, 513], [32, 144, 1000], [1, 5, 1024], [9, 2, 300]] as const) {
    const ws = J + 3, as = len + 5, os = len + 2;
    const w = rand(M * ws + 2), a = rand(J * as + 1), out = rand(M * os + 3);
    const ref = out.slice();
    gemmAccTs(M, J, len, w, 2, ws, a, 1, as, ref, 3, os);
    const got = out.slice();
    gemmAcc(M, J, len, w, 2, ws, a, 1, as, got, 3, os);
    assert.ok(M * J * len < 4096 || !got.every((v, k) => v === out[k]), "the product ran");
    assert.deepEqual(Array.from(got), Array.from(ref), `M=${M} J=${J} len=${len}`);
  }
});

test("2D transposed convolution (k = 2): WebAssembly equals TypeScript bit for bit (cin mod 4 = 0…3, row chunks)", () => {
  for (const [cin, cout, H, W, r0, r1] of [[4, 3, 8, 8, 0, 8], [5, 2, 6, 10, 2, 5], [7, 4, 16, 12, 4, 12], [1, 1, 4, 4, 1, 3], [6, 5, 9, 7, 0, 9]] as const) {
    const sp = { D: 1, H, W }, S = H * W, rows = r1 - r0, as = rows * W + 3;
    const params = rand(5 + cout * cin * 4 + cout), a = rand(cin * as + 2);
    const run = (kind: "auto" | "typescript"): Float32Array => {
      const out = rand(2 + cout * 4 * S).fill(0.25);
      setGemmKernel(kind);
      try {
        convT2Rows(cin, cout, sp, 2, r0, r1, a, 2, as, params, 5, out, 2);
      } finally {
        setGemmKernel("auto");
      }
      return out;
    };
    assert.deepEqual(Array.from(run("auto")), Array.from(run("typescript")), `cin=${cin} cout=${cout} ${H}x${W} rows ${r0}…${r1}`);
  }
});

test("whole networks (Efthymiou and the default inverse-RG net, 2D and 3D): the training forward pass equals bit for bit with either kernel", () => {
  for (const spec of [efthymiouSpec(2), irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2 }), irgNetSpec({ dim: 3, head: "bernoulli" })]) {
    const params = initParams(spec, rngFor({ seed: 2 }));
    const L = spec.dim === 2 ? 64 : 8;
    const x = { shape: [2, spec.inChannels ?? 1, ...new Array<number>(spec.dim).fill(L)], data: rand(2 * (spec.inChannels ?? 1) * L ** spec.dim) };
    const a = forward(spec, params, x).output;
    setGemmKernel("typescript");
    const b = forward(spec, params, x).output;
    setGemmKernel("auto");
    assert.deepEqual(Array.from(a.data), Array.from(b.data), `${spec.dim}D net`);
  }
});
