// The multi-spin spin glass on every core: disorder samples split into contiguous block ranges, one worker
// thread per range, advanced in lock step with the run loop (one sweep, one measurement at a time).
//
// Why lock step over shared memory and not one job per range: the run loop, the ensemble file, the
// checkpoint and --resume stay exactly those of a one-thread run. A sample's chain depends only on (seed,
// sample) (mc/ea-multispin-sampler.ts), ranges end on block boundaries, and the checkpoint is assembled in
// the one-thread layout (all blocks, then all samples), so a run gives the same file for any number of
// workers and resumes on any other number. The main thread blocks in Atomics.wait while the workers sweep;
// a sweep of 128 samples of 8^3 at 16 temperatures is ~0.4 ms, so the ~20 µs hand-over costs little.

import { Worker } from "node:worker_threads";
import { type SamplerState } from "../mc/chains.js";
import { BLOCK } from "../mc/ea-multispin.js";
import { blockCount, type MsEngine, msStateExtra, msStateWords } from "../mc/ea-multispin-sampler.js";
import { type EaOptions, type EaSampler, EA_OBSERVABLES } from "../mc/ea-samplers.js";
import { type Tempering } from "../mc/parallel-tempering.js";

/** Commands of the lock-step protocol (ctl[1]). */
export const enum Cmd { Sweep = 1, Measure = 2, Configs = 3, Save = 4, Restore = 5, Stats = 6, Exit = 7 }

