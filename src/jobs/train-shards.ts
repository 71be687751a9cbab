// Data-parallel gradients for training on all cores: a batch is cut into a fixed number of shards,
// worker threads compute the shards' gradients, and the main thread adds them in shard order.
//
// Why shards and not "one slice per worker": the shard layout and every shard's augmentation stream
// depend only on (seed, epoch, step, shard), so the summed gradient — and therefore the trained
// network — is bit-for-bit the same for any number of workers, including none.

import { type MessagePort, Worker } from "node:worker_threads";
import { rngFor } from "../lattice/rng.js";
import { type PairSet } from "../irg/dataset.js";
import { batchGradient, type Network, scratchFor, type Scratch } from "../irg/network.js";

/** Shard of a step: which pairs, and the key of its augmentation stream (null: no augmentation). */
export interface Shard {
  indices: Int32Array;
  /** Fraction of the batch this shard carries (its gradient's weight). */
  weight: number;
  augKey: { seed: number; replica: number } | null;
}

/** Splits `indices` into at most `shards` contiguous, nearly equal shards. */
export function makeShards(indices: Int32Array, shards: number, augKey: (s: number) => Shard["augKey"]): Shard[] {
  const n = indices.length, k = Math.max(1, Math.min(shards, n));
  const out: Shard[] = [];
  for (let s = 0; s < k; s++) {
    const a = Math.floor((s * n) / k), b = Math.floor(((s + 1) * n) / k);
    out.push({ indices: indices.subarray(a, b), weight: (b - a) / n, augKey: augKey(s) });
  }
  return out;
}

/** The augmentation stream of a shard: task 8300, replica from (epoch, step, shard). */
export const AUG_TASK = 8300;

function shardGradient(net: Network, set: PairSet, sh: Shard, sc: Scratch, withGrad: boolean): { loss: number; grad: Float32Array | null } {
  const grad = withGrad ? new Float32Array(net.params.length) : null;
  const rng = sh.augKey ? rngFor({ seed: sh.augKey.seed, task: AUG_TASK, replica: sh.augKey.replica }) : null;
  const loss = batchGradient(net, set, sh.indices, grad, sh.weight, rng, sc);
  return { loss, grad };
}

/** The shards' losses and gradients added in shard order (the order fixes the rounding). */
function sumInOrder(results: readonly { loss: number; grad: Float32Array | null }[], grad: Float32Array | null): number {
  let loss = 0;
  for (const r of results) {
    loss += r.loss;
    if (grad && r.grad) for (let i = 0; i < grad.length; i++) grad[i]! += r.grad[i]!;
  }
  return loss;
}

export interface GradientEngine {
  /** Sum of the shards' losses (per-site NLL summed over sites and pairs); adds the weighted gradient to `grad`. */
  run(params: Float32Array, shards: Shard[], grad: Float32Array | null): Promise<number>;
  close(): Promise<void>;
  readonly workers: number;
}

/** Shards computed in this thread, in order (workers = 0, and the reference for the threaded path). */
export function inlineEngine(net: Network, set: PairSet): GradientEngine {
  const sc = scratchFor(set);
  return {
    workers: 0,
    async run(params, shards, grad) {
      net.params.set(params);
      return sumInOrder(shards.map((sh) => shardGradient(net, set, sh, sc, grad !== null)), grad);
    },
    close: async () => {},
  };
}

const WORKER = new URL("./train-worker.js", import.meta.url);

/** Copies a typed array into shared memory so that every worker reads the same pairs without copies. */
function shared(a: Float32Array): Float32Array {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** Shards spread over `workers` threads; the sum is taken in shard order, as inline. */
export function threadedEngine(net: Network, set: PairSet, workers: number): GradientEngine {
  const data = { ...set, coarse: shared(set.coarse), fine: shared(set.fine) };
  const netData = { model: net.model, dim: net.dim, spec: net.spec, inputScale: net.inputScale, training: {}, ...(net.first ? { first: net.first } : {}) };
  const pool = Array.from({ length: workers }, () => new Worker(WORKER, { workerData: { net: netData, paramCount: net.params.length, set: data } }));
  let failure: Error | null = null;
  for (const w of pool) w.on("error", (e) => (failure = e));
  const call = (w: Worker, msg: unknown): Promise<{ loss: number; grad: Float32Array | null }> =>
    new Promise((resolve, reject) => {
      const onMsg = (m: { loss: number; grad: Float32Array | null; error?: string }): void => {
        w.off("error", onErr);
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      };
      const onErr = (e: Error): void => {
        w.off("message", onMsg);
        reject(e);
      };
      w.once("message", onMsg);
      w.once("error", onErr);
      w.postMessage(msg);
    });
  return {
    workers,
    async run(params, shards, grad) {
      if (failure) throw failure;
      // Shard s goes to worker s mod W; each worker does its shards in order, all workers at once.
      const perWorker = pool.map((_, k) => shards.filter((_, s) => s % workers === k));
      const results = await Promise.all(pool.map(async (w, k) => {
        const out: { loss: number; grad: Float32Array | null }[] = [];
        for (const sh of perWorker[k]!) out.push(await call(w, { params, shard: sh, withGrad: grad !== null }));
        return out;
      }));
      return sumInOrder(shards.map((_, s) => results[s % workers]![Math.floor(s / workers)]!), grad);
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}

/** Worker side: one network and pair set per thread, one shard per message. */
export function serveShards(net: Network, set: PairSet, port: MessagePort): void {
  const sc = scratchFor(set);
  port.on("message", (m: { params: Float32Array; shard: Shard; withGrad: boolean }) => {
    try {
      net.params.set(m.params);
      const r = shardGradient(net, set, m.shard, sc, m.withGrad);
      port.postMessage(r, r.grad ? [r.grad.buffer as ArrayBuffer] : []);
    } catch (e) {
      port.postMessage({ loss: Number.NaN, grad: null, error: (e as Error).message });
    }
  });
}
