// Plain files written atomically (temporary file in the same directory, then rename), so that an
// interrupted write never leaves a half-written report, manifest or network.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { checkWritable } from "./h5.js";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  checkWritable(path);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
