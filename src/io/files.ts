// Plain files written atomically, so that an interrupted write never leaves a half-written report,
// manifest or network: the one temporary-file scheme of io/h5.ts (`tempPathFor`, then `commitTemp`).
// (Ensembles are the exception on purpose: they grow in `<out>.partial` so that a run can resume.)

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
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

/** Checks before a long computation that `path` can take a report (absent, or an HTML document). */
export function checkReportPath(path: string): void {
  checkReplaceable(path, "<!doctype html", "report");
}

/** Writes an HTML report (its directory made when missing); an existing file is replaced only if it is an HTML document. */
export function writeReport(path: string, html: string): void {
  mkdirSync(dirname(path), { recursive: true });
  checkReportPath(path);
  writeFileAtomic(path, html);
}

/** Checks before a computation that `path` can take a plot (absent, or an SVG document). */
export function checkPlotPath(path: string): void {
  checkReplaceable(path, "<svg", "SVG plot");
}

/** Writes an SVG document (atomically: a reader never sees half a plot); an existing file is replaced only if it is an SVG. */
export function writeSvg(path: string, svg: string): void {
  checkPlotPath(path);
  writeFileAtomic(path, svg);
}

/** Space kept free on the disk beside a write (HDF5's metadata and the closing flush need some). */
const DISK_RESERVE = 1 << 20;

/**
 * Refuses a write that would leave less than DISK_RESERVE free: a run stops cleanly before HDF5 meets
 * a full disk, because a write that fails half-way can damage a chunk written before the last
 * checkpoint. (Where the size cannot be read, the write goes ahead and HDF5's own error stands.)
 */
export function ensureSpace(out: string, bytes: number): void {
  const dir = dirname(resolve(out));
  let free: number;
  try {
    const st = statfsSync(dir);
    free = Number(st.bavail) * Number(st.bsize);
  } catch {
    return;
  }
  if (free < bytes + DISK_RESERVE) {
    const mib = (x: number): string => `${(x / 2 ** 20).toFixed(1)} MiB`;
    throw new H5Error(`cannot write ${out}: the disk is full (${mib(free)} free on the device of ${dir}, ${mib(bytes + DISK_RESERVE)} needed)`, { file: out, diskFull: true });
  }
}

// Plain file-system queries and edits for the jobs, so that only src/io touches files.

export function fileExists(path: string): boolean {
  return existsSync(path);
}

/** Creates a directory and its parents (no error when it exists). */
export function makeDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** Removes a file if it exists. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
