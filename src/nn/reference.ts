// Straightforward reference layers (nested loops, modulo wrap at every access) and a whole-model
// forward/backward built from them: an independent oracle for the optimised kernels and the bench baseline.
//
// Why keep them: they follow the textbook definitions line by line, so agreement with them checks
// the im2col/parity bookkeeping of conv.ts and convt.ts, and they show what the optimisation buys.

import { activateInPlace, activationGradInPlace } from "./act.js";
import { convTPad } from "./convt.js";
import { type ModelSpec, paramIndex } from "./model.js";
import { type Arr, type Tensor, alloc, layout } from "./tensor.js";

const md = (v: number, n: number): number => ((v % n) + n) % n;

interface Geo { N: number; C: number; D: number; H: number; W: number; dim: 2 | 3 }

function geo(t: Tensor): Geo {
  const dim = (t.shape.length - 2) as 2 | 3, { N, C, sp } = layout(t.shape, dim);
  return { N, C, D: sp.D, H: sp.H, W: sp.W, dim };
}

/**
 * out[n,co,z,y,x] = b[co] + Σ_ci Σ_kz,ky,kx w[co,ci,kz,ky,kx] · in[n,ci,z+kz−r,y+ky−r,x+kx−r] (mod L).
 * With gradOut given, instead accumulates the weight gradient into gParams and returns dL/din.
 */
export function naiveConv(cin: number, cout: number, k: number, p: Arr, off: number, x: Tensor, gradOut?: Tensor, gParams?: Arr): Tensor {
  const { N, D, H, W, dim } = geo(x), r = (k - 1) / 2, kz = dim === 3 ? k : 1, rz = dim === 3 ? r : 0;
  const nk = kz * k * k, bo = off + cout * cin * nk, S = D * H * W, a = x.data;
  const out = alloc(a, gradOut ? a.length : N * cout * S);
  for (let n = 0; n < N; n++) for (let co = 0; co < cout; co++) for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
    const oi = ((n * cout + co) * D + z) * H * W + y * W + xx;
    const g = gradOut ? gradOut.data[oi]! : 0;
    let acc = p[bo + co]!;
    if (gParams) gParams[bo + co]! += g;
    for (let ci = 0; ci < cin; ci++) for (let a1 = 0; a1 < kz; a1++) for (let b1 = 0; b1 < k; b1++) for (let c1 = 0; c1 < k; c1++) {
      const wi = off + ((co * cin + ci) * kz + a1) * k * k + b1 * k + c1;
      const ii = ((n * cin + ci) * D + md(z + a1 - rz, D)) * H * W + md(y + b1 - r, H) * W + md(xx + c1 - r, W);
      if (gradOut) {
        gParams![wi]! += g * a[ii]!;
        out[ii]! += g * p[wi]!;
      } else acc += p[wi]! * a[ii]!;
    }
    if (!gradOut) out[oi] = acc;
  }
  return { shape: gradOut ? x.shape.slice() : [N, cout, ...x.shape.slice(2)], data: out };
}

