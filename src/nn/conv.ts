// Periodic (circular-padding) convolution, stride 1, "same" size, 2D and 3D, odd kernel k, forward and
// backward, as im2col over row chunks + register-blocked GEMM (gemm.ts). The lattices are tori.
//
// Why row-wise im2col: every kernel offset is one periodic shift of whole rows, copied in at most two
// contiguous segments, so no modulo runs per element; the GEMM then sees long contiguous rows.
// Why chunks: the column buffer of a 512² plane with k = 5 would be 25 planes; chunks of ~1k sites
// keep it (and the output rows it updates) in L2 whatever the lattice size.

import { type Activation, activateInPlace } from "./act.js";
import { gemmAcc, gemmNT, rowSums } from "./gemm.js";
import { type Arr, type Spatial, type Tensor, alloc, layout, sitesOf } from "./tensor.js";

/** A list of periodic shifts: tap t reads the input at site + (dz[t], dy[t], dx[t]). */
export interface Taps {
  n: number;
  dz: Int32Array;
  dy: Int32Array;
  dx: Int32Array;
}

export interface ConvSpec {
  cin: number;
  cout: number;
  /** Odd kernel size; 1 is the pointwise (1×1) convolution. */
  k: number;
}

/** The k^dim offsets −r…r of a centred kernel, in weight order (dz slowest, dx fastest). */
export function kernelTaps(k: number, dim: 2 | 3): Taps {
  if (!Number.isInteger(k) || k < 1 || k % 2 !== 1) throw new RangeError(`conv kernel size must be a positive odd integer, got ${k}`);
  const r = (k - 1) / 2, kz = dim === 3 ? k : 1, n = kz * k * k;
  const t: Taps = { n, dz: new Int32Array(n), dy: new Int32Array(n), dx: new Int32Array(n) };
  let i = 0;
  for (let a = 0; a < kz; a++) {
    for (let b = 0; b < k; b++) {
      for (let c = 0; c < k; c++, i++) {
        t.dz[i] = dim === 3 ? a - r : 0;
        t.dy[i] = b - r;
        t.dx[i] = c - r;
      }
    }
  }
  return t;
}

export function negateTaps(t: Taps): Taps {
  return { n: t.n, dz: t.dz.map((v) => -v), dy: t.dy.map((v) => -v), dx: t.dx.map((v) => -v) };
}

function isPointwise(t: Taps): boolean {
  return t.n === 1 && t.dz[0] === 0 && t.dy[0] === 0 && t.dx[0] === 0;
}

const mod = (v: number, n: number): number => ((v % n) + n) % n;

/** Rows (of length W) per chunk: about 1024 sites, fewer when the column buffer would exceed ~256 KB. */
export function chunkRows(sp: Spatial, J: number): number {
  const sites = Math.max(256, Math.min(1024, Math.floor(65536 / Math.max(1, J))));
  return Math.max(1, Math.min(sp.D * sp.H, Math.floor(sites / sp.W)));
}

/** Length of the column buffer that convAccSample needs for J = cin · taps rows. */
export function colsLength(J: number, sp: Spatial): number {
  return J * chunkRows(sp, J) * sp.W;
}

/** A column buffer big enough for every J in `Js`. */
export function colsBuffer(like: Arr, sp: Spatial, ...Js: number[]): Arr {
  return alloc(like, Math.max(0, ...Js.map((J) => colsLength(J, sp))));
}

/**
 * cols[(ci·n + t)·len + ·] = rows r0…r1−1 of channel ci shifted by tap t, for one sample at x[xo…].
 * len = (r1 − r0)·W; a row is (z, y) with r = z·H + y.
 */
