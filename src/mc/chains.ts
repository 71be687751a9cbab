// The interface between a model's sampler and the framework that owns the loop (thermalisation,
// measurement, checkpoints, sinks): modelled on Carlo.jl's init!/sweep!/measure!/checkpoint contract.

/** Everything a checkpoint needs to continue a sampler bit-for-bit. */
export interface SamplerState {
  /** xoshiro128** state (4 words), or what `rngType` names. */
  rng: Uint32Array;
  /** The generator whose state `rng` holds when it is not xoshiro128** (the packed kernel's Philox key and sweep count). */
  rngType?: string;
  /** The degrees of freedom: spins (Int8Array), multi-spin words (Int32Array) or fields (Float32Array/Float64Array). */
  spins: Int8Array | Int32Array | Float32Array | Float64Array;
  /** Small numeric state (e.g. Wolff's clusters per sweep and its calibration sums). */
  extra: Record<string, number>;
}

/** `chains` independent Markov chains advanced together (1, or 32 for multi-spin coding). */
export interface Chains<C extends Int8Array | Float32Array> {
  readonly chains: number;
  /** Names of the per-configuration scalar observables that `measure` fills, in order. */
  readonly observables: readonly string[];
  /**
   * One sweep (its meaning is the sampler's, documented there). A sampler fed by other threads may
   * return a promise; one that resolves to false did nothing because the run is being stopped.
   */
  sweep(): void | Promise<boolean>;
  /** Called once when thermalisation ends (Wolff fixes its clusters per sweep here). */
  endThermalization(): void;
  /** out[k][c] = observable k of chain c. */
  measure(out: Float64Array[]): void;
  /** Per-configuration vector observables (name and length), filled by `measureVectors`. */
  readonly vectors?: readonly { name: string; length: number }[];
  /** out[k][c] = vector observable k of chain c (NaN where the chain does not record it). */
  measureVectors?(out: Float64Array[][]): void;
  /** Configuration of chain c into `out` (length V). */
  config(c: number, out: C): void;
  /**
   * Chains whose state lives on a device (a GPU) bring to the host what the next `measure`, `config`
   * or `save` reads; the run loop awaits this before those calls.
   */
  prepare?(needs: { measure: boolean; config: boolean; save: boolean }): Promise<void>;
  save(): SamplerState;
  restore(st: SamplerState): void;
  /** Ends worker threads the chains run on (threaded samplers only). */
  dispose?(): Promise<void>;
}
