// Parallel tempering (replica exchange) over a β ladder: after every sweep, neighbouring temperatures
// swap configurations with probability min(1, e^{(β_{k+1}−β_k)(E_{k+1}−E_k)}). Hukushima & Nemoto, JPSJ 65, 1604 (1996).
//
// Model-agnostic: a ladder holds `copies` configurations that the caller owns and sweeps; this file
// only moves copies between temperatures (a permutation, so no configuration is ever copied) and keeps
// the books: acceptance per neighbouring pair and round trips of every copy's temperature random walk,
// the standard evidence (with log binning) that a spin-glass run is equilibrated (docs/ea.md).

import { type Rng } from "../lattice/rng.js";

/** Where the copies of `sets` independent ladders of `temps` temperatures stand. */
export interface Tempering {
  readonly temps: number;
  /** Independent ladders (2 for the two real replicas of a spin glass); copy c belongs to set ⌊c / temps⌋. */
  readonly sets: number;
  /** at[a·temps + k] = the copy at temperature k in set a. */
  at: Int32Array;
  /** temp[c] = temperature index of copy c (inverse of `at`). */
  temp: Int32Array;
  /** Energy of every copy, kept current by the caller after each sweep. */
  energy: Float64Array;
  /** 1 when copy c has reached the coldest temperature since it last left the hottest one. */
  cold: Uint8Array;
  /** Completed round trips hottest → coldest → hottest, per copy. */
  trips: Int32Array;
  /** Proposed and accepted swaps per neighbouring pair (k, k+1), all sets together. */
  attempted: Float64Array;
  accepted: Float64Array;
}

/** Copy c starts at temperature c mod temps of its set (a batch of one ladder). */
export function makeTempering(temps: number, sets: number): Tempering {
  return makeTemperingBatch(1, temps, sets).ladders[0]!;
}

/** Probability of swapping the copies at β_k (energy e_k) and β_{k+1} (energy e_{k+1}). */
export function exchangeProbability(betaK: number, betaK1: number, eK: number, eK1: number): number {
  const x = (betaK1 - betaK) * (eK1 - eK);
  return x >= 0 ? 1 : Math.exp(x);
}

/**
 * One exchange pass: for every set, pairs (0,1), (1,2), … in turn. Each proposal satisfies detailed
 * balance with respect to Π_k e^{−β_k E(x_k)} on its own, so the pass does too. `onSwap(set, k)` hears
 * every accepted swap in order (the multi-spin engine moves the configurations themselves).
 */
export function exchangePass(t: Tempering, betas: ArrayLike<number>, rng: Rng, onSwap?: (set: number, k: number) => void): void {
  const T = t.temps;
  if (betas.length !== T) throw new RangeError(`the ladder has ${T} temperatures but ${betas.length} betas were given`);
  for (let a = 0; a < t.sets; a++) {
    const o = a * T;
    for (let k = 0; k + 1 < T; k++) {
      const c0 = t.at[o + k]!, c1 = t.at[o + k + 1]!;
      const p = exchangeProbability(betas[k]!, betas[k + 1]!, t.energy[c0]!, t.energy[c1]!);
      t.attempted[k]!++;
      if (p >= 1 || rng.double() < p) {
        t.at[o + k] = c1;
        t.at[o + k + 1] = c0;
        t.temp[c1] = k;
        t.temp[c0] = k + 1;
        t.accepted[k]!++;
        onSwap?.(a, k);
      }
    }
  }
  countTrips(t);
}

/** Round-trip bookkeeping after the copies have moved (temperature 0 is the hottest, the ladder ascends in β). */
function countTrips(t: Tempering): void {
  if (t.temps < 2) return;
  for (let c = 0; c < t.temp.length; c++) {
    const k = t.temp[c]!;
    if (k === t.temps - 1) t.cold[c] = 1;
    else if (k === 0 && t.cold[c] === 1) {
      t.trips[c]!++;
      t.cold[c] = 0;
    }
  }
}

/** Round trips of all copies together. */
export function totalTrips(t: Tempering): number {
  let n = 0;
  for (let c = 0; c < t.trips.length; c++) n += t.trips[c]!;
  return n;
}

/**
 * A ladder of `n` inverse temperatures from betaMin to betaMax, evenly spaced in T = 1/β (geometric
 * spacing in T keeps the acceptance roughly flat where the specific heat is smooth). The point nearest
 * to `target` is moved onto it, so that the temperature one measures at is on the ladder exactly.
 */
