// Float32 inference of sequential networks of convolutions (any odd k), ×2 nearest upsampling and k = 2
// transposed convolutions with ReLU between, with the WebAssembly SIMD kernels of asm/nn-infer.ts, and
// their scalar twin.
//
// Why a separate engine: inference needs neither the cache nor double sums, and float32 arithmetic in
// f32x4 lanes runs the same network as onnxruntime at its speed class (bench/nn.ts); predictF32Ts does the
// same operations in the same order with Math.fround, so both give the same bits (test/nn-infer.test.ts).
// A network runs as segments: [upsample] conv, pointwise convs, [transposed conv]; after its first conv
// every layer of a segment is local to a site, so chunks of rows go through the segment in cache.

import { compileKernel, instantiate, type WasmMemory, wasmMemory } from "../lattice/wasm.js";
import { type Activation, activateInPlace } from "./act.js";
import { kernelTaps } from "./conv.js";
import type { ModelSpec } from "./spec.js";
import { type Spatial, type Tensor, layout, sitesOf } from "./tensor.js";

/** One convolution: cout outputs from cin channels, weights [cout][cin][taps] then cout biases at off. */
interface F32Stage {
  cin: number;
  cout: number;
  off: number;
  relu: boolean;
}

interface Segment {
  /** ×2 nearest upsampling of the segment's input first. */
  upsample: boolean;
  first: F32Stage & { k: number };
  pointwise: F32Stage[];
  /** The k = 2 transposed conv, then `acts` (any activation) on its whole output. */
  up: F32Stage | null;
  acts: Activation[];
}

export interface F32Plan {
  segments: Segment[];
}

/**
 * The float32 plan of `spec` (layer i's parameters at offsets[i]), or null where a layer does not fit
 * one: an activation other than ReLU inside a segment, a transposed conv with k ≠ 2, two upsamplings
 * in a row, a network that does not start a segment with a conv.
 */
export function f32Plan(spec: ModelSpec, offsets: readonly number[]): F32Plan | null {
  const L = spec.layers, segments: Segment[] = [];
  let i = 0;
  // ReLU is idempotent and identity does nothing: any run of the two is one flag.
  const acts = (st: F32Stage): boolean => {
    for (let l = L[i]; l?.type === "act"; l = L[++i]) {
      if (l.fn === "relu") st.relu = true;
      else if (l.fn !== "identity") return false;
    }
    return true;
  };
  // The kernels trust the channel counts: a spec that does not chain them takes the other paths.
  let channels = spec.inChannels;
  const chain = (l: { cin: number; cout: number }): boolean => {
    if (l.cin !== channels) return false;
    channels = l.cout;
    return true;
  };
  while (i < L.length) {
    const upsample = L[i]!.type === "upsample";
    if (upsample) i++;
    const l = L[i];
    if (!l || l.type !== "conv" || !chain(l)) return null;
    const seg: Segment = { upsample, first: { cin: l.cin, cout: l.cout, off: offsets[i]!, relu: false, k: l.k }, pointwise: [], up: null, acts: [] };
    i++;
    if (!acts(seg.first)) return null;
    for (let p = L[i]; p?.type === "conv" && p.k === 1; p = L[i]) {
      if (!chain(p)) return null;
      const st: F32Stage = { cin: p.cin, cout: p.cout, off: offsets[i]!, relu: false };
      seg.pointwise.push(st);
      i++;
      if (!acts(st)) return null;
    }
    const u = L[i];
    if (u?.type === "convT") {
      if (u.k !== 2 || !chain(u)) return null;
      seg.up = { cin: u.cin, cout: u.cout, off: offsets[i]!, relu: false };
      for (i++; L[i]?.type === "act"; i++) seg.acts.push((L[i] as { fn: Activation }).fn);
    }
    segments.push(seg);
  }
  return segments.length > 0 ? { segments } : null;
}

/** Output channels of a segment. */
function segOut(seg: Segment): number {
  return (seg.up ?? seg.pointwise[seg.pointwise.length - 1] ?? seg.first).cout;
}