export function im2col(x: Arr, xo: number, cin: number, sp: Spatial, taps: Taps, r0: number, r1: number, cols: Arr): void {
  const { D, H, W } = sp, S = D * H * W, len = (r1 - r0) * W;
  const sameType = x instanceof Float32Array === cols instanceof Float32Array;
  for (let t = 0; t < taps.n; t++) {
    const sx = mod(taps.dx[t]!, W), sy = mod(taps.dy[t]!, H), sz = mod(taps.dz[t]!, D), n1 = W - sx;
    for (let ci = 0; ci < cin; ci++) {
      let dst = (ci * taps.n + t) * len;
      const plane = xo + ci * S;
      for (let r = r0; r < r1; r++, dst += W) {
        const z = (r / H) | 0, y = r - z * H;
        let zs = z + sz, ys = y + sy;
        if (zs >= D) zs -= D;
        if (ys >= H) ys -= H;
        const src = plane + (zs * H + ys) * W;
        // x + sx < W for x < n1; the rest of the row wraps around to x + sx − W. Long rows go
        // through set() (a memcpy when the dtypes agree), short ones through plain loops.
        if (W >= 64 && sameType) {
          cols.set(x.subarray(src + sx, src + W), dst);
          if (sx > 0) cols.set(x.subarray(src, src + sx), dst + n1);
        } else {
          for (let i = 0; i < n1; i++) cols[dst + i] = x[src + sx + i]!;
          for (let i = n1; i < W; i++) cols[dst + i] = x[src + sx - W + i]!;
        }
      }
    }
  }
}

/**
 * The input as im2col columns, a chunk of whole rows at a time (sized to stay in cache): calls
 * `use(columns, first site, sites)` for every chunk. `cols` is scratch from colsBuffer or null.
 */
function columnChunks(x: Arr, xo: number, cin: number, sp: Spatial, taps: Taps, cols: Arr | null, use: (buf: Arr, s0: number, len: number) => void): void {
  const J = cin * taps.n, rowsAll = sp.D * sp.H, rows = chunkRows(sp, J);
  const buf = cols !== null && cols.length >= colsLength(J, sp) ? cols : colsBuffer(x, sp, J);
  for (let r0 = 0; r0 < rowsAll; r0 += rows) {
    const r1 = Math.min(rowsAll, r0 + rows), len = (r1 - r0) * sp.W;
    im2col(x, xo, cin, sp, taps, r0, r1, buf);
    use(buf, r0 * sp.W, len);
  }
}

/**
 * out[oo + co·S + s] += Σ_ci Σ_t w[wo + (co·cin + ci)·taps.n + t] · x[xo + ci·S + (s + shift_t mod L)]
 * for one sample (periodic), then applies `act` to each finished chunk while it is still in cache.
 * `cols` is scratch from colsBuffer (unused for a pointwise conv).
 */
export function convAccSample(x: Arr, xo: number, cin: number, sp: Spatial, taps: Taps, w: Arr, wo: number, cout: number, out: Arr, oo: number, cols: Arr | null, act: Activation = "identity"): void {
  const S = sitesOf(sp), J = cin * taps.n;
  const finish = (s0: number, len: number): void => {
    if (act !== "identity") for (let co = 0; co < cout; co++) activateInPlace(act, out, oo + co * S + s0, oo + co * S + s0 + len);
  };
  if (isPointwise(taps)) {
    // A 1×1 conv reads the input planes in place: no copy.
    const step = chunkRows(sp, 0) * sp.W;
    for (let s0 = 0; s0 < S; s0 += step) {
      const len = Math.min(step, S - s0);
      gemmAcc(cout, J, len, w, wo, J, x, xo + s0, S, out, oo + s0, S);
      finish(s0, len);
    }
    return;
  }
  columnChunks(x, xo, cin, sp, taps, cols, (buf, s0, len) => {
    gemmAcc(cout, J, len, w, wo, J, buf, 0, len, out, oo + s0, S);
    finish(s0, len);
  });
}

/** gw[gwo + (co·cin + ci)·n + t] += Σ_s e[eo + co·S + s] · x[xo + ci·S + (s + shift_t)] for one sample. */
export function convGradWeightsSample(x: Arr, xo: number, cin: number, sp: Spatial, taps: Taps, e: Arr, eo: number, cout: number, gw: Arr, gwo: number, cols: Arr | null): void {
  const S = sitesOf(sp), J = cin * taps.n;
  if (isPointwise(taps)) {
    gemmNT(cout, J, S, e, eo, S, x, xo, S, gw, gwo, J);
    return;
  }
  columnChunks(x, xo, cin, sp, taps, cols, (buf, s0, len) => gemmNT(cout, J, len, e, eo + s0, S, buf, 0, len, gw, gwo, J));
}

