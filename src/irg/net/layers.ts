// Convolutional layers on periodic lattices (2D and 3D), forward and backward: k^d convolution with
// circular padding, nearest ×2 upsampling, pointwise activations. Hand-written loops: for networks of a
// few thousand weights they beat the ML frameworks available to Node (see docs/stack.md).
//
// Layout: one sample is [channels, D, H, W] (D = 1 in 2D), x fastest. A convolution is a sum over
// kernel offsets of shifted copies of input rows; each row is processed in at most two contiguous
// segments (before and after the periodic wrap), so the innermost loops carry no modulo.

export type Arr = Float32Array | Float64Array;

export interface Shape {
  /** Spatial extent [D, H, W]; D = 1 for 2D. */
  D: number;
  H: number;
  W: number;
}

export function sites(s: Shape): number {
  return s.D * s.H * s.W;
}

function wrap(v: number, n: number): number {
  return ((v % n) + n) % n;
}

/** Kernel offsets in weight order: dz (3D only), dy, dx, each in −r…r. */
function offsets(k: number, dim: number): [number, number, number][] {
  const r = (k - 1) / 2;
  const out: [number, number, number][] = [];
  const zs = dim === 3 ? k : 1;
  for (let a = 0; a < zs; a++) for (let b = 0; b < k; b++) for (let c = 0; c < k; c++) out.push([dim === 3 ? a - r : 0, b - r, c - r]);
  return out;
}

/**
 * acc[row] += w · src[row shifted by dx] for one spatial row of length W (periodic in x).
 * `mode` 0: acc[x] += w·src[x+dx]; 1 (adjoint): acc[x+dx] += w·src[x].
 */
function axpyRow(acc: Arr, ao: number, src: Arr, so: number, W: number, dx: number, w: number, mode: 0 | 1): void {
  const s = wrap(dx, W);
  // x + s < W for x < W − s; the rest wraps to x + s − W.
  const n1 = W - s;
  if (mode === 0) {
    for (let x = 0; x < n1; x++) acc[ao + x]! += w * src[so + x + s]!;
    for (let x = n1; x < W; x++) acc[ao + x]! += w * src[so + x + s - W]!;
  } else {
    for (let x = 0; x < n1; x++) acc[ao + x + s]! += w * src[so + x]!;
    for (let x = n1; x < W; x++) acc[ao + x + s - W]! += w * src[so + x]!;
  }
}

/** Σ_x a[x] · b[x + dx] over one periodic row. */
function dotRow(a: Arr, ao: number, b: Arr, bo: number, W: number, dx: number): number {
  const s = wrap(dx, W);
  const n1 = W - s;
  let acc = 0;
  for (let x = 0; x < n1; x++) acc += a[ao + x]! * b[bo + x + s]!;
  for (let x = n1; x < W; x++) acc += a[ao + x]! * b[bo + x + s - W]!;
  return acc;
}

export interface ConvParams {
  cin: number;
  cout: number;
  k: number;
  dim: number;
}

/** Number of weights and biases of a convolution. */
export function convSize(p: ConvParams): number {
  return p.cout * p.cin * p.k ** (p.dim === 3 ? 3 : 2) + p.cout;
}

/**
 * out[co] = b[co] + Σ_ci Σ_o w[co, ci, o] · in[ci](· + o), periodic. `params` holds the weights
 * [cout, cin, k^d] followed by the biases [cout], starting at `off`.
 */
export function convForward(p: ConvParams, params: Arr, off: number, input: Arr, s: Shape, out: Arr): void {
  const n = sites(s), K = offsets(p.k, p.dim), nk = K.length;
  const bOff = off + p.cout * p.cin * nk;
  for (let co = 0; co < p.cout; co++) out.fill(params[bOff + co]!, co * n, (co + 1) * n);
  for (let co = 0; co < p.cout; co++) {
    for (let ci = 0; ci < p.cin; ci++) {
      for (let o = 0; o < nk; o++) {
        const w = params[off + (co * p.cin + ci) * nk + o]!;
        if (w === 0) continue;
        const [dz, dy, dx] = K[o]!;
        for (let z = 0; z < s.D; z++) {
          const zi = wrap(z + dz, s.D);
          for (let y = 0; y < s.H; y++) {
            const yi = wrap(y + dy, s.H);
            axpyRow(out, co * n + (z * s.H + y) * s.W, input, ci * n + (zi * s.H + yi) * s.W, s.W, dx, w, 0);
          }
        }
      }
    }
  }
}

