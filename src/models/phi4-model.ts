// The φ⁴ model's descriptor: couplings, samplers, estimates, the seed's block rule (see model.ts).

import { lattice, neighbours } from "../lattice/geometry.js";
import { makePhi4Sampler, PHI4_ALGORITHMS, type Phi4Algorithm } from "../mc/phi4-samplers.js";
import { phi4Block } from "../rg/phi4-block.js";
import { phi4LocalSweep } from "../mc/phi4-local.js";
import { phi4Estimates } from "../analysis/observables.js";
import { PHI4_DEFAULTS, phi4Action, phi4SiteConditional } from "./phi4.js";
import { type ModelDescriptor, type OptionsWith } from "./model.js";
import { num, oneOf, UsageError } from "./params.js";

export const phi4Model: ModelDescriptor<OptionsWith<"mu2" | "lambda" | "kappa">> = {
  name: "phi4",
  title: "2D lattice phi^4 theory (Ising universality class)",
  dims: [2],
  defaultDim: 2,
  configDtype: "float32",
  algorithms: PHI4_ALGORITHMS,
  coupling: "mu2",
  params: {
    mu2: { flag: "--mu2 <m>", description: "bare mass squared mu^2 (critical near -0.95)", schema: num(), physics: true },
    lambda: { flag: "--lambda <l>", description: `quartic coupling (default ${PHI4_DEFAULTS.lambda})`, schema: num(), physics: true },
    kappa: { flag: "--kappa <k>", description: `hopping parameter (default ${PHI4_DEFAULTS.kappa})`, schema: num(), physics: true },
    algorithm: { flag: "--algorithm <name>", description: `${PHI4_ALGORITHMS.join("|")} (default cluster)`, schema: oneOf(PHI4_ALGORITHMS), physics: true },
  },
  complete(o) {
    if (o.dim !== undefined && o.dim !== 2) throw new UsageError("phi4 is simulated in 2 dimensions (--dim 2)");
    o.dim = 2;
    if (o.mu2 === undefined) throw new UsageError("--mu2 <m> is required for phi4 (the seed works at -0.9515)");
    o.lambda ??= PHI4_DEFAULTS.lambda;
    o.kappa ??= PHI4_DEFAULTS.kappa;
    o.algorithm ??= "cluster";
  },
  chains: (o, rng) => makePhi4Sampler({ algorithm: o.algorithm as Phi4Algorithm, lat: lattice(o.dim, o.L), couplings: { mu2: o.mu2, lambda: o.lambda, kappa: o.kappa }, rng }),
  // A blocked ensemble has no action (the renormalised action is unknown).
  estimates: (series, { V, chains, observables }) => phi4Estimates(observables.includes("action") ? series("action") : null, series("magnetization"), series("phi2"), { V, chains }),
  conjugate: (series) => series("phi2").map((v) => v / 2),
  orderParameter(cfg) {
    let s = 0;
    for (let k = 0; k < cfg.length; k++) s += cfg[k]!;
    return s / cfg.length;
  },
  // Σφ, Σφ², Σφ⁴ and Σ_{x,μ} φ_x φ_{x+μ}: every term of the action, so that generated ensembles can be
  // compared term by term with simulated ones.
  configObservables: ["magnetization", "phi2", "phi4", "hopping"],
  observe(lat) {
    const nb = neighbours(lat), z = 2 * lat.dim;
    return (cfg, out) => {
      let m = 0, p2 = 0, p4 = 0, hop = 0;
      for (let i = 0; i < cfg.length; i++) {
        const f = cfg[i]!;
        m += f;
        p2 += f * f;
        p4 += f * f * f * f;
        let h = 0;
        for (let d = 0; d < lat.dim; d++) h += cfg[nb[i * z + 2 * d]!]!;
        hop += f * h;
      }
      out[0] = m;
      out[1] = p2;
      out[2] = p4;
      out[3] = hop;
    };
  },
  conjugateName: "phi2/2",
  // S/V at μ² = c: −κ Σφ_xφ_{x+μ} + (c + 2dκ)/2 Σφ² + λ/4 Σφ⁴.
  action(lat, params) {
    const c = { mu2: Number(params.mu2), lambda: Number(params.lambda), kappa: Number(params.kappa) };
    return (cfg) => phi4Action(lat, cfg, c);
  },
  siteConditional: (lat, params) => phi4SiteConditional(lat, { mu2: Number(params.mu2), lambda: Number(params.lambda), kappa: Number(params.kappa) }),
  actionTerms: (p, c, dim) => ({ hopping: -Number(p.kappa), phi2: (c + 2 * dim * Number(p.kappa)) / 2, phi4: Number(p.lambda) / 4 }),
  pipeline: {
    algorithm: "cluster",
    defaults: (_p, quick) => ({ couplings: [-0.97, -0.96, -0.9515, -0.94, -0.93], sweeps: quick ? 4000 : 20000, saveEvery: 4, directSweeps: quick ? 3000 : 10000, refine: 4, epochs: quick ? 10 : 8 }),
    // The full study starts from 64: the L = 32 system's corrections to scaling would otherwise be carried to every generated size.
    L0: (target) => (target >= 512 ? 64 : 32),
  },
  network: { name: "phi4", head: (_p, o) => ({ type: "gaussian-mixture", components: o.components ?? 2 }), symmetry: "sign" },
  refine(lat, params, sweeps) {
    const c = { mu2: Number(params.mu2), lambda: Number(params.lambda), kappa: Number(params.kappa) };
    const phi = new Float64Array(lat.V);
    return (cfg, rng) => {
      phi.set(cfg);
      for (let k = 0; k < sweeps; k++) phi4LocalSweep(lat, phi, c, rng);
      (cfg as Float32Array).set(phi);
    };
  },
  blockRule: {
    name: "phi4",
    description: "phi^4 block rule (b = 2): the mean of the block's values of the sign of its sum",
    apply: (lat, cfg, out, rng) => phi4Block(lat, cfg as Float32Array, out as Float32Array, rng),
  },
  // 2D phi^4 is in the Ising class; its critical mu^2 is known only numerically (seed: -0.9515 at lambda = 0.7).
  reference: () => ({ couplingNote: "≈ −0.95 (seed: −0.9515)", nu: 1, gammaOverNu: 7 / 4, betaOverNu: 1 / 8, source: "2D Ising class (exact exponents)" }),
  label: (p) => `mu2=${p.mu2}`,
};
