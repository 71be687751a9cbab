// Inference fast path for networks of the irgNetSpec shape — one conv (any k), then only pointwise
// convs and activations, optionally a final stride-2 transposed conv with k = 2 — run chunk by chunk.
//
// Why: after the first conv every layer is local to a coarse site, so a chunk of rows can go through
// the whole network while its hidden channels sit in L2; no full-size intermediate is ever allocated,
// zeroed or streamed through memory. Same arithmetic, in the same order, as the layer-by-layer path.

import { type Activation, activateInPlace } from "./act.js";
import { chunkRows, im2col, kernelTaps } from "./conv.js";
import { convT2Rows } from "./convt.js";
import { gemmAcc } from "./gemm.js";
import type { ModelSpec } from "./spec.js";
import { type Arr, type Tensor, alloc, layout } from "./tensor.js";

interface Stage {
  cin: number;
  cout: number;
  off: number;
  acts: Activation[];
}

export interface FusedPlan {
  /** The first conv: kernel k over the input. */
  first: Stage & { k: number };
  /** Pointwise convs after it. */
  pointwise: Stage[];
  /** Final transposed conv, k = 2, and the activations after it (applied to the whole output). */
  up: Stage | null;
}

/**
 * The chunked plan for `spec` (whose layer i has its parameters at offsets[i]), or null when its shape
 * does not allow one (then predict goes layer by layer).
 */
export function fusedPlan(spec: ModelSpec, offsets: readonly number[]): FusedPlan | null {
  const L = spec.layers;
  const l0 = L[0];
  if (!l0 || l0.type !== "conv") return null;
  const plan: FusedPlan = { first: { cin: l0.cin, cout: l0.cout, off: offsets[0]!, acts: [], k: l0.k }, pointwise: [], up: null };
  let cur: Stage = plan.first;
  for (let i = 1; i < L.length; i++) {
    const l = L[i]!;
    if (l.type === "act") cur.acts.push(l.fn);
    else if (l.type === "conv" && l.k === 1 && !plan.up) plan.pointwise.push((cur = { cin: l.cin, cout: l.cout, off: offsets[i]!, acts: [] }));
    else if (l.type === "convT" && l.k === 2 && !plan.up) plan.up = cur = { cin: l.cin, cout: l.cout, off: offsets[i]!, acts: [] };
    else return null;
  }
  return plan;
}

function fillBias(buf: Arr, params: Arr, bo: number, C: number, len: number): void {
  for (let c = 0; c < C; c++) buf.fill(params[bo + c]!, c * len, (c + 1) * len);
}

function applyActs(acts: Activation[], buf: Arr, n: number): void {
  for (const a of acts) activateInPlace(a, buf, 0, n);
}

/** The network output for `input` along `plan` (see fusedPlan); equals the layer-by-layer result. */
export function predictFused(spec: ModelSpec, params: Arr, input: Tensor, plan: FusedPlan): Tensor {
  const dim = spec.dim, { N, C, sp, S } = layout(input.shape, dim), x = input.data;
  const taps = kernelTaps(plan.first.k, dim), J = plan.first.cin * taps.n, pw = taps.n === 1;
  const rows = chunkRows(sp, J), maxLen = rows * sp.W;
  const widest = Math.max(plan.first.cout, ...plan.pointwise.map((p) => p.cout));
  let a = alloc(x, widest * maxLen), b = alloc(x, widest * maxLen);
  const cols = pw ? null : alloc(x, J * maxLen);
  const last = plan.up ?? plan.pointwise[plan.pointwise.length - 1] ?? plan.first;
  const Sout = plan.up ? S << dim : S;
  const out = alloc(x, N * last.cout * Sout);
  for (let s = 0; s < N; s++) {
    const xo = s * C * S;
    for (let r0 = 0; r0 < sp.D * sp.H; r0 += rows) {
      const r1 = Math.min(sp.D * sp.H, r0 + rows), len = (r1 - r0) * sp.W;
      const f = plan.first, fbo = f.off + f.cout * J;
      fillBias(a, params, fbo, f.cout, len);
      if (cols) {
        im2col(x, xo, f.cin, sp, taps, r0, r1, cols);
        gemmAcc(f.cout, J, len, params, f.off, J, cols, 0, len, a, 0, len);
      } else gemmAcc(f.cout, J, len, params, f.off, J, x, xo + r0 * sp.W, S, a, 0, len);
      applyActs(f.acts, a, f.cout * len);
      for (const p of plan.pointwise) {
        fillBias(b, params, p.off + p.cout * p.cin, p.cout, len);
        gemmAcc(p.cout, p.cin, len, params, p.off, p.cin, a, 0, len, b, 0, len);
        applyActs(p.acts, b, p.cout * len);
        [a, b] = [b, a];
      }
      if (plan.up) {
        convT2Rows(plan.up.cin, plan.up.cout, sp, dim, r0, r1, a, 0, len, params, plan.up.off, out, s * plan.up.cout * Sout);
      } else {
        for (let c = 0; c < last.cout; c++) out.set(a.subarray(c * len, (c + 1) * len), s * last.cout * Sout + c * S + r0 * sp.W);
      }
    }
  }
  if (plan.up) applyActs(plan.up.acts, out, out.length);
  const spatial = input.shape.slice(2).map((v) => (plan.up ? 2 * v : v));
  return { shape: [N, last.cout, ...spatial], data: out };
}
