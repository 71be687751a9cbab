// What the GPU test children share: the device (or exit 1 with the reason) and the one JSON line of cases.
import { type Gpu, openGpu } from "../src/gpu/device.js";

export async function childGpu(): Promise<Gpu> {
  const o = await openGpu({ software: true });
  if ("gpu" in o) return o.gpu;
  process.stderr.write(`${o.reason}\n`);
  process.exit(1);
}

export function reportCases(gpu: Gpu, cases: unknown[]): never {
  gpu.close();
  process.stdout.write(`${JSON.stringify({ cases })}\n`);
  process.exit(0);
}
