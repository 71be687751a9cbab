// A pool of worker threads that runs independent jobs (node:worker_threads): every job carries its
// own random-stream key, so results never depend on how many workers ran them or in which order.
//
// Why threads and not processes: jobs are CPU-bound numerics; threads start in ~30 ms and share the
// compiled code. A job that throws fails the pool with its message; Ctrl-C is forwarded as a stop.

import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";

export interface Job<P = unknown> {
  /** Index within the batch (results come back in this order). */
  id: number;
  /** Name of the job kind the worker dispatches on (see worker.ts). */
  kind: string;
  params: P;
}

export type WorkerMessage =
  | { type: "progress"; id: number; done: number; total: number }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; message: string; name: string };

export interface PoolOptions {
  /** Number of worker threads (default: all cores); 0 runs the jobs in this thread. */
  workers?: number;
  /** The worker entry module (it answers {type: "job"} messages with WorkerMessages). */
  workerUrl: URL;
  onProgress?: (id: number, done: number, total: number) => void;
  onResult?: (id: number, result: unknown) => void;
  /** Polled every 100 ms; true asks every running job to stop at its next checkpoint opportunity. */
  shouldStop?: () => boolean;
}

/** Runs a job in this thread (workers = 0, and inside each worker). */
export type JobRunner = (job: Job, hooks: { progress: (done: number, total: number) => void; shouldStop: () => boolean }) => Promise<unknown>;

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Runs all jobs; resolves with their results in job order, rejects on the first failure. */
export async function runPool(jobs: readonly Job[], opts: PoolOptions, inline?: JobRunner): Promise<unknown[]> {
  const results: unknown[] = new Array(jobs.length);
  const nWorkers = Math.min(opts.workers ?? defaultWorkers(), jobs.length);
  if (nWorkers <= 0) {
    if (!inline) throw new Error("runPool with 0 workers needs an inline runner");
    for (const job of jobs) {
      results[job.id] = await inline(job, {
        progress: (d, t) => opts.onProgress?.(job.id, d, t),
        shouldStop: () => opts.shouldStop?.() ?? false,
      });
      opts.onResult?.(job.id, results[job.id]);
    }
    return results;
  }
  const queue = [...jobs];
  const url = opts.workerUrl;
  const workers: Worker[] = [];
  let stopSent = false;
  const stopTimer = setInterval(() => {
    if (!stopSent && opts.shouldStop?.()) {
      stopSent = true;
      for (const w of workers) w.postMessage({ type: "stop" });
    }
  }, 100);
  try {
    await new Promise<void>((resolve, reject) => {
      let active = 0;
      let failed = false;
      const next = (w: Worker): void => {
        const job = queue.shift();
        if (!job || failed) {
          void w.terminate();
          active--;
          if (active === 0 && !failed) resolve();
          return;
        }
        w.postMessage({ type: "job", job, stop: stopSent });
      };
      for (let k = 0; k < nWorkers; k++) {
        const w = new Worker(url);
        workers.push(w);
        active++;
        w.on("message", (m: WorkerMessage) => {
          if (m.type === "progress") opts.onProgress?.(m.id, m.done, m.total);
          else if (m.type === "result") {
            results[m.id] = m.result;
            opts.onResult?.(m.id, m.result);
            next(w);
          } else {
            failed = true;
            const e = new Error(m.message);
            e.name = m.name;
            for (const other of workers) void other.terminate();
            reject(e);
          }
        });
        w.on("error", (e) => {
          failed = true;
          for (const other of workers) void other.terminate();
          reject(e);
        });
        next(w);
      }
    });
  } finally {
    clearInterval(stopTimer);
  }
  return results;
}