/** What a worker is told at start: its sample range and where its parts of the shared arrays lie. */
export interface EaWorkerSetup {
  dim: number;
  L: number;
  betas: number[];
  target: number;
  seed: number;
  disorderSeed: number;
  engine: MsEngine;
  /** Ladder indices whose overlaps are measured (chain j·samples + c = sample c at stored[j]). */
  stored: number[];
  /** Samples of the whole run. */
  total: number;
  /** Worker index (slot in ctl) and its samples [first, first + samples). */
  w: number;
  first: number;
  samples: number;
  /** Offset of its first sample among the run's samples, and of its block data / chain data in the state. */
  chainOffset: number;
  blockStateOffset: number;
  chainStateOffset: number;
  ctl: SharedArrayBuffer;
  obs: SharedArrayBuffer;
  configs: SharedArrayBuffer;
  state: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

/** ctl layout: [0] command sequence, [1] command, [2 + w] last sequence worker w finished (−1: failed). */
const CTL_HEAD = 2;

/** Splits the blocks of samples [first, first + n) into at most `workers` ranges of whole blocks (groups of four where possible). */
export function splitSamples(first: number, n: number, workers: number): { first: number; samples: number }[] {
  const b0 = Math.floor(first / BLOCK), b1 = Math.floor((first + n - 1) / BLOCK);
  const blocks = b1 - b0 + 1;
  const unit = blocks >= 4 * workers ? 4 : 1;
  const units = Math.ceil(blocks / unit);
  const parts = Math.max(1, Math.min(workers, units));
  const out: { first: number; samples: number }[] = [];
  let u = 0;
  for (let p = 0; p < parts; p++) {
    const take = Math.floor(units / parts) + (p < units % parts ? 1 : 0);
    const lo = Math.max(first, (b0 + u * unit) * BLOCK);
    const hi = Math.min(first + n, (b0 + Math.min(blocks, (u + take) * unit)) * BLOCK);
    u += take;
    if (hi > lo) out.push({ first: lo, samples: hi - lo });
  }
  return out;
}

export interface ThreadedEaSampler extends EaSampler {
  readonly workers: number;
  /** Ends the worker threads (the sampler is unusable afterwards). */
  dispose(): Promise<void>;
}

const WORKER_URL = new URL("./ea-thread-worker.js", import.meta.url);

/** Starts the workers (resolves once each has built its samples) and returns the lock-step sampler. */
export async function startThreadedEaSampler(o: EaOptions & { engine: MsEngine; workers: number; stored?: number[] }): Promise<ThreadedEaSampler> {
  const { lat, betas, target } = o;
  const T = betas.length, V = lat.V, S = o.samples;
  const stored = o.stored ?? [target];
  const N = S * stored.length;
  const first = o.firstSample ?? 0;
  const parts = splitSamples(first, S, o.workers);
  const words = msStateWords(blockCount(first, S), S, T, V);
  const ctl = new SharedArrayBuffer(4 * (CTL_HEAD + parts.length));
  const obs = new SharedArrayBuffer(8 * EA_OBSERVABLES.length * N);
  const configs = new SharedArrayBuffer(N * V);
  const state = new SharedArrayBuffer(4 * (words.blockWords + words.chainWords));
  const P = Math.max(0, T - 1);
  const stats = new SharedArrayBuffer(8 * (parts.length * 2 * P + S));
  const error = new SharedArrayBuffer(4096);
  const ctlA = new Int32Array(ctl);
  let blockAt = 0, chainAt = 0;
  const workers = parts.map((p, w) => {
    const own = msStateWords(blockCount(p.first, p.samples), p.samples, T, V);
    const setup: EaWorkerSetup = {
      dim: lat.dim, L: lat.L, betas: Array.from(betas), target, seed: o.seed, disorderSeed: o.disorderSeed ?? o.seed, engine: o.engine, stored, total: S,
      w, first: p.first, samples: p.samples, chainOffset: p.first - first, blockStateOffset: blockAt, chainStateOffset: words.blockWords + chainAt,
      ctl, obs, configs, state, stats, error,
    };
    blockAt += own.blockWords;
    chainAt += own.chainWords;
    return new Worker(WORKER_URL, { workerData: setup });
  });
  try {
    await Promise.all(workers.map((wk, w) => new Promise<void>((resolve, reject) => {
      wk.once("message", (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error ?? "spin-glass worker failed to start"))));
      wk.once("error", reject);
      wk.once("exit", (code) => reject(new Error(`spin-glass worker ${w} ended (exit code ${code}) before it was ready`)));
    })));
  } catch (e) {
    await Promise.all(workers.map((wk) => wk.terminate()));
    throw e;
  }
  for (const wk of workers) wk.removeAllListeners("exit");
  const errText = (): string => new TextDecoder().decode(new Uint8Array(error)).replace(/\0+$/, "");
  let seq = 0;
  const run = (cmd: Cmd): void => {
    ctlA[1] = cmd;
    seq = Atomics.add(ctlA, 0, 1) + 1;
    Atomics.notify(ctlA, 0);
    for (let w = 0; w < parts.length; w++) {
      for (;;) {
        const v = Atomics.load(ctlA, CTL_HEAD + w);
        if (v === seq) break;
        if (v === -1) throw new Error(`spin-glass worker ${w}: ${errText()}`);
        Atomics.wait(ctlA, CTL_HEAD + w, v, 1000);
      }
    }
  };
  const obsA = new Float64Array(obs), cfgA = new Int8Array(configs), stateA = new Int32Array(state), statsA = new Float64Array(stats);
  let configsFresh = false;
  const stateExtra = msStateExtra(S, T, V, first);
  const unsupported = (what: string): never => {
    throw new Error(`${what} is not available on the multi-threaded sampler; use --workers 1`);
  };
  let disposed = false;
  return {
    lat, betas, target, chains: N, observables: EA_OBSERVABLES, workers: parts.length,
    sweep() {
      run(Cmd.Sweep);
      configsFresh = false;
    },
    endThermalization() {},
    measure(out) {
      run(Cmd.Measure);
      for (let k = 0; k < out.length; k++) out[k]!.set(obsA.subarray(k * N, (k + 1) * N));
    },
    config(c, out) {
      if (!configsFresh) {
        run(Cmd.Configs);
        configsFresh = true;
      }
      (out as Int8Array).set(cfgA.subarray(c * V, (c + 1) * V));
    },
    save(): SamplerState {
      run(Cmd.Save);
      const spins = Int32Array.from(stateA);
      return { rng: Uint32Array.from(spins.subarray(words.blockWords, words.blockWords + 4)), spins, extra: { ...stateExtra } };
    },
    restore(st) {
      const e = st.extra;
      if (e.ea_layout !== stateExtra.ea_layout || e.samples !== S || e.temps !== T || e.V !== V || e.first_sample !== first) {
        throw new RangeError(`checkpoint does not match this spin-glass run (layout ${e.ea_layout}, ${e.samples} samples from ${e.first_sample}, ${e.temps} temperatures, V = ${e.V})`);
      }
      if (!(st.spins instanceof Int32Array) || st.spins.length !== stateA.length) throw new RangeError("checkpoint state has the wrong size for this spin-glass run");
      stateA.set(st.spins);
      run(Cmd.Restore);
      configsFresh = false;
    },
    acceptance() {
      run(Cmd.Stats);
      const acc = new Float64Array(P);
      for (let k = 0; k < P; k++) {
        let a = 0, n = 0;
        for (let w = 0; w < parts.length; w++) {
          a += statsA[w * 2 * P + k]!;
          n += statsA[w * 2 * P + P + k]!;
        }
        acc[k] = n > 0 ? a / n : 0;
      }
      return acc;
    },
    roundTrips() {
      run(Cmd.Stats);
      return Int32Array.from(statsA.subarray(parts.length * 2 * P, parts.length * 2 * P + S));
    },
    tempering: (): Tempering => unsupported("tempering()"),
    copySpins: (): Int8Array => unsupported("copySpins()"),
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        ctlA[1] = Cmd.Exit;
        Atomics.add(ctlA, 0, 1);
        Atomics.notify(ctlA, 0);
      } finally {
        await Promise.all(workers.map((wk) => wk.terminate()));
      }
    },
  };
}
