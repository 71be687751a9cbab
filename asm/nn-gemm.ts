// The GEMM of the network's convolutions (src/nn/gemm.ts gemmAcc) in WebAssembly SIMD, two sites per
// f64x2 lane pair: out[i][x] += Σ_j w[i][j] · a[j][x], float32 storage, double arithmetic.
//
// Why doubles: the TypeScript kernel computes in doubles (JavaScript numbers) and rounds once per store.
// Doing the same operations in the same order here gives bit-identical outputs, so a network samples the
// same configurations with either kernel (the WebAssembly one is only faster). Pointers are byte offsets
// into the imported memory; strides are in elements.

@inline function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

@inline function st2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

@inline function w64(p: usize): f64 {
  return <f64>load<f32>(p);
}

export function gemmAcc(M: i32, J: i32, len: i32, w: usize, ws: i32, a: usize, as_: i32, out: usize, os: i32): void {
  const wsb = <usize>ws << 2, asb = <usize>as_ << 2, osb = <usize>os << 2;
  const pairs = len & ~1;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const o0 = out + <usize>i * osb, o1 = o0 + osb, o2 = o1 + osb, o3 = o2 + osb;
    const r0 = w + <usize>i * wsb, r1 = r0 + wsb, r2 = r1 + wsb, r3 = r2 + wsb;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const jb = <usize>j << 2;
      const s00 = w64(r0 + jb), s01 = w64(r0 + jb + 4), s02 = w64(r0 + jb + 8), s03 = w64(r0 + jb + 12);
      const s10 = w64(r1 + jb), s11 = w64(r1 + jb + 4), s12 = w64(r1 + jb + 8), s13 = w64(r1 + jb + 12);
      const s20 = w64(r2 + jb), s21 = w64(r2 + jb + 4), s22 = w64(r2 + jb + 8), s23 = w64(r2 + jb + 12);
      const s30 = w64(r3 + jb), s31 = w64(r3 + jb + 4), s32 = w64(r3 + jb + 8), s33 = w64(r3 + jb + 12);
      const w00 = f64x2.splat(s00), w01 = f64x2.splat(s01), w02 = f64x2.splat(s02), w03 = f64x2.splat(s03);
      const w10 = f64x2.splat(s10), w11 = f64x2.splat(s11), w12 = f64x2.splat(s12), w13 = f64x2.splat(s13);
      const w20 = f64x2.splat(s20), w21 = f64x2.splat(s21), w22 = f64x2.splat(s22), w23 = f64x2.splat(s23);
      const w30 = f64x2.splat(s30), w31 = f64x2.splat(s31), w32 = f64x2.splat(s32), w33 = f64x2.splat(s33);
      const a0 = a + <usize>j * asb, a1 = a0 + asb, a2 = a1 + asb, a3 = a2 + asb;
      let x = 0;
      for (; x < pairs; x += 2) {
        const xb = <usize>x << 2;
        const v0 = ld2(a0 + xb), v1 = ld2(a1 + xb), v2 = ld2(a2 + xb), v3 = ld2(a3 + xb);
        st2(o0 + xb, f64x2.add(ld2(o0 + xb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(w00, v0), f64x2.mul(w01, v1)), f64x2.mul(w02, v2)), f64x2.mul(w03, v3))));
        st2(o1 + xb, f64x2.add(ld2(o1 + xb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(w10, v0), f64x2.mul(w11, v1)), f64x2.mul(w12, v2)), f64x2.mul(w13, v3))));
        st2(o2 + xb, f64x2.add(ld2(o2 + xb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(w20, v0), f64x2.mul(w21, v1)), f64x2.mul(w22, v2)), f64x2.mul(w23, v3))));
        st2(o3 + xb, f64x2.add(ld2(o3 + xb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(w30, v0), f64x2.mul(w31, v1)), f64x2.mul(w32, v2)), f64x2.mul(w33, v3))));
      }
      if (x < len) {
        const xb = <usize>x << 2;
        const v0 = w64(a0 + xb), v1 = w64(a1 + xb), v2 = w64(a2 + xb), v3 = w64(a3 + xb);
        store<f32>(o0 + xb, <f32>(w64(o0 + xb) + (s00 * v0 + s01 * v1 + s02 * v2 + s03 * v3)));
        store<f32>(o1 + xb, <f32>(w64(o1 + xb) + (s10 * v0 + s11 * v1 + s12 * v2 + s13 * v3)));
        store<f32>(o2 + xb, <f32>(w64(o2 + xb) + (s20 * v0 + s21 * v1 + s22 * v2 + s23 * v3)));
        store<f32>(o3 + xb, <f32>(w64(o3 + xb) + (s30 * v0 + s31 * v1 + s32 * v2 + s33 * v3)));
      }
    }
    // The 1–3 leftover inputs in one pass, as the TypeScript kernel does.
    const rem = J - j;
    if (rem > 0) {
      const jb = <usize>j << 2;
      const a0 = a + <usize>j * asb, a1 = a0 + asb, a2 = a1 + asb;
      const s00 = w64(r0 + jb), s10 = w64(r1 + jb), s20 = w64(r2 + jb), s30 = w64(r3 + jb);
      const s01 = rem > 1 ? w64(r0 + jb + 4) : 0.0, s11 = rem > 1 ? w64(r1 + jb + 4) : 0.0, s21 = rem > 1 ? w64(r2 + jb + 4) : 0.0, s31 = rem > 1 ? w64(r3 + jb + 4) : 0.0;
      const s02 = rem > 2 ? w64(r0 + jb + 8) : 0.0, s12 = rem > 2 ? w64(r1 + jb + 8) : 0.0, s22 = rem > 2 ? w64(r2 + jb + 8) : 0.0, s32 = rem > 2 ? w64(r3 + jb + 8) : 0.0;
      for (let x = 0; x < len; x++) {
        const xb = <usize>x << 2;
        const v0 = w64(a0 + xb);
        if (rem === 1) {
          store<f32>(o0 + xb, <f32>(w64(o0 + xb) + s00 * v0));
          store<f32>(o1 + xb, <f32>(w64(o1 + xb) + s10 * v0));
          store<f32>(o2 + xb, <f32>(w64(o2 + xb) + s20 * v0));
          store<f32>(o3 + xb, <f32>(w64(o3 + xb) + s30 * v0));
        } else if (rem === 2) {
          const v1 = w64(a1 + xb);
          store<f32>(o0 + xb, <f32>(w64(o0 + xb) + (s00 * v0 + s01 * v1)));
          store<f32>(o1 + xb, <f32>(w64(o1 + xb) + (s10 * v0 + s11 * v1)));
          store<f32>(o2 + xb, <f32>(w64(o2 + xb) + (s20 * v0 + s21 * v1)));
          store<f32>(o3 + xb, <f32>(w64(o3 + xb) + (s30 * v0 + s31 * v1)));
        } else {
          const v1 = w64(a1 + xb), v2 = w64(a2 + xb);
          store<f32>(o0 + xb, <f32>(w64(o0 + xb) + (s00 * v0 + s01 * v1 + s02 * v2)));
          store<f32>(o1 + xb, <f32>(w64(o1 + xb) + (s10 * v0 + s11 * v1 + s12 * v2)));
          store<f32>(o2 + xb, <f32>(w64(o2 + xb) + (s20 * v0 + s21 * v1 + s22 * v2)));
          store<f32>(o3 + xb, <f32>(w64(o3 + xb) + (s30 * v0 + s31 * v1 + s32 * v2)));
        }
      }
    }
  }
  for (; i < M; i++) {
    const o0 = out + <usize>i * osb, r0 = w + <usize>i * wsb;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const jb = <usize>j << 2;
      const s0 = w64(r0 + jb), s1 = w64(r0 + jb + 4), s2 = w64(r0 + jb + 8), s3 = w64(r0 + jb + 12);
      const a0 = a + <usize>j * asb, a1 = a0 + asb, a2 = a1 + asb, a3 = a2 + asb;
      for (let x = 0; x < len; x++) {
        const xb = <usize>x << 2;
        store<f32>(o0 + xb, <f32>(w64(o0 + xb) + (s0 * w64(a0 + xb) + s1 * w64(a1 + xb) + s2 * w64(a2 + xb) + s3 * w64(a3 + xb))));
      }
    }
    for (; j < J; j++) {
      const s0 = w64(r0 + (<usize>j << 2)), a0 = a + <usize>j * asb;
      for (let x = 0; x < len; x++) {
        const xb = <usize>x << 2;
        store<f32>(o0 + xb, <f32>(w64(o0 + xb) + s0 * w64(a0 + xb)));
      }
    }
  }
}