const double = (sp: Spatial, dim: 2 | 3): Spatial => ({ D: dim === 3 ? 2 * sp.D : 1, H: 2 * sp.H, W: 2 * sp.W });

/** A segment's lattices: its input's, its first conv's (twice the input's after upsampling), its output's. */
interface SegLattice {
  spIn: Spatial;
  sp: Spatial;
  spOut: Spatial;
}

function segLattices(plan: F32Plan, sp0: Spatial, dim: 2 | 3): SegLattice[] {
  let spIn = sp0;
  return plan.segments.map((seg) => {
    const sp = seg.upsample ? double(spIn, dim) : spIn, l = { spIn, sp, spOut: seg.up ? double(sp, dim) : sp };
    spIn = l.spOut;
    return l;
  });
}

/** The network's output tensor: N samples of the last segment's channels on its output lattice. */
function outputTensor(plan: F32Plan, lat: readonly SegLattice[], N: number, dim: 2 | 3, data: Float32Array): Tensor {
  const sp = lat[lat.length - 1]!.spOut;
  return { shape: [N, segOut(plan.segments[plan.segments.length - 1]!), ...(dim === 3 ? [sp.D] : []), sp.H, sp.W], data };
}

/** The kernels' ReLU (f32x4.pmax(v, 0)): a NaN passes, −0 stays −0. */
const relu = (v: number): number => (v < 0 ? 0 : v);
const mod = (v: number, n: number): number => ((v % n) + n) % n;

/** Largest table (floats) of the two-valued first convolution; beyond it the products run. */
const MAX_TABLE = 1 << 18;

/** The two values (lo ≤ hi) of an input that takes at most two (compared as float32 bits) and no NaN, else null. */
function twoValues(x: Float32Array): [number, number] | null {
  if (x.length === 0) return null;
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let a = bits[0]!, b = a;
  for (let i = 1; i < bits.length; i++) {
    const v = bits[i]!;
    if (v === a || v === b) continue;
    if (a !== b) return null;
    b = v;
  }
  const f = new Float32Array(new Uint32Array([a, b]).buffer), fa = f[0]!, fb = f[1]!;
  // A NaN would never equal `hi` in the patterns: such an input takes the products, which carry it.
  if (Number.isNaN(fa) || Number.isNaN(fb)) return null;
  return fa <= fb ? [fa, fb] : [fb, fa];
}

/**
 * The first convolution of a one-channel, two-valued input (Ising spins) as table look-ups: the taps of
 * a kernel row (along x) take 2^k patterns, so T[(ρ·2^k + π)·C4 + c] holds row ρ's float32 sum
 * w_0·v_0 + w_1·v_1 + … (in tap order, v_i = hi where bit i of π is set, else lo) and the conv costs
 * R = k^(dim−1) additions per output instead of k^dim multiply-adds. C4 = cout rounded up to 4.
 */
export interface BinaryTable {
  lo: number;
  hi: number;
  R: number;
  K: number;
  C4: number;
  T: Float32Array;
}

/** The last table built, kept while the same weights and values come back (every call of a generation run). */
let lastTable: { w: Float32Array; table: BinaryTable } | null = null;

/** R, K and C4 of the table of a segment's first convolution, or null where it takes no table. */
function tableShape(dim: 2 | 3, seg: Segment): { R: number; K: number; C4: number } | null {
  const f = seg.first, R = f.k ** (dim - 1), K = 2 ** f.k, C4 = (f.cout + 3) & ~3;
  return f.cin === 1 && R * K * C4 <= MAX_TABLE ? { R, K, C4 } : null;
}

