// What every benchmark shares: a timing loop robust to other load on a shared machine, and writing the
// JSON result (directory created, temporary file renamed).

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../src/io/files.js";

/**
 * ms per call of `step`: the best of repeated batches of at least 25 ms over `minMs` in all (after one
 * warm-up call). The minimum over batches is what other load on the machine distorts least.
 */
export function bestMsPerCall(step: () => void, minMs: number): number {
  step();
  let best = Infinity;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    let n = 0;
    const b0 = performance.now();
    let t = b0;
    while (t - b0 < 25) {
      step();
      n++;
      t = performance.now();
    }
    best = Math.min(best, (t - b0) / n);
  }
  return best;
}

/** Writes the benchmark's JSON result to `out` and says so. */
export function writeBenchResult(out: string, result: unknown): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify(result, null, 2));
  console.log(`wrote ${out}`);
}
