// The model interface: everything the jobs, the IO, the analysis and the reports need to know about a
// model, in one descriptor per model, found by name in `registry.ts` (see docs/architecture.md).
//
// Why a descriptor and not a switch on the name: a model added here is simulated, scanned, measured,
// blocked and analysed by the existing jobs without touching them (the Potts model proved it).

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { type SiteConditional } from "../irg/decimated.js";
import { type Backend, type BackendChoice } from "../mc/backend.js";
import { type Chains } from "../mc/chains.js";
import { type Estimate } from "../analysis/stats.js";
import { type HeadSpec } from "../nn/heads.js";
import { type ParamSpecs } from "./params.js";

/** How one configuration is stored: one byte per site (spins, states, overlaps) or a float field. */
export type ConfigDtype = "int8" | "float32";
export type Config = Int8Array | Float32Array;
/** Parameters as stored in an ensemble's attributes. */
export type StoredParams = Record<string, string | number | boolean>;

/**
 * The options of one simulation after validation. The common keys (size, plan, seed, output) are
 * set for every model; the others are read only by the model that declares them in its `params`.
 */
export interface SimulateOptions {
  dim: number;
  L: number;
  algorithm: string;
  sweeps: number;
  therm: number;
  every: number;
  saveEvery: number;
  seed: number;
  task: number;
  out: string;
  maxTime?: number;
  checkpointEvery: number;
  /** Where kernels with a GPU version run: as given (auto, cpu, gpu), then as resolved and stored (cpu, gpu). */
  backend: BackendChoice;
  start?: "hot" | "cold";
  /** Ising, Potts, spin glass: the inverse temperature (spin glass: the measured one of the ladder). */
  beta?: number;
  /** Potts: number of states. */
  q?: number;
  /** φ⁴ couplings. */
  mu2?: number;
  lambda?: number;
  kappa?: number;
  /** Spin glass (see models/ea-model.ts). */
  betaMin?: number;
  betaMax?: number;
  temps?: number;
  betas?: string;
  temperatures?: string;
  storeBetas?: string;
  samples?: number;
  firstSample?: number;
  disorderSeed?: number;
  kernel?: "auto" | "wasm" | "typescript";
  workers?: number;
}

/** A b = 2 block rule: maps a configuration of L^d sites onto (L/2)^d sites of the same kind. */
export interface BlockRule {
  readonly name: string;
  /** One line for file attributes and reports (what the rule does, how it breaks ties). */
  readonly description: string;
  /** `params` are the parent ensemble's (e.g. q); `rng` is used only by rules with random ties. */
  apply(lat: Lattice, cfg: Config, out: Config, rng: Rng, params: StoredParams): void;
}

/** Known critical values of a model at given parameters, with where they come from. */
export interface CriticalReference {
  /** The critical value of the model's `coupling`, when it is known. */
  coupling?: number;
  /** Said instead where the critical coupling is known only approximately. */
  couplingNote?: string;
  nu: number;
  gammaOverNu: number;
  betaOverNu: number;
  /** E.g. "2D Ising class (exact)". */
  source: string;
}

/** How inverse-RG networks represent a model's configurations. */
export interface NetworkSupport {
  /** The name network files carry (the spin glass's networks map overlap fields: "overlap"). */
  readonly name: string;
  /** The output head for configurations with these parameters (`components`: mixture size asked for). */
  head(params: StoredParams, opts: { components?: number }): HeadSpec;
  /** One-hot input over this many states (categorical models); absent: the coarse value is the input. */
  inputStates?(params: StoredParams): number;
  /** The internal symmetry used to augment training pairs: a global sign flip, or a permutation of the states. */
  readonly symmetry: "sign" | "permutation";
}

/** What the inverse-RG pipeline (`irg pipeline <model>`) runs for a model by default. */
export interface PipelineSupport {
  /** The Monte Carlo algorithm of every run (the fastest exact one near criticality). */
  readonly algorithm: string;
  /** Defaults of the quick study (target ≤ 128) or the full one, at the given model parameters. */
  defaults(params: StoredParams, quick: boolean): { couplings: number[]; sweeps: number; saveEvery: number; directSweeps: number; refine: number; epochs: number };
  /** The starting size for a target size (default 32). */
  L0?(target: number): number;
  /** Model parameters the pipeline needs besides the coupling (e.g. q), as flags it accepts. */
  readonly params?: readonly string[];
}

/** Reads one per-measurement series of an ensemble (row = measurement·chains + chain). */
export type SeriesReader = (name: string) => Float64Array;

/**
 * The options a model's methods receive: SimulateOptions with the model's own keys present. This is
 * what the model's member of the parameter schema (`SIMULATION_SCHEMA`) returns, defaults applied,
 * completed by `complete` (which is therefore the one method that takes plain SimulateOptions).
 */
export type OptionsWith<K extends keyof SimulateOptions> = SimulateOptions & Required<Pick<SimulateOptions, K>>;

