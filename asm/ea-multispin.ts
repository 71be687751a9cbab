// AssemblyScript (compiled to WebAssembly SIMD by `npm run asbuild`): the multi-spin EA sweep and the masked
// replica exchanges of src/mc/ea-multispin.ts on groups of W = 4 blocks, one 128-bit vector per site.
//
// Why a second implementation: V8 cannot vectorise the TypeScript kernel, and four 32-sample blocks per
// v128 with SIMD xoshiro128** are about 10× faster. It must stay bit-identical to msSweepSlot / msSwap
// (test/ea-multispin.test.ts runs both on the same words): the four lanes of a vector are the four blocks,
// each with its own generator, and every operation is the lane-wise form of the TypeScript one.
// Memory is the caller's (imported); `configure` receives the layout's byte offsets once. The neighbour
// table and colour lists are passed for symmetry with the TypeScript kernel but not read: row arithmetic
// (x fastest, periodic wrap) is faster than six table loads per site.

let V: i32 = 0;
let LL: i32 = 0;
let Z: i32 = 0;
let T: i32 = 0;
let B: i32 = 0;
let SLOTS: i32 = 0;
let GROUPS: usize = 0;
let GROUP_BYTES: usize = 0;
let OFF_COUPLINGS: usize = 0;
let OFF_SPINS: usize = 0;
let OFF_RNG: usize = 0;
let OFF_THRESHOLDS: usize = 0;
let OFF_COUNTERS: usize = 0;
let OFF_MASKS: usize = 0;
let NB: usize = 0;
let COLOUR0: usize = 0;
let N0: i32 = 0;
let COLOUR1: usize = 0;
let N1: i32 = 0;

/** Byte addresses of the shared tables and of group 0; offsets inside a group in bytes. */
export function configure(
  l: i32, v: i32, z: i32, t: i32, b: i32, groups: usize, groupBytes: usize,
  couplings: usize, spins: usize, rng: usize, thresholds: usize, counters: usize, masks: usize,
  nb: usize, colour0: usize, n0: i32, colour1: usize, n1: i32,
): void {
  LL = l; V = v; Z = z; T = t; B = b; SLOTS = 2 * t; GROUPS = groups; GROUP_BYTES = groupBytes;
  OFF_COUPLINGS = couplings; OFF_SPINS = spins; OFF_RNG = rng; OFF_THRESHOLDS = thresholds; OFF_COUNTERS = counters; OFF_MASKS = masks;
  NB = nb; COLOUR0 = colour0; N0 = n0; COLOUR1 = colour1; N1 = n1;
}

// @ts-ignore: decorator
@inline function rotl(x: v128, k: i32): v128 {
  return v128.or(i32x4.shl(x, k), i32x4.shr_u(x, 32 - k));
}

/** Ripple-carry add of the 6-plane low counter into the B planes at `cnt`. */
function flush(cnt: usize, l0: v128, l1: v128, l2: v128, l3: v128, l4: v128, l5: v128): void {
  let c = i32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const x = b == 0 ? l0 : b == 1 ? l1 : b == 2 ? l2 : b == 3 ? l3 : b == 4 ? l4 : b == 5 ? l5 : i32x4.splat(0);
    const at = cnt + (<usize>b << 4);
    const h = v128.load(at);
    const hx = v128.xor(h, x);
    v128.store(at, v128.xor(hx, c));
    c = v128.or(v128.and(h, x), v128.and(hx, c));
    if (b >= 5 && !v128.any_true(c)) break;
  }
}

