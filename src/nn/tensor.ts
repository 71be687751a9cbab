// Plain tensors for the IRG network engine: { shape, data } with layout [batch, channels, ...spatial]
// (NCHW in 2D, NCDHW in 3D), float32 for work and float64 for gradient checks.
//
// Why plain data: tensors cross worker-thread boundaries and JSON files; a typed array plus a shape
// is all a postMessage or a checkpoint needs, and every kernel is a pure function of its arguments.

export type Arr = Float32Array | Float64Array;
export type DType = "float32" | "float64";

export interface Tensor<A extends Arr = Arr> {
  shape: number[];
  data: A;
}

/** Spatial extent of one sample; D = 1 in 2D so that 2D and 3D share one loop nest. */
export interface Spatial {
  D: number;
  H: number;
  W: number;
}

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

export function sitesOf(s: Spatial): number {
  return s.D * s.H * s.W;
}

/** A new zero array of the given dtype, or of the same dtype as `like`. */
export function alloc(like: Arr | DType, n: number): Arr {
  const f64 = like === "float64" || like instanceof Float64Array;
  return f64 ? new Float64Array(n) : new Float32Array(n);
}

export function dtypeOf(a: Arr): DType {
  return a instanceof Float64Array ? "float64" : "float32";
}

export function zeros(shape: number[], dtype: DType = "float32"): Tensor {
  return { shape: shape.slice(), data: alloc(dtype, product(shape)) };
}

/** Wraps data into a tensor after checking that the sizes agree. */
export function tensor<A extends Arr>(shape: number[], data: A): Tensor<A> {
  if (product(shape) !== data.length) throw new RangeError(`shape [${shape}] needs ${product(shape)} values, got ${data.length}`);
  return { shape: shape.slice(), data };
}

/** Splits [N, C, ...spatial] into its parts; `dim` is the number of spatial axes (2 or 3). */
export function layout(shape: readonly number[], dim: 2 | 3): { N: number; C: number; sp: Spatial; S: number } {
  if (shape.length !== dim + 2) throw new RangeError(`expected a [batch, channels, ${dim} spatial] tensor, got shape [${shape}]`);
  const sp: Spatial = dim === 3 ? { D: shape[2]!, H: shape[3]!, W: shape[4]! } : { D: 1, H: shape[2]!, W: shape[3]! };
  return { N: shape[0]!, C: shape[1]!, sp, S: sitesOf(sp) };
}

/** Samples [from, to) of a batch, sharing no memory with `t` (for handing a slice to a worker). */
export function batchSlice(t: Tensor, from: number, to: number): Tensor {
  const per = product(t.shape.slice(1));
  return { shape: [to - from, ...t.shape.slice(1)], data: t.data.slice(from * per, to * per) as Arr };
}

/** Periodic translation of every sample by `shift` sites per spatial axis ([dy, dx] or [dz, dy, dx]). */
export function roll(t: Tensor, dim: 2 | 3, shift: number[]): Tensor {
  const { N, C, sp, S } = layout(t.shape, dim);
  const [sz, sy, sx] = dim === 3 ? shift : [0, shift[0]!, shift[1]!];
  const out = alloc(t.data, t.data.length);
  const md = (v: number, n: number): number => ((v % n) + n) % n;
  for (let p = 0; p < N * C; p++) {
    for (let z = 0; z < sp.D; z++) {
      for (let y = 0; y < sp.H; y++) {
        for (let x = 0; x < sp.W; x++) {
          const dst = p * S + (md(z + sz!, sp.D) * sp.H + md(y + sy!, sp.H)) * sp.W + md(x + sx!, sp.W);
          out[dst] = t.data[p * S + (z * sp.H + y) * sp.W + x]!;
        }
      }
    }
  }
  return { shape: t.shape.slice(), data: out };
}
