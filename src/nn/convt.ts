// Periodic transposed convolution with stride 2 (doubles each spatial size; Dumoulin & Visin 2016,
// "A guide to convolution arithmetic", §4) and nearest-neighbour ×2 upsampling, forward and backward.
//
// Why by parity: fine site y = 2X + t − p receives from coarse X through tap t; for each of the 2^dim
// parities of y this is an ordinary stride-1 periodic conv on the coarse lattice with the taps of
// matching parity, so the GEMM path of conv.ts does all the work and nothing multiplies inserted zeros.

import { chunkRows, convAccSample, convGradWeightsSample, colsBuffer, type Taps, negateTaps, transposeWeights } from "./conv.js";
import { gemmNT, rowSums } from "./gemm.js";
import { type Arr, type Spatial, type Tensor, alloc, layout, sitesOf } from "./tensor.js";
import { wasmConvT2d } from "./gemm-wasm.js";

export interface ConvTSpec {
  cin: number;
  cout: number;
  /** Kernel size ≥ 2 per axis; 2 gives every fine site exactly one coarse parent (depth-to-space). */
  k: number;
}

/** Weights [cout, cin, k^dim] then biases [cout]. */
export function convTParamCount(spec: ConvTSpec, dim: 2 | 3): number {
  return spec.cout * spec.cin * spec.k ** dim + spec.cout;
}

/** Padding p = ⌊(k − 1)/2⌋ centres the kernel: k = 2 covers the block 2X, 2X+1; k = 3 covers 2X−1…2X+1. */
export function convTPad(k: number): number {
  return Math.floor((k - 1) / 2);
}

export interface ParityTaps {
  /** Parity of the fine site along (z, y, x); z is 0 in 2D. */
  e: [number, number, number];
  /** Coarse shifts δ = (e + p − t)/2 of the taps t with t ≡ e + p (mod 2). */
  taps: Taps;
  /** Index of each tap into the k^dim kernel. */
  index: Int32Array;
}

/** The 2^dim sub-kernels of a stride-2 transposed conv, one per fine parity. */
export function parityTaps(k: number, dim: 2 | 3): ParityTaps[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`transposed conv kernel size must be an integer >= 2, got ${k}`);
  const p = convTPad(k);
  const axis = (e: number): [number, number][] => {
    const out: [number, number][] = [];
    for (let t = 0; t < k; t++) if ((((e + p - t) % 2) + 2) % 2 === 0) out.push([t, (e + p - t) / 2]);
    return out;
  };
  const res: ParityTaps[] = [];
  for (let ez = 0; ez < (dim === 3 ? 2 : 1); ez++) {
    for (let ey = 0; ey < 2; ey++) {
      for (let ex = 0; ex < 2; ex++) {
        const Z = dim === 3 ? axis(ez) : [[0, 0] as [number, number]], Y = axis(ey), X = axis(ex);
        const n = Z.length * Y.length * X.length;
        const taps: Taps = { n, dz: new Int32Array(n), dy: new Int32Array(n), dx: new Int32Array(n) };
        const index = new Int32Array(n);
        let q = 0;
        for (const [tz, dz] of Z) {
          for (const [ty, dy] of Y) {
            for (const [tx, dx] of X) {
              taps.dz[q] = dz;
              taps.dy[q] = dy;
              taps.dx[q] = dx;
              index[q++] = (dim === 3 ? tz * k * k : 0) + ty * k + tx;
            }
          }
        }
        res.push({ e: [ez, ey, ex], taps, index });
      }
    }
  }
  return res;
}

/** Gathers the sub-kernel of one parity: wSub[(co·cin + ci)·n + q] = w[off + (co·cin + ci)·k^dim + index[q]]. */
function subWeights(params: Arr, off: number, spec: ConvTSpec, kd: number, pt: ParityTaps): Arr {
  const n = pt.taps.n, w = alloc(params, spec.cout * spec.cin * n);
  for (let r = 0; r < spec.cout * spec.cin; r++) {
    for (let q = 0; q < n; q++) w[r * n + q] = params[off + r * kd + pt.index[q]!]!;
  }
  return w;
}

export function fineSpatial(sp: Spatial, dim: 2 | 3): Spatial {
  return { D: dim === 3 ? 2 * sp.D : 1, H: 2 * sp.H, W: 2 * sp.W };
}

/**
 * Moves C coarse channels (buf[bo + c·bs + (r − r0)·W + x], rows r0…r1 of a sample) to the fine sites
 * of parity e, adding add[addOff + c] (`toFine`), or gathers those fine sites into buf (otherwise).
 */