/** out[n,co, 2X+t−p mod 2L] += w[co,ci,t] · in[n,ci,X] (+ b); with gradOut, the adjoint as naiveConv. */
export function naiveConvT(cin: number, cout: number, k: number, p: Arr, off: number, x: Tensor, gradOut?: Tensor, gParams?: Arr): Tensor {
  const { N, D, H, W, dim } = geo(x), pad = convTPad(k), kz = dim === 3 ? k : 1;
  const Df = dim === 3 ? 2 * D : 1, Hf = 2 * H, Wf = 2 * W, Sf = Df * Hf * Wf, nk = kz * k * k, bo = off + cout * cin * nk, a = x.data;
  const out = alloc(a, gradOut ? a.length : N * cout * Sf);
  if (!gradOut) for (let n = 0; n < N; n++) for (let co = 0; co < cout; co++) out.fill(p[bo + co]!, (n * cout + co) * Sf, (n * cout + co + 1) * Sf);
  else for (let n = 0; n < N; n++) for (let co = 0; co < cout; co++) for (let i = 0; i < Sf; i++) gParams![bo + co]! += gradOut.data[(n * cout + co) * Sf + i]!;
  for (let n = 0; n < N; n++) for (let ci = 0; ci < cin; ci++) for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
    const ii = ((n * cin + ci) * D + z) * H * W + y * W + xx;
    for (let co = 0; co < cout; co++) for (let a1 = 0; a1 < kz; a1++) for (let b1 = 0; b1 < k; b1++) for (let c1 = 0; c1 < k; c1++) {
      const wi = off + ((co * cin + ci) * kz + a1) * k * k + b1 * k + c1;
      const zf = dim === 3 ? md(2 * z + a1 - pad, Df) : 0;
      const oi = ((n * cout + co) * Df + zf) * Hf * Wf + md(2 * y + b1 - pad, Hf) * Wf + md(2 * xx + c1 - pad, Wf);
      if (gradOut) {
        gParams![wi]! += gradOut.data[oi]! * a[ii]!;
        out[ii]! += gradOut.data[oi]! * p[wi]!;
      } else out[oi]! += p[wi]! * a[ii]!;
    }
  }
  return { shape: gradOut ? x.shape.slice() : [N, cout, ...x.shape.slice(2).map((v) => 2 * v)], data: out };
}

/** Nearest ×2 upsampling, or with gradOut its adjoint (sum over each block). */
export function naiveUpsample(x: Tensor, gradOut?: Tensor): Tensor {
  const { N, C, D, H, W, dim } = geo(x), Df = dim === 3 ? 2 * D : 1;
  const out = alloc(x.data, gradOut ? x.data.length : N * C * Df * 4 * H * W);
  for (let pl = 0; pl < N * C; pl++) for (let z = 0; z < Df; z++) for (let y = 0; y < 2 * H; y++) for (let xx = 0; xx < 2 * W; xx++) {
    const fi = ((pl * Df + z) * 2 * H + y) * 2 * W + xx, ci = ((pl * D + (dim === 3 ? z >> 1 : 0)) * H + (y >> 1)) * W + (xx >> 1);
    if (gradOut) out[ci]! += gradOut.data[fi]!;
    else out[fi] = x.data[ci]!;
  }
  return { shape: gradOut ? x.shape.slice() : [N, C, ...x.shape.slice(2).map((v) => 2 * v)], data: out };
}

/** Whole-model forward with the naive layers; returns every layer boundary (values[0] = input). */
export function naiveForward(spec: ModelSpec, params: Arr, input: Tensor): Tensor[] {
  const { offsets } = paramIndex(spec), vals = [input];
  spec.layers.forEach((l, i) => {
    const x = vals[i]!;
    if (l.type === "conv") vals.push(naiveConv(l.cin, l.cout, l.k, params, offsets[i]!, x));
    else if (l.type === "convT") vals.push(naiveConvT(l.cin, l.cout, l.k, params, offsets[i]!, x));
    else if (l.type === "upsample") vals.push(naiveUpsample(x));
    else {
      const y = { shape: x.shape.slice(), data: x.data.slice() as Arr };
      activateInPlace(l.fn, y.data);
      vals.push(y);
    }
  });
  return vals;
}

/** Whole-model backward with the naive layers: dL/dparams and dL/dinput. */
export function naiveBackward(spec: ModelSpec, params: Arr, vals: Tensor[], gradOut: Tensor): { gradParams: Arr; gradInput: Tensor } {
  const { offsets } = paramIndex(spec), gp = alloc(params, params.length);
  let g = gradOut;
  for (let i = spec.layers.length - 1; i >= 0; i--) {
    const l = spec.layers[i]!, x = vals[i]!;
    if (l.type === "conv") g = naiveConv(l.cin, l.cout, l.k, params, offsets[i]!, x, g, gp);
    else if (l.type === "convT") g = naiveConvT(l.cin, l.cout, l.k, params, offsets[i]!, x, g, gp);
    else if (l.type === "upsample") g = naiveUpsample(x, g);
    else {
      const d = g.data.slice() as Arr;
      activationGradInPlace(l.fn, vals[i + 1]!.data, d);
      g = { shape: g.shape.slice(), data: d };
    }
  }
  return { gradParams: gp, gradInput: g };
}