function binaryTable(dim: 2 | 3, params: Float32Array, seg: Segment, lo: number, hi: number): BinaryTable | null {
  const shape = tableShape(dim, seg);
  if (!shape) return null;
  const f = seg.first, k = f.k, { R, K, C4 } = shape, n = R * k, w = params.subarray(f.off, f.off + f.cout * n);
  const last = lastTable?.table;
  if (last && last.lo === lo && last.hi === hi && last.C4 === C4 && last.R === R && last.K === K && lastTable!.w.length === w.length && lastTable!.w.every((u, i) => Object.is(u, w[i]))) return last;
  const fr = Math.fround, T = new Float32Array(R * K * C4), sums = new Float32Array(K);
  for (let c = 0; c < f.cout; c++) {
    for (let rho = 0; rho < R; rho++) {
      // Sums over the first i taps for all 2^i patterns, extended one tap at a time (tap order kept).
      const wr = c * n + rho * k;
      sums[0] = fr(w[wr]! * lo);
      sums[1] = fr(w[wr]! * hi);
      for (let i = 1; i < k; i++) {
        const half = 1 << i, pLo = fr(w[wr + i]! * lo), pHi = fr(w[wr + i]! * hi);
        for (let pi = 0; pi < half; pi++) {
          sums[pi + half] = fr(sums[pi]! + pHi);
          sums[pi] = fr(sums[pi]! + pLo);
        }
      }
      for (let pi = 0; pi < K; pi++) T[(rho * K + pi) * C4 + c] = sums[pi]!;
    }
  }
  const table = { lo, hi, R, K, C4, T };
  lastTable = { w: w.slice(), table };
  return table;
}

/** The ×2 nearest upsampling of C channels on sp (the scalar twin's). */
function upsampleTs(x: Float32Array, C: number, sp: Spatial, dim: 2 | 3): Float32Array {
  const f = double(sp, dim), Sf = sitesOf(f), S = sitesOf(sp), out = new Float32Array(C * Sf);
  for (let c = 0; c < C; c++) {
    for (let z = 0, s = 0; z < f.D; z++) {
      for (let y = 0; y < f.H; y++) {
        for (let xx = 0; xx < f.W; xx++, s++) out[c * Sf + s] = x[c * S + (((dim === 3 ? z >> 1 : 0) * sp.H + (y >> 1)) * sp.W + (xx >> 1))]!;
      }
    }
  }
  return out;
}

/** One segment of the scalar twin on one sample xIn (cin channels on lat.spIn): its output. */
function segmentTs(dim: 2 | 3, params: Float32Array, seg: Segment, lat: SegLattice, xIn: Float32Array): Float32Array {
  const fr = Math.fround, f = seg.first, taps = kernelTaps(f.k, dim), J = f.cin * taps.n;
  const { sp, spIn } = lat, { D, H, W } = sp, S = sitesOf(sp);
  const x = seg.upsample ? upsampleTs(xIn, f.cin, spIn, dim) : xIn;
  // Neighbour index of site s through tap t.
  const nb = new Int32Array(S * taps.n);
  for (let z = 0, s = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++, s++) {
        for (let t = 0; t < taps.n; t++) nb[s * taps.n + t] = (mod(z + taps.dz[t]!, D) * H + mod(y + taps.dy[t]!, H)) * W + mod(xx + taps.dx[t]!, W);
      }
    }
  }
  // A one-channel input that takes two values (Ising spins) takes the table (see BinaryTable).
  const v = tableShape(dim, seg) ? twoValues(x) : null;
  const table = v ? binaryTable(dim, params, seg, v[0], v[1]) : null;
  let h = new Float32Array(f.cout * S);
  for (let c = 0; c < f.cout; c++) {
    const b = params[f.off + f.cout * J + c]!;
    for (let s = 0; s < S; s++) {
      let acc = b;
      if (table) {
        const { hi, R, K, C4, T } = table, k = f.k;
        for (let rho = 0; rho < R; rho++) {
          let pi = 0;
          for (let i = 0; i < k; i++) if (x[nb[s * taps.n + rho * k + i]!] === hi) pi |= 1 << i;
          acc = fr(acc + T[(rho * K + pi) * C4 + c]!);
        }
      } else {
        for (let ci = 0; ci < f.cin; ci++) {
          for (let t = 0; t < taps.n; t++) acc = fr(acc + fr(params[f.off + c * J + ci * taps.n + t]! * x[ci * S + nb[s * taps.n + t]!]!));
        }
      }
      h[c * S + s] = f.relu ? relu(acc) : acc;
    }
  }
  for (const p of seg.pointwise) {
    const g = new Float32Array(p.cout * S);
    for (let c = 0; c < p.cout; c++) {
      const b = params[p.off + p.cout * p.cin + c]!;
      for (let s = 0; s < S; s++) {
        let acc = b;
        for (let j = 0; j < p.cin; j++) acc = fr(acc + fr(params[p.off + c * p.cin + j]! * h[j * S + s]!));
        g[c * S + s] = p.relu ? relu(acc) : acc;
      }
    }
    h = g;
  }
  const u = seg.up;
  if (!u) return h;
  const P = 1 << dim, FH = 2 * H, FW = 2 * W, out = new Float32Array(u.cout * S * P);
  for (let c = 0; c < u.cout; c++) {
    const b = params[u.off + u.cout * u.cin * P + c]!;
    for (let z = 0, s = 0; z < D; z++) {
      for (let y = 0; y < H; y++) {
        for (let xx = 0; xx < W; xx++, s++) {
          for (let p = 0; p < P; p++) {
            let acc = b;
            for (let j = 0; j < u.cin; j++) acc = fr(acc + fr(params[u.off + (c * u.cin + j) * P + p]! * h[j * S + s]!));
            out[c * S * P + ((dim === 3 ? 2 * z + (p >> 2) : 0) * FH + 2 * y + ((p >> 1) & 1)) * FW + 2 * xx + (p & 1)] = acc;
          }
        }
      }
    }
  }
  for (const a of seg.acts) activateInPlace(a, out);
  return out;
}

