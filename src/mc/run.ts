// The Monte Carlo run loop: thermalise, sweep, measure every `every` sweeps, hand measurements to a
// sink, checkpoint on request or on a timer, and resume from a checkpoint bit-for-bit.
//
// Why the loop and not the samplers own this: a sampler only knows how to sweep and measure; every
// model then gets stopping, resuming and writing in the same way (Carlo.jl's design).

import { type Chains, type SamplerState } from "./chains.js";

/** What to run. Sweeps are counted after thermalisation. */
export interface RunPlan {
  therm: number;
  sweeps: number;
  /** Measure every `every` sweeps. */
  every: number;
  /** Store the configurations of every `saveEvery`-th measurement (0: none). */
  saveEvery: number;
}

/** Where a run stands; with the sampler state it is a complete checkpoint. */
export interface RunPosition {
  /** Sweeps done in total, thermalisation included. */
  sweepsDone: number;
  /** Measurements handed to the sink so far. */
  measurements: number;
  /** Configurations handed to the sink so far (per chain). */
  saved: number;
}

export interface Checkpoint extends RunPosition {
  sampler: SamplerState;
}

/** Receives the output of a run; only `io` implementations touch files. */
export interface RunSink<C> {
  /**
   * One measurement: values[k][c] for observable k, chain c; configs[c] when this one is stored;
   * vectors[k][c] for the sampler's vector observables (when it has any).
   */
  measurement(values: Float64Array[], configs: C[] | null, vectors?: Float64Array[][]): void;
  /** A consistent state: everything handed over so far plus how to continue. */
  checkpoint(cp: Checkpoint): void;
}

export interface RunControl {
  /** Polled after every sweep; true stops the run at once (with a checkpoint). */
  shouldStop?: () => boolean;
  /** Progress callback, called at most every `progressEvery` sweeps. */
  progress?: (pos: RunPosition, total: number) => void;
  /** Seconds between periodic checkpoints (default: 300). */
  checkpointSeconds?: number;
  /** Stop after this many sweeps in this session (deterministic interruption, for tests). */
  stopAfter?: number;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
}

export interface RunResult extends RunPosition {
  completed: boolean;
}

/** Number of measurements a plan produces. */
export function plannedMeasurements(plan: RunPlan): number {
  return Math.floor(plan.sweeps / plan.every);
}

/** Validates a plan; throws RangeError naming the bad option. */
export function checkPlan(plan: RunPlan): void {
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
  };
  int("therm", plan.therm, 0);
  int("sweeps", plan.sweeps, 1);
  int("every", plan.every, 1);
  int("save-every", plan.saveEvery, 0);
  if (plan.every > plan.sweeps) throw new RangeError(`--every (${plan.every}) exceeds --sweeps (${plan.sweeps}): no measurement would be made`);
}

/** Lets the event loop run (signals, timers) between sweeps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs (or continues, from `from`) a plan. Asynchronous only so that Ctrl-C (a signal, delivered
 * through the event loop) is seen: the loop yields about every 50 ms of work. The sink sees a checkpoint when the run starts and
 * completes, when it stops, after at most a minute, and then every `checkpointSeconds`; after a stop, calling again with the last checkpoint
 * continues exactly as an uninterrupted run would have.
 */
export async function runChains<C extends Int8Array | Float32Array>(
  chains: Chains<C>,
  plan: RunPlan,
  sink: RunSink<C>,
  /** A configuration buffer for chain c (chains may differ in size: the levels of compatible MC). */
  makeConfig: (c: number) => C,
  control: RunControl = {},
  from?: Checkpoint,
): Promise<RunResult> {
  checkPlan(plan);
  const now = control.now ?? (() => performance.now());
  const pos: RunPosition = { sweepsDone: 0, measurements: 0, saved: 0 };
  if (from) {
    chains.restore(from.sampler);
    pos.sweepsDone = from.sweepsDone;
    pos.measurements = from.measurements;
    pos.saved = from.saved;
  }
  const total = plan.therm + plan.sweeps;
  const values = chains.observables.map(() => new Float64Array(chains.chains));
  const configs = Array.from({ length: chains.chains }, (_, c) => makeConfig(c));
  const vectors = chains.vectors?.map((v) => Array.from({ length: chains.chains }, () => new Float64Array(v.length)));
  const checkpointMs = (control.checkpointSeconds ?? 300) * 1000;
  let lastCheckpoint = now();
  let lastYield = performance.now();
  let lastProgress = -1;
  let sessionSweeps = 0;
  const checkpoint = async (): Promise<void> => {
    await chains.prepare?.({ measure: false, config: false, save: true });
    sink.checkpoint({ ...pos, sampler: chains.save() });
    lastCheckpoint = now();
  };
  if (!from) {
    // A run killed at any moment (SIGKILL, a node failure) leaves a file it can resume from: one
    // checkpoint before the first sweep, the next after at most a minute, then every checkpointSeconds.
    await checkpoint();
    lastCheckpoint -= Math.max(0, checkpointMs - 60_000);
  }
  if (plan.therm === 0 && pos.sweepsDone === 0) chains.endThermalization();
  while (pos.sweepsDone < total) {
    const swept = chains.sweep();
    if (swept !== undefined && !(await swept)) {
      await checkpoint();
      return { ...pos, completed: false };
    }
    pos.sweepsDone++;
    sessionSweeps++;
    if (pos.sweepsDone === plan.therm) chains.endThermalization();
    const measured = pos.sweepsDone - plan.therm;
    if (measured > 0 && measured % plan.every === 0) {
      const store = plan.saveEvery > 0 && pos.measurements % plan.saveEvery === 0;
      await chains.prepare?.({ measure: true, config: store, save: false });
      chains.measure(values);
      if (vectors) chains.measureVectors!(vectors);
      if (store) configs.forEach((cfg, c) => chains.config(c, cfg));
      sink.measurement(values, store ? configs : null, vectors);
      pos.measurements++;
      if (store) pos.saved++;
    }
    if (control.progress && (pos.sweepsDone - lastProgress >= Math.max(1, Math.floor(total / 1000)) || pos.sweepsDone === total)) {
      control.progress(pos, total);
      lastProgress = pos.sweepsDone;
    }
    if (pos.sweepsDone === total) break;
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (control.shouldStop?.() || (control.stopAfter !== undefined && sessionSweeps >= control.stopAfter)) {
      await checkpoint();
      return { ...pos, completed: false };
    }
    if (now() - lastCheckpoint >= checkpointMs) await checkpoint();
  }
  await checkpoint();
  return { ...pos, completed: true };
}
