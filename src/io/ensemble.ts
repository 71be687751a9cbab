// HDF5 ensembles: configurations and per-measurement observables appended in chunks during a run,
// parameters and a checkpoint (RNG state included) as attributes; written to `<out>.partial` and
// renamed on close, so that `<out>` is always a complete file. Layout documented in the README.

import { closeSync, copyFileSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Checkpoint, type RunSink } from "../mc/run.js";
import { PACKED_RNG_TYPE } from "../mc/packed-checkerboard.js";
import {
  appendRows, assertReady, assertWritable, attrTypes, closeFile, commitTemp, createAppendable, createFile, datasetInfo, datasetShape, ensureGroup, exists, H5Error, intAttr, openFile,
  tempPathFor,
  readAttrs, readDataset, readRows, truncateRows, writeAttrs, writeDataset, type H5File, type WritableAttr,
} from "./h5.js";
import { currentCommand, provenanceAttrs } from "./provenance.js";
import { ensureSpace } from "./files.js";

export const ENSEMBLE_FORMAT = "irg-ensemble";
export const ENSEMBLE_VERSION = 1;
/** The random generator whose state checkpoints hold; a file with another one is refused. */
export const RNG_TYPE = "xoshiro128**";

export interface EnsembleMeta {
  model: string;
  dim: number;
  L: number;
  /** Independent chains interleaved in row order (row = measurement·chains + chain). */
  chains: number;
  observables: string[];
  configDtype: "int8" | "float32";
  /** Every physics parameter (stored as root attributes). */
  params: Record<string, string | number | boolean>;
  /**
   * The keys of `params` that are integers by definition (sizes, counts, seeds): stored as int64. The
   * other numbers (couplings) are stored as float64 even when integral. Read back: those stored as integers.
   */
  integers?: readonly string[];
  /** Numeric arrays stored as float64 root attributes beside the parameters (the spin glass's β ladder). */
  arrays?: Record<string, number[]>;
  /** Vector observables: a [rows, length] dataset each, `labels` stored as its attribute "names". */
  vectors?: readonly { name: string; length: number; labels?: readonly string[] }[];
  software: string;
}

export interface EnsembleWriter extends RunSink<Int8Array | Float32Array> {
  /** Flushes, writes `attrs` (object path → attributes), closes and renames the partial file onto the final path. */
  close(opts: { completed: boolean; attrs?: Record<string, Record<string, WritableAttr>> }): void;
  /**
   * After an error: closes and deletes the partial file, or with `keepCheckpoint` (the disk is full)
   * leaves it for --resume when it holds a checkpoint, whose rows resume truncates to.
   */
  abort(opts?: { keepCheckpoint?: boolean }): void;
}

/**
 * `<out>.lock`, created exclusively while a run writes `<out>` and removed when it closes: a second run
 * on the same --out (even with --force) is refused instead of silently mixing two runs' data. A lock
 * whose process is gone (a killed run) is taken over.
 */
