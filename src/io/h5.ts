// Low-level HDF5 layer: open/create files, flat attribute records, plain and appendable datasets, atomic writes.
// Built on h5wasm, which is the HDF5 C library compiled to WebAssembly: the files are ordinary HDF5 (h5py, h5dump).
//
// Why a layer at all: h5wasm fails silently. A failed HDF5 call prints an "HDF5-DIAG" stack to stderr and
// returns -1 (or nothing), and the JavaScript side carries on with a dead handle. Every call here captures
// that text, turns it into an H5Error with a one-line message naming the file and the fix, and keeps the
// terminal clean. h5wasm also guesses types (an integer-valued number becomes int32, so 3e9 overflows);
// everything here passes explicit dtypes.
//
// Usage: `await initH5()` once (loads the wasm module, ~0.1 s), then every function is synchronous.

import fs from "node:fs";
import path from "node:path";
import type { Dataset, File as WasmFile, Group, Metadata } from "h5wasm/node";

/**
 * The h5wasm module, loaded by `initH5` (about 0.4 s: loading it at import time would slow every
 * `irg` command, `--help` included). Every use is behind `assertReady`.
 */
let h5wasm: typeof import("h5wasm/node").default;

// ---------------------------------------------------------------------------------------------------
// Types

/** Element types of datasets. int8: spins; float32: fields; float64: series; uint32: RNG words. */
export type DType = "int8" | "int32" | "float32" | "float64" | "uint32";
export type H5TypedArray = Int8Array | Int32Array | Float32Array | Float64Array | Uint32Array;
/**
 * Attribute values. Stored as: number → float64 scalar (see IntAttr for integers); string → UTF-8 variable-length string;
 * boolean → int8 scalar 0/1 (HDF5 has no boolean; h5py shows numpy.int8); number[] → float64 1-D;
 * Uint32Array → uint32 1-D. Reading inverts this exactly: an int8 scalar 0/1 reads as a boolean.
 */
export type AttrValue = string | number | boolean | number[] | Uint32Array;
export type AttrRecord = Record<string, AttrValue>;
/**
 * A value to store as a signed 64-bit integer (scalar or 1-D), for quantities that are integers by
 * definition (sizes, counts, seeds). A plain number is stored as float64 whatever its value, so that a
 * coupling such as beta = 1 stays a float; reading either gives a JavaScript number.
 */
export interface IntAttr {
  readonly int: number | readonly number[];
}
/** What writeAttr accepts: the read types, and integers marked with `intAttr`. */
export type WritableAttr = AttrValue | IntAttr;

/** Marks a number (or numbers) to be stored as int64. */
export function intAttr(value: number | readonly number[]): IntAttr {
  return { int: value };
}
/** "r": read only; "r+": read-write, the file must exist; "w": created (truncated if it exists). */
export type H5Mode = "r" | "r+" | "w";

export interface AppendableOptions {
  /** Rows per chunk; default: a chunk of about 1 MiB, at least 1 row. */
  chunkRows?: number;
  /** gzip level 1–9; 0 or absent: none. */
  compression?: number;
}

export interface DatasetOptions {
  /** gzip level 1–9; 0 or absent: none (the dataset is then contiguous, not chunked). */
  compression?: number;
}

export interface DatasetInfo {
  shape: number[];
  dtype: DType;
  /** Rows (first axis) per chunk; null for a contiguous dataset. Read in multiples of this. */
  chunkRows: number | null;
  /** True when the first axis is unlimited, i.e. appendRows/truncateRows work. */
  appendable: boolean;
}

type TypedArrayCtor =
  | Int8ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Uint32ArrayConstructor;

const DTYPES: Record<DType, { h5: string; ctor: TypedArrayCtor }> = {
  int8: { h5: "<b", ctor: Int8Array },
  int32: { h5: "<i", ctor: Int32Array },
  float32: { h5: "<f", ctor: Float32Array },
  float64: { h5: "<d", ctor: Float64Array },
  uint32: { h5: "<I", ctor: Uint32Array },
};

/** HDF5's default chunk cache is 1 MiB; a chunk that fits is cached whole while a write fills it. */
const TARGET_CHUNK_BYTES = 1 << 20;
/** Above this, appendRows stops coalescing rows in memory (only for chunks made by other writers). */
const MAX_BUFFER_BYTES = 16 << 20;
/** HDF5 reports an unlimited dimension as H5S_UNLIMITED = 2^64 - 1, which arrives as a float. */
const UNLIMITED_THRESHOLD = 2 ** 63;
/** HDF5 type classes (H5T_class_t) as h5wasm's metadata reports them. */
const H5T = { INTEGER: 0, FLOAT: 1, STRING: 3, ENUM: 8 } as const;
/** The 8-byte HDF5 format signature, found at offset 0, 512, 1024, 2048, … */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---------------------------------------------------------------------------------------------------
// Errors

/** Every user-facing failure of this layer; `message` is one line: what, which file, how to fix. */
export class H5Error extends Error {
  override readonly name = "H5Error";
  /** The file concerned, as the caller named it (when known). */
  readonly file: string | undefined;
  /** HDF5's own multi-line diagnostic stack, when the C library printed one (for bug reports). */
  readonly detail: string | undefined;
  /** The write failed because the disk (or quota) is full: what was on disk before it still stands. */
  readonly diskFull: boolean;

  constructor(message: string, opts: { file?: string; detail?: string; diskFull?: boolean } = {}) {
    super(message);
    this.file = opts.file;
    this.detail = opts.detail;
    this.diskFull = opts.diskFull ?? false;
  }
}