@inline function pair(p: usize, q: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(w64(p)), 1, w64(q));
}

/**
 * The 2D k = 2 transposed convolution of src/nn/convt.ts convT2Rows for `rows` coarse rows of width W:
 * out[c][2y + ey][2x + ex] = b[c] + Σ_ci w[c][ci][2ey + ex] · a[ci][y][x], the fine rows of channel c
 * contiguous at out + c·(2·rows·2W). Lanes are the two ex parities of a fine row; the sums run in the
 * order of the TypeScript kernel (blocks of four inputs), so the results are bit-identical.
 * w: weights [cout][cin][4] then the cout biases; a: channel ci at a + ci·as, row y at + y·W.
 */
export function convT2d(cin: i32, cout: i32, W: i32, rows: i32, a: usize, as_: i32, w: usize, out: usize): void {
  const FW = 2 * W, plane = <usize>(2 * rows * FW), asb = <usize>as_ << 2, Wb = <usize>W << 2, FWb = <usize>FW << 2;
  for (let c = 0; c < cout; c++) {
    const oc = out + (<usize>c * plane << 2);
    const b = load<f32>(w + (<usize>(cout * cin * 4 + c) << 2));
    for (let k: usize = 0; k < plane; k++) store<f32>(oc + (k << 2), b);
    let ci = 0;
    for (; ci + 4 <= cin; ci += 4) {
      const k0 = w + (<usize>((c * cin + ci) * 4) << 2), k1 = k0 + 16, k2 = k1 + 16, k3 = k2 + 16;
      const p0 = pair(k0, k0 + 4), p1 = pair(k1, k1 + 4), p2 = pair(k2, k2 + 4), p3 = pair(k3, k3 + 4);
      const q0 = pair(k0 + 8, k0 + 12), q1 = pair(k1 + 8, k1 + 12), q2 = pair(k2 + 8, k2 + 12), q3 = pair(k3 + 8, k3 + 12);
      for (let r = 0; r < rows; r++) {
        const a0 = a + <usize>ci * asb + <usize>r * Wb, a1 = a0 + asb, a2 = a1 + asb, a3 = a2 + asb;
        const f0 = oc + <usize>(2 * r) * FWb, f1 = f0 + FWb;
        for (let x = 0; x < W; x++) {
          const xb = <usize>x << 2, fb = <usize>x << 3;
          const v0 = f64x2.splat(w64(a0 + xb)), v1 = f64x2.splat(w64(a1 + xb)), v2 = f64x2.splat(w64(a2 + xb)), v3 = f64x2.splat(w64(a3 + xb));
          st2(f0 + fb, f64x2.add(ld2(f0 + fb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(p0, v0), f64x2.mul(p1, v1)), f64x2.mul(p2, v2)), f64x2.mul(p3, v3))));
          st2(f1 + fb, f64x2.add(ld2(f1 + fb), f64x2.add(f64x2.add(f64x2.add(f64x2.mul(q0, v0), f64x2.mul(q1, v1)), f64x2.mul(q2, v2)), f64x2.mul(q3, v3))));
        }
      }
    }
    for (; ci < cin; ci++) {
      const k0 = w + (<usize>((c * cin + ci) * 4) << 2);
      const p0 = pair(k0, k0 + 4), q0 = pair(k0 + 8, k0 + 12);
      for (let r = 0; r < rows; r++) {
        const a0 = a + <usize>ci * asb + <usize>r * Wb;
        const f0 = oc + <usize>(2 * r) * FWb, f1 = f0 + FWb;
        for (let x = 0; x < W; x++) {
          const fb = <usize>x << 3;
          const v = f64x2.splat(w64(a0 + (<usize>x << 2)));
          st2(f0 + fb, f64x2.add(ld2(f0 + fb), f64x2.mul(p0, v)));
          st2(f1 + fb, f64x2.add(ld2(f1 + fb), f64x2.mul(q0, v)));
        }
      }
    }
  }
}
