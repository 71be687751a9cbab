// Plain files written atomically, so that an interrupted write never leaves a half-written report,
// manifest or network: the one temporary-file scheme of io/h5.ts (`tempPathFor`, then `commitTemp`).
// (Ensembles are the exception on purpose: they grow in `<out>.partial` so that a run can resume.)

import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { checkWritable, commitTemp, H5Error, tempPathFor } from "./h5.js";

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

/**
 * Refuses to replace an existing file that does not start with `prefix` (case-insensitive): a report
 * or plot path given by mistake must not overwrite an ensemble or a network. Directories are refused too.
 */
export function checkReplaceable(path: string, prefix: string, what: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new H5Error(`${path} is a directory; give a file name for the ${what}`);
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(prefix.length);
    const n = readSync(fd, buf, 0, prefix.length, 0);
    if (buf.subarray(0, n).toString("latin1").toLowerCase() !== prefix.toLowerCase()) {
      throw new H5Error(`${path} exists and is not ${what === "report" ? "an HTML report" : `an ${what}`}; it would be overwritten: choose another path`);
    }
  } finally {
    closeSync(fd);
  }
}