/**
 * The scalar twin of the WebAssembly engine: per output, bias, then + w·x over j = (ci, tap) in weight
 * order, each product and sum rounded to float32 (Math.fround), periodic neighbours by modulo.
 */
export function predictF32Ts(spec: ModelSpec, params: Float32Array, input: Tensor, plan: F32Plan): Tensor {
  const dim = spec.dim, { N, C, sp, S } = layout(input.shape, dim);
  const x = Float32Array.from(input.data), lat = segLattices(plan, sp, dim);
  const per = segOut(plan.segments[plan.segments.length - 1]!) * sitesOf(lat[lat.length - 1]!.spOut), out = new Float32Array(N * per);
  for (let n = 0; n < N; n++) {
    let cur: Float32Array = x.subarray(n * C * S, (n + 1) * C * S);
    plan.segments.forEach((seg, i) => (cur = segmentTs(dim, params, seg, lat[i]!, cur)));
    out.set(cur, n * per);
  }
  return outputTensor(plan, lat, N, dim, out);
}

// ---------- the WebAssembly engine ----------

interface Exports {
  gemmRows(M: number, J: number, len: number, w: number, b: number, rows: number, out: number, os: number, relu: number): void;
  scatter2(dim: number, C: number, W: number, Wp: number, nrows: number, ts: number, z: number, y0: number, FH: number, Sf: number, tmp: number, out: number): void;
  pad(dim: number, C: number, D: number, H: number, W: number, r: number, up: number, src: number, dst: number): void;
  rowsOut(C: number, W: number, Wp: number, nrows: number, ls: number, S: number, src: number, dst: number): void;
  patterns(nrows: number, W: number, Wp: number, k: number, hi: number, entry: number, src: number, pat: number): void;
  tableConv(C4: number, R: number, rowT: number, len: number, T: number, b: number, rows: number, out: number, os: number, relu: number): void;
  twoValues(n: number, src: number, out: number): number;
}
interface Engine {
  k: Exports;
  mem: WasmMemory;
}
let engine: Engine | null | undefined;
let forceTs = false;

function loadEngine(): Engine | null {
  if (forceTs || process.env.IRG_NN_KERNEL === "typescript") return null;
  if (engine !== undefined) return engine;
  try {
    const mem = wasmMemory(16);
    engine = { mem, k: instantiate<Exports>(compileKernel("nn-infer"), mem) };
  } catch {
    engine = null; // not built (`npm run asbuild`) or no SIMD: the scalar twin runs
  }
  return engine;
}

