// The job kinds a worker (or the main thread) can run, by name. Parameters are plain data so that
// they cross thread boundaries; each job validates them as the CLI would.

import { h5Ready } from "../io/h5.js";
import { type Job, type JobRunner } from "../cluster/pool.js";
import { runSimulation, type SimulateOptions } from "./simulation.js";
import { generate, type GenerateOptions } from "./generate.js";
import { runExact } from "./exact.js";
import { loadNetwork } from "../io/network.js";
import { networkMap } from "../irg/network.js";
import { type NetworkModel } from "../irg/generator.js";

/** Generation from one ensemble with a saved network (the pipeline runs one job per coupling). */
export interface GenerateJobParams {
  net: string;
  model: NetworkModel;
  options: Omit<GenerateOptions, "progress" | "shouldStop">;
}

export interface SimulateJobParams {
  model: string;
  options: SimulateOptions;
  force: boolean;
  resume: boolean;
}

/** An exact inverse-RG chain (jobs/exact.ts): the model, its simulation flags at the smallest size, the chain's options. */
export interface ExactJobParams {
  model: string;
  raw: Record<string, unknown>;
  x: { network: string; to: number; levelSweeps?: number[]; proposal?: "network" | "heat-bath" };
}

export const runJob: JobRunner = async (job: Job, hooks) => {
  await h5Ready();
  switch (job.kind) {
    case "simulate": {
      const p = job.params as SimulateJobParams;
      return runSimulation(p.model, p.options, { checkpointEvery: p.options.checkpointEvery, maxTime: p.options.maxTime, progress: hooks.progress, shouldStop: hooks.shouldStop }, p.resume, p.force);
    }
    case "generate": {
      const p = job.params as GenerateJobParams;
      const map = networkMap(loadNetwork(p.net, { model: p.model }));
      return generate(map, { ...p.options, network: p.net, progress: hooks.progress, shouldStop: hooks.shouldStop });
    }
    case "exact": {
      const p = job.params as ExactJobParams;
      return runExact(p.model, p.raw, p.x, { checkpointEvery: 5, progress: hooks.progress, shouldStop: hooks.shouldStop }, false, true);
    }
    case "chains":
    case "direct": {
      // Compatible Monte Carlo (imported on demand: compatible.ts itself imports this module).
      const { runCompatibleJob } = await import("./compatible.js");
      return runCompatibleJob(job, hooks);
    }
    default:
      throw new Error(`unknown job kind "${job.kind}"`);
  }
};

/** The worker entry module for `runPool`. */
export { WORKER_URL } from "./worker-url.js";