function fail(file: string, action: string, reason: string, fix?: string, detail?: string): H5Error {
  const opts = detail ? { file, detail } : { file };
  return new H5Error(`cannot ${action} ${file}: ${reason}${fix ? `; ${fix}` : ""}`, opts);
}

// ---------------------------------------------------------------------------------------------------
// Initialisation

let initialised = false;

/** Loads the wasm module; call once (idempotent) before any other function here. */
export async function initH5(): Promise<void> {
  h5wasm ??= (await import("h5wasm/node")).default;
  await h5wasm.ready;
  initialised = true;
}

/** Same as initH5 (the name src/io/ensemble.ts's callers use). */
export const h5Ready = initH5;

/** Throws unless initH5() has completed (the file functions are synchronous and cannot wait). */
export function assertReady(): void {
  if (!initialised) throw new H5Error("HDF5 is not initialised; call `await initH5()` once before opening files");
}

// ---------------------------------------------------------------------------------------------------
// Capturing HDF5's stderr

interface Captured<T> {
  value: T | undefined;
  thrown: unknown;
  failed: boolean;
  /** HDF5-DIAG text printed during the call ("" when none). */
  diag: string;
}

type WriteSyncLike = (fd: unknown, buffer: unknown, ...rest: unknown[]) => number;
const mutableFs = fs as unknown as { writeSync: WriteSyncLike };

function bytesOf(buffer: unknown, rest: unknown[]): { text: string; bytes: number } {
  if (typeof buffer === "string") return { text: buffer, bytes: Buffer.byteLength(buffer) };
  const view = buffer as ArrayBufferView;
  const offset = typeof rest[0] === "number" ? rest[0] : 0;
  const length = typeof rest[1] === "number" ? rest[1] : view.byteLength - offset;
  return { text: Buffer.from(view.buffer, view.byteOffset + offset, length).toString("utf8"), bytes: length };
}

/**
 * Runs fn with fd 2 captured. Emscripten's NODERAWFS writes the C library's stderr through Node's
 * fs.writeSync(2, ...) (not process.stderr), and only HDF5's error printer writes there, so swapping
 * fs.writeSync for the duration of a synchronous call catches exactly its diagnostics. The alternative,
 * h5wasm's activate_throwing_error_handler, throws through C frames without unwinding them: it leaks
 * wasm stack and a temp file per error, and the module is corrupted after ~2000 errors.
 */
function captureStderr<T>(fn: () => T): Captured<T> {
  const original = mutableFs.writeSync;
  let text = "";
  mutableFs.writeSync = (fd, buffer, ...rest) => {
    if (fd !== 2) return original.call(fs, fd, buffer, ...rest);
    const chunk = bytesOf(buffer, rest);
    text += chunk.text;
    return chunk.bytes;
  };
  const out: Captured<T> = { value: undefined, thrown: undefined, failed: false, diag: "" };
  try {
    out.value = fn();
  } catch (e) {
    out.thrown = e;
    out.failed = true;
  } finally {
    mutableFs.writeSync = original;
  }
  if (text.includes("HDF5-DIAG")) out.diag = text;
  else if (text) process.stderr.write(text); // not HDF5's: pass it on untouched
  return out;
}

/** The innermost (most specific) frame of an HDF5 error stack, e.g. "file signature not found". */
/** Whether an HDF5 diagnostic or an error says the disk (or the quota) is full. */
export function isDiskFull(text: string): boolean {
  return /errno = 28\b|No space left on device|ENOSPC|errno = 122\b|Disk quota exceeded|EDQUOT/.test(text);
}

function diskFull(filePath: string, action: string, diag?: string): H5Error {
  const dir = path.dirname(path.resolve(filePath));
  return new H5Error(`cannot ${action} ${filePath}: the disk is full (no space left on the device of ${dir})`, { file: filePath, detail: diag || undefined, diskFull: true });
}

