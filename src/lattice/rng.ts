// Seeded random streams: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number
// generators", ACM TOMS 47, 2021), keyed by (seed, task, replica) through a murmur3-style mixer.
//
// Why keyed streams and not one generator split by worker: a stream depends only on what the
// numbers are for, never on which worker or rank drew them, so results do not change with the
// number of workers. The 128-bit state is saved whole in checkpoints (see `rngState`).

/** Identifies a random stream; every field is a non-negative integer below 2^53. */
export interface StreamKey {
  seed: number;
  /** What the numbers are for (a run, a grid point, a training batch, …). */
  task?: number;
  /** Which replica / chain / system inside the task. */
  replica?: number;
}

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;
const INV53 = 1 / 9007199254740992;

/** murmur3 fmix32: a bijective avalanche mixer on 32 bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkKeyPart(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`random stream ${name} must be a non-negative integer below 2^53, got ${v}`);
  }
}

/**
 * Derives the 4-word xoshiro state for a stream. Each 53-bit key part is split into two 32-bit
 * words and absorbed into four lanes with distinct constants; a zero state is impossible because
 * the lanes are re-mixed until non-zero.
 */
export function streamState(key: StreamKey): Uint32Array {
  const parts = [key.seed, key.task ?? 0, key.replica ?? 0];
  parts.forEach((v, i) => checkKeyPart(["seed", "task", "replica"][i]!, v));
  const words: number[] = [];
  for (const v of parts) {
    words.push(v >>> 0, Math.floor(v / TWO32) >>> 0);
  }
  const lanes = [0x9e3779b9, 0x7f4a7c15, 0xf39cc060, 0x5ced5a12];
  const s = new Uint32Array(4);
  for (let lane = 0; lane < 4; lane++) {
    let h = lanes[lane]!;
    for (let i = 0; i < words.length; i++) {
      h = fmix32((h ^ Math.imul(words[i]! + lane + 1, 0xcc9e2d51)) + Math.imul(i + 1, 0x1b873593));
    }
    s[lane] = fmix32(h ^ (words.length * 4));
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  return s;
}

/**
 * xoshiro128** generator. A class because it hides mutable state; its methods are small so that
 * V8 inlines them into the samplers' inner loops.
 */
export class Rng {
  s0: number;
  s1: number;
  s2: number;
  s3: number;

  constructor(state: ArrayLike<number>) {
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.setState(state);
  }

  /** Replaces the state (a checkpoint's, or another generator's `state()`); checked like the constructor's. */
  setState(state: ArrayLike<number>): void {
    if (state.length !== 4) throw new RangeError("an xoshiro128** state has 4 words");
    // Fields hold int32 values so that V8 keeps them unboxed; u32() converts on output.
    this.s0 = state[0]! | 0;
    this.s1 = state[1]! | 0;
    this.s2 = state[2]! | 0;
    this.s3 = state[3]! | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError("xoshiro128** state must not be all zero");
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform 31-bit integer (the top bits of `u32`): the kernels' sign-bit comparisons need it. */
  u31(): number {
    return this.u32() >>> 1;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  float(): number {
    return this.u32() * INV32;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  double(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) * INV53;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias (Lemire's method). */
  below(n: number): number {
    const threshold = (TWO32 - n) % n;
    for (;;) {
      const x = this.u32();
      // The 64-bit product x·n in two exact 48-bit halves.
      const a = (x >>> 16) * n;
      const b = (x & 0xffff) * n;
      const lo = Math.imul(x, n) >>> 0;
      if (lo >= threshold) return Math.floor((a + Math.floor(b / 65536)) / 65536);
    }
  }

  /** Standard normal deviate (Marsaglia polar method; uses 53-bit uniforms). */
  normal(): number {
    for (;;) {
      const u = 2 * this.double() - 1;
      const v = 2 * this.double() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
    }
  }

  /** A copy of the state, for checkpoints. */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /**
   * Advances the state by 2^64 draws (the xoshiro128** jump polynomial). Not needed for keyed
   * streams, kept for splitting one stream into guaranteed non-overlapping sub-streams.
   */
  jump(): void {
    const JUMP = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b];
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (const j of JUMP) {
      for (let b = 0; b < 32; b++) {
        if (j & (1 << b)) {
          t0 ^= this.s0; t1 ^= this.s1; t2 ^= this.s2; t3 ^= this.s3;
        }
        this.u32();
      }
    }
    this.s0 = t0 | 0; this.s1 = t1 | 0; this.s2 = t2 | 0; this.s3 = t3 | 0;
  }
}

/** The generator of a keyed stream. */
export function rngFor(key: StreamKey): Rng {
  return new Rng(streamState(key));
}

/** Threshold t such that `rng.u32() < t` happens with probability p (to within 2^-32). */
export function u32Threshold(p: number): number {
  if (!(p >= 0)) return 0;
  if (p >= 1) return TWO32; // every u32 is below 2^32
  return Math.floor(p * TWO32);
}