// Sites are visited in ascending index order within each colour (x fastest), the order of the colour
// lists of the TypeScript kernel; neighbours come from row arithmetic, couplings from the site's record.
function sweepSlot(base: usize, slot: i32): void {
  const sp = base + OFF_SPINS + <usize>slot * <usize>V * 16;
  const jc = base + OFF_COUPLINGS;
  const rs = base + OFF_RNG + <usize>slot * 64;
  const th = base + OFF_THRESHOLDS + <usize>(slot % T) * 16;
  const t0 = i32x4.splat(load<i32>(th)), t1 = i32x4.splat(load<i32>(th, 4)), t2 = i32x4.splat(load<i32>(th, 8));
  const cnt = base + OFF_COUNTERS + <usize>slot * <usize>B * 16;
  const zero = i32x4.splat(0);
  const five = i32x4.splat(5), nine = i32x4.splat(9);
  const three = Z == 6;
  const L = LL;
  const row = <usize>L << 4;
  const plane = <usize>(L * L) << 4;
  const nz = three ? L : 1;
  const zrec = <usize>Z << 4;
  let s0 = v128.load(rs), s1 = v128.load(rs, 16), s2 = v128.load(rs, 32), s3 = v128.load(rs, 48);
  for (let b = 0; b < B; b++) v128.store(cnt + (<usize>b << 4), zero);
  let l0 = zero, l1 = zero, l2 = zero, l3 = zero, l4 = zero, l5 = zero;
  let n = 0;
  for (let c = 0; c < 2; c++) {
    for (let z = 0; z < nz; z++) {
      const pz = sp + <usize>z * plane;
      const zUp = three ? sp + <usize>(z == L - 1 ? 0 : z + 1) * plane : 0;
      const zDn = three ? sp + <usize>(z == 0 ? L - 1 : z - 1) * plane : 0;
      for (let y = 0; y < L; y++) {
        const yo = <usize>y * row;
        const r0 = pz + yo;
        const yUp = pz + <usize>(y == L - 1 ? 0 : y + 1) * row;
        const yDn = pz + <usize>(y == 0 ? L - 1 : y - 1) * row;
        const site0 = <usize>(z * L * L + y * L);
        for (let x = (y + z + c) & 1; x < L; x += 2) {
          const xo = <usize>x << 4;
          const xp = <usize>(x == L - 1 ? 0 : x + 1) << 4;
          const xm = <usize>(x == 0 ? L - 1 : x - 1) << 4;
          const jo = jc + (site0 + <usize>x) * zrec;
          const S = v128.load(r0 + xo);
          const a0 = v128.xor(v128.xor(S, v128.load(r0 + xp)), v128.load(jo));
          const a1 = v128.xor(v128.xor(S, v128.load(r0 + xm)), v128.load(jo, 16));
          const a2 = v128.xor(v128.xor(S, v128.load(yUp + xo)), v128.load(jo, 32));
          const a3 = v128.xor(v128.xor(S, v128.load(yDn + xo)), v128.load(jo, 48));
          let a4 = zero, a5 = zero;
          if (three) {
            a4 = v128.xor(v128.xor(S, v128.load(zUp + yo + xo)), v128.load(jo, 64));
            a5 = v128.xor(v128.xor(S, v128.load(zDn + yo + xo)), v128.load(jo, 80));
          }
          const x1 = v128.xor(a0, a1), sA = v128.xor(x1, a2), cA = v128.or(v128.and(a0, a1), v128.and(x1, a2));
          const x2 = v128.xor(a3, a4), sB = v128.xor(x2, a5), cB = v128.or(v128.and(a3, a4), v128.and(x2, a5));
          const u0 = v128.xor(sA, sB), k0 = v128.and(sA, sB);
          const xc = v128.xor(cA, cB), u1 = v128.xor(xc, k0), u2 = v128.or(v128.and(cA, cB), v128.and(xc, k0));
          const m1 = v128.or(v128.or(u0, u1), u2), m2 = v128.or(u1, u2), m3 = v128.or(u2, v128.and(u1, u0));
          const mm = i32x4.mul(s1, five);
          const r = i32x4.shr_u(i32x4.mul(rotl(mm, 7), nine), 1);
          const t = i32x4.shl(s1, 9);
          s2 = v128.xor(s2, s0); s3 = v128.xor(s3, s1); s1 = v128.xor(s1, s2); s0 = v128.xor(s0, s3); s2 = v128.xor(s2, t); s3 = rotl(s3, 11);
          const flip = v128.or(
            v128.or(v128.not(i32x4.gt_s(r, t0)), v128.andnot(m1, i32x4.gt_s(r, t1))),
            v128.or(v128.andnot(m2, i32x4.gt_s(r, t2)), m3),
          );
          v128.store(r0 + xo, v128.xor(S, flip));
          if (c == 1) {
            const v1 = three ? v128.xor(u1, v128.andnot(flip, u0)) : v128.xor(u1, v128.and(flip, u0));
            const v2 = v128.xor(u2, v128.and(flip, v128.xor(v128.not(three ? m3 : m1), u2)));
            let cc = v128.and(l0, u0);
            l0 = v128.xor(l0, u0);
            let h = v128.xor(l1, v1);
            let cn = v128.or(v128.and(l1, v1), v128.and(h, cc));
            l1 = v128.xor(h, cc);
            cc = cn;
            h = v128.xor(l2, v2);
            cn = v128.or(v128.and(l2, v2), v128.and(h, cc));
            l2 = v128.xor(h, cc);
            cc = cn;
            cn = v128.and(l3, cc); l3 = v128.xor(l3, cc); cc = cn;
            cn = v128.and(l4, cc); l4 = v128.xor(l4, cc); cc = cn;
            l5 = v128.xor(l5, cc);
            if (++n == 10) {
              flush(cnt, l0, l1, l2, l3, l4, l5);
              l0 = zero; l1 = zero; l2 = zero; l3 = zero; l4 = zero; l5 = zero;
              n = 0;
            }
          }
        }
      }
    }
  }
  if (n > 0) flush(cnt, l0, l1, l2, l3, l4, l5);
  v128.store(rs, s0); v128.store(rs, s1, 16); v128.store(rs, s2, 32); v128.store(rs, s3, 48);
}

