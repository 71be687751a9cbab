// Worker-thread entry of data-parallel training (train-shards.ts): holds the network architecture and
// the shared pair set, and answers one shard's loss and gradient per message.

import { parentPort, workerData } from "node:worker_threads";
import { type PairSet } from "../irg/dataset.js";
import { type Network } from "../irg/network.js";
import { serveShards } from "./train-shards.js";

if (!parentPort) throw new Error("train-worker.ts must run in a worker thread");
const d = workerData as { net: Omit<Network, "params">; paramCount: number; set: PairSet };
serveShards({ ...d.net, params: new Float32Array(d.paramCount) }, d.set, parentPort);