function rootCause(diag: string): string {
  const frames = [...diag.matchAll(/#\d+: .*?\(\): (.*)$/gm)];
  const last = frames.at(-1)?.[1];
  return last ? last.trim() : "HDF5 error";
}

function messageOf(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0] ?? text;
}

/** Runs an h5wasm call on an open file; any HDF5 diagnostic or exception becomes an H5Error. */
function guarded<T>(file: H5File, action: string, where: string, fn: () => T): T {
  requireOpen(file, action, where);
  const r = captureStderr(fn);
  if (r.failed && r.thrown instanceof H5Error) throw r.thrown;
  if (r.failed || r.diag) {
    if (isDiskFull(`${r.diag} ${messageOf(r.thrown)}`)) throw diskFull(file.path, action, r.diag);
    const reason = r.diag ? rootCause(r.diag) : messageOf(r.thrown);
    throw fail(`${file.path}:${where}`, action, reason, undefined, r.diag || undefined);
  }
  return r.value as T;
}

// ---------------------------------------------------------------------------------------------------
// Files

/** Rows appended but not yet written: coalesced so that every HDF5 write covers whole chunks. */
interface PendingRows {
  ds: Dataset;
  dtype: DType;
  rowShape: number[];
  rowSize: number;
  chunkRows: number;
  /** Rows in the file (not counting `buffered`). */
  diskRows: number;
  buf: H5TypedArray | null;
  buffered: number;
}

/** An open HDF5 file. Obtain with openRead / openAppend / create; release with close (idempotent). */
export class H5File {
  /** The path as the caller gave it (used in messages). */
  readonly path: string;
  readonly mode: H5Mode;
  /** The underlying h5wasm file: an escape hatch without error checks; flush(file) first. */
  readonly raw: WasmFile;
  /** Append state per dataset path (internal to this module). */
  readonly appends = new Map<string, PendingRows>();
  #open = true;

  constructor(filePath: string, mode: H5Mode, raw: WasmFile) {
    this.path = filePath;
    this.mode = mode;
    this.raw = raw;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Internal to this module: close() calls it. */
  markClosed(): void {
    this.#open = false;
  }

  flush(): void {
    flush(this);
  }

  close(): void {
    close(this);
  }
}

/** Files open in this process with their absolute paths: commitTemp refuses to rename one of them. */
const openFiles = new Map<H5File, string>();

function requireOpen(file: H5File, action: string, where: string): void {
  if (!file.isOpen) throw fail(`${file.path}:${where}`, action, "the file is closed", "open it again");
}

function requireWritable(file: H5File, action: string, where: string): void {
  requireOpen(file, action, where);
  if (file.mode === "r") throw fail(`${file.path}:${where}`, action, "the file is open read-only", "open it with openAppend");
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** Whether the file carries the HDF5 signature at one of the offsets HDF5 allows (0, 512, 1024, …). */
export function hasHdf5Signature(filePath: string): boolean {
  const size = statOrNull(filePath)?.size ?? 0;
  const fd = fs.openSync(filePath, "r");
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      fs.readSync(fd, buf, 0, 8, off);
      if (buf.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Why HDF5 refused to open an existing file: [reason, fix]. */
function openFailure(diag: string): [string, string] {
  if (/signature not found|unable to locate file signature/.test(diag)) return ["not an HDF5 file (or truncated)", "check the path"];
  if (/truncated file/.test(diag)) return ["truncated HDF5 file (an interrupted write or copy)", "restore it from a complete copy or re-create it"];
  if (/already open/.test(diag)) return ["already open in this process in another mode", "close it first"];
  if (/lock/.test(diag)) return ["locked by another process", "wait for it to finish or set HDF5_USE_FILE_LOCKING=FALSE"];
  return [diag ? rootCause(diag) : "HDF5 could not open it", "check that it is a complete HDF5 file"];
}

function openExisting(filePath: string, mode: "r" | "r+"): H5File {
  assertReady();
  const st = statOrNull(filePath);
  if (!st) throw fail(filePath, "open", "no such file", "check the path");
  if (st.isDirectory()) throw fail(filePath, "open", "it is a directory", "give the path of an HDF5 file");
  try {
    fs.accessSync(filePath, mode === "r" ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    throw fail(filePath, "open", "permission denied", mode === "r" ? "check the file's permissions" : "check that the file is writable");
  }
  const r = captureStderr(() => new h5wasm.File(filePath, mode === "r" ? "r" : "a"));
  const raw = r.value;
  // h5wasm constructs a File even when H5Fopen failed; only file_id tells
  if (r.failed || !raw || raw.file_id < 0n) {
    const [reason, fix] = r.failed && !r.diag ? [messageOf(r.thrown), "check the path"] : openFailure(r.diag);
    throw fail(filePath, "open", reason, fix, r.diag || undefined);
  }
  return register(new H5File(filePath, mode, raw));
}

function register(file: H5File): H5File {
  openFiles.set(file, path.resolve(file.path));
  return file;
}

/** Opens an existing HDF5 file read-only. */
export function openRead(filePath: string): H5File {
  return openExisting(filePath, "r");
}

/** Opens an existing HDF5 file read-write (e.g. to resume a run). */
export function openAppend(filePath: string): H5File {
  return openExisting(filePath, "r+");
}

/** Creates an HDF5 file, truncating an existing one; checks the directory first for a clear error. */
export function create(filePath: string): H5File {
  assertReady();
  assertWritable(filePath);
  const r = captureStderr(() => new h5wasm.File(filePath, "w"));
  const raw = r.value;
  if (r.failed || !raw || raw.file_id < 0n) {
    const reason = r.diag ? rootCause(r.diag) : r.failed ? messageOf(r.thrown) : "HDF5 could not create it";
    const fix = /already open/.test(r.diag) ? "close the open handle first" : "check the directory and its permissions";
    throw fail(filePath, "create", reason, fix, r.diag || undefined);
  }
  return register(new H5File(filePath, "w", raw));
}

/** Opens with h5py's mode letters: same as openRead ("r"), openAppend ("r+"), create ("w"). */
export function openFile(filePath: string, mode: H5Mode = "r"): H5File {
  return mode === "w" ? create(filePath) : openExisting(filePath, mode);
}

/** Writes buffered rows and asks HDF5 to flush to disk (a consistent file for readers and crashes). */
export function flush(file: H5File): void {
  requireOpen(file, "flush", "/");
  if (file.mode === "r") return;
  drainAll(file);
  guarded(file, "flush", "/", () => file.raw.flush());
}

/** Writes buffered rows and closes; closing twice is a no-op (so it is safe in `finally`). */
export function close(file: H5File): void {
  if (!file.isOpen) return;
  try {
    if (file.mode !== "r") drainAll(file);
  } finally {
    const r = captureStderr(() => file.raw.close());
    file.markClosed();
    file.appends.clear();
    openFiles.delete(file);
    if (r.failed || r.diag || (typeof r.value === "number" && r.value < 0)) {
      // HDF5 writes its metadata at close, so the file may be unusable
      if (isDiskFull(`${r.diag} ${r.failed ? messageOf(r.thrown) : ""}`)) throw diskFull(file.path, "close", r.diag);
      const reason = r.diag ? rootCause(r.diag) : r.failed ? messageOf(r.thrown) : "H5Fclose failed";
      throw fail(file.path, "close", reason, "the file may be incomplete", r.diag || undefined);
    }
  }
}

/** Aliases with the names src/io/ensemble.ts uses. */
export const createFile = create;
export const closeFile = close;

// ---------------------------------------------------------------------------------------------------
// Paths, groups, objects

/** "configs", "/configs/" → "/configs": paths are always absolute here. */
function normPath(p: string): string {
  return "/" + p.split("/").filter((s) => s.length > 0).join("/");
}

function objectAt(file: H5File, p: string): Dataset | Group | null {
  const entity = guarded(file, "look up", p, () => file.raw.get(p));
  if (entity instanceof h5wasm.Dataset || entity instanceof h5wasm.Group) return entity;
  return null;
}

/** True when a group or dataset exists at `p`. */
export function exists(file: H5File, p: string): boolean {
  return objectAt(file, normPath(p)) !== null;
}

/** Creates the group `p` and any missing parents; an existing group is fine. */
export function ensureGroup(file: H5File, p: string): void {
  const target = normPath(p);
  requireWritable(file, "create group", target);
  let current = "/";
  for (const name of target.split("/").filter((s) => s.length > 0)) {
    const next = current === "/" ? `/${name}` : `${current}/${name}`;
    const obj = objectAt(file, next);
    if (obj instanceof h5wasm.Dataset) throw fail(`${file.path}:${next}`, "create group", "a dataset has that name", "choose another path");
    if (!obj) {
      const parent = objectAt(file, current) as Group;
      guarded(file, "create group", next, () => parent.create_group(name));
    }
    current = next;
  }
}

function parentAndName(p: string): [string, string] {
  const i = p.lastIndexOf("/");
  return [i <= 0 ? "/" : p.slice(0, i), p.slice(i + 1)];
}

function datasetAt(file: H5File, p: string, action: string): Dataset {
  const obj = objectAt(file, p);
  if (obj instanceof h5wasm.Dataset) return obj;
  throw fail(`${file.path}:${p}`, action, obj ? "it is a group, not a dataset" : "no such dataset", "check the dataset path");
}

// ---------------------------------------------------------------------------------------------------
// Attributes

function attrTarget(file: H5File, objPath: string, action: string): Dataset | Group {
  const p = normPath(objPath);
  const obj = objectAt(file, p);
  if (!obj) throw fail(`${file.path}:${p}`, action, "no such group or dataset", "create it first");
  return obj;
}

function isIntAttr(value: unknown): value is IntAttr {
  return typeof value === "object" && value !== null && "int" in value;
}

/** [data, shape, dtype] for h5wasm's create_attribute: explicit dtypes, never h5wasm's guesses. */
function encodeAttr(value: WritableAttr): [number | string | H5TypedArray | BigInt64Array, number[] | null, string] {
  if (isIntAttr(value)) {
    const values = typeof value.int === "number" ? [value.int] : value.int;
    const bad = values.find((v) => !Number.isSafeInteger(v));
    if (bad !== undefined) throw new TypeError(`${bad} is not an integer`);
    return typeof value.int === "number" ? [value.int, null, "<q"] : [BigInt64Array.from(values, BigInt), [values.length], "<q"];
  }
  if (typeof value === "boolean") return [value ? 1 : 0, null, "<b"];
  if (typeof value === "number") return [value, null, "<d"];
  if (typeof value === "string") return [value, null, "S"];
  if (value instanceof Uint32Array) return [value, [value.length], "<I"];
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return [Float64Array.from(value), [value.length], "<d"];
  throw new TypeError(`unsupported attribute value ${String(value)}`);
}

/** Writes (or replaces) one attribute on the group or dataset at objPath ("/" for the file). */
export function writeAttr(file: H5File, objPath: string, name: string, value: WritableAttr): void {
  const where = `${normPath(objPath)}@${name}`;
  requireWritable(file, "write attribute", where);
  let encoded: ReturnType<typeof encodeAttr>;
  try {
    encoded = encodeAttr(value);
  } catch (e) {
    throw fail(`${file.path}:${where}`, "write attribute", messageOf(e), isIntAttr(value) ? "store it as a plain number" : "use a string, number, boolean, number[], Uint32Array or intAttr");
  }
  const obj = attrTarget(file, objPath, "write attribute");
  const [data, shape, dtype] = encoded;
  guarded(file, "write attribute", where, () => {
    if (Object.keys(obj.attrs).includes(name)) obj.delete_attribute(name);
    obj.create_attribute(name, data, shape, dtype);
  });
}

/** Writes every entry of `record` as an attribute of objPath, replacing existing ones; undefined entries are skipped. */
export function writeAttrs(file: H5File, objPath: string, record: Record<string, WritableAttr | undefined>): void {
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined) writeAttr(file, objPath, name, value);
  }
}

function isScalar(meta: Metadata): boolean {
  return !meta.shape || meta.shape.length === 0;
}

function toNumber(v: unknown, where: string, file: H5File): number {
  if (typeof v !== "bigint") return v as number;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw fail(`${file.path}:${where}`, "read attribute", `integer ${v} does not fit a JavaScript number`, "read it with h5py");
  return n;
}

/** Inverts encodeAttr; also accepts what other writers commonly store (int64, float32, h5py booleans). */
function decodeAttr(meta: Metadata, value: unknown, where: string, file: H5File): AttrValue {
  const scalar = isScalar(meta);
  if (meta.type === H5T.STRING && scalar && typeof value === "string") return value;
  const members = meta.enum_type?.members;
  if (meta.type === H5T.ENUM && scalar && members?.["FALSE"] === 0 && members["TRUE"] === 1) {
    return toNumber(value, where, file) !== 0; // h5py's boolean
  }
  if (meta.type === H5T.INTEGER && meta.size === 4 && !meta.signed) {
    return value instanceof Uint32Array ? Uint32Array.from(value) : Uint32Array.of(toNumber(value, where, file));
  }
  if (meta.type === H5T.INTEGER && meta.size === 1 && meta.signed && scalar) {
    const n = toNumber(value, where, file);
    return n === 0 || n === 1 ? n === 1 : n;
  }
  if (meta.type === H5T.INTEGER || meta.type === H5T.FLOAT) {
    if (scalar) return toNumber(value, where, file);
    if (ArrayBuffer.isView(value) || Array.isArray(value)) return Array.from(value as ArrayLike<unknown>, (v) => toNumber(v, where, file));
  }
  throw fail(`${file.path}:${where}`, "read attribute", "unsupported type (not a string, number, boolean, number array or uint32 array)", "read it with h5py");
}

/** Reads one attribute; throws H5Error when it is missing. */
export function readAttr(file: H5File, objPath: string, name: string): AttrValue {
  const where = `${normPath(objPath)}@${name}`;
  const obj = attrTarget(file, objPath, "read attribute");
  const found = guarded(file, "read attribute", where, () => {
    if (!Object.keys(obj.attrs).includes(name)) return null;
    const attr = obj.attrs[name]!;
    return { meta: attr.metadata, value: attr.value };
  });
  if (!found) throw fail(`${file.path}:${where}`, "read attribute", "no such attribute", "check the name");
  return decodeAttr(found.meta, found.value, where, file);
}

/** The element type of an HDF5 attribute as numpy names it ("int64", "float64", "uint32", …; "string", "enum"). */
function attrDtypeName(meta: Metadata): string {
  if (meta.type === H5T.STRING) return "string";
  if (meta.type === H5T.ENUM) return "enum";
  if (meta.type === H5T.INTEGER) return `${meta.signed ? "int" : "uint"}${meta.size * 8}`;
  if (meta.type === H5T.FLOAT) return `float${meta.size * 8}`;
  return "other";
}

/**
 * The stored element type of every attribute of objPath (readAttrs gives numbers for integers and
 * floats alike; this says which is which, e.g. to carry integer parameters over into a derived file).
 */
export function attrTypes(file: H5File, objPath: string): Record<string, string> {
  const obj = attrTarget(file, objPath, "read attributes");
  return guarded(file, "read attributes", normPath(objPath), () =>
    Object.fromEntries(Object.keys(obj.attrs).map((name) => [name, attrDtypeName(obj.attrs[name]!.metadata)])));
}

/** Every attribute of objPath as writeAttrs takes it back: integer-typed ones marked with intAttr. */
export function readAttrsTyped(file: H5File, objPath: string): Record<string, WritableAttr> {
  const types = attrTypes(file, objPath);
  return Object.fromEntries(Object.entries(readAttrs(file, objPath)).map(([k, v]) => {
    const integer = /^int/.test(types[k] ?? "");
    if (integer && typeof v === "number") return [k, intAttr(v)];
    if (integer && Array.isArray(v)) return [k, intAttr(v)];
    return [k, v];
  }));
}

/** Reads every attribute of objPath into a flat record. */
export function readAttrs(file: H5File, objPath: string): AttrRecord {
  const obj = attrTarget(file, objPath, "read attributes");
  const names = guarded(file, "read attributes", normPath(objPath), () => Object.keys(obj.attrs));
  const out: AttrRecord = {};
  for (const name of names) out[name] = readAttr(file, objPath, name);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Datasets: shared helpers

function dtypeOfMeta(meta: Metadata): DType | null {
  if (meta.type === H5T.INTEGER && meta.size === 1 && meta.signed) return "int8";
  if (meta.type === H5T.INTEGER && meta.size === 4) return meta.signed ? "int32" : "uint32";
  if (meta.type === H5T.FLOAT && meta.size === 4) return "float32";
  if (meta.type === H5T.FLOAT && meta.size === 8) return "float64";
  return null;
}

function dtypeOfArray(data: unknown): DType | null {
  for (const name of Object.keys(DTYPES) as DType[]) {
    if (data instanceof DTYPES[name].ctor) return name;
  }
  return null;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function validShape(shape: readonly number[], min: number): boolean {
  return shape.every((n) => Number.isInteger(n) && n >= min);
}

function checkCompression(level: number | undefined, file: H5File, where: string, action: string): number {
  const c = level ?? 0;
  if (!Number.isInteger(c) || c < 0 || c > 9) throw fail(`${file.path}:${where}`, action, `gzip level ${c} is not 0–9`, "pass compression 0 (none) to 9");
  return c;
}

/** Rows per chunk so that a chunk is about 1 MiB (at least one row). */
export function defaultChunkRows(dtype: DType, rowShape: readonly number[]): number {
  const rowBytes = product(rowShape) * DTYPES[dtype].ctor.BYTES_PER_ELEMENT;
  return Math.max(1, Math.floor(TARGET_CHUNK_BYTES / Math.max(1, rowBytes)));
}

function metadataOf(file: H5File, ds: Dataset, where: string): Metadata {
  return guarded(file, "read metadata of", where, () => ds.metadata);
}

function dtypeOf(file: H5File, meta: Metadata, where: string, action: string): DType {
  const dt = dtypeOfMeta(meta);
  if (!dt) throw fail(`${file.path}:${where}`, action, "unsupported element type (this layer handles int8, int32, uint32, float32, float64)", "read it with h5py");
  return dt;
}

function isAppendable(meta: Metadata): boolean {
  return (meta.shape?.length ?? 0) > 0 && (meta.maxshape?.[0] ?? 0) >= UNLIMITED_THRESHOLD && meta.chunks !== null;
}

type CreateArgs = Omit<Parameters<Group["create_dataset"]>[0], "name">;

function createDataset(file: H5File, p: string, action: string, args: CreateArgs): void {
  if (p === "/") throw fail(`${file.path}:${p}`, action, "the root is a group", "give a dataset name");
  if (exists(file, p)) throw fail(`${file.path}:${p}`, action, "it already exists", "use a new name (HDF5 cannot delete datasets in place)");
  const [parentPath, name] = parentAndName(p);
  ensureGroup(file, parentPath);
  const parent = objectAt(file, parentPath) as Group;
  guarded(file, action, p, () => parent.create_dataset({ name, ...args }));
  // h5wasm reports no status for create_dataset: confirm the dataset is there
  if (!(objectAt(file, p) instanceof h5wasm.Dataset)) throw fail(`${file.path}:${p}`, action, "HDF5 did not create it", "check the file is writable");
}

// ---------------------------------------------------------------------------------------------------
// Appendable datasets

/**
 * Creates an empty dataset of shape [0, ...rowShape] whose first axis grows (maxshape [null, ...rowShape]),
 * chunked [chunkRows, ...rowShape], optionally gzip-compressed. Parent groups are created as needed.
 */
export function createAppendable(file: H5File, dsPath: string, dtype: DType, rowShape: number[], opts: AppendableOptions = {}): void {
  const p = normPath(dsPath);
  const action = "create dataset";
  const where = `${file.path}:${p}`;
  requireWritable(file, action, p);
  if (!(dtype in DTYPES)) throw fail(where, action, `unknown dtype ${String(dtype)}`, `use one of ${Object.keys(DTYPES).join(", ")}`);
  if (!validShape(rowShape, 1)) throw fail(where, action, `row shape [${rowShape.join(", ")}] must be positive integers`, "fix the row shape");
  const chunkRows = opts.chunkRows ?? defaultChunkRows(dtype, rowShape);
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw fail(where, action, `chunkRows ${chunkRows} is not a positive integer`, "omit it for the default");
  if (chunkRows * product(rowShape) * DTYPES[dtype].ctor.BYTES_PER_ELEMENT >= 2 ** 32) throw fail(where, action, "a chunk would exceed HDF5's 4 GiB limit", "pass a smaller chunkRows");
  const level = checkCompression(opts.compression, file, p, action);
  createDataset(file, p, action, {
    data: new DTYPES[dtype].ctor(0),
    shape: [0, ...rowShape],
    dtype: DTYPES[dtype].h5,
    maxshape: [null, ...rowShape],
    chunks: [chunkRows, ...rowShape],
    ...(level > 0 ? { compression: "gzip" as const, compression_opts: level } : {}),
  });
}

function appendState(file: H5File, p: string, action: string): PendingRows {
  const cached = file.appends.get(p);
  if (cached) return cached;
  const ds = datasetAt(file, p, action);
  const meta = metadataOf(file, ds, p);
  const dtype = dtypeOf(file, meta, p, action);
  if (!isAppendable(meta)) throw fail(`${file.path}:${p}`, action, "its first axis cannot grow", "create it with createAppendable");
  const shape = meta.shape ?? [];
  const rowShape = shape.slice(1);
  const state: PendingRows = {
    ds, dtype, rowShape,
    rowSize: product(rowShape),
    chunkRows: meta.chunks?.[0] ?? 1,
    diskRows: shape[0] ?? 0,
    buf: null,
    buffered: 0,
  };
  file.appends.set(p, state);
  return state;
}

function writeRowsNow(file: H5File, p: string, st: PendingRows, data: H5TypedArray, n: number): void {
  const start = st.diskRows;
  guarded(file, "append rows to", p, () => {
    if (st.ds.resize([start + n, ...st.rowShape]) < 0) throw new Error("H5Dset_extent failed");
    st.ds.write_slice([[start, start + n]], data);
  });
  st.diskRows = start + n;
}

function drain(file: H5File, p: string): void {
  const st = file.appends.get(p);
  if (!st || st.buffered === 0 || !st.buf) return;
  const n = st.buffered;
  st.buffered = 0; // a failed write is reported once, not retried at close
  writeRowsNow(file, p, st, st.buf.subarray(0, n * st.rowSize), n);
}

function drainAll(file: H5File): void {
  let first: unknown = null;
  for (const p of file.appends.keys()) {
    try {
      drain(file, p);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/**
 * Appends nRows rows (default: all of data) to an appendable dataset; data must have the dataset's
 * typed-array type, row-major. Rows are coalesced in memory up to the next chunk boundary (at most one
 * chunk, ~1 MiB) so that HDF5 only writes whole chunks: a compressed chunk written row by row is
 * decompressed and recompressed on every row (8x slower). flush/close and any read of the dataset
 * write them out. Returns the row count, buffered rows included.
 */
export function appendRows(file: H5File, dsPath: string, data: H5TypedArray, nRows?: number): number {
  const p = normPath(dsPath);
  const action = "append rows to";
  requireWritable(file, action, p);
  const st = appendState(file, p, action);
  if (dtypeOfArray(data) !== st.dtype) {
    throw fail(`${file.path}:${p}`, action, `got a ${data.constructor.name} but the dataset holds ${st.dtype}`, `pass the rows as ${DTYPES[st.dtype].ctor.name}`);
  }
  const n = nRows ?? data.length / st.rowSize;
  if (!Number.isInteger(n) || n < 0 || n * st.rowSize > data.length) {
    throw fail(`${file.path}:${p}`, action, `${data.length} values do not hold ${nRows ?? "whole"} rows of ${st.rowSize}`, "check nRows and the row shape");
  }
  const rs = st.rowSize;
  const coalesce = st.chunkRows * rs * data.BYTES_PER_ELEMENT <= MAX_BUFFER_BYTES;
  let off = 0;
  while (off < n) {
    const total = st.diskRows + st.buffered;
    if (!coalesce || (st.buffered === 0 && total % st.chunkRows === 0 && n - off >= st.chunkRows)) {
      // whole chunks straight from the caller's array
      const k = coalesce ? Math.floor((n - off) / st.chunkRows) * st.chunkRows : n - off;
      writeRowsNow(file, p, st, data.subarray(off * rs, (off + k) * rs), k);
      off += k;
      continue;
    }
    const k = Math.min(st.chunkRows - (total % st.chunkRows), n - off);
    st.buf ??= new DTYPES[st.dtype].ctor(st.chunkRows * rs);
    st.buf.set(data.subarray(off * rs, (off + k) * rs), st.buffered * rs);
    st.buffered += k;
    off += k;
    if ((st.diskRows + st.buffered) % st.chunkRows === 0) drain(file, p);
  }
  return st.diskRows + st.buffered;
}

/** Shrinks an appendable dataset to its first n rows (a resumed run dropping rows after its checkpoint). */
export function truncateRows(file: H5File, dsPath: string, n: number): void {
  const p = normPath(dsPath);
  const action = "truncate";
  requireWritable(file, action, p);
  const st = appendState(file, p, action);
  drain(file, p);
  if (!Number.isInteger(n) || n < 0) throw fail(`${file.path}:${p}`, action, `row count ${n} is not a non-negative integer`, "pass a row count");
  if (n > st.diskRows) {
    throw fail(`${file.path}:${p}`, action, `it has only ${st.diskRows} rows, cannot keep ${n}`, "the checkpoint is newer than the data, so the file is inconsistent; start the run over");
  }
  if (n === st.diskRows) return;
  guarded(file, action, p, () => {
    if (st.ds.resize([n, ...st.rowShape]) < 0) throw new Error("H5Dset_extent failed");
  });
  st.diskRows = n;
}

/** Shape, dtype and chunking of a dataset (buffered rows are written first). */
export function datasetInfo(file: H5File, dsPath: string): DatasetInfo {
  const p = normPath(dsPath);
  drain(file, p);
  const ds = datasetAt(file, p, "inspect");
  const meta = metadataOf(file, ds, p);
  return {
    shape: [...(meta.shape ?? [])],
    dtype: dtypeOf(file, meta, p, "inspect"),
    chunkRows: meta.chunks?.[0] ?? null,
    appendable: isAppendable(meta),
  };
}

/** The dataset's shape (buffered rows are written first). */
export function datasetShape(file: H5File, dsPath: string): number[] {
  return datasetInfo(file, dsPath).shape;
}

/**
 * Rows [start, end) of a dataset as one flat typed array, through HDF5's hyperslab selection, so a big
 * file can be streamed. Read in multiples of datasetInfo().chunkRows: each call decompresses every
 * chunk it touches.
 */
export function readRows(file: H5File, dsPath: string, start: number, end: number): H5TypedArray {
  const p = normPath(dsPath);
  const action = "read rows of";
  drain(file, p);
  const ds = datasetAt(file, p, action);
  const meta = metadataOf(file, ds, p);
  const dtype = dtypeOf(file, meta, p, action);
  const shape = meta.shape ?? [];
  if (shape.length === 0) throw fail(`${file.path}:${p}`, action, "it is a scalar", "use readDataset");
  const rows = shape[0]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > rows) {
    throw fail(`${file.path}:${p}`, action, `rows [${start}, ${end}) are outside [0, ${rows})`, "check the range");
  }
  const ctor = DTYPES[dtype].ctor;
  if (start === end) return new ctor(0);
  const out = guarded(file, action, p, () => ds.slice([[start, end]]));
  return asTyped(file, p, out, ctor, (end - start) * product(shape.slice(1)));
}

function asTyped(file: H5File, p: string, value: unknown, ctor: TypedArrayCtor, length: number): H5TypedArray {
  if (value instanceof ctor && value.length === length) return value;
  if (typeof value === "number" && length === 1) return ctor.of(value);
  throw fail(`${file.path}:${p}`, "read", `HDF5 returned ${value === null ? "nothing" : typeof value} instead of ${length} values`, "the file may be damaged");
}

// ---------------------------------------------------------------------------------------------------
// Plain datasets

/**
 * Writes a whole dataset (shape defaults to [data.length]; [] is a scalar). An existing dataset of
 * the same dtype and shape is overwritten in place (checkpoints rewrite theirs); HDF5 cannot delete
 * or reshape one, so any other existing dataset is an error.
 */
export function writeDataset(file: H5File, dsPath: string, data: H5TypedArray, shape: number[] = [data.length], opts: DatasetOptions = {}): void {
  const p = normPath(dsPath);
  const action = "write dataset";
  const where = `${file.path}:${p}`;
  requireWritable(file, action, p);
  const dtype = dtypeOfArray(data);
  if (!dtype) throw fail(where, action, `unsupported array type ${(data as object).constructor.name}`, "pass an Int8Array, Int32Array, Uint32Array, Float32Array or Float64Array");
  if (!validShape(shape, 0) || product(shape) !== data.length) throw fail(where, action, `shape [${shape.join(", ")}] does not hold ${data.length} values`, "fix the shape");
  const level = checkCompression(opts.compression, file, p, action);
  if (exists(file, p)) {
    overwriteDataset(file, p, data, dtype, shape);
    return;
  }
  const chunked = level > 0 && shape.length > 0 && data.length > 0;
  const chunks = chunked ? [Math.min(shape[0]!, defaultChunkRows(dtype, shape.slice(1))), ...shape.slice(1)] : null;
  createDataset(file, p, action, {
    data,
    shape,
    dtype: DTYPES[dtype].h5,
    ...(chunks ? { chunks, compression: "gzip" as const, compression_opts: level } : {}),
  });
}

function overwriteDataset(file: H5File, p: string, data: H5TypedArray, dtype: DType, shape: number[]): void {
  const action = "overwrite dataset";
  drain(file, p);
  file.appends.delete(p);
  const ds = datasetAt(file, p, action);
  const meta = metadataOf(file, ds, p);
  const old = meta.shape ?? [];
  const same = dtypeOfMeta(meta) === dtype && old.length === shape.length && old.every((n, i) => n === shape[i]);
  if (!same) {
    const was = `${dtypeOfMeta(meta) ?? "another type"} [${old.join(", ")}]`;
    throw fail(`${file.path}:${p}`, action, `it exists as ${was}, not ${dtype} [${shape.join(", ")}]`, "write to a new path or a new file");
  }
  if (data.length === 0) return;
  if (shape.length === 0) throw fail(`${file.path}:${p}`, action, "h5wasm cannot overwrite a scalar dataset", "store it with shape [1]");
  guarded(file, action, p, () => ds.write_slice(shape.map((n) => [0, n] as [number, number]), data));
}

/** Reads a whole dataset (buffered rows are written first). */
export function readDataset(file: H5File, dsPath: string): { data: H5TypedArray; shape: number[]; dtype: DType } {
  const p = normPath(dsPath);
  const action = "read dataset";
  drain(file, p);
  const ds = datasetAt(file, p, action);
  const meta = metadataOf(file, ds, p);
  const dtype = dtypeOf(file, meta, p, action);
  const shape = [...(meta.shape ?? [])];
  const ctor = DTYPES[dtype].ctor;
  const length = product(shape);
  if (length === 0) return { data: new ctor(0), shape, dtype };
  const value = guarded(file, action, p, () => ds.value);
  return { data: asTyped(file, p, value, ctor, length), shape, dtype };
}

// ---------------------------------------------------------------------------------------------------
// Atomic writes: write a temporary file in the same directory, close it, then rename it into place,
// so the final path holds either the previous complete file or the new complete one.

/** `dir/.name.h5.<pid>.tmp`: hidden, per process, and on the same filesystem so rename is atomic. */
export function tempPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.tmp`);
}

/** Renames a closed temporary file onto finalPath, atomically replacing what was there. */
export function commitTemp(tmpPath: string, finalPath: string): void {
  const abs = path.resolve(tmpPath);
  for (const [file, p] of openFiles) {
    // HDF5 writes its metadata at close: renaming an open file would publish an incomplete one
    if (p === abs) throw fail(finalPath, "commit", `${file.path} is still open`, "close it before committing");
  }
  try {
    fs.renameSync(tmpPath, finalPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw fail(finalPath, "commit", `${tmpPath} or the target directory is missing`, "re-run the write");
    if (code === "EACCES" || code === "EPERM") throw fail(finalPath, "commit", "permission denied", "check the directory's permissions");
    if (code === "EISDIR" || code === "ENOTEMPTY") throw fail(finalPath, "commit", "a directory has that name", "choose another output path");
    throw fail(finalPath, "commit", messageOf(e), "check the output path");
  }
}

/**
 * Checks up front that filePath can be created or replaced: its directory exists, is a directory and
 * is writable, and filePath is not a directory or an unwritable file. Throws H5Error otherwise.
 */
export function assertWritable(filePath: string): void {
  const dir = path.dirname(filePath);
  const dst = statOrNull(dir);
  if (!dst) throw fail(filePath, "write", `directory ${dir} does not exist`, "create it first");
  if (!dst.isDirectory()) throw fail(filePath, "write", `${dir} is not a directory`, "choose another output path");
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    throw fail(filePath, "write", `permission denied in directory ${dir}`, "choose another output path");
  }
  const st = statOrNull(filePath);
  if (st?.isDirectory()) throw fail(filePath, "write", "a directory has that name", "choose another output path");
  if (!st) return;
  try {
    fs.accessSync(filePath, fs.constants.W_OK);
  } catch {
    throw fail(filePath, "write", "permission denied", "check the file's permissions");
  }
}

/** Same as assertWritable (the name src/io/ensemble.ts's callers use). */
export const checkWritable = assertWritable;