/** "typescript" runs the scalar twin (tests and benchmarks compare the two). */
export function setInferKernel(kind: "auto" | "typescript"): void {
  forceTs = kind === "typescript";
}

export function inferKernel(): "wasm" | "typescript" {
  return loadEngine() ? "wasm" : "typescript";
}

/**
 * The weights W[m][j] (m < M, j < J) in gemmRows' layout at fm[at…]: the first 4⌊M/4⌋ rows interleaved by
 * four (W[m][j] at ((m >> 2)·J + j)·4 + (m & 3)), the others plain after them.
 */
function packWeights(fm: Float32Array, at: number, M: number, J: number, W: (m: number, j: number) => number): void {
  const M4 = M & ~3;
  for (let m = 0; m < M4; m++) for (let j = 0; j < J; j++) fm[at + ((m >> 2) * J + j) * 4 + (m & 3)] = W(m, j);
  for (let m = M4; m < M; m++) for (let j = 0; j < J; j++) fm[at + M4 * J + (m - M4) * J + j] = W(m, j);
}

/**
 * The row stride (floats) of the hidden buffers for chunks of up to n sites: a multiple of 16 floats,
 * moved off multiples of 1 KiB, so that the rows a block reads do not compete for the same L1 sets
 * (a stride of 2048 floats measured half the speed of 2068).
 */
function rowStride(n: number): number {
  const s = (n + 15) & ~15;
  return (s & 255) === 0 ? s + 16 : s;
}

/** Sites per chunk of rows: the hidden channels of a chunk stay in L2 on the way through the network. */
const CHUNK = 2048;

/** Where one segment's data sit in the engine's memory (float indices), and its lattices. */
interface SegRun {
  seg: Segment;
  lat: SegLattice;
  r: number;
  taps: ReturnType<typeof kernelTaps>;
  /** Offset in the padded input of every tap, from the site it serves. */
  tapOff: number[];
  Wp: number;
  Hp: number;
  Dp: number;
  /** Rows per chunk and the row stride of the hidden buffers. */
  nr: number;
  ls: number;
  shape: { R: number; K: number; C4: number } | null;
  wAt: number[];
  bAt: number[];
  upW: number;
  upB: number;
  padAt: number;
  patAt: number;
  tAt: number;
  hA: number;
  hB: number;
  tmpAt: number;
  outAt: number;
}

/**
 * The network output for `input` along `plan`: the WebAssembly engine where it loads, else the scalar
 * twin; null where the engine's memory cannot grow to hold the network's intermediate planes (wasm32:
 * 4 GiB at most), and the caller takes another path.
 */
