// Plain files written atomically, so that an interrupted write never leaves a half-written report,
// manifest or network: the one temporary-file scheme of io/h5.ts (`tempPathFor`, then `commitTemp`).
// (Ensembles are the exception on purpose: they grow in `<out>.partial` so that a run can resume.)

import { rmSync, writeFileSync } from "node:fs";
import { checkWritable, commitTemp, tempPathFor } from "./h5.js";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  checkWritable(path);
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    commitTemp(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