/** Gradients of a convolution: adds to gradParams (same layout as params) and writes gradInput. */
export function convBackward(p: ConvParams, params: Arr, off: number, input: Arr, s: Shape, gradOut: Arr, gradParams: Arr, gradInput: Arr | null): void {
  const n = sites(s), K = offsets(p.k, p.dim), nk = K.length;
  const bOff = off + p.cout * p.cin * nk;
  if (gradInput) gradInput.fill(0, 0, p.cin * n);
  for (let co = 0; co < p.cout; co++) {
    let gb = 0;
    for (let i = co * n; i < (co + 1) * n; i++) gb += gradOut[i]!;
    gradParams[bOff + co]! += gb;
    for (let ci = 0; ci < p.cin; ci++) {
      for (let o = 0; o < nk; o++) {
        const wi = off + (co * p.cin + ci) * nk + o;
        const [dz, dy, dx] = K[o]!;
        let gw = 0;
        const w = params[wi]!;
        for (let z = 0; z < s.D; z++) {
          const zi = wrap(z + dz, s.D);
          for (let y = 0; y < s.H; y++) {
            const yi = wrap(y + dy, s.H);
            const go = co * n + (z * s.H + y) * s.W, io = ci * n + (zi * s.H + yi) * s.W;
            gw += dotRow(gradOut, go, input, io, s.W, dx);
            if (gradInput && w !== 0) axpyRow(gradInput, io, gradOut, go, s.W, dx, w, 1);
          }
        }
        gradParams[wi]! += gw;
      }
    }
  }
}

/** Nearest-neighbour ×2 upsampling of every channel: fine site 2X + e takes coarse site X. */
export function upsampleForward(c: number, s: Shape, dim: number, input: Arr, out: Arr): void {
  const t = upShape(s, dim), n = sites(s), nf = sites(t);
  for (let ch = 0; ch < c; ch++) {
    for (let z = 0; z < t.D; z++) {
      const zc = dim === 3 ? z >> 1 : 0;
      for (let y = 0; y < t.H; y++) {
        const src = ch * n + (zc * s.H + (y >> 1)) * s.W, dst = ch * nf + (z * t.H + y) * t.W;
        for (let x = 0; x < t.W; x++) out[dst + x] = input[src + (x >> 1)]!;
      }
    }
  }
}

/** Adjoint of upsampling: every coarse site sums the gradients of its 2^d fine sites. */
export function upsampleBackward(c: number, s: Shape, dim: number, gradOut: Arr, gradInput: Arr): void {
  const t = upShape(s, dim), n = sites(s), nf = sites(t);
  gradInput.fill(0, 0, c * n);
  for (let ch = 0; ch < c; ch++) {
    for (let z = 0; z < t.D; z++) {
      const zc = dim === 3 ? z >> 1 : 0;
      for (let y = 0; y < t.H; y++) {
        const dst = ch * n + (zc * s.H + (y >> 1)) * s.W, src = ch * nf + (z * t.H + y) * t.W;
        for (let x = 0; x < t.W; x++) gradInput[dst + (x >> 1)]! += gradOut[src + x]!;
      }
    }
  }
}

export function upShape(s: Shape, dim: number): Shape {
  return { D: dim === 3 ? 2 * s.D : 1, H: 2 * s.H, W: 2 * s.W };
}

export type Activation = "relu" | "tanh" | "sigmoid" | "softplus" | "identity";

/** In-place activation; keeps what the backward pass needs in `save` (the output). */
export function activationForward(a: Activation, x: Arr, len: number): void {
  switch (a) {
    case "relu":
      for (let i = 0; i < len; i++) if (x[i]! < 0) x[i] = 0;
      return;
    case "tanh":
      for (let i = 0; i < len; i++) x[i] = Math.tanh(x[i]!);
      return;
    case "sigmoid":
      for (let i = 0; i < len; i++) x[i] = 1 / (1 + Math.exp(-x[i]!));
      return;
    case "softplus":
      for (let i = 0; i < len; i++) {
        const v = x[i]!;
        x[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
      }
      return;
    case "identity":
      return;
  }
}

/** grad ← grad · f′, with f′ computed from the activation's output y. */
export function activationBackward(a: Activation, y: Arr, grad: Arr, len: number): void {
  switch (a) {
    case "relu":
      for (let i = 0; i < len; i++) if (y[i]! <= 0) grad[i] = 0;
      return;
    case "tanh":
      for (let i = 0; i < len; i++) grad[i]! *= 1 - y[i]! * y[i]!;
      return;
    case "sigmoid":
      for (let i = 0; i < len; i++) grad[i]! *= y[i]! * (1 - y[i]!);
      return;
    case "softplus":
      // y = softplus(x) ⇒ f′(x) = σ(x) = 1 − e^{−y}.
      for (let i = 0; i < len; i++) grad[i]! *= -Math.expm1(-y[i]!);
      return;
    case "identity":
      return;
  }
}
