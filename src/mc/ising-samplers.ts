// The registry of Ising samplers behind one small interface: the run loop, tests and benchmarks
// iterate over `ISING_ALGORITHMS`, so a sampler added here is tested and benchmarked everywhere.

import { calibrationFreeze, calibrationInit, calibrationTotals, clusterSweep } from "./calibration.js";
import { type Lattice, neighbours, requireEven } from "../lattice/geometry.js";
import { Rng } from "../lattice/rng.js";
import { type Chains, type SamplerState } from "./chains.js";
import { isingEnergyWith, magnetization, randomSpins } from "../models/ising.js";
import { heatbathSweep, heatbathTable } from "./heatbath.js";
import { metropolisSweep, metropolisTable } from "./metropolis.js";
import { LANES, laneSpins, multispinMeasure, multispinSweep, multispinTable } from "./multispin.js";
import { swendsenWangSweep } from "./swendsen-wang.js";
import { wolffCluster, wolffClusterPow2, wolffThreshold } from "./wolff.js";

export const ISING_ALGORITHMS = ["metropolis", "heatbath", "multispin", "wolff", "sw"] as const;
export type IsingAlgorithm = (typeof ISING_ALGORITHMS)[number];

/** Work done since creation, for benchmarks and reports. */
export interface Counters {
  /** Spin-update attempts (local) or site visits (cluster labelling). */
  updates: number;
  clusters: number;
  flipped: number;
}

/** Ising chains: the generic interface plus what Ising code needs to know. */
export interface IsingSampler extends Chains<Int8Array> {
  readonly algorithm: IsingAlgorithm;
  readonly lat: Lattice;
  readonly beta: number;
  readonly counters: Counters;
}

/** The observables every Ising sampler measures, in `measure` order. */
export const ISING_OBSERVABLES = ["energy", "magnetization"] as const;

export interface IsingSamplerOptions {
  algorithm: IsingAlgorithm;
  lat: Lattice;
  beta: number;
  rng: Rng;
  /** Wolff only: clusters per sweep; 0 = calibrate to V / ⟨cluster size⟩ during thermalisation. */
  clustersPerSweep?: number;
  /** Initial state: "hot" (random spins, the default) or "cold" (all +1; local updates need it deep in the ordered phase). */
  start?: "hot" | "cold";
}

function initialSpins(opt: IsingSamplerOptions): Int8Array {
  return opt.start === "cold" ? new Int8Array(opt.lat.V).fill(1) : randomSpins(opt.lat.V, opt.rng);
}

/** Creates a sampler from a hot start. */
export function makeIsingSampler(opt: IsingSamplerOptions): IsingSampler {
  if (!(opt.beta > 0) || !Number.isFinite(opt.beta)) throw new RangeError(`beta must be a positive number, got ${opt.beta}`);
  switch (opt.algorithm) {
    case "metropolis":
    case "heatbath":
      return localSampler(opt);
    case "multispin":
      return multispinSampler(opt);
    case "wolff":
    case "sw":
      return clusterSampler(opt);
  }
}

function counters(): Counters {
  return { updates: 0, clusters: 0, flipped: 0 };
}

function restoreCommon(rng: Rng, spins: Int8Array | Int32Array, st: SamplerState): void {
  if (st.spins.length !== spins.length || st.spins.constructor !== spins.constructor) {
    throw new RangeError("checkpoint spins do not match this lattice and algorithm");
  }
  spins.set(st.spins as never);
  rng.setState(st.rng);
}

function singleChainMeasure(lat: Lattice, s: Int8Array): (out: Float64Array[]) => void {
  const nb = neighbours(lat);
  return (out) => {
    out[0]![0] = isingEnergyWith(nb, lat.dim, s);
    out[1]![0] = magnetization(s);
  };
}

