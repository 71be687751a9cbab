// The child process of probe.ts: opens the first adapter and prints what it found as one JSON line.

import { openGpu } from "./device.js";

const o = await openGpu({ software: process.argv[2] === "software" });
if ("gpu" in o) {
  process.stdout.write(`${JSON.stringify({ found: true, info: o.gpu.info })}\n`);
  o.gpu.close();
} else {
  process.stdout.write(`${JSON.stringify({ found: false, reason: o.reason })}\n`);
}
process.exit(0);