/** One sweep of every slot of group g. */
export function sweep(g: i32): void {
  const base = GROUPS + <usize>g * GROUP_BYTES;
  for (let slot = 0; slot < SLOTS; slot++) sweepSlot(base, slot);
}

/** The masked exchanges of group g: pairs (k, k+1) of each replica in turn. */
export function swap(g: i32): void {
  const base = GROUPS + <usize>g * GROUP_BYTES;
  const bytes = <usize>V * 16;
  for (let a = 0; a < 2; a++) {
    for (let k = 0; k + 1 < T; k++) {
      const m = v128.load(base + OFF_MASKS + <usize>(a * (T - 1) + k) * 16);
      if (!v128.any_true(m)) continue;
      const p = base + OFF_SPINS + <usize>(a * T + k) * bytes;
      const q = p + bytes;
      for (let o: usize = 0; o < bytes; o += 16) {
        const x = v128.and(v128.xor(v128.load(p + o), v128.load(q + o)), m);
        v128.store(p + o, v128.xor(v128.load(p + o), x));
        v128.store(q + o, v128.xor(v128.load(q + o), x));
      }
    }
  }
}

let P: i32 = 0;
let OFF_SLABS: usize = 0;

/** The slab counters' planes and offset (msSlabCounts in src/mc/ea-multispin.ts). */
export function configureSlabs(p: i32, slabs: usize): void {
  P = p;
  OFF_SLABS = slabs;
}

// @ts-ignore: decorator
@inline function addBit(at: usize, x: v128): void {
  for (let p = 0; p < P; p++) {
    if (!v128.any_true(x)) break;
    const a = at + (<usize>p << 4);
    const h = v128.load(a);
    v128.store(a, v128.xor(h, x));
    x = v128.and(x, h);
  }
}