function parityRows(C: number, sp: Spatial, dim: 2 | 3, e: [number, number, number], r0: number, r1: number, buf: Arr, bo: number, bs: number, fine: Arr, fo: number, toFine: boolean, add: Arr | null, addOff: number): void {
  const f = fineSpatial(sp, dim), Sf = sitesOf(f), W = sp.W;
  for (let c = 0; c < C; c++) {
    const b = add ? add[addOff + c]! : 0;
    for (let r = r0; r < r1; r++) {
      const z = (r / sp.H) | 0, y = r - z * sp.H, zf = dim === 3 ? 2 * z + e[0] : 0;
      const src = bo + c * bs + (r - r0) * W;
      const dst = fo + c * Sf + (zf * f.H + 2 * y + e[1]) * f.W + e[2];
      if (toFine) for (let x = 0; x < W; x++) fine[dst + 2 * x] = buf[src + x]! + b;
      else for (let x = 0; x < W; x++) buf[src + x] = fine[dst + 2 * x]!;
    }
  }
}

/**
 * The k = 2 transposed conv for coarse rows r0…r1 of one sample, written straight into the fine lattice:
 * fine[c](2z + ez, 2y + ey, 2x + ex) = b[c] + Σ_ci w[c, ci, (ez, ey, ex)] · a[ao + ci·as + (r − r0)·W + x].
 * The four (ey, ex) parities of a channel are the four outputs of a 4×4 register block (as in gemmAcc),
 * stored as two adjacent pairs in two fine rows: no scratch plane and no separate scatter pass.
 */
export function convT2Rows(cin: number, cout: number, sp: Spatial, dim: 2 | 3, r0: number, r1: number, a: Arr, ao: number, as: number, params: Arr, off: number, out: Arr, fo: number): void {
  if (dim === 2 && a instanceof Float32Array && params instanceof Float32Array && out instanceof Float32Array) {
    // The WebAssembly SIMD kernel: bit-identical, about 2× faster (asm/nn-gemm.ts convT2d).
    const k = wasmConvT2d();
    if (k) return k(cin, cout, sp.W, sitesOf(sp), r0, r1, a, ao, as, params, off, out, fo);
  }
  const f = fineSpatial(sp, dim), Sf = sitesOf(f), W = sp.W, FW = f.W, kd = dim === 3 ? 8 : 4, bo = off + cout * cin * kd;
  for (let c = 0; c < cout; c++) {
    const b = params[bo + c]!;
    for (let ez = 0; ez < (dim === 3 ? 2 : 1); ez++) {
      const row = (r: number): number => {
        const z = (r / sp.H) | 0, y = r - z * sp.H, zf = dim === 3 ? 2 * z + ez : 0;
        return fo + c * Sf + (zf * f.H + 2 * y) * FW;
      };
      for (let r = r0; r < r1; r++) out.fill(b, row(r), row(r) + 2 * FW);
      // Tap index of parity (ez, ey, ex) in the 2^dim kernel is ez·4 + ey·2 + ex.
      const t0 = off + (dim === 3 ? 4 * ez : 0);
      let ci = 0;
      for (; ci + 4 <= cin; ci += 4) {
        const k0 = t0 + (c * cin + ci) * kd, k1 = k0 + kd, k2 = k1 + kd, k3 = k2 + kd;
        const w00 = params[k0]!, w01 = params[k1]!, w02 = params[k2]!, w03 = params[k3]!;
        const w10 = params[k0 + 1]!, w11 = params[k1 + 1]!, w12 = params[k2 + 1]!, w13 = params[k3 + 1]!;
        const w20 = params[k0 + 2]!, w21 = params[k1 + 2]!, w22 = params[k2 + 2]!, w23 = params[k3 + 2]!;
        const w30 = params[k0 + 3]!, w31 = params[k1 + 3]!, w32 = params[k2 + 3]!, w33 = params[k3 + 3]!;
        for (let r = r0; r < r1; r++) {
          const a0 = ao + ci * as + (r - r0) * W, a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
          const f0 = row(r), f1 = f0 + FW;
          for (let x = 0; x < W; x++) {
            const v0 = a[a0 + x]!, v1 = a[a1 + x]!, v2 = a[a2 + x]!, v3 = a[a3 + x]!;
            out[f0 + 2 * x]! += w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3;
            out[f0 + 2 * x + 1]! += w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3;
            out[f1 + 2 * x]! += w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3;
            out[f1 + 2 * x + 1]! += w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3;
          }
        }
      }
      for (; ci < cin; ci++) {
        const k0 = t0 + (c * cin + ci) * kd;
        const w0 = params[k0]!, w1 = params[k0 + 1]!, w2 = params[k0 + 2]!, w3 = params[k0 + 3]!;
        for (let r = r0; r < r1; r++) {
          const a0 = ao + ci * as + (r - r0) * W, f0 = row(r), f1 = f0 + FW;
          for (let x = 0; x < W; x++) {
            const v = a[a0 + x]!;
            out[f0 + 2 * x]! += w0 * v;
            out[f0 + 2 * x + 1]! += w1 * v;
            out[f1 + 2 * x]! += w2 * v;
            out[f1 + 2 * x + 1]! += w3 * v;
          }
        }
      }
    }
  }
}