/** `O`: the options the model's methods read (see OptionsWith); the registry holds them as ModelDescriptor. */
export interface ModelDescriptor<O extends SimulateOptions = SimulateOptions> {
  /** The name used on the command line and stored as the `model` attribute. */
  readonly name: string;
  /** One line for help texts. */
  readonly title: string;
  readonly dims: readonly number[];
  readonly defaultDim: number;
  readonly configDtype: ConfigDtype;
  readonly algorithms: readonly string[];
  /** The model's own parameters (flag, zod schema, default, whether stored). */
  readonly params: ParamSpecs;
  /**
   * The coupling that scans run over and MCRG reweights in: weight e^{−c·x} with x = `conjugate(…)`
   * (Ising, Potts: c = β, x = H; φ⁴: c = μ², x = Σφ²/2).
   */
  readonly coupling: "beta" | "mu2";
  /** Applies defaults and model-specific checks; throws UsageError naming the flag. */
  complete(o: SimulateOptions): void;
  /**
   * The chains of a run; `rng` is the stream (seed, task, replica 0) for models with one stream.
   * Asynchronous where the chains run in worker threads (then `dispose` ends them).
   */
  chains(o: O, rng: Rng, backend: Backend): Chains<Config> | Promise<Chains<Config>>;
  /**
   * The algorithms with a GPU kernel (run where `--backend` resolves to gpu; see mc/backend.ts), and
   * what else the kernel needs of a run (a message naming the flag when it is not met).
   */
  readonly gpu?: { algorithms: readonly string[]; check?(o: SimulateOptions): string | undefined };
  /** Rows per measurement in the file when it differs from the sampler's chains (spin glass: samples). */
  fileChains?(o: O): number;
  /** Attributes stored beside the parameters (e.g. the spin glass's ladder). */
  attributes?(o: O): StoredParams;
  /** Numeric arrays stored beside them as float64 attributes (the spin glass's β ladder). */
  attributeArrays?(o: O): Record<string, number[]>;
  /** The keys of `attributes` and `outputs` that are integers by definition (stored as HDF5 integers). */
  readonly integerAttributes?: readonly string[];
  /**
   * The files of one run when it writes several (one per stored temperature), the first being --out;
   * each gets `fileChains` rows of every measurement, in order. Absent: the one file --out.
   */
  outputs?(o: O, params: StoredParams): { path: string; params: StoredParams }[];
  /** A short status for the progress bar (e.g. round trips of parallel tempering). */
  status?(chains: Chains<Config>): string;
  /** Lines printed after a run (e.g. swap acceptance). */
  notes?(chains: Chains<Config>): string[];
  /**
   * Quenched disorder measured over samples: a completed run gets the equilibration verdict (log
   * binning and ladder round trips), and `irg measure` averages over samples.
   */
  readonly disorder?: boolean;
  /** Adjusts the parameters read back from a file before a resume re-validates them. */
  resumeParams?(merged: Record<string, unknown>): void;
  /** Estimates of one ensemble from its series; absent for models measured over disorder samples. */
  estimates?(series: SeriesReader, info: { V: number; chains: number; params: StoredParams; observables: readonly string[] }): Record<string, Estimate>;
  /** The series that reweighting in `coupling` multiplies by −c (see `coupling`). */
  conjugate(series: SeriesReader, observables: readonly string[]): Float64Array;
  /** Order parameter per site of one configuration (of a blocked ensemble, which has no measurements). */
  orderParameter?(cfg: Config, params: StoredParams): number;
  /**
   * The observables of a configuration alone, as stored for blocked and generated ensembles (which
   * have no sampler): `observe(lat, params)` returns a function filling out[k] for name k.
   */
  readonly configObservables?: readonly string[];
  observe?(lat: Lattice, params: StoredParams): (cfg: Config, out: Float64Array) => void;
  /** What the conjugate series of a blocked file holds (its parent's), for the file's attributes. */
  readonly conjugateName?: string;
  /**
   * The energy (or action) per configuration at coupling c as a linear combination of the
   * `configObservables`: name → coefficient (validation compares it at reweighted couplings).
   */
  actionTerms?(params: StoredParams, c: number, dim: number): Record<string, number>;
  /** G(r) of one configuration at separations rs (default: the product of values, analysis/correlation.ts). */
  correlation?(cfg: Config, L: number, dim: number, rs: readonly number[], params: StoredParams): Float64Array;
  /** The inverse-RG pipeline of this model (absent: no `irg pipeline <model>`). */
  readonly pipeline?: PipelineSupport;
  /** Inverse-RG networks of this model (absent: `irg train` refuses it). */
  readonly network?: NetworkSupport;
  /**
   * `sweeps` local Monte Carlo sweeps of the model's action at `params`, in place, for refining
   * generated configurations (absent where they have no local action, e.g. overlap fields).
   */
  refine?(lat: Lattice, params: StoredParams, sweeps: number): (cfg: Config, rng: Rng) => void;
  /**
   * The dimensionless action S = −ln(unnormalised probability) of one configuration at `params` (what the
   * exact inverse-RG chain weighs its exchanges with; absent: no exact sampling for this model).
   */
  action?(lat: Lattice, params: StoredParams): (cfg: Config) => number;
  /**
   * The exact conditional distribution of one site given all others (heat bath), for models whose
   * interactions are nearest-neighbour on the bipartite hypercubic lattice: then the sites of one
   * parity are independent given the other parity, and the exact inverse-RG proposal draws them exactly
   * (irg/decimated.ts heatBathMap). `draw` writes a value drawn from it at site i and returns its ln p;
   * `logProb` returns ln p of the value at site i. Absent (continuous fields, disorder): the network
   * draws every site.
   */
  siteConditional?(lat: Lattice, params: StoredParams): SiteConditional;
  /** The b = 2 block rule for ensembles of this model. */
  readonly blockRule?: BlockRule;
  /** Checks a configuration read from a file (states in range, spins ±1); returns a problem or undefined. */
  checkConfig?(cfg: Config, params: StoredParams): string | undefined;
  /** Critical values to compare an MCRG study with (absent where none are known). */
  reference?(params: StoredParams, dim: number): CriticalReference | undefined;
  /**
   * Exact finite-size values at `params` (the coupling included), keyed like the model's `estimates`
   * (2D Ising: e and c from Kaufman's solution of the L×L torus); absent where none are known.
   */
  exactFinite?(dim: number, L: number, params: StoredParams): Record<string, number> | undefined;
  /** How a point is named in tables and file names, e.g. "beta=0.44" (the coupling and, e.g., q). */
  label(params: StoredParams): string;
}