export function lockOutput(out: string): () => void {
  const lock = `${out}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, `${process.pid} ${hostname()}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        assertWritable(out); // a missing or unwritable directory: one line naming it
        throw e;
      }
      const [pid, host] = readFileSync(lock, "utf8").trim().split(" ");
      if (host === hostname() && pid !== undefined && alive(Number(pid))) {
        throw new H5Error(`${out} is being written by another irg run (process ${pid}); wait for it, or give another --out`);
      }
      if (host !== hostname()) throw new H5Error(`${out} is locked by a run on ${host} (${lock}); if that run is gone, remove the lock file`);
      rmSync(lock, { force: true }); // left by a run that no longer exists
    }
  }
  throw new H5Error(`cannot lock ${out}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The partial file a running or crashed run writes to. */
export function partialPath(out: string): string {
  return `${out}.partial`;
}

/** Rows buffered before an append: at least 1, about 4 MB of configurations. */
function bufferRows(meta: EnsembleMeta): number {
  const bytes = meta.L ** meta.dim * (meta.configDtype === "int8" ? 1 : 4);
  return Math.max(1, Math.min(1024, Math.floor((4 << 20) / bytes)));
}

function shapeOf(meta: EnsembleMeta): number[] {
  return new Array<number>(meta.dim).fill(meta.L);
}

/**
 * What a run's file holds: root attributes, and one or more groups each laid out as an ensemble
 * (configs, one series per observable, one [rows, length] dataset per vector observable). An ensemble
 * is one group at the root; compatible Monte Carlo writes one group per size (/L4, /L8, …). The run's
 * chains are split over the groups in order, `meta.chains` each; the file has one checkpoint, at the root.
 */
export interface FileLayout {
  root: Record<string, WritableAttr>;
  groups: { path: string; meta: EnsembleMeta; attrs?: Record<string, WritableAttr> }[];
}

/** The layout of an ensemble: one group, the root. */
function ensembleLayout(meta: EnsembleMeta): FileLayout {
  return {
    root: {
      format: ENSEMBLE_FORMAT,
      format_version: intAttr(ENSEMBLE_VERSION),
      software: meta.software,
      ...provenanceAttrs(),
      created: new Date().toISOString(),
      model: meta.model,
      dim: intAttr(meta.dim),
      L: intAttr(meta.L),
      chains: intAttr(meta.chains),
      observables: meta.observables.join(","),
      ...paramAttrs(meta),
      ...meta.arrays,
    },
    groups: [{ path: "", meta }],
  };
}

/** Creates `<out>.partial` with the layout of `meta`; refuses to overwrite unless `force`. */
export function createEnsemble(out: string, meta: EnsembleMeta, opts: { force?: boolean } = {}): EnsembleWriter {
  return createRunFile(out, ensembleLayout(meta), opts);
}

/** Creates `<out>.partial` with any layout (see FileLayout); refuses to overwrite unless `force`. */
export function createRunFile(out: string, layout: FileLayout, opts: { force?: boolean } = {}): EnsembleWriter {
  assertReady();
  const partial = partialPath(out);
  // Checked now: the rename onto a directory would otherwise fail only after the whole run.
  if (existsSync(out) && statSync(out).isDirectory()) throw new H5Error(`${out} is a directory; give --out a file name such as ${join(out, "run.h5")}`);
  const unlock = lockOutput(out);
  try {
    return createLocked(out, partial, layout, opts, unlock);
  } catch (e) {
    unlock();
    throw e;
  }
}

function createLocked(out: string, partial: string, layout: FileLayout, opts: { force?: boolean }, unlock: () => void): EnsembleWriter {
  if (!opts.force) {
    if (existsSync(out)) throw new H5Error(`${out} already exists; continue it with --resume or overwrite it with --force`);
    if (existsSync(partial)) throw new H5Error(`${partial} is left from an interrupted run; continue it with --resume or start over with --force`);
  }
  // Built under a temporary name and renamed over any old partial (with --force, or a restart on
  // --resume of a run killed before its first checkpoint): a kill at any moment leaves a partial to
  // resume from, never none and never an unreadable one.
  const tmp = tempPathFor(partial);
  const f = createFile(tmp);
  writeAttrs(f, "/", layout.root);
  for (const { path, meta, attrs } of layout.groups) {
    if (path) ensureGroup(f, path);
    if (attrs) writeAttrs(f, path || "/", attrs);
    createAppendable(f, `${path}/configs`, meta.configDtype, shapeOf(meta), { compression: meta.configDtype === "int8" ? 1 : 0 });
    // Series get small chunks: an appendable dataset occupies at least one chunk on disk.
    for (const name of meta.observables) createAppendable(f, `${path}/${name}`, "float64", [], { chunkRows: 4096 });
    for (const v of meta.vectors ?? []) {
      createAppendable(f, `${path}/${v.name}`, "float64", [v.length], { chunkRows: Math.max(1, Math.floor(4096 / v.length)) });
      if (v.labels) writeAttrs(f, `${path}/${v.name}`, { names: v.labels.join(",") });
    }
  }
  closeFile(f);
  commitTemp(tmp, partial);
  return writer(openFile(partial, "r+"), out, layout, unlock, false);
}

/** The parameters as attributes: those listed in `integers` as int64, the others as they are. */
function paramAttrs(meta: Pick<EnsembleMeta, "params" | "integers">): Record<string, WritableAttr> {
  const ints = new Set(meta.integers ?? []);
  return Object.fromEntries(Object.entries(meta.params).map(([k, v]) => [k, ints.has(k) && typeof v === "number" ? intAttr(v) : v]));
}

/** Buffered appends to one group's datasets. */
function groupAppender(f: H5File, out: string, path: string, meta: EnsembleMeta): { add(values: Float64Array[], configs: (Int8Array | Float32Array)[] | null, vectors: Float64Array[][] | undefined, from: number): void; flush(): void } {
  const V = meta.L ** meta.dim;
  const cap = bufferRows(meta);
  const cfgBuf = meta.configDtype === "int8" ? new Int8Array(cap * V) : new Float32Array(cap * V);
  let cfgRows = 0;
  const rowsCap = Math.max(cap, 256) * meta.chains;
  const obsBuf = meta.observables.map(() => new Float64Array(rowsCap));
  const vecs = meta.vectors ?? [];
  const vecBuf = vecs.map((v) => new Float64Array(rowsCap * v.length));
  let obsRows = 0;
  const flush = (): void => {
    ensureSpace(out, cfgRows * V * cfgBuf.BYTES_PER_ELEMENT + obsRows * 8 * (meta.observables.length + vecs.reduce((a, v) => a + v.length, 0)));
    if (cfgRows > 0) appendRows(f, `${path}/configs`, cfgBuf.subarray(0, cfgRows * V), cfgRows);
    cfgRows = 0;
    if (obsRows > 0) {
      meta.observables.forEach((name, k) => appendRows(f, `${path}/${name}`, obsBuf[k]!.subarray(0, obsRows), obsRows));
      vecs.forEach((v, k) => appendRows(f, `${path}/${v.name}`, vecBuf[k]!.subarray(0, obsRows * v.length), obsRows));
    }
    obsRows = 0;
  };
  return {
    flush,
    add(values, configs, vectors, from) {
      for (let c = from; c < from + meta.chains; c++) {
        values.forEach((v, k) => (obsBuf[k]![obsRows] = v[c]!));
        vecs.forEach((v, k) => vecBuf[k]!.set(vectors![k]![c]!, obsRows * v.length));
        obsRows++;
      }
      if (obsRows + meta.chains > rowsCap) flush();
      if (configs) {
        for (let c = from; c < from + meta.chains; c++) {
          cfgBuf.set(configs[c] as never, cfgRows * V);
          cfgRows++;
          if (cfgRows === cap) {
            ensureSpace(out, cfgBuf.byteLength);
            appendRows(f, `${path}/configs`, cfgBuf, cfgRows);
            cfgRows = 0;
          }
        }
      }
    },
  };
}

/** `checkpointed`: the file already holds a checkpoint (a resumed run's). */
function writer(f: H5File, out: string, layout: FileLayout, unlock: () => void, checkpointed: boolean): EnsembleWriter {
  const groups = layout.groups.map((g) => groupAppender(f, out, g.path, g.meta));
  const flushAll = (): void => groups.forEach((g) => g.flush());
  let open = true;
  return {
    measurement(values, configs, vectors) {
      let from = 0;
      layout.groups.forEach((g, j) => {
        groups[j]!.add(values, configs as (Int8Array | Float32Array)[] | null, vectors, from);
        from += g.meta.chains;
      });
    },
    checkpoint(cp) {
      flushAll();
      ensureSpace(out, cp.sampler.spins.byteLength);
      writeRunCheckpoint(f, cp);
      f.flush();
      checkpointed = true;
    },
    close({ completed, attrs }) {
      if (!open) return;
      flushAll();
      for (const [path, a] of Object.entries(attrs ?? {})) writeAttrs(f, path, a);
      writeAttrs(f, "/", { complete: intAttr(completed ? 1 : 0) });
      closeFile(f);
      open = false;
      try {
        renameSync(partialPath(out), out);
      } finally {
        unlock();
      }
    },
    abort(opts) {
      if (!open) return;
      try {
        closeFile(f);
      } catch (e) {
        if (!opts?.keepCheckpoint) throw e; // a full disk may refuse the close; the checkpoint on disk stands
      } finally {
        open = false;
        if (!(opts?.keepCheckpoint && checkpointed)) rmSync(partialPath(out), { force: true });
        unlock();
      }
    },
  };
}

/** Writes a run's checkpoint into an open file (a joined file gets the checkpoint of one run over all parts). */
export function writeRunCheckpoint(f: H5File, cp: Checkpoint): void {
  const st = cp.sampler;
  ensureGroup(f, "/checkpoint");
  writeAttrs(f, "/checkpoint", {
    rng_type: st.rngType ?? RNG_TYPE,
    rng_state: st.rng,
    sweeps_done: intAttr(cp.sweepsDone),
    measurements: intAttr(cp.measurements),
    saved: intAttr(cp.saved),
    extra: JSON.stringify(st.extra),
  });
  writeDataset(f, "/checkpoint/state", st.spins);
}

function readCheckpoint(f: H5File, path: string): Checkpoint {
  if (!exists(f, "/checkpoint")) throw new H5Error(`${path} has no checkpoint to resume from`);
  const a = readAttrs(f, "/checkpoint");
  if (a.rng_type !== RNG_TYPE && a.rng_type !== PACKED_RNG_TYPE) throw new H5Error(`${path} was written with random generator ${String(a.rng_type)}, this version uses ${RNG_TYPE} and ${PACKED_RNG_TYPE}`);
  const rng = a.rng_state;
  if (!(rng instanceof Uint32Array) || rng.length !== 4) throw new H5Error(`${path}: corrupt checkpoint (RNG state)`);
  const spins = readDataset(f, "/checkpoint/state").data as Checkpoint["sampler"]["spins"];
  return {
    sweepsDone: Number(a.sweeps_done),
    measurements: Number(a.measurements),
    saved: Number(a.saved),
    sampler: { rng, ...(a.rng_type === RNG_TYPE ? {} : { rngType: String(a.rng_type) }), spins, extra: JSON.parse(String(a.extra)) as Record<string, number> },
  };
}

/** Whether an ensemble (or its partial file) holds a checkpoint to resume from. */
export function hasCheckpoint(path: string): boolean {
  return checkpointMeasurements(path) !== null;
}

/** Measurements in the checkpoint of a run file (0 or null: none to continue from). */
export function checkpointMeasurements(path: string): number | null {
  assertReady();
  let f: H5File | null = null;
  try {
    f = openFile(path, "r");
    return readCheckpoint(f, path).measurements;
  } catch {
    return null;
  } finally {
    if (f) closeFile(f);
  }
}

/** Reads and checks the metadata of an ensemble file (any irg ensemble; refuses foreign files). */
export function readEnsembleMeta(path: string): EnsembleMeta & { complete: boolean } {
  assertReady();
  const f = openFile(path, "r");
  try {
    return metaFrom(f, path);
  } finally {
    closeFile(f);
  }
}

/** Root attributes that are not parameters: a derived file (blocked, generated) writes its own. */
const META_KEYS = new Set(["format", "format_version", "software", "command", "resumed_command", "git_commit", "created", "model", "dim", "L", "chains", "observables", "complete"]);

function configDtypeOf(f: H5File, path: string): "int8" | "float32" {
  if (!exists(f, "/configs")) throw new H5Error(`${path} is not a complete irg ensemble (no /configs dataset)`);
  const dtype = datasetInfo(f, "/configs").dtype;
  if (dtype !== "int8" && dtype !== "float32") throw new H5Error(`${path} stores configurations as ${dtype}; irg ensembles hold int8 or float32`);
  return dtype;
}

function metaFrom(f: H5File, path: string): EnsembleMeta & { complete: boolean } {
  const a = readAttrs(f, "/");
  if (a.format !== ENSEMBLE_FORMAT) throw new H5Error(`${path} is not an irg ensemble (no format="${ENSEMBLE_FORMAT}" attribute)`);
  if (Number(a.format_version) > ENSEMBLE_VERSION) throw new H5Error(`${path} has ensemble format ${a.format_version}; this irg reads up to ${ENSEMBLE_VERSION}, upgrade irg`);
  const params: Record<string, string | number | boolean> = {};
  const arrays: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(a)) {
    if (META_KEYS.has(k)) continue;
    if (typeof v === "string" || typeof v === "number") params[k] = v;
    else if (Array.isArray(v)) arrays[k] = v;
  }
  const types = attrTypes(f, "/");
  const model = String(a.model);
  return {
    model,
    dim: Number(a.dim),
    L: Number(a.L),
    chains: Number(a.chains),
    observables: String(a.observables).split(",").filter((s) => s.length > 0),
    // What the file holds, whatever the model: spins, states and overlaps are int8, fields float32.
    configDtype: configDtypeOf(f, path),
    params,
    integers: Object.keys(params).filter((k) => /^u?int/.test(types[k] ?? "")),
    arrays,
    software: String(a.software),
    complete: Number(a.complete) === 1,
  };
}

/**
 * Reopens an ensemble to continue it: prefers `<out>.partial` from a crash when it holds a valid
 * checkpoint, otherwise copies `<out>` to `<out>.partial` (so `<out>` stays intact until the resumed
 * run closes). Rows written after the checkpoint are dropped so the file continues exactly.
 */
export function resumeEnsemble(out: string, meta: EnsembleMeta, plannedMeasurements: number): { writer: EnsembleWriter; checkpoint: Checkpoint } {
  return resumeRunFile(out, ensembleLayout(meta), plannedMeasurements, {
    check(f) {
      const stored = metaFrom(f, out);
      if (stored.model !== meta.model || stored.L !== meta.L || stored.dim !== meta.dim || stored.chains !== meta.chains) {
        throw new H5Error(`${out} holds ${stored.model} ${stored.dim}D L=${stored.L}, which does not match the requested run`);
      }
    },
    complete: (cp) => `${out} is already complete (${cp.measurements} measurements); extend it with a larger --sweeps`,
    attrs: { ...paramAttrs(meta) },
  });
}

export interface ResumeRules {
  /** Throws when the file on disk is not this run's (foreign format, other parameters). */
  check(f: H5File): void;
  /** The message when the file is complete and the plan asks for no more measurements. */
  complete(cp: Checkpoint): string;
  /** Root attributes the resumed run updates (its parameters). */
  attrs?: Record<string, WritableAttr>;
}

/** Reopens a run file of any layout to continue it from its checkpoint (see resumeEnsemble). */
export function resumeRunFile(out: string, layout: FileLayout, plannedMeasurements: number, rules: ResumeRules): { writer: EnsembleWriter; checkpoint: Checkpoint } {
  assertReady();
  if (existsSync(out) && statSync(out).isDirectory()) throw new H5Error(`${out} is a directory, not a file to resume; give --out the run's file name`);
  const unlock = lockOutput(out);
  try {
    return resumeLocked(out, layout, plannedMeasurements, rules, unlock);
  } catch (e) {
    unlock();
    throw e;
  }
}

