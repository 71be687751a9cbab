// Worker-thread entry of the pool: receives jobs, runs them with the same code as the main thread
// (registry.ts), and reports progress, results and errors as messages.

import { parentPort } from "node:worker_threads";
import { type Job, type WorkerMessage } from "../cluster/pool.js";
import { runJob } from "./registry.js";

if (!parentPort) throw new Error("worker.ts must run in a worker thread");
const port = parentPort;
let stop = false;

port.on("message", async (m: { type: "job"; job: Job; stop: boolean } | { type: "stop" }) => {
  if (m.type === "stop") {
    stop = true;
    return;
  }
  stop ||= m.stop;
  const { job } = m;
  const send = (msg: WorkerMessage): void => port.postMessage(msg);
  try {
    let last = 0;
    const result = await runJob(job, {
      progress: (done, total) => {
        const now = performance.now();
        if (now - last > 200 || done === total) {
          last = now;
          send({ type: "progress", id: job.id, done, total });
        }
      },
      shouldStop: () => stop,
    });
    send({ type: "result", id: job.id, result });
  } catch (e) {
    const err = e as Error;
    send({ type: "error", id: job.id, message: err.message, name: err.name });
  }
});
