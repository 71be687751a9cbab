// Float32 inference kernels of the network engine (src/nn/infer.ts) in WebAssembly SIMD, four sites per
// f32x4: every convolution of a forward pass as one "rows" product, plus the parity scatter of k = 2.
//
// Why float32 arithmetic: it is what onnxruntime computes, at twice the lanes of doubles. Every output
// accumulates as bias, then + w·x for j = 0, 1, … with one float32 rounding per product and per sum (no
// fused multiply-add), so the scalar twin in src/nn/infer.ts gives the same bits. Addresses are bytes.

/**
 * out[m·os + q] = act(b[m] + Σ_j W[m][j] · x_j[q]) for m < M and q < len (a multiple of 4), where row j
 * of the operand starts at the byte address load<u32>(rows + 4j). relu ≠ 0 applies v < 0 ? 0 : v (one
 * instruction, f32x4.pmax; a NaN passes, as in training's (v + |v|)/2).
 * Weights: the first M4 = 4⌊M/4⌋ outputs interleaved by four, W[m][j] at w[((m >> 2)·J + j)·4 + (m & 3)]
 * (so one pointer and constant offsets reach a block's four), then the other rows plain, at
 * w[M4·J + (m − M4)·J + j]. Sites run in blocks of 8 (outer), outputs in blocks of 4 (inner), so a
 * block's J operand slices stay in L1. Callers keep row strides off multiples of 4 KiB: rows that alias
 * in L1 halve the speed.
 */
export function gemmRows(M: i32, J: i32, len: i32, w: usize, b: usize, rows: usize, out: usize, os: i32, relu: i32): void {
  const Jb = <usize>J << 2, osb = <usize>os << 2, zero = f32x4.splat(0), rend = rows + Jb;
  const M4 = M & ~3, tail = w + <usize>M4 * Jb;
  let q = 0;
  for (; q + 8 <= len; q += 8) {
    const qb = <usize>q << 2;
    let m = 0;
    for (; m < M4; m += 4) {
      const bm = b + (<usize>m << 2);
      let a00 = v128.load32_splat(bm), a10 = v128.load32_splat(bm, 4), a20 = v128.load32_splat(bm, 8), a30 = v128.load32_splat(bm, 12);
      let a01 = a00, a11 = a10, a21 = a20, a31 = a30;
      let w0 = w + <usize>m * Jb;
      for (let r = rows; r < rend; r += 4, w0 += 16) {
        const p = <usize>load<u32>(r) + qb;
        const x0 = v128.load(p), x1 = v128.load(p, 16);
        const c0 = v128.load32_splat(w0), c1 = v128.load32_splat(w0, 4), c2 = v128.load32_splat(w0, 8), c3 = v128.load32_splat(w0, 12);
        a00 = f32x4.add(a00, f32x4.mul(c0, x0));
        a01 = f32x4.add(a01, f32x4.mul(c0, x1));
        a10 = f32x4.add(a10, f32x4.mul(c1, x0));
        a11 = f32x4.add(a11, f32x4.mul(c1, x1));
        a20 = f32x4.add(a20, f32x4.mul(c2, x0));
        a21 = f32x4.add(a21, f32x4.mul(c2, x1));
        a30 = f32x4.add(a30, f32x4.mul(c3, x0));
        a31 = f32x4.add(a31, f32x4.mul(c3, x1));
      }
      if (relu) {
        a00 = f32x4.pmax(a00, zero); a01 = f32x4.pmax(a01, zero); a10 = f32x4.pmax(a10, zero); a11 = f32x4.pmax(a11, zero);
        a20 = f32x4.pmax(a20, zero); a21 = f32x4.pmax(a21, zero); a30 = f32x4.pmax(a30, zero); a31 = f32x4.pmax(a31, zero);
      }
      const o = out + <usize>m * osb + qb;
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + osb, a10); v128.store(o + osb, a11, 16);
      v128.store(o + 2 * osb, a20); v128.store(o + 2 * osb, a21, 16);
      v128.store(o + 3 * osb, a30); v128.store(o + 3 * osb, a31, 16);
    }
  }
  if (q < len) {
    // The last 4 sites of the blocks of four outputs.
    const qb = <usize>q << 2;
    for (let m = 0; m < M4; m++) {
      let a0 = v128.load32_splat(b + (<usize>m << 2));
      let w0 = w + <usize>(m & ~3) * Jb + (<usize>(m & 3) << 2);
      for (let r = rows; r < rend; r += 4, w0 += 16) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(w0), v128.load(<usize>load<u32>(r) + qb)));
      if (relu) a0 = f32x4.pmax(a0, zero);
      v128.store(out + <usize>m * osb + qb, a0);
    }
  }
  // The other outputs one at a time, 16 sites per block (four accumulators keep the adders busy).
  for (let m = M4; m < M; m++) {
    const wm = tail + <usize>(m - M4) * Jb, bm = b + (<usize>m << 2), om = out + <usize>m * osb;
    let q = 0;
    for (; q + 16 <= len; q += 16) {
      const qb = <usize>q << 2;
      let a0 = v128.load32_splat(bm), a1 = a0, a2 = a0, a3 = a0;
      let w0 = wm;
      for (let r = rows; r < rend; r += 4, w0 += 4) {
        const p = <usize>load<u32>(r) + qb, c = v128.load32_splat(w0);
        a0 = f32x4.add(a0, f32x4.mul(c, v128.load(p)));
        a1 = f32x4.add(a1, f32x4.mul(c, v128.load(p, 16)));
        a2 = f32x4.add(a2, f32x4.mul(c, v128.load(p, 32)));
        a3 = f32x4.add(a3, f32x4.mul(c, v128.load(p, 48)));
      }
      if (relu) { a0 = f32x4.pmax(a0, zero); a1 = f32x4.pmax(a1, zero); a2 = f32x4.pmax(a2, zero); a3 = f32x4.pmax(a3, zero); }
      const o = om + qb;
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    }
    for (; q < len; q += 4) {
      const qb = <usize>q << 2;
      let a0 = v128.load32_splat(bm);
      let w0 = wm;
      for (let r = rows; r < rend; r += 4, w0 += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(w0), v128.load(<usize>load<u32>(r) + qb)));
      if (relu) a0 = f32x4.pmax(a0, zero);
      v128.store(om + qb, a0);
    }
  }
}