export function predictF32(spec: ModelSpec, params: Float32Array, input: Tensor, plan: F32Plan): Tensor | null {
  const e = loadEngine();
  if (!e || !(input.data instanceof Float32Array)) return predictF32Ts(spec, params, input, plan);
  const dim = spec.dim, { N, C, sp: sp0, S } = layout(input.shape, dim), x = input.data;
  const P = 1 << dim;

  // Layout (floats): per segment its weights and biases, padded input (and patterns and table), two hidden
  // buffers, the transposed conv's parity rows and its output (the next segment's input); shared: the
  // raw input, the row-pointer table, two values.
  let at = 0;
  const place = (n: number): number => { const p = at; at += (n + 3) & ~3; return p; };
  const rawAt = place(C * S), valAt = place(2);
  let maxJ = 0;
  const lats = segLattices(plan, sp0, dim);
  const runs: SegRun[] = plan.segments.map((seg, i) => {
    const lat = lats[i]!, sp = lat.sp, f = seg.first, r = (f.k - 1) >> 1, taps = kernelTaps(f.k, dim);
    const Wp = sp.W + 2 * r, Hp = sp.H + 2 * r, Dp = dim === 3 ? sp.D + 2 * r : 1, Sc = sitesOf(sp), Jf = f.cin * taps.n;
    const nr = Math.max(1, Math.min(sp.H, Math.floor(CHUNK / Wp))), ls = rowStride(nr * Wp);
    const shape = tableShape(dim, seg);
    const widest = Math.max(shape ? shape.C4 : f.cout, ...seg.pointwise.map((p) => p.cout));
    maxJ = Math.max(maxJ, Jf, ...seg.pointwise.map((p) => p.cin), seg.up ? seg.up.cin : 0, shape ? shape.R : 0);
    const stages = [f, ...seg.pointwise];
    return {
      seg, lat, r, taps, Wp, Hp, Dp, nr, ls, shape,
      tapOff: Array.from({ length: taps.n }, (_, t) => (taps.dz[t]! * Hp + taps.dy[t]!) * Wp + taps.dx[t]!),
      wAt: stages.map((st, i) => place(st.cout * (i === 0 ? Jf : st.cin))),
      // The table's sums run over C4 channels: the first conv's biases padded with zeros to C4.
      bAt: stages.map((st, i) => place(i === 0 && shape ? shape.C4 : st.cout)),
      upW: seg.up ? place(seg.up.cout * P * seg.up.cin) : 0,
      upB: seg.up ? place(seg.up.cout * P) : 0,
      padAt: place(f.cin * Dp * Hp * Wp + 16),
      patAt: shape ? place(Dp * Hp * Wp + 8) : 0,
      tAt: shape ? place(shape.R * shape.K * shape.C4) : 0,
      hA: place(widest * ls),
      hB: place(widest * ls),
      tmpAt: seg.up ? place(seg.up.cout * P * ls) : 0,
      outAt: place(segOut(seg) * Sc * (seg.up ? P : 1)),
    };
  });
  const rowsAt = place(maxJ);
  const bytes = at * 4;
  if (bytes > e.mem.buffer.byteLength) {
    try {
      e.mem.grow(Math.ceil((bytes - e.mem.buffer.byteLength) / 65536));
    } catch {
      return null;
    }
  }
  const fm = new Float32Array(e.mem.buffer), um = new Uint32Array(e.mem.buffer), k = e.k;

  for (const run of runs) {
    const { seg, shape } = run, f = seg.first, Jf = f.cin * run.taps.n;
    if (shape) fm.fill(0, run.bAt[0]!, run.bAt[0]! + shape.C4);
    [f, ...seg.pointwise].forEach((st, i) => {
      const J = i === 0 ? Jf : st.cin;
      packWeights(fm, run.wAt[i]!, st.cout, J, (m, j) => params[st.off + m * J + j]!);
      fm.set(params.subarray(st.off + st.cout * J, st.off + st.cout * J + st.cout), run.bAt[i]);
    });
    if (seg.up) {
      // Rows m = c·P + p (channel, parity) of the transposed conv: W[m][j] = params[(c·cin + j)·P + p].
      const u = seg.up, bo = u.off + u.cout * u.cin * P;
      packWeights(fm, run.upW, u.cout * P, u.cin, (m, j) => params[u.off + ((m >> dim) * u.cin + j) * P + (m & (P - 1))]!);
      for (let m = 0; m < u.cout * P; m++) fm[run.upB + m] = params[bo + (m >> dim)]!;
    }
  }

  const last = runs[runs.length - 1]!, outPer = segOut(last.seg) * sitesOf(last.lat.spOut);
  const out = new Float32Array(N * outPer);
  const loaded = new Map<SegRun, BinaryTable>();
  for (let n = 0; n < N; n++) {
    fm.set(x.subarray(n * C * S, (n + 1) * C * S), rawAt);
    let inAt = rawAt;
    for (const run of runs) {
      runSegment(k, fm, um, dim, params, run, inAt, rowsAt, valAt, loaded);
      inAt = run.outAt;
    }
    out.set(fm.subarray(last.outAt, last.outAt + outPer), n * outPer);
  }
  return outputTensor(plan, lats, N, dim, out);
}