export function betaLadder(betaMin: number, betaMax: number, n: number, target?: number): Float64Array {
  if (!(betaMin > 0 && betaMax >= betaMin && Number.isFinite(betaMax))) throw new RangeError(`need 0 < beta-min <= beta-max, got ${betaMin}, ${betaMax}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one temperature, got ${n}`);
  if (n > 1 && betaMin === betaMax) throw new RangeError(`${n} temperatures need beta-min < beta-max`);
  const out = new Float64Array(n);
  const tHot = 1 / betaMin, tCold = 1 / betaMax;
  for (let k = 0; k < n; k++) out[k] = n === 1 ? betaMin : 1 / (tHot * (tCold / tHot) ** (k / (n - 1)));
  if (target !== undefined) {
    if (!(target >= betaMin - 1e-12 && target <= betaMax + 1e-12)) throw new RangeError(`--beta ${target} lies outside the ladder [${betaMin}, ${betaMax}]`);
    out[nearestIndex(out, target)] = target;
  }
  return out;
}

/** Index of the ladder point nearest to β. */
export function nearestIndex(betas: ArrayLike<number>, beta: number): number {
  let best = 0;
  for (let k = 1; k < betas.length; k++) if (Math.abs(betas[k]! - beta) < Math.abs(betas[best]! - beta)) best = k;
  return best;
}

/** Many ladders of the same temperatures with their books in flat arrays; `ladders[n]` are views into them. */
export interface TemperingBatch {
  readonly n: number;
  readonly temps: number;
  readonly sets: number;
  readonly ladders: readonly Tempering[];
  /** The 4-word xoshiro128** state of every ladder's exchange stream (ladder n at 4n). */
  readonly rng: Int32Array;
  /** The flat books behind the views: ladder n's copies at n·temps·sets, its pairs at n·(temps − 1). */
  readonly flat: { at: Int32Array; temp: Int32Array; energy: Float64Array; attempted: Float64Array; accepted: Float64Array };
}

/** The flat arrays of a batch, for a caller that keeps them elsewhere (the SIMD kernel's memory). */
export interface BatchStorage {
  at: Int32Array;
  temp: Int32Array;
  energy: Float64Array;
  cold: Uint8Array;
  trips: Int32Array;
  attempted: Float64Array;
  accepted: Float64Array;
  rng: Int32Array;
}

/** Lengths of the arrays of a batch of n ladders. */
export function batchLengths(n: number, temps: number, sets: number): { copies: number; pairs: number } {
  return { copies: n * temps * sets, pairs: n * Math.max(0, temps - 1) };
}

export function makeTemperingBatch(n: number, temps: number, sets: number, storage?: BatchStorage): TemperingBatch {
  if (!Number.isInteger(temps) || temps < 1) throw new RangeError(`a ladder needs at least one temperature, got ${temps}`);
  const c = temps * sets, p = Math.max(0, temps - 1);
  const len = batchLengths(n, temps, sets);
  const st: BatchStorage = storage ?? {
    at: new Int32Array(len.copies), temp: new Int32Array(len.copies), energy: new Float64Array(len.copies), cold: new Uint8Array(len.copies),
    trips: new Int32Array(len.copies), attempted: new Float64Array(len.pairs), accepted: new Float64Array(len.pairs), rng: new Int32Array(4 * n),
  };
  const { at, temp, energy, cold, trips, attempted, accepted } = st;
  const ladders = Array.from({ length: n }, (_, l): Tempering => {
    const v = (a: Int32Array): Int32Array => a.subarray(l * c, (l + 1) * c);
    const ladder = {
      temps, sets, at: v(at), temp: v(temp), energy: energy.subarray(l * c, (l + 1) * c), cold: cold.subarray(l * c, (l + 1) * c), trips: v(trips),
      attempted: attempted.subarray(l * p, (l + 1) * p), accepted: accepted.subarray(l * p, (l + 1) * p),
    };
    for (let k = 0; k < c; k++) {
      ladder.at[k] = k;
      ladder.temp[k] = k % temps;
    }
    return ladder;
  });
  return { n, temps, sets, ladders, rng: st.rng, flat: { at, temp, energy, attempted, accepted } };
}

/** e^{(β_{k+1}−β_k)·(−m)} for integer energy rises m = 1, 2, … up to where it is below 2^−60 (computed as exchangeProbability does). */
const expTables = new WeakMap<ArrayLike<number>, Float64Array[]>();
function expTable(betas: ArrayLike<number>): Float64Array[] {
  let t = expTables.get(betas);
  if (!t) {
    t = [];
    for (let k = 0; k + 1 < betas.length; k++) {
      const db = betas[k + 1]! - betas[k]!;
      const m = Math.min(1 << 16, Math.ceil(42 / Math.max(db, 1e-9)));
      t.push(Float64Array.from({ length: m + 1 }, (_, j) => Math.exp(db * -j)));
    }
    expTables.set(betas, t);
  }
  return t;
}

