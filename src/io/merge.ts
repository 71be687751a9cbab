// Joining ensembles of one run that was split over its chains (spin-glass disorder samples run as
// separate array tasks): rows are re-interleaved (row = measurement·chains + chain) so that the joined
// file equals, dataset by dataset, the file one run over all the chains writes.

import { existsSync, rmSync } from "node:fs";
import { basename } from "node:path";
import {
  appendRows, assertReady, attrTypes, closeFile, commitTemp, createAppendable, createFile, datasetInfo, H5Error, type H5File, type H5TypedArray, intAttr, openFile,
  readAttrsTyped, readRows, tempPathFor, writeAttrs, type AttrValue, type WritableAttr,
} from "./h5.js";
import { provenanceAttrs } from "./provenance.js";
import { readEnsembleMeta } from "./ensemble.js";

/**
 * Builds `out` from `parts` (opened read-only) under a temporary name and renames it when `fill` has
 * written it, so a failure leaves no half-written file. `base` are the joined file's root attributes so
 * far: the first part's (integers kept as integers) with the joining command, a new creation time and
 * `joined_from`; `fill` writes them with its own.
 */
export function joinFiles<R>(parts: readonly string[], out: string, fill: (files: H5File[], f: H5File, base: Record<string, WritableAttr>) => R): R {
  const files: H5File[] = [];
  const tmp = tempPathFor(out);
  let f: H5File | null = null;
  try {
    for (const p of parts) files.push(openFile(p, "r"));
    f = createFile(tmp);
    const base = readAttrsTyped(files[0]!, "/");
    delete base.created;
    delete base.resumed_command;
    Object.assign(base, provenanceAttrs(), { created: new Date().toISOString(), joined_from: parts.map((p) => basename(p)).join(",") });
    const r = fill(files, f, base);
    closeFile(f);
    f = null;
    commitTemp(tmp, out);
    return r;
  } catch (e) {
    if (f) closeFile(f);
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    for (const h of files) closeFile(h);
  }
}

/**
 * Writes `out` from `parts` (complete ensembles of the same model, size, observables and physics, whose
 * chains follow one another: part j's chains come after part j−1's), with the root attributes of the
 * first part overridden by `attrs`. Streams one block of measurements at a time, so memory stays bounded
 * by the largest part's block. `same`: the parameters every part must share (the run's physics, not
 * its chain range nor verdicts computed per part).
 */
export function mergeChainParts(parts: readonly string[], out: string, attrs: Record<string, AttrValue>, same: readonly string[]): { chains: number; measurements: number } {
  assertReady();
  if (parts.length === 0) throw new H5Error(`nothing to join into ${out}`);
  const metas = parts.map((p) => {
    if (!existsSync(p)) throw new H5Error(`${p} does not exist; run its task first`);
    const m = readEnsembleMeta(p);
    if (!m.complete) throw new H5Error(`${p} is not complete; resume its task first`);
    return m;
  });
  const m0 = metas[0]!;
  for (const [j, m] of metas.entries()) {
    const alike = m.model === m0.model && m.dim === m0.dim && m.L === m0.L && m.configDtype === m0.configDtype && m.observables.join() === m0.observables.join();
    if (!alike) throw new H5Error(`${parts[j]} holds another ensemble than ${parts[0]} (${m.model} ${m.dim}D L=${m.L}); join only the parts of one run`);
    for (const k of same) {
      if (String(m.params[k]) !== String(m0.params[k])) {
        throw new H5Error(`${parts[j]} was run with ${k} = ${String(m.params[k])}, ${parts[0]} with ${String(m0.params[k])}; join only the parts of one run`);
      }
    }
  }
  const chains = metas.map((m) => m.chains);
  const total = chains.reduce((a, c) => a + c, 0);
  return joinFiles(parts, out, (files, f, base) => {
    const types = attrTypes(files[0]!, "/");
    const given = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, /^int/.test(types[k] ?? "") && typeof v === "number" ? intAttr(v) : v]));
    writeAttrs(f, "/", { ...base, chains: intAttr(total), complete: intAttr(1), ...given });
    let measurements = 0;
    for (const ds of ["/configs", ...m0.observables.map((o) => `/${o}`)]) {
      measurements = Math.max(measurements, joinDataset(files, parts, ds, chains, f));
    }
    return { chains: total, measurements };
  });
}

/** Appends dataset `ds` of every part to `out`, re-interleaved; returns the measurements per chain. */
function joinDataset(files: H5File[], parts: readonly string[], ds: string, chains: number[], out: H5File): number {
  const infos = files.map((h) => datasetInfo(h, ds));
  const i0 = infos[0]!;
  const rowShape = i0.shape.slice(1);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const n = i0.shape[0]! / chains[0]!;
  for (const [j, info] of infos.entries()) {
    if (info.dtype !== i0.dtype || info.shape.slice(1).join() !== rowShape.join() || info.shape[0] !== n * chains[j]!) {
      throw new H5Error(`${parts[j]}${ds} has ${info.shape[0]} rows of ${chains[j]} chains; ${parts[0]} has ${n} per chain: join only complete parts of one run`);
    }
  }
  createAppendable(out, ds, i0.dtype, rowShape, rowShape.length ? { compression: i0.dtype === "int8" ? 1 : 0 } : { chunkRows: 4096 });
  const total = chains.reduce((a, c) => a + c, 0);
  // Measurements per block: about 4 MB of joined rows.
  const block = Math.max(1, Math.min(n, Math.floor((4 << 20) / Math.max(1, total * rowSize * bytesOf(i0.dtype)))));
  for (let m = 0; m < n; m += block) {
    const k = Math.min(block, n - m);
    const pieces = files.map((h, j) => readRows(h, ds, m * chains[j]!, (m + k) * chains[j]!));
    const joined = new (pieces[0]!.constructor as new (n: number) => H5TypedArray)(k * total * rowSize);
    for (let t = 0; t < k; t++) {
      let at = t * total * rowSize;
      for (const [j, p] of pieces.entries()) {
        const len = chains[j]! * rowSize;
        joined.set(p.subarray(t * len, (t + 1) * len), at);
        at += len;
      }
    }
    appendRows(out, ds, joined, k * total);
  }
  return n;
}

function bytesOf(dtype: string): number {
  return dtype === "int8" ? 1 : dtype === "float64" ? 8 : 4;
}
