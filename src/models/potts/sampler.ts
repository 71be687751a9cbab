// Potts chains for the run loop: heat bath, Swendsen–Wang or Wolff behind the `Chains` interface,
// measuring the energy H and the order-parameter magnitude |M| of every configuration.

import { type Lattice, neighbours } from "../../lattice/geometry.js";
import { Rng } from "../../lattice/rng.js";
import { type Chains, type SamplerState } from "../../mc/chains.js";
import { calibrationFreeze, calibrationInit, calibrationTotals, clusterSweep } from "../../mc/calibration.js";
import { POTTS_Q_MAX, pottsEnergyWith, pottsOrder, randomPotts } from "./potts.js";
import { pottsHeatbathSweep, pottsHeatbathTable, sublattices } from "./heatbath.js";
import { pottsBondThreshold, pottsSwendsenWang } from "./swendsen-wang.js";
import { pottsWolffCluster } from "./wolff.js";

export const POTTS_ALGORITHMS = ["heatbath", "sw", "wolff"] as const;
export type PottsAlgorithm = (typeof POTTS_ALGORITHMS)[number];
/** Per configuration: H = −Σδ and |M| (see `pottsOrder`), named as for Ising so that the analysis is shared. */
export const POTTS_OBSERVABLES = ["energy", "magnetization"] as const;

export interface PottsSamplerOptions {
  algorithm: PottsAlgorithm;
  lat: Lattice;
  q: number;
  beta: number;
  rng: Rng;
  /** "hot": uniform random states; "cold": all in state 0. */
  start?: "hot" | "cold";
  /** Wolff: clusters per sweep; 0 (default) calibrates to V/⟨size⟩ during thermalisation. */
  clustersPerSweep?: number;
}

export interface PottsSampler extends Chains<Int8Array> {
  readonly q: number;
  readonly beta: number;
  readonly lat: Lattice;
}

export function makePottsSampler(opt: PottsSamplerOptions): PottsSampler {
  const { lat, q, beta, rng, algorithm } = opt;
  if (!Number.isInteger(q) || q < 2 || q > POTTS_Q_MAX) throw new RangeError(`q must be an integer from 2 to ${POTTS_Q_MAX}, got ${q}`);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new RangeError(`beta must be a positive number, got ${beta}`);
  const s = opt.start === "cold" ? new Int8Array(lat.V) : randomPotts(lat.V, q, rng);
  const nb = neighbours(lat);
  const z = 2 * lat.dim;
  const counts = new Float64Array(q);
  const threshold = pottsBondThreshold(beta);
  const scratch = new Int32Array(algorithm === "heatbath" ? 0 : lat.V);
  const labels = new Int32Array(algorithm === "sw" ? lat.V : 0);
  const subs = algorithm === "heatbath" ? sublattices(lat) : [];
  const table = pottsHeatbathTable(lat.dim, beta);
  const w = new Float64Array(q);
  const extra = calibrationInit(opt.clustersPerSweep ?? 0);
  const wolffOne = (): number => pottsWolffCluster(nb, z, q, s, threshold, rng, scratch);
  const sampler: PottsSampler = {
    q, beta, lat, chains: 1, observables: POTTS_OBSERVABLES,
    sweep() {
      if (algorithm === "heatbath") pottsHeatbathSweep(nb, lat.dim, q, s, subs, table, rng, w);
      else if (algorithm === "sw") pottsSwendsenWang(nb, lat.dim, q, s, threshold, rng, scratch, labels);
      else clusterSweep(extra, lat.V, wolffOne);
    },
    endThermalization() {
      if (algorithm !== "wolff" || extra.clustersPerSweep !== 0) return;
      for (let t = calibrationTotals(extra); t.clusters < 100 && t.sites < 10 * lat.V; t = calibrationTotals(extra)) sampler.sweep();
      calibrationFreeze(extra, lat.V);
    },
    measure(out) {
      out[0]![0] = pottsEnergyWith(nb, lat.dim, s);
      out[1]![0] = pottsOrder(s, q, counts);
    },
    config(_c, out) { out.set(s); },
    save: (): SamplerState => ({ rng: rng.state(), spins: s.slice(), extra: { ...extra } }),
    restore(st) {
      if (st.spins.length !== s.length || !(st.spins instanceof Int8Array)) throw new RangeError("checkpoint states do not match this lattice");
      s.set(st.spins);
      rng.setState(st.rng);
      Object.assign(extra, st.extra);
    },
  };
  return sampler;
}