/**
 * The k = 2 transposed convolution's scatter: tmp holds, for channel c and parity p = ez·4 + ey·2 + ex
 * (2D: ey·2 + ex), the row tmp + ((c·P + p)·len + i·Wp)·4 of coarse row i of the chunk (x < W valid),
 * P = 2^dim. Writes fine[c](2z + ez, 2y + ey, 2x + ex) where coarse row i is (z, y0 + i) of the
 * fine plane `out` (channel stride Sf floats, fine rows of FW = 2W, fine planes of FH rows).
 */
export function scatter2(dim: i32, C: i32, W: i32, Wp: i32, nrows: i32, ts: i32, z: i32, y0: i32, FH: i32, Sf: i32, tmp: usize, out: usize): void {
  const P = dim == 3 ? 8 : 4, FW = W << 1;
  for (let c = 0; c < C; c++) {
    for (let pz = 0; pz < (dim == 3 ? 2 : 1); pz++) {
      for (let ey = 0; ey < 2; ey++) {
        const p0 = pz * 4 + ey * 2;
        const t0 = tmp + (<usize>((c * P + p0) * ts) << 2), t1 = t0 + (<usize>ts << 2);
        for (let i = 0; i < nrows; i++) {
          const zf = dim == 3 ? 2 * z + pz : 0;
          const f = out + (<usize>(c * Sf + (zf * FH + 2 * (y0 + i) + ey) * FW) << 2);
          const s0 = t0 + (<usize>(i * Wp) << 2), s1 = t1 + (<usize>(i * Wp) << 2);
          let x = 0;
          for (; x + 4 <= W; x += 4) {
            const v0 = v128.load(s0 + (<usize>x << 2)), v1 = v128.load(s1 + (<usize>x << 2));
            v128.store(f + (<usize>x << 3), v128.shuffle<f32>(v0, v1, 0, 4, 1, 5));
            v128.store(f + (<usize>x << 3), v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), 16);
          }
          for (; x < W; x++) {
            store<f32>(f + (<usize>x << 3), load<f32>(s0 + (<usize>x << 2)));
            store<f32>(f + (<usize>x << 3), load<f32>(s1 + (<usize>x << 2)), 4);
          }
        }
      }
    }
  }
}