/**
 * k = 2: each parity has the single tap t = e with no shift, so all 2^dim parities stack into one
 * pointwise GEMM with 2^dim·cout rows: ws[(q·cout + co)·cin + ci] = w[co, ci, tap of parity q].
 */
export function stackedWeights(params: Arr, off: number, spec: ConvTSpec, kd: number, parts: ParityTaps[]): Arr {
  const { cin, cout } = spec, ws = alloc(params, parts.length * cout * cin);
  parts.forEach((pt, q) => {
    for (let co = 0; co < cout; co++) {
      for (let ci = 0; ci < cin; ci++) ws[(q * cout + co) * cin + ci] = params[off + (co * cin + ci) * kd + pt.index[0]!]!;
    }
  });
  return ws;
}

function dimOf(t: Tensor): 2 | 3 {
  const d = t.shape.length - 2;
  if (d !== 2 && d !== 3) throw new RangeError(`expected a [batch, channels, 2 or 3 spatial] tensor, got shape [${t.shape}]`);
  return d;
}

function fineShape(shape: number[], C: number): number[] {
  return [shape[0]!, C, ...shape.slice(2).map((v) => 2 * v)];
}

/** y[2X + t − p] += Σ w[·, ·, t] x[X] + b, periodic; y has twice the spatial size of x. */
export function convTForward(spec: ConvTSpec, params: Arr, off: number, x: Tensor): Tensor {
  const dim = dimOf(x), { N, C, sp, S } = layout(x.shape, dim);
  if (C !== spec.cin) throw new RangeError(`transposed conv input has ${C} channels, the layer expects ${spec.cin}`);
  const kd = spec.k ** dim, bo = off + spec.cout * spec.cin * kd, Sf = S << dim, cout = spec.cout;
  const out = alloc(x.data, N * cout * Sf);
  if (spec.k === 2) {
    const rows = chunkRows(sp, 0);
    for (let s = 0; s < N; s++) {
      for (let r0 = 0; r0 < sp.D * sp.H; r0 += rows) {
        convT2Rows(C, cout, sp, dim, r0, Math.min(sp.D * sp.H, r0 + rows), x.data, s * C * S + r0 * sp.W, S, params, off, out, s * cout * Sf);
      }
    }
    return { shape: fineShape(x.shape, cout), data: out };
  }
  const parts = parityTaps(spec.k, dim);
  const subs = parts.map((pt) => subWeights(params, off, spec, kd, pt));
  const maxN = Math.max(...parts.map((pt) => pt.taps.n));
  const cols = colsBuffer(x.data, sp, spec.cin * maxN);
  const tmp = alloc(x.data, cout * S);
  for (let s = 0; s < N; s++) {
    parts.forEach((pt, i) => {
      tmp.fill(0);
      convAccSample(x.data, s * C * S, spec.cin, sp, pt.taps, subs[i]!, 0, cout, tmp, 0, cols);
      parityRows(cout, sp, dim, pt.e, 0, sp.D * sp.H, tmp, 0, S, out, s * cout * Sf, true, params, bo);
    });
  }
  return { shape: fineShape(x.shape, cout), data: out };
}