/**
 * The weights of the adjoint convolution: wT[(ci·cout + co)·n + t] = w[(co·cin + ci)·n + t]. With the
 * taps negated, convAccSample(gradOut, wT) is the gradient with respect to the input.
 */
export function transposeWeights(w: Arr, wo: number, cin: number, cout: number, n: number): Arr {
  const wT = alloc(w, cin * cout * n);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let t = 0; t < n; t++) wT[(ci * cout + co) * n + t] = w[wo + (co * cin + ci) * n + t]!;
    }
  }
  return wT;
}

/** Weights then biases: cout·cin·k^dim + cout numbers. */
export function convParamCount(spec: ConvSpec, dim: 2 | 3): number {
  return spec.cout * spec.cin * spec.k ** dim + spec.cout;
}

function dimOf(t: Tensor): 2 | 3 {
  const d = t.shape.length - 2;
  if (d !== 2 && d !== 3) throw new RangeError(`expected a [batch, channels, 2 or 3 spatial] tensor, got shape [${t.shape}]`);
  return d;
}

function checkChannels(what: string, C: number, want: number): void {
  if (C !== want) throw new RangeError(`${what} has ${C} channels, the layer expects ${want}`);
}

/**
 * y = act(conv(x) + b) on the torus (act defaults to identity; fusing it saves a pass over memory).
 * params[off…] holds weights [cout, cin, k^dim] then biases [cout].
 */
export function convForward(spec: ConvSpec, params: Arr, off: number, x: Tensor, act: Activation = "identity"): Tensor {
  const dim = dimOf(x), { N, C, sp, S } = layout(x.shape, dim);
  checkChannels("conv input", C, spec.cin);
  const taps = kernelTaps(spec.k, dim), bo = off + spec.cout * spec.cin * taps.n;
  const out = alloc(x.data, N * spec.cout * S);
  const cols = isPointwise(taps) ? null : colsBuffer(x.data, sp, spec.cin * taps.n);
  for (let s = 0; s < N; s++) {
    const oo = s * spec.cout * S;
    for (let co = 0; co < spec.cout; co++) out.fill(params[bo + co]!, oo + co * S, oo + (co + 1) * S);
    convAccSample(x.data, s * C * S, spec.cin, sp, taps, params, off, spec.cout, out, oo, cols, act);
  }
  return { shape: [N, spec.cout, ...x.shape.slice(2)], data: out };
}

/**
 * Adds dL/dparams into gradParams[off…] and returns dL/dx (null when `inputGrad` is false), given the
 * layer input x and dL/dy.
 */
export function convBackward(spec: ConvSpec, params: Arr, off: number, x: Tensor, gradOut: Tensor, gradParams: Arr, inputGrad = true): Tensor | null {
  const dim = dimOf(x), { N, C, sp, S } = layout(x.shape, dim);
  checkChannels("conv input", C, spec.cin);
  checkChannels("conv output gradient", gradOut.shape[1]!, spec.cout);
  const taps = kernelTaps(spec.k, dim), nt = taps.n, bo = off + spec.cout * spec.cin * nt;
  const cols = isPointwise(taps) ? null : colsBuffer(x.data, sp, spec.cin * nt, spec.cout * nt);
  const e = gradOut.data;
  for (let s = 0; s < N; s++) {
    const eo = s * spec.cout * S;
    rowSums(spec.cout, S, e, eo, S, gradParams, bo);
    convGradWeightsSample(x.data, s * C * S, spec.cin, sp, taps, e, eo, spec.cout, gradParams, off, cols);
  }
  if (!inputGrad) return null;
  const wT = transposeWeights(params, off, spec.cin, spec.cout, nt), neg = negateTaps(taps);
  const gx = alloc(x.data, x.data.length);
  for (let s = 0; s < N; s++) convAccSample(e, s * spec.cout * S, spec.cout, sp, neg, wT, 0, spec.cin, gx, s * C * S, cols);
  return { shape: x.shape.slice(), data: gx };
}