@inline function wrap(v: i32, n: i32): i32 {
  return ((v % n) + n) % n;
}

/**
 * The periodic halo copy: C channels of the conv lattice D×H×W (2D: D = 1) into dst (C channels of
 * Dp×Hp×Wp, Dp = D + 2r in 3D, 1 in 2D; Hp = H + 2r; Wp = W + 2r), so that dst(z + r, y + r, x + r) =
 * v(z, y, x) with every index taken modulo its size (r may exceed the lattice: a 5×5 kernel on a 2×2
 * torus). v = src on that lattice, or with up ≠ 0 src on the half lattice, ×2 nearest upsampled.
 */
export function pad(dim: i32, C: i32, D: i32, H: i32, W: i32, r: i32, up: i32, src: usize, dst: usize): void {
  const Dp = dim == 3 ? D + 2 * r : 1, Hp = H + 2 * r, Wp = W + 2 * r, rz = dim == 3 ? r : 0;
  const sh = up ? 1 : 0, Ds = dim == 3 ? D >> sh : 1, Hs = H >> sh, Ws = W >> sh;
  for (let c = 0; c < C; c++) {
    for (let zp = 0; zp < Dp; zp++) {
      const z = wrap(zp - rz, D) >> sh;
      for (let yp = 0; yp < Hp; yp++) {
        const y = wrap(yp - r, H) >> sh;
        const s = src + (<usize>(((c * Ds + z) * Hs + y) * Ws) << 2), d = dst + (<usize>(((c * Dp + zp) * Hp + yp) * Wp) << 2);
        if (up) {
          for (let x = 0; x < Wp; x++) store<f32>(d + (<usize>x << 2), load<f32>(s + (<usize>(wrap(x - r, W) >> 1) << 2)));
          continue;
        }
        memory.copy(d + (<usize>r << 2), s, <usize>W << 2);
        for (let x = 0; x < r; x++) {
          store<f32>(d + (<usize>x << 2), load<f32>(s + (<usize>wrap(x - r, W) << 2)));
          store<f32>(d + (<usize>(W + r + x) << 2), load<f32>(s + (<usize>wrap(x, W) << 2)));
        }
      }
    }
  }
}

/**
 * A chunk's hidden rows to a lattice: dst + 4·(c·S + i·W + x) = src + 4·(c·ls + i·Wp + x) for c < C,
 * i < nrows, x < W (dst at the chunk's first row of channel 0).
 */
export function rowsOut(C: i32, W: i32, Wp: i32, nrows: i32, ls: i32, S: i32, src: usize, dst: usize): void {
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < nrows; i++) memory.copy(dst + (<usize>(c * S + i * W) << 2), src + (<usize>(c * ls + i * Wp) << 2), <usize>W << 2);
  }
}

/**
 * Window patterns of a two-valued input as byte offsets into a look-up table: pat[row·Wp + x] (u32) =
 * entry · Σ_i (src[row·Wp + x + i] == hi) << i for i < k and x < W, and 0 for W ≤ x < Wp (lanes that are
 * computed but never used). src: padded rows of Wp floats.
 */