/**
 * exchangePass for every ladder of a batch, each with its own stream (batch.rng), with the same
 * decisions and the same random numbers as exchangePass on that ladder alone (test/ea-multispin.test.ts);
 * about three times faster, which matters when a sweep of 128 samples costs well under a millisecond.
 * Integer energy differences take e^x from a table built with the same expression.
 */
export function exchangeBatch(b: TemperingBatch, betas: ArrayLike<number>, onSwap: (ladder: number, set: number, k: number) => void): void {
  const T = b.temps;
  if (betas.length !== T) throw new RangeError(`the ladder has ${T} temperatures but ${betas.length} betas were given`);
  const table = expTable(betas);
  const rng = b.rng;
  const INV53 = 1 / 9007199254740992;
  const { at, temp, energy, attempted, accepted } = b.flat;
  const C = T * b.sets, P = T - 1;
  for (let n = 0; n < b.n; n++) {
    let s0 = rng[4 * n]!, s1 = rng[4 * n + 1]!, s2 = rng[4 * n + 2]!, s3 = rng[4 * n + 3]!;
    const oc = n * C, op = n * P;
    for (let a = 0; a < b.sets; a++) {
      const o = oc + a * T;
      for (let k = 0; k < P; k++) {
        const c0 = at[o + k]!, c1 = at[o + k + 1]!;
        const dE = energy[oc + c1]! - energy[oc + c0]!;
        let p = 1;
        if (dE < 0) {
          const m = -dE, tk = table[k]!;
          p = m < tk.length && Number.isInteger(m) ? tk[m]! : Math.exp((betas[k + 1]! - betas[k]!) * dE);
        }
        attempted[op + k]!++;
        let accept = p >= 1;
        if (!accept) {
          let mm = Math.imul(s1, 5);
          const x = Math.imul((mm << 7) | (mm >>> 25), 9) >>> 0;
          let sh = s1 << 9;
          s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= sh; s3 = (s3 << 11) | (s3 >>> 21);
          mm = Math.imul(s1, 5);
          const y = Math.imul((mm << 7) | (mm >>> 25), 9) >>> 0;
          sh = s1 << 9;
          s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= sh; s3 = (s3 << 11) | (s3 >>> 21);
          accept = ((x >>> 5) * 67108864 + (y >>> 6)) * INV53 < p;
        }
        if (accept) {
          at[o + k] = c1;
          at[o + k + 1] = c0;
          temp[oc + c1] = k;
          temp[oc + c0] = k + 1;
          accepted[op + k]!++;
          onSwap(n, a, k);
        }
      }
    }
    rng[4 * n] = s0; rng[4 * n + 1] = s1; rng[4 * n + 2] = s2; rng[4 * n + 3] = s3;
    countTrips(b.ladders[n]!);
  }
}

/** Acceptance rate of swaps per neighbouring pair, over all given ladders. */
export function swapAcceptance(ladders: readonly Tempering[], temps: number): Float64Array {
  const acc = new Float64Array(Math.max(0, temps - 1));
  for (let k = 0; k + 1 < temps; k++) {
    let a = 0, n = 0;
    for (const t of ladders) {
      a += t.accepted[k]!;
      n += t.attempted[k]!;
    }
    acc[k] = n > 0 ? a / n : 0;
  }
  return acc;
}

/** Words of a ladder's books in a checkpoint: per copy temperature, cold flag and trips; per pair proposed and accepted. */
export function booksWords(t: Tempering): number {
  return 3 * t.temp.length + 2 * Math.max(0, t.temps - 1);
}

/** Writes the books of a ladder at out[p…]; returns the next position. */
export function saveBooks(t: Tempering, out: Int32Array, p: number): number {
  for (let c = 0; c < t.temp.length; c++) {
    out[p++] = t.temp[c]!;
    out[p++] = t.cold[c]!;
    out[p++] = t.trips[c]!;
  }
  for (let k = 0; k + 1 < t.temps; k++) {
    out[p++] = t.attempted[k]!;
    out[p++] = t.accepted[k]!;
  }
  return p;
}

/** Reads what saveBooks wrote (and rebuilds `at`); returns the next position. */
export function restoreBooks(t: Tempering, a: Int32Array, p: number): number {
  const n = t.temp.length;
  for (let c = 0; c < n; c++) {
    t.temp[c] = a[p++]!;
    t.cold[c] = a[p++]!;
    t.trips[c] = a[p++]!;
  }
  for (let c = 0; c < n; c++) t.at[Math.floor(c / t.temps) * t.temps + t.temp[c]!] = c;
  for (let k = 0; k + 1 < t.temps; k++) {
    t.attempted[k] = a[p++]!;
    t.accepted[k] = a[p++]!;
  }
  return p;
}