function resumeLocked(out: string, layout: FileLayout, plannedMeasurements: number, rules: ResumeRules, unlock: () => void): { writer: EnsembleWriter; checkpoint: Checkpoint } {
  const partial = partialPath(out);
  let f: H5File | null = null;
  if (existsSync(partial)) {
    try {
      f = openFile(partial, "r+");
      readCheckpoint(f, partial);
    } catch {
      if (f) closeFile(f);
      f = null;
    }
  }
  if (!f) {
    if (!existsSync(out)) throw new H5Error(`cannot resume ${out}: no such file (and no usable ${partial})`);
    copyFileSync(out, partial);
    f = openFile(partial, "r+");
  }
  try {
    rules.check(f);
    const cp = readCheckpoint(f, out);
    if (cp.measurements >= plannedMeasurements && Number(readAttrs(f, "/").complete) === 1) throw new H5Error(rules.complete(cp));
    for (const { path, meta } of layout.groups) {
      truncateRows(f, `${path}/configs`, cp.saved * meta.chains);
      for (const name of [...meta.observables, ...(meta.vectors ?? []).map((v) => v.name)]) truncateRows(f, `${path}/${name}`, cp.measurements * meta.chains);
    }
    // The original command stays: resumed_command says what continued it (the last resume).
    writeAttrs(f, "/", { ...rules.attrs, complete: intAttr(0), resumed_command: currentCommand() });
    return { writer: writer(f, out, layout, unlock, true), checkpoint: cp };
  } catch (e) {
    closeFile(f);
    rmSync(partial, { force: true });
    throw e;
  }
}