export function patterns(nrows: i32, W: i32, Wp: i32, k: i32, hi: f32, entry: i32, src: usize, pat: usize): void {
  const top = k - 1;
  for (let row = 0; row < nrows; row++) {
    const s = src + (<usize>(row * Wp) << 2), p = pat + (<usize>(row * Wp) << 2);
    let v: u32 = 0;
    for (let i = 0; i < top; i++) v |= <u32>(load<f32>(s + (<usize>i << 2)) == hi) << i;
    for (let x = 0; x < W; x++) {
      v |= <u32>(load<f32>(s + (<usize>(x + top) << 2)) == hi) << top;
      store<u32>(p + (<usize>x << 2), v * <u32>entry);
      v >>= 1;
    }
    for (let x = W; x < Wp; x++) store<u32>(p + (<usize>x << 2), 0);
  }
}

/**
 * The first convolution of a two-valued input from tables: out[c·os + q] = act(b[c] + Σ_ρ T_ρ[π_ρ(q)][c])
 * for the R kernel rows ρ (taps along x), where the entry of site q is at the byte offset
 * load<u32>(rows[ρ] + 4q) from T + ρ·rowT, and an entry holds C4 channels (a multiple of 4). Four sites ×
 * four channels per block: the sums run with channels in the lanes, then one 4×4 transpose.
 */
export function tableConv(C4: i32, R: i32, rowT: i32, len: i32, T: usize, b: usize, rows: usize, out: usize, os: i32, relu: i32): void {
  const lenb = <usize>os << 2, zero = f32x4.splat(0);
  for (let q = 0; q < len; q += 4) {
    const q4 = <usize>q << 2;
    for (let cb = 0; cb < C4; cb += 4) {
      const cbb = <usize>cb << 2;
      let a0 = v128.load(b + cbb), a1 = a0, a2 = a0, a3 = a0;
      let t = T + cbb;
      for (let r: usize = 0; r < <usize>R; r++, t += <usize>rowT) {
        const p = <usize>load<u32>(rows + (r << 2)) + q4;
        a0 = f32x4.add(a0, v128.load(t + <usize>load<u32>(p)));
        a1 = f32x4.add(a1, v128.load(t + <usize>load<u32>(p, 4)));
        a2 = f32x4.add(a2, v128.load(t + <usize>load<u32>(p, 8)));
        a3 = f32x4.add(a3, v128.load(t + <usize>load<u32>(p, 12)));
      }
      const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
      let c0 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), c1 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
      let c2 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), c3 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
      if (relu) { c0 = f32x4.pmax(c0, zero); c1 = f32x4.pmax(c1, zero); c2 = f32x4.pmax(c2, zero); c3 = f32x4.pmax(c3, zero); }
      const o = out + <usize>cb * lenb + q4;
      v128.store(o, c0);
      v128.store(o + lenb, c1);
      v128.store(o + 2 * lenb, c2);
      v128.store(o + 3 * lenb, c3);
    }
  }
}

/**
 * Whether the n floats at src take at most two values, neither NaN: returns 1 and stores them (lo ≤ hi;
 * equal when there is one) at out and out + 4, else 0. Values are compared as bits (−0 and +0 differ). Branch-free
 * over the bulk: random spins would mispredict a per-element branch half the time.
 */
export function twoValues(n: i32, src: usize, out: usize): i32 {
  if (n == 0) return 0;
  const a = load<u32>(src);
  let b = a, i = 1;
  for (; i < n && b == a; i++) b = load<u32>(src + (<usize>i << 2));
  const va = i32x4.splat(a), vb = i32x4.splat(b);
  let ok = i32x4.splat(-1);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    ok = v128.and(ok, v128.or(i32x4.eq(v, va), i32x4.eq(v, vb)));
  }
  if (!i32x4.all_true(ok)) return 0;
  for (; i < n; i++) {
    const v = load<u32>(src + (<usize>i << 2));
    if (v != a && v != b) return 0;
  }
  const fa = reinterpret<f32>(a), fb = reinterpret<f32>(b);
  if (isNaN(fa) || isNaN(fb)) return 0;
  store<f32>(out, fa <= fb ? fa : fb);
  store<f32>(out, fa <= fb ? fb : fa, 4);
  return 1;
}