function localSampler(opt: IsingSamplerOptions): IsingSampler {
  const { lat, beta, rng, algorithm } = opt;
  requireEven(lat, `the checkerboard ${algorithm} update`);
  const s = initialSpins(opt);
  const heat = algorithm === "heatbath";
  const table = heat ? heatbathTable(lat.dim, beta) : metropolisTable(lat.dim, beta);
  const c = counters();
  return {
    algorithm, lat, beta, chains: 1, counters: c, observables: ISING_OBSERVABLES,
    sweep() {
      if (heat) heatbathSweep(lat, s, table, rng);
      else metropolisSweep(lat, s, table, rng);
      c.updates += lat.V;
    },
    endThermalization() {},
    measure: singleChainMeasure(lat, s),
    config(_c, out) { out.set(s); },
    save: () => ({ rng: rng.state(), spins: s.slice(), extra: {} }),
    restore(st) { restoreCommon(rng, s, st); },
  };
}

function multispinSampler(opt: IsingSamplerOptions): IsingSampler {
  const { lat, beta, rng } = opt;
  requireEven(lat, "the multi-spin checkerboard update");
  const w = new Int32Array(lat.V);
  for (let i = 0; i < lat.V; i++) w[i] = opt.start === "cold" ? -1 : rng.u32() | 0;
  const table = multispinTable(lat.dim, beta);
  const nb = neighbours(lat);
  const c = counters();
  return {
    algorithm: "multispin", lat, beta, chains: LANES, counters: c, observables: ISING_OBSERVABLES,
    sweep() {
      multispinSweep(lat, w, table, rng);
      c.updates += lat.V * LANES;
    },
    endThermalization() {},
    measure(out) { multispinMeasure(lat, nb, w, out[0]!, out[1]!); },
    config(k, out) { laneSpins(w, k, out); },
    save: () => ({ rng: rng.state(), spins: w.slice(), extra: {} }),
    restore(st) { restoreCommon(rng, w, st); },
  };
}

function clusterSampler(opt: IsingSamplerOptions): IsingSampler {
  const { lat, beta, rng, algorithm } = opt;
  const s = initialSpins(opt);
  const nb = neighbours(lat);
  const z = 2 * lat.dim;
  const threshold = wolffThreshold(beta);
  const scratch = new Int32Array(lat.V);
  const decision = algorithm === "sw" ? new Int8Array(lat.V) : new Int8Array(0);
  const c = counters();
  // Wolff calibration: sums over the thermalisation clusters, then a fixed count per sweep.
  const extra = calibrationInit(opt.clustersPerSweep ?? 0);
  const pow2 = (lat.L & (lat.L - 1)) === 0 && lat.L >= 2;
  const nbr = new Int32Array(6);
  const wolffOne = (): number => {
    const n = pow2 ? wolffClusterPow2(lat.dim, lat.L, s, threshold, rng, scratch, nbr) : wolffCluster(nb, z, s, threshold, rng, scratch);
    c.clusters++;
    c.flipped += n;
    c.updates += n;
    return n;
  };
  return {
    algorithm, lat, beta, chains: 1, counters: c, observables: ISING_OBSERVABLES,
    sweep() {
      if (algorithm === "sw") {
        c.clusters += swendsenWangSweep(nb, lat.dim, s, threshold, rng, scratch, decision);
        c.updates += lat.V;
        return;
      }
      clusterSweep(extra, lat.V, wolffOne);
    },
    endThermalization() {
      if (algorithm === "wolff" && extra.clustersPerSweep === 0) {
        // Too short a thermalisation for a mean cluster size: measure one now.
        for (let t = calibrationTotals(extra); t.clusters < 100 && t.sites < 10 * lat.V; t = calibrationTotals(extra)) this.sweep();
        calibrationFreeze(extra, lat.V);
      }
    },
    measure: singleChainMeasure(lat, s),
    config(_c, out) { out.set(s); },
    save: () => ({ rng: rng.state(), spins: s.slice(), extra: { ...extra } }),
    restore(st) {
      restoreCommon(rng, s, st);
      Object.assign(extra, st.extra);
    },
  };
}
