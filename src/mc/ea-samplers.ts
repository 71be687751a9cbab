// The EA spin glass behind the run loop's Chains interface: every disorder sample is one "chain" that
// holds two parallel-tempering ladders (the real replicas s and t) of checkerboard-Metropolis copies;
// a sweep is one Metropolis sweep of every copy followed by one exchange pass of each ladder.
//
// Why samples as chains: the run loop, the HDF5 writer (row = measurement·samples + sample) and the
// checkpoints then serve the spin glass unchanged. Why the whole state is packed into one Int32Array:
// a checkpoint holds one state array and one 4-word RNG state, but a sample has 2·temps + 1 streams
// and a temperature permutation; the packed layout below is versioned through `extra.ea_layout`.

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import {
  eaBonds, type EaBonds, eaCouplings, eaEnergy, eaStream, EXCHANGE_STREAM, FIRST_COPY_STREAM, minWaves, type MinWaves, overlapField, overlapQ, overlapQk2,
} from "../models/ea.js";
import { randomSpins } from "../models/ising.js";
import { type Chains, type SamplerState } from "./chains.js";
import { colourSites, eaMetropolisSweep, eaMetropolisTable } from "./ea-metropolis.js";
import { exchangePass, makeTempering, restoreBooks, saveBooks, swapAcceptance, type Tempering, totalTrips } from "./parallel-tempering.js";

/** Observables per measurement and sample, in `measure` order: q and |q(k_min)|² of the overlap at the
 * target β, E(s) + E(t) there (the variable conjugate to β of the two-replica weight), the sample index,
 * and the sample's cumulative ladder round trips. */
export const EA_OBSERVABLES = ["q", "qk2", "energy", "sample", "round_trips"] as const;

export interface EaOptions {
  lat: Lattice;
  /** The β ladder, ascending. */
  betas: Float64Array;
  /** Index in `betas` of the temperature whose overlap is measured and stored. */
  target: number;
  samples: number;
  /** Global index of the first sample (samples are firstSample, firstSample + 1, …). */
  firstSample?: number;
  /** Seed of the Monte Carlo streams. */
  seed: number;
  /** Seed of the couplings (default: `seed`). */
  disorderSeed?: number;
}

/** One disorder sample: its bonds, two ladders of copies and their streams. */
interface Sample {
  index: number;
  bonds: EaBonds;
  spins: Int8Array[];
  rngs: Rng[];
  exchange: Rng;
  pt: Tempering;
}

export interface EaSampler extends Chains<Int8Array> {
  readonly lat: Lattice;
  readonly betas: Float64Array;
  readonly target: number;
  /** Acceptance rate of swaps per neighbouring pair (all samples). */
  acceptance(): Float64Array;
  /** Round trips per sample (all copies of the sample). */
  roundTrips(): Int32Array;
  /** The ladders of sample c (tests). */
  tempering(c: number): Tempering;
  /** Copy `copy` of sample c (tests): copies 0…T−1 are replica s, T…2T−1 replica t, copy index ≠ temperature. */
  copySpins(c: number, copy: number): Int8Array;
}

const LAYOUT = 1;

/** The checks both spin-glass engines make on their options (ladder, target, samples). */
export function checkEaOptions(o: EaOptions): void {
  const { betas, target } = o;
  const T = betas.length;
  if (!(target >= 0 && target < T && Number.isInteger(target))) throw new RangeError(`target index ${target} is not on a ladder of ${T} temperatures`);
  for (let k = 0; k < T; k++) {
    if (!(betas[k]! > 0) || (k > 0 && !(betas[k]! > betas[k - 1]!))) throw new RangeError("betas must be positive and strictly ascending");
  }
  if (!Number.isInteger(o.samples) || o.samples < 1) throw new RangeError(`need at least one sample, got ${o.samples}`);
}