/** Read access to an ensemble for analysis: metadata, whole series, and configurations in row ranges. */
export interface EnsembleReader {
  meta: EnsembleMeta & { complete: boolean };
  /** Number of stored configurations. */
  configRows: number;
  /** An observable's series, all chains interleaved (row = measurement·chains + chain). */
  series(name: string): Float64Array;
  /** Configurations [start, end) as one flat typed array. */
  configs(start: number, end: number): Int8Array | Float32Array;
  close(): void;
}

export function openEnsemble(path: string): EnsembleReader {
  assertReady();
  const f = openFile(path, "r");
  try {
    const meta = metaFrom(f, path);
    const configRows = datasetShape(f, "/configs")[0] ?? 0;
    return {
      meta,
      configRows,
      series(name) {
        if (!meta.observables.includes(name)) throw new H5Error(`${path} has no observable "${name}" (it has ${meta.observables.join(", ")})`);
        return Float64Array.from(readDataset(f, `/${name}`).data as ArrayLike<number>);
      },
      configs(start, end) {
        return readRows(f, "/configs", start, end) as Int8Array | Float32Array;
      },
      close() {
        closeFile(f);
      },
    };
  } catch (e) {
    closeFile(f);
    throw e;
  }
}

/**
 * One writer over several ensembles: chains j·perFile … (j+1)·perFile − 1 of the run go to writers[j]
 * (a spin-glass run stores each ladder temperature in its own file); every file gets every checkpoint,
 * so each is complete and resumable on its own terms.
 */
export function fanOutWriter(writers: EnsembleWriter[], perFile: number): EnsembleWriter {
  return {
    measurement(values, configs, vectors) {
      writers.forEach((w, j) => w.measurement(values.map((v) => v.subarray(j * perFile, (j + 1) * perFile)), configs ? configs.slice(j * perFile, (j + 1) * perFile) : null, vectors?.map((v) => v.slice(j * perFile, (j + 1) * perFile))));
    },
    checkpoint: (cp) => writers.forEach((w) => w.checkpoint(cp)),
    close: (opts) => writers.forEach((w) => w.close(opts)),
    abort: (opts) => writers.forEach((w) => w.abort(opts)),
  };
}

/** Adds root attributes to a closed ensemble (a verdict computed from its data after the run). */
export function setEnsembleAttrs(path: string, attrs: Record<string, WritableAttr>): void {
  assertReady();
  const f = openFile(path, "r+");
  try {
    metaFrom(f, path);
    writeAttrs(f, "/", attrs);
  } finally {
    closeFile(f);
  }
}