/** Adds dL/dparams into gradParams[off…]; returns dL/dx (null when `inputGrad` is false). */
export function convTBackward(spec: ConvTSpec, params: Arr, off: number, x: Tensor, gradOut: Tensor, gradParams: Arr, inputGrad = true): Tensor | null {
  const dim = dimOf(x), { N, C, sp, S } = layout(x.shape, dim);
  if (C !== spec.cin || gradOut.shape[1] !== spec.cout) throw new RangeError("transposed conv: channel counts do not match the layer");
  const kd = spec.k ** dim, bo = off + spec.cout * spec.cin * kd, Sf = S << dim, cout = spec.cout, rowsAll = sp.D * sp.H;
  const parts = parityTaps(spec.k, dim), P = parts.length;
  const e = gradOut.data, gx = inputGrad ? alloc(x.data, x.data.length) : null;
  if (spec.k === 2) {
    // Gather the fine gradient of every parity into [P·cout, S]; then one GEMM each for weights and input.
    const gE = alloc(e, P * cout * S), gws = alloc(gradParams, P * cout * C);
    const wT = transposeWeights(stackedWeights(params, off, spec, kd, parts), 0, C, P * cout, 1);
    for (let s = 0; s < N; s++) {
      rowSums(cout, Sf, e, s * cout * Sf, Sf, gradParams, bo);
      parts.forEach((pt, q) => parityRows(cout, sp, dim, pt.e, 0, rowsAll, gE, q * cout * S, S, e, s * cout * Sf, false, null, 0));
      gemmNT(P * cout, C, S, gE, 0, S, x.data, s * C * S, S, gws, 0, C);
      if (gx) convAccSample(gE, 0, P * cout, sp, parts[0]!.taps, wT, 0, C, gx, s * C * S, null);
    }
    parts.forEach((pt, q) => {
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < C; ci++) gradParams[off + (co * C + ci) * kd + pt.index[0]!]! += gws[(q * cout + co) * C + ci]!;
      }
    });
    return gx ? { shape: x.shape.slice(), data: gx } : null;
  }
  const maxN = Math.max(...parts.map((pt) => pt.taps.n));
  const cols = colsBuffer(x.data, sp, spec.cin * maxN, cout * maxN);
  const gE = alloc(e, cout * S);
  const gSub = parts.map((pt) => alloc(gradParams, cout * spec.cin * pt.taps.n));
  const adj = inputGrad ? parts.map((pt) => transposeWeights(subWeights(params, off, spec, kd, pt), 0, spec.cin, cout, pt.taps.n)) : [];
  const neg = parts.map((pt) => negateTaps(pt.taps));
  for (let s = 0; s < N; s++) {
    rowSums(cout, Sf, e, s * cout * Sf, Sf, gradParams, bo);
    parts.forEach((pt, i) => {
      parityRows(cout, sp, dim, pt.e, 0, rowsAll, gE, 0, S, e, s * cout * Sf, false, null, 0);
      convGradWeightsSample(x.data, s * C * S, spec.cin, sp, pt.taps, gE, 0, cout, gSub[i]!, 0, cols);
      if (gx) convAccSample(gE, 0, cout, sp, neg[i]!, adj[i]!, 0, spec.cin, gx, s * C * S, cols);
    });
  }
  parts.forEach((pt, i) => {
    const n = pt.taps.n, g = gSub[i]!;
    for (let r = 0; r < cout * spec.cin; r++) {
      for (let q = 0; q < n; q++) gradParams[off + r * kd + pt.index[q]!]! += g[r * n + q]!;
    }
  });
  return gx ? { shape: x.shape.slice(), data: gx } : null;
}

/** Nearest-neighbour ×2 upsampling: fine site 2X + e copies coarse site X, every channel. */
export function upsampleForward(x: Tensor): Tensor {
  const dim = dimOf(x), { N, C, sp, S } = layout(x.shape, dim);
  const f = fineSpatial(sp, dim), Sf = sitesOf(f), out = alloc(x.data, N * C * Sf), a = x.data;
  for (let pl = 0; pl < N * C; pl++) {
    for (let z = 0; z < f.D; z++) {
      for (let y = 0; y < f.H; y++) {
        const src = pl * S + ((z >> 1) * sp.H + (y >> 1)) * sp.W, dst = pl * Sf + (z * f.H + y) * f.W;
        for (let xc = 0; xc < sp.W; xc++) {
          const v = a[src + xc]!;
          out[dst + 2 * xc] = v;
          out[dst + 2 * xc + 1] = v;
        }
      }
    }
  }
  return { shape: fineShape(x.shape, C), data: out };
}

/** Adjoint of upsampling: each coarse site sums the gradients of its 2^dim fine sites. */
export function upsampleBackward(gradOut: Tensor): Tensor {
  const dim = dimOf(gradOut), { N, C, sp: f } = layout(gradOut.shape, dim);
  const sp: Spatial = { D: dim === 3 ? f.D / 2 : 1, H: f.H / 2, W: f.W / 2 };
  if (!Number.isInteger(sp.D) || !Number.isInteger(sp.H) || !Number.isInteger(sp.W)) throw new RangeError("upsample gradient must have even spatial sizes");
  const S = sitesOf(sp), Sf = sitesOf(f), g = alloc(gradOut.data, N * C * S), e = gradOut.data;
  for (let pl = 0; pl < N * C; pl++) {
    for (let z = 0; z < f.D; z++) {
      for (let y = 0; y < f.H; y++) {
        const dst = pl * S + ((z >> 1) * sp.H + (y >> 1)) * sp.W, src = pl * Sf + (z * f.H + y) * f.W;
        for (let xc = 0; xc < sp.W; xc++) g[dst + xc]! += e[src + 2 * xc]! + e[src + 2 * xc + 1]!;
      }
    }
  }
  const shape = [N, C, ...(dim === 3 ? [sp.D, sp.H, sp.W] : [sp.H, sp.W])];
  return { shape, data: g };
}