export function makeEaSampler(o: EaOptions): EaSampler {
  checkEaOptions(o);
  const { lat, betas, target } = o;
  const T = betas.length;
  const first = o.firstSample ?? 0;
  const colours = colourSites(lat);
  const tables = Array.from(betas, (b) => eaMetropolisTable(lat.dim, b));
  const waves: MinWaves = minWaves(lat);
  const copies = 2 * T;
  const samples: Sample[] = Array.from({ length: o.samples }, (_, c) => {
    const index = first + c;
    const bonds = eaBonds(lat, eaCouplings(lat, o.disorderSeed ?? o.seed, index));
    const rngs = Array.from({ length: copies }, (_, k) => eaStream(o.seed, index, FIRST_COPY_STREAM + k));
    const spins = rngs.map((r) => randomSpins(lat.V, r));
    const pt = makeTempering(T, 2);
    spins.forEach((s, k) => (pt.energy[k] = eaEnergy(bonds, s)));
    return { index, bonds, spins, rngs, exchange: eaStream(o.seed, index, EXCHANGE_STREAM), pt };
  });
  const rho = new Int8Array(lat.V);
  const overlapOf = (smp: Sample, out: Int8Array): void => {
    overlapField(smp.spins[smp.pt.at[target]!]!, smp.spins[smp.pt.at[T + target]!]!, out);
  };
  return {
    lat, betas, target, chains: o.samples, observables: EA_OBSERVABLES,
    sweep() {
      for (const smp of samples) {
        const { pt } = smp;
        for (let c = 0; c < copies; c++) {
          pt.energy[c]! += eaMetropolisSweep(smp.bonds, colours, smp.spins[c]!, tables[pt.temp[c]!]!, smp.rngs[c]!);
        }
        exchangePass(pt, betas, smp.exchange);
      }
    },
    endThermalization() {},
    measure(out) {
      samples.forEach((smp, c) => {
        overlapOf(smp, rho);
        out[0]![c] = overlapQ(rho);
        out[1]![c] = overlapQk2(rho, waves);
        out[2]![c] = smp.pt.energy[smp.pt.at[target]!]! + smp.pt.energy[smp.pt.at[T + target]!]!;
        out[3]![c] = smp.index;
        out[4]![c] = totalTrips(smp.pt);
      });
    },
    config(c, out) { overlapOf(samples[c]!, out); },
    save: () => pack(samples, lat.V, T),
    restore(st) { unpack(st, samples, lat.V, T); },
    acceptance: () => swapAcceptance(samples.map((smp) => smp.pt), T),
    roundTrips: () => Int32Array.from(samples, (smp) => totalTrips(smp.pt)),
    tempering: (c) => samples[c]!.pt,
    copySpins: (c, copy) => samples[c]!.spins[copy]!,
  };
}

/**
 * Packed state, per sample: the 4-word states of the exchange stream and of every copy's stream,
 * then per copy its temperature index, round-trip flag and count, then
 * the proposed and accepted swaps of every pair (k, k+1), then the spins of every copy, 32 per word
 * (bit set = +1). Energies are recomputed from the spins. (Counters are int32: 2^31 sweeps is far off.)
 */
function pack(samples: Sample[], V: number, T: number): SamplerState {
  const words = Math.ceil(V / 32);
  const per = perSample(T, words);
  const out = new Int32Array(samples.length * per);
  const extra: Record<string, number> = { ea_layout: LAYOUT, samples: samples.length, temps: T, V };
  samples.forEach((smp, n) => {
    let o = n * per;
    for (const r of [smp.exchange, ...smp.rngs]) {
      out.set(r.state(), o);
      o += 4;
    }
    o = saveBooks(smp.pt, out, o);
    for (const s of smp.spins) {
      for (let i = 0; i < V; i++) if (s[i]! > 0) out[o + (i >> 5)]! |= 1 << (i & 31);
      o += words;
    }
  });
  return { rng: samples[0]!.exchange.state(), spins: out, extra };
}

function perSample(T: number, words: number): number {
  const copies = 2 * T;
  return 4 * (copies + 1) + 3 * copies + 2 * Math.max(0, T - 1) + copies * words;
}

function setRng(r: Rng, w: ArrayLike<number>): void {
  r.s0 = w[0]! | 0; r.s1 = w[1]! | 0; r.s2 = w[2]! | 0; r.s3 = w[3]! | 0;
}

function unpack(st: SamplerState, samples: Sample[], V: number, T: number): void {
  const e = st.extra;
  if (e.ea_layout !== LAYOUT || e.samples !== samples.length || e.temps !== T || e.V !== V) {
    throw new RangeError(`checkpoint does not match this spin-glass run (layout ${e.ea_layout}, ${e.samples} samples, ${e.temps} temperatures, V = ${e.V})`);
  }
  const words = Math.ceil(V / 32);
  const per = perSample(T, words);
  const a = st.spins;
  if (!(a instanceof Int32Array) || a.length !== samples.length * per) throw new RangeError("checkpoint state has the wrong size for this spin-glass run");
  samples.forEach((smp, n) => {
    let o = n * per;
    for (const r of [smp.exchange, ...smp.rngs]) {
      setRng(r, a.subarray(o, o + 4));
      o += 4;
    }
    const pt = smp.pt;
    o = restoreBooks(pt, a, o);
    smp.spins.forEach((s, c) => {
      for (let i = 0; i < V; i++) s[i] = (a[o + (i >> 5)]! >>> (i & 31)) & 1 ? 1 : -1;
      o += words;
      pt.energy[c] = eaEnergy(smp.bonds, s);
    });
  });
}
