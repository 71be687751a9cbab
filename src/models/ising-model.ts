// The Ising model's descriptor: parameters, samplers, estimates, the majority block rule (see model.ts).

import { lattice, neighbourSum, neighbours } from "../lattice/geometry.js";
import { ISING_ALGORITHMS, makeIsingSampler, type IsingAlgorithm } from "../mc/ising-samplers.js";
import { majorityBlock } from "../rg/majority.js";
import { checkerboardSweep, Rule } from "../mc/checkerboard.js";
import { metropolisTable } from "../mc/metropolis.js";
import { PACKED_RULES, packedSampler, packedSize, type PackedRule } from "../mc/packed-checkerboard.js";
import { isingEstimates } from "../analysis/observables.js";
import { kaufman } from "./ising-exact.js";
import { BETA_C_2D, BETA_C_3D, isingEnergyWith, isSpinConfig, magnetization } from "./ising.js";
import { type CriticalReference, type ModelDescriptor, type OptionsWith } from "./model.js";
import { int, num, oneOf, UsageError } from "./params.js";

/** 2D Ising class: Onsager's β_c and the exact exponents ν = 1, γ/ν = 7/4, β/ν = 1/8. */
export const ISING_2D_EXACT: CriticalReference = { coupling: BETA_C_2D, nu: 1, gammaOverNu: 7 / 4, betaOverNu: 1 / 8, source: "2D Ising class (exact)" };
/** 3D Ising: K_c of Ferrenberg, Xu & Landau (2018); ν, η of the conformal bootstrap (Kos et al. 2016). */
export const ISING_3D_REFERENCE: CriticalReference = { coupling: BETA_C_3D, nu: 0.629971, gammaOverNu: 2 - 0.0362978, betaOverNu: (1 + 0.0362978) / 2, source: "3D Ising (bootstrap, MC)" };

export const isingModel: ModelDescriptor<OptionsWith<"beta">> = {
  name: "ising",
  title: "Ising model H = -sum s_i s_j, s = +-1 (2D or 3D)",
  dims: [2, 3],
  defaultDim: 2,
  configDtype: "int8",
  algorithms: ISING_ALGORITHMS,
  coupling: "beta",
  params: {
    dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3 (default 2)", schema: int(2, 3), physics: true },
    beta: { flag: "--beta <b>", description: `inverse temperature (critical: 2D ${BETA_C_2D.toFixed(10)}, 3D ${BETA_C_3D})`, schema: num({ positive: true }), physics: true },
    algorithm: { flag: "--algorithm <name>", description: `${ISING_ALGORITHMS.join("|")} (default wolff; with --backend gpu metropolis)`, schema: oneOf(ISING_ALGORITHMS), physics: true },
    start: { flag: "--start <hot|cold>", description: "initial state: random spins or all +1 (default hot)", schema: oneOf(["hot", "cold"] as const), physics: true },
  },
  complete(o) {
    o.dim ??= 2;
    if (o.beta === undefined) throw new UsageError(`--beta <b> is required for ising (2D critical point: ${BETA_C_2D})`);
    o.algorithm ??= o.backend === "gpu" ? "metropolis" : "wolff";
    o.start ??= "hot";
  },
  gpu: {
    algorithms: PACKED_RULES,
    check: (o) => (packedSize(o.L) ? undefined : `--backend gpu needs --L below 16 or a multiple of 16 (the kernel packs 8 spins of a row per word), got ${o.L}`),
  },
  chains(o, rng, backend) {
    const lat = lattice(o.dim, o.L), start = o.start ?? "hot";
    // A gpu run keeps its packed Philox kernel on any back-end: the CPU one is its reference, equal bit for bit.
    if (o.backend === "gpu") return packedSampler({ lat, beta: o.beta, rule: o.algorithm as PackedRule, rng, start }, backend.packedCheckerboard);
    return makeIsingSampler({ algorithm: o.algorithm as IsingAlgorithm, lat, beta: o.beta, rng, start });
  },
  estimates: (series, { V, chains, params }) => isingEstimates(series("energy"), series("magnetization"), { V, beta: Number(params.beta), chains }),
  conjugate: (series) => series("energy"),
  orderParameter(cfg) {
    let s = 0;
    for (let k = 0; k < cfg.length; k++) s += cfg[k]!;
    return s / cfg.length;
  },
  configObservables: ["magnetization", "energy"],
  observe(lat) {
    const nb = neighbours(lat);
    return (cfg, out) => {
      out[0] = magnetization(cfg as Int8Array);
      out[1] = isingEnergyWith(nb, lat.dim, cfg as Int8Array);
    };
  },
  conjugateName: "energy",
  actionTerms: () => ({ energy: 1 }),
  action(lat, params) {
    const beta = Number(params.beta), nb = neighbours(lat);
    return (cfg) => beta * isingEnergyWith(nb, lat.dim, cfg as Int8Array);
  },
  pipeline: {
    algorithm: "wolff",
    defaults: (_p, quick) => ({
      couplings: [BETA_C_2D - 0.01, BETA_C_2D, BETA_C_2D + 0.01].map((b) => Number(b.toFixed(6))),
      sweeps: quick ? 4000 : 10000, saveEvery: 2, directSweeps: quick ? 2000 : 5000, refine: 20, epochs: quick ? 10 : 20,
    }),
  },
  network: { name: "ising", head: () => ({ type: "bernoulli" }), symmetry: "sign" },
  refine(lat, params, sweeps) {
    const table = metropolisTable(lat.dim, Number(params.beta));
    return (cfg, rng) => {
      for (let k = 0; k < sweeps; k++) checkerboardSweep(lat, cfg as Int8Array, Rule.Metropolis, table, rng);
    };
  },
  blockRule: {
    name: "majority",
    description: "majority rule (b = 2): the sign of the block sum, a zero sum broken by a fair coin",
    apply: (lat, cfg, out, rng) => majorityBlock(lat, cfg as Int8Array, out as Int8Array, { tie: "random", rng }),
  },
  checkConfig: (cfg) => (isSpinConfig(cfg) ? undefined : "configurations must hold +-1 spins"),
  reference: (_p, dim) => (dim === 2 ? ISING_2D_EXACT : ISING_3D_REFERENCE),
  siteConditional(lat, params) {
    const nb = neighbours(lat), twoBeta = 2 * Number(params.beta);
    const field = (cfg: ArrayLike<number>, i: number): number => neighbourSum(nb, lat.dim, cfg, i);
    // P(s_i = s | neighbours) = 1 / (1 + e^{−2β s h}).
    const lp = (s: number, h: number): number => -Math.log1p(Math.exp(-twoBeta * s * h));
    return {
      draw(cfg, i, rng) {
        const h = field(cfg, i), s = rng.double() < 1 / (1 + Math.exp(-twoBeta * h)) ? 1 : -1;
        cfg[i] = s;
        return lp(s, h);
      },
      logProb: (cfg, i) => lp(cfg[i]!, field(cfg, i)),
    };
  },
  exactFinite(dim, L, params) {
    if (dim !== 2) return undefined;
    const k = kaufman(L, Number(params.beta));
    return { e: k.e, c: k.c };
  },
  label: (p) => `beta=${p.beta}`,
};
