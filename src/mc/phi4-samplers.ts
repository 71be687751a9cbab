// The registry of φ⁴ samplers: "local" (Gaussian-proposal sweeps) and "cluster" (a local sweep
// followed by a fixed number of embedded Wolff clusters, the Brower–Tamayo combination of the seed).
//
// Why a fixed number of clusters per sweep: building clusters until about V sites have flipped
// makes the measurement time depend on the state and biases averages. The number is
// calibrated during thermalisation as round(V / ⟨cluster size⟩) and then frozen (and checkpointed).

import { calibrationFreeze, calibrationInit, calibrationTotals, clusterSweep } from "./calibration.js";
import { type Lattice, neighbours, requireEven } from "../lattice/geometry.js";
import { Rng } from "../lattice/rng.js";
import { checkPhi4, type Phi4Couplings, phi4Sums, randomField } from "../models/phi4.js";
import { type Chains, type SamplerState } from "./chains.js";
import { phi4WolffCluster, phi4WolffClusterPow2 } from "./phi4-cluster.js";
import { phi4LocalSweep } from "./phi4-local.js";

export const PHI4_ALGORITHMS = ["local", "cluster"] as const;
export type Phi4Algorithm = (typeof PHI4_ALGORITHMS)[number];

/** Observables in `measure` order (sums over the lattice; see Phi4Sums). */
export const PHI4_OBSERVABLES = ["action", "magnetization", "phi2", "phi4", "hopping"] as const;

export interface Phi4Sampler extends Chains<Float32Array> {
  readonly algorithm: Phi4Algorithm;
  readonly lat: Lattice;
  readonly couplings: Phi4Couplings;
  readonly counters: { updates: number; accepted: number; clusters: number; flipped: number };
  /** The field itself (float64), for code that works on it in place (compatible MC, tests). */
  readonly field: Float64Array;
}

export interface Phi4SamplerOptions {
  algorithm: Phi4Algorithm;
  lat: Lattice;
  couplings: Phi4Couplings;
  rng: Rng;
  /** Cluster algorithm: clusters per sweep; 0 = calibrate during thermalisation. */
  clustersPerSweep?: number;
}

export function makePhi4Sampler(opt: Phi4SamplerOptions): Phi4Sampler {
  const { lat, couplings, rng, algorithm } = opt;
  if (lat.dim !== 2) throw new RangeError("the phi^4 samplers are two-dimensional (use --dim 2)");
  requireEven(lat, "the checkerboard phi^4 update");
  checkPhi4(couplings, lat.dim);
  const phi = randomField(lat.V, rng);
  const nb = neighbours(lat);
  const z = 2 * lat.dim;
  const stack = new Int32Array(lat.V);
  const pow2 = (lat.L & (lat.L - 1)) === 0; // the same clusters as with the table, neighbours by masks
  const counters = { updates: 0, accepted: 0, clusters: 0, flipped: 0 };
  const extra = calibrationInit(opt.clustersPerSweep ?? 0);
  const cluster = (): number => {
    const n = pow2 ? phi4WolffClusterPow2(lat.L, phi, couplings.kappa, rng, stack) : phi4WolffCluster(nb, z, phi, couplings.kappa, rng, stack);
    counters.clusters++;
    counters.flipped += n;
    return n;
  };
  const sampler: Phi4Sampler = {
    algorithm, lat, couplings, counters, field: phi, chains: 1, observables: PHI4_OBSERVABLES,
    sweep() {
      counters.accepted += phi4LocalSweep(lat, phi, couplings, rng);
      counters.updates += lat.V;
      if (algorithm === "local") return;
      clusterSweep(extra, lat.V, cluster);
    },
    endThermalization() {
      if (algorithm !== "cluster" || extra.clustersPerSweep! > 0) return;
      for (let t = calibrationTotals(extra); t.clusters < 100 && t.sites < 10 * lat.V; t = calibrationTotals(extra)) sampler.sweep();
      calibrationFreeze(extra, lat.V);
    },
    measure(out) {
      const s = phi4Sums(lat, nb, phi, couplings);
      out[0]![0] = s.action;
      out[1]![0] = s.magnetization;
      out[2]![0] = s.phi2;
      out[3]![0] = s.phi4;
      out[4]![0] = s.hopping;
    },
    config(_c, out) {
      out.set(phi);
    },
    save: (): SamplerState => ({ rng: rng.state(), spins: phi.slice(), extra: { ...extra } }),
    restore(st) {
      if (!(st.spins instanceof Float64Array) || st.spins.length !== lat.V) throw new RangeError("checkpoint field does not match this lattice");
      phi.set(st.spins);
      rng.setState(st.rng);
      Object.assign(extra, st.extra);
    },
  };
  return sampler;
}
