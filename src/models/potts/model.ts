// The q-state Potts model's descriptor (see ../model.ts): everything the jobs need, in this folder only.

import { lattice, neighbours } from "../../lattice/geometry.js";
import { isingEstimates } from "../../analysis/observables.js";
import { twoPoint } from "../../analysis/correlation.js";
import { type ModelDescriptor, type OptionsWith } from "../model.js";
import { int, num, oneOf, UsageError } from "../params.js";
import { isPottsConfig, POTTS_Q_MAX, pottsBetaC2D, pottsEnergyWith, pottsOrder, pottsReference2D } from "./potts.js";
import { makePottsSampler, POTTS_ALGORITHMS, type PottsAlgorithm } from "./sampler.js";
import { pluralityBlock } from "./plurality.js";
import { pottsHeatbathSweep, pottsHeatbathTable, sublattices } from "./heatbath.js";

export const pottsModel: ModelDescriptor<OptionsWith<"beta" | "q">> = {
  name: "potts",
  title: "q-state Potts model H = -sum delta(s_i, s_j), s = 0..q-1 (2D or 3D)",
  dims: [2, 3],
  defaultDim: 2,
  configDtype: "int8",
  algorithms: POTTS_ALGORITHMS,
  coupling: "beta",
  params: {
    q: { flag: "--q <n>", description: `number of states, 2 to ${POTTS_Q_MAX} (2D transition continuous for q <= 4)`, schema: int(2, POTTS_Q_MAX), physics: true },
    dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3 (default 2)", schema: int(2, 3), physics: true },
    beta: { flag: "--beta <b>", description: `inverse temperature (2D critical: ln(1 + sqrt q), q = 3: ${pottsBetaC2D(3).toFixed(10)})`, schema: num({ positive: true }), physics: true },
    algorithm: { flag: "--algorithm <name>", description: `${POTTS_ALGORITHMS.join("|")} (default wolff)`, schema: oneOf(POTTS_ALGORITHMS), physics: true },
    start: { flag: "--start <hot|cold>", description: "initial state: uniform random states or all 0 (default hot)", schema: oneOf(["hot", "cold"] as const), physics: true },
  },
  complete(o) {
    if (o.q === undefined) throw new UsageError("--q <n> is required for potts (the number of states, e.g. --q 3)");
    o.dim ??= 2;
    if (o.beta === undefined) throw new UsageError(`--beta <b> is required for potts (2D critical point ln(1 + sqrt q) = ${pottsBetaC2D(o.q).toFixed(10)} for q = ${o.q})`);
    o.algorithm ??= "wolff";
    o.start ??= "hot";
  },
  chains: (o, rng) => makePottsSampler({ algorithm: o.algorithm as PottsAlgorithm, lat: lattice(o.dim, o.L), q: o.q, beta: o.beta, rng, start: o.start }),
  // Energy H and |M| are stored under the Ising names, so the estimates (e, |m|, Binder, chi, C) are the same functions.
  estimates: (series, { V, chains, params }) => isingEstimates(series("energy"), series("magnetization"), { V, beta: Number(params.beta), chains }),
  conjugate: (series) => series("energy"),
  orderParameter: (cfg, params) => pottsOrder(cfg as Int8Array, Number(params.q)) / cfg.length,
  configObservables: ["magnetization", "energy"],
  observe(lat, params) {
    const nb = neighbours(lat), q = Number(params.q), counts = new Float64Array(q);
    return (cfg, out) => {
      out[0] = pottsOrder(cfg as Int8Array, q, counts);
      out[1] = pottsEnergyWith(nb, lat.dim, cfg as Int8Array);
    };
  },
  conjugateName: "energy",
  actionTerms: () => ({ energy: 1 }),
  // The correlation of the simplex vectors: G(r) = (q·P(σ_x = σ_{x+r}) − 1)/(q − 1), 1 when ordered, 0 when random.
  correlation(cfg, L, dim, rs, params) {
    const q = Number(params.q), out = new Float64Array(rs.length), ind = new Float64Array(cfg.length);
    for (let s = 0; s < q; s++) {
      for (let i = 0; i < cfg.length; i++) ind[i] = cfg[i] === s ? 1 : 0;
      twoPoint(ind, L, dim, rs).forEach((g, k) => (out[k]! += g));
    }
    return out.map((p) => (q * p - 1) / (q - 1));
  },
  pipeline: {
    algorithm: "sw",
    defaults: (p, quick) => {
      const bc = pottsBetaC2D(Number(p.q));
      return {
        couplings: [-0.02, -0.01, 0, 0.01, 0.02].map((d) => Number((bc + d).toFixed(6))),
        sweeps: quick ? 4000 : 10000, saveEvery: 2, directSweeps: quick ? 2000 : 5000, refine: 10, epochs: quick ? 10 : 20,
      };
    },
    params: ["q"],
  },
  network: {
    name: "potts",
    head: (p) => ({ type: "categorical", classes: Number(p.q) }),
    inputStates: (p) => Number(p.q),
    symmetry: "permutation",
  },
  action(lat, params) {
    const beta = Number(params.beta), nb = neighbours(lat);
    return (cfg) => beta * pottsEnergyWith(nb, lat.dim, cfg as Int8Array);
  },
  refine(lat, params, sweeps) {
    const q = Number(params.q), nb = neighbours(lat), subs = sublattices(lat);
    const table = pottsHeatbathTable(lat.dim, Number(params.beta)), w = new Float64Array(q);
    return (cfg, rng) => {
      for (let k = 0; k < sweeps; k++) pottsHeatbathSweep(nb, lat.dim, q, cfg as Int8Array, subs, table, rng, w);
    };
  },
  blockRule: {
    name: "plurality",
    description: "plurality rule (b = 2): the state held by most sites of the block, ties broken uniformly at random",
    apply: (lat, cfg, out, rng, params) => pluralityBlock(lat, Number(params.q), cfg as Int8Array, out as Int8Array, rng),
  },
  checkConfig: (cfg, params) => (isPottsConfig(cfg, Number(params.q)) ? undefined : `configurations must hold states 0..${Number(params.q) - 1}`),
  reference: (p, dim) => (dim === 2 ? pottsReference2D(Number(p.q)) : undefined),
  label: (p) => `q=${p.q} beta=${p.beta}`,
};