/** Sites with ρ = s·t = +1 per slab (axis, coordinate) and sample, between two slots of group g. */
export function slabs(g: i32, slotA: i32, slotB: i32): void {
  const base = GROUPS + <usize>g * GROUP_BYTES;
  const a = base + OFF_SPINS + <usize>slotA * <usize>V * 16;
  const b = base + OFF_SPINS + <usize>slotB * <usize>V * 16;
  const sc = base + OFF_SLABS;
  const L = LL;
  const dims = Z >> 1;
  const stride = <usize>P << 4;
  for (let o: usize = 0; o < <usize>(dims * L * P) * 16; o += 16) v128.store(sc + o, i32x4.splat(0));
  const nz = dims == 3 ? L : 1;
  let i: usize = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < L; y++) {
      for (let x = 0; x < L; x++) {
        const rho = v128.not(v128.xor(v128.load(a + (i << 4)), v128.load(b + (i << 4))));
        addBit(sc + <usize>x * stride, rho);
        addBit(sc + <usize>(L + y) * stride, rho);
        if (dims == 3) addBit(sc + <usize>(2 * L + z) * stride, rho);
        i++;
      }
    }
  }
}

/**
 * E = 2U − dV of every slot and sample of group g from the counters (slotEnergies in src/mc/ea-multispin.ts),
 * written as i32 at out[slot·128 + lane].
 */
export function energies(g: i32, out: usize): void {
  const base = GROUPS + <usize>g * GROUP_BYTES;
  const dV = (Z >> 1) * V;
  for (let slot = 0; slot < SLOTS; slot++) {
    const cnt = base + OFF_COUNTERS + <usize>slot * <usize>B * 16;
    const o = out + <usize>slot * 512;
    for (let w = 0; w < 4; w++) {
      for (let l = 0; l < 32; l++) {
        let U = 0;
        for (let b = B - 1; b >= 0; b--) U = (U << 1) | ((load<i32>(cnt + (<usize>b << 4) + (<usize>w << 2)) >>> l) & 1);
        store<i32>(o + (<usize>(w * 32 + l) << 2), 2 * U - dV);
      }
    }
  }
}

// Parallel-tempering exchange decisions of every chain (exchangeBatch in src/mc/parallel-tempering.ts, bit
// for bit: the same streams, the same e^x, which comes from a table filled by JavaScript's Math.exp or,
// past the table, from Math.exp itself), reading each chain's energies from the counters the sweep left.

// @ts-ignore: decorator
@external("env", "exp")
declare function jsExp(x: f64): f64;

let XN: i32 = 0;
let X_AT: usize = 0;
let X_TEMP: usize = 0;
let X_ENERGY: usize = 0;
let X_COLD: usize = 0;
let X_TRIPS: usize = 0;
let X_ATT: usize = 0;
let X_ACC: usize = 0;
let X_RNG: usize = 0;
let X_CHAINS: usize = 0;
let X_TABLE: usize = 0;
let X_TLEN: i32 = 0;
let X_BETAS: usize = 0;

/** Byte addresses of the books (see BatchStorage), the chain table [group, lane] per chain, the e^x table [pair][m] of X_TLEN entries, the betas. */
export function configureExchange(n: i32, at: usize, temp: usize, energy: usize, cold: usize, trips: usize, att: usize, acc: usize,
  rng: usize, chains: usize, table: usize, tlen: i32, betas: usize): void {
  XN = n; X_AT = at; X_TEMP = temp; X_ENERGY = energy; X_COLD = cold; X_TRIPS = trips; X_ATT = att; X_ACC = acc;
  X_RNG = rng; X_CHAINS = chains; X_TABLE = table; X_TLEN = tlen; X_BETAS = betas;
}