/** One segment on one sample whose input (cin channels) is at fm[inAt…]; its output goes to run.outAt. */
function runSegment(k: Exports, fm: Float32Array, um: Uint32Array, dim: 2 | 3, params: Float32Array, run: SegRun, inAt: number, rowsAt: number, valAt: number, loaded: Map<SegRun, BinaryTable>): void {
  const { seg, lat, r, taps, tapOff, Wp, Hp, Dp, nr, ls, shape } = run, f = seg.first, { D, H, W } = lat.sp;
  const P = 1 << dim, Sc = sitesOf(lat.sp), Sout = sitesOf(lat.spOut), Jf = f.cin * taps.n, planeP = Dp * Hp * Wp;
  k.pad(dim, f.cin, D, H, W, r, seg.upsample ? 1 : 0, inAt * 4, run.padAt * 4);
  const table = shape && k.twoValues(sitesOf(lat.spIn), inAt * 4, valAt * 4) ? binaryTable(dim, params, seg, fm[valAt]!, fm[valAt + 1]!) : null;
  if (table) {
    if (loaded.get(run) !== table) fm.set(table.T, run.tAt);
    loaded.set(run, table);
    k.patterns(Dp * Hp, W, Wp, f.k, table.hi, table.C4 * 4, run.padAt * 4, run.patAt * 4);
    // The last chunk's rounded-up lanes read a few entries past the plane: offsets, so never stale.
    um.fill(0, run.patAt + Dp * Hp * Wp, run.patAt + Dp * Hp * Wp + 8);
  }
  // Row j of an operand is the hidden buffer's channel j.
  const operand = (src: number, n: number): void => {
    for (let j = 0; j < n; j++) um[rowsAt + j] = (src + j * ls) * 4;
  };
  for (let z = 0; z < D; z++) {
    for (let y0 = 0; y0 < H; y0 += nr) {
      const rows = Math.min(nr, H - y0), len = (rows * Wp + 3) & ~3;
      const row0 = ((z + (dim === 3 ? r : 0)) * Hp + y0 + r) * Wp;
      if (table) {
        // Pattern rows of the kernel rows ρ = (dz, dy): the taps t = ρ·k … ρ·k + k − 1.
        for (let rho = 0; rho < table.R; rho++) um[rowsAt + rho] = (run.patAt + row0 + tapOff[rho * f.k]! + r) * 4;
        k.tableConv(table.C4, table.R, table.K * table.C4 * 4, len, run.tAt * 4, run.bAt[0]! * 4, rowsAt * 4, run.hA * 4, ls, f.relu ? 1 : 0);
      } else {
        const base = run.padAt + row0 + r;
        for (let ci = 0; ci < f.cin; ci++) for (let t = 0; t < taps.n; t++) um[rowsAt + ci * taps.n + t] = (base + ci * planeP + tapOff[t]!) * 4;
        k.gemmRows(f.cout, Jf, len, run.wAt[0]! * 4, run.bAt[0]! * 4, rowsAt * 4, run.hA * 4, ls, f.relu ? 1 : 0);
      }
      let src = run.hA, dst = run.hB;
      seg.pointwise.forEach((p, i) => {
        operand(src, p.cin);
        k.gemmRows(p.cout, p.cin, len, run.wAt[i + 1]! * 4, run.bAt[i + 1]! * 4, rowsAt * 4, dst * 4, ls, p.relu ? 1 : 0);
        [src, dst] = [dst, src];
      });
      if (seg.up) {
        const u = seg.up;
        operand(src, u.cin);
        k.gemmRows(u.cout * P, u.cin, len, run.upW * 4, run.upB * 4, rowsAt * 4, run.tmpAt * 4, ls, 0);
        k.scatter2(dim, u.cout, W, Wp, rows, ls, z, y0, 2 * H, Sout, run.tmpAt * 4, run.outAt * 4);
      } else {
        k.rowsOut(segOut(seg), W, Wp, rows, ls, Sc, src * 4, (run.outAt + (z * H + y0) * W) * 4);
      }
    }
  }
  for (const a of seg.acts) activateInPlace(a, fm.subarray(run.outAt, run.outAt + segOut(seg) * Sout));
}