export function exchange(): void {
  const C = 2 * T, P = T - 1;
  const dV = (Z >> 1) * V;
  const INV53: f64 = 1.0 / 9007199254740992.0;
  for (let n = 0; n < XN; n++) {
    const g = load<i32>(X_CHAINS + (<usize>n << 3)), lane = load<i32>(X_CHAINS + (<usize>n << 3), 4);
    const base = GROUPS + <usize>g * GROUP_BYTES;
    const w = <usize>(lane >> 5), sh = lane & 31, bit = 1 << sh;
    const oc = <usize>(n * C), op = <usize>(n * P);
    for (let slot = 0; slot < C; slot++) {
      const cnt = base + OFF_COUNTERS + <usize>slot * <usize>B * 16 + (w << 2);
      let U = 0;
      for (let b = B - 1; b >= 0; b--) U = (U << 1) | ((load<i32>(cnt + (<usize>b << 4)) >>> sh) & 1);
      const walker = <usize>load<i32>(X_AT + ((oc + <usize>slot) << 2));
      store<f64>(X_ENERGY + ((oc + walker) << 3), <f64>(2 * U - dV));
    }
    const st = X_RNG + (<usize>n << 4);
    let s0 = load<i32>(st), s1 = load<i32>(st, 4), s2 = load<i32>(st, 8), s3 = load<i32>(st, 12);
    for (let a = 0; a < 2; a++) {
      const o = oc + <usize>(a * T);
      for (let k = 0; k < P; k++) {
        const c0 = <usize>load<i32>(X_AT + ((o + <usize>k) << 2)), c1 = <usize>load<i32>(X_AT + ((o + <usize>k + 1) << 2));
        const dE = load<f64>(X_ENERGY + ((oc + c1) << 3)) - load<f64>(X_ENERGY + ((oc + c0) << 3));
        let p: f64 = 1.0;
        if (dE < 0) {
          const m = <i32>(-dE);
          p = m < X_TLEN ? load<f64>(X_TABLE + ((<usize>(k * X_TLEN + m)) << 3)) : jsExp((load<f64>(X_BETAS + (<usize>(k + 1) << 3)) - load<f64>(X_BETAS + (<usize>k << 3))) * dE);
        }
        const ap = X_ATT + ((op + <usize>k) << 3);
        store<f64>(ap, load<f64>(ap) + 1.0);
        let accept = p >= 1.0;
        if (!accept) {
          // Two draws of the chain's xoshiro128** stream (kept in locals), as Rng.double() makes them.
          let m5 = s1 * 5;
          const x = <u32>(((m5 << 7) | (<u32>m5 >>> 25)) * 9);
          let t9 = s1 << 9;
          s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t9; s3 = (s3 << 11) | (<u32>s3 >>> 21);
          m5 = s1 * 5;
          const y = <u32>(((m5 << 7) | (<u32>m5 >>> 25)) * 9);
          t9 = s1 << 9;
          s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t9; s3 = (s3 << 11) | (<u32>s3 >>> 21);
          accept = (<f64>(x >>> 5) * 67108864.0 + <f64>(y >>> 6)) * INV53 < p;
        }
        if (accept) {
          store<i32>(X_AT + ((o + <usize>k) << 2), <i32>c1);
          store<i32>(X_AT + ((o + <usize>k + 1) << 2), <i32>c0);
          store<i32>(X_TEMP + ((oc + c1) << 2), k);
          store<i32>(X_TEMP + ((oc + c0) << 2), k + 1);
          const cp = X_ACC + ((op + <usize>k) << 3);
          store<f64>(cp, load<f64>(cp) + 1.0);
          const mp = base + OFF_MASKS + (<usize>(a * P + k) << 4) + (w << 2);
          store<i32>(mp, load<i32>(mp) | bit);
        }
      }
    }
    store<i32>(st, s0); store<i32>(st, s1, 4); store<i32>(st, s2, 8); store<i32>(st, s3, 12);
    if (T >= 2) {
      for (let c = 0; c < C; c++) {
        const kk = load<i32>(X_TEMP + ((oc + <usize>c) << 2));
        const cp = X_COLD + oc + <usize>c;
        if (kk == T - 1) store<u8>(cp, 1);
        else if (kk == 0 && load<u8>(cp) == 1) {
          const tp = X_TRIPS + ((oc + <usize>c) << 2);
          store<i32>(tp, load<i32>(tp) + 1);
          store<u8>(cp, 0);
        }
      }
    }
  }
}
