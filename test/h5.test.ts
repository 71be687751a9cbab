// The HDF5 layer: every dtype and attribute kind round-trips exactly, appendable datasets grow, shrink
// and stream, broken inputs raise one-line H5Errors (and HDF5 prints nothing), and h5py reads the files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import * as h5 from "../src/io/h5.js";
import { H5Error, type AttrRecord, type H5TypedArray } from "../src/io/h5.js";

let dir = "";
const at = (name: string): string => path.join(dir, name);

before(async () => {
  await h5.initH5();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "irg-h5-"));
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random values (xorshift32), so failures reproduce. */
function words(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

function spins(n: number, seed: number): Int8Array {
  return Int8Array.from(words(n, seed), (w) => (w & 1 ? 1 : -1));
}

/** Bitwise equality (NaN payloads and -0 included). */
function sameBits(a: H5TypedArray, b: H5TypedArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.every((v, i) => v === y[i]);
}

function expectH5Error(fn: () => unknown, pattern: RegExp): H5Error {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof H5Error, `expected H5Error, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes("\n"), `one-line message: ${caught.message}`);
  return caught;
}

const ATTRS: AttrRecord = {
  model: "ising",
  unicode: "β = 0.44, ∆τ ≥ 1",
  padded: "  spaces kept  ",
  empty: "",
  L: 64,
  big: 3e9,
  maxSafe: Number.MAX_SAFE_INTEGER,
  negative: -17,
  beta: 0.4406867935097715,
  tiny: 5e-324,
  yes: true,
  no: false,
  list: [1.5, -2, 3e9, 0.1],
  one: [7],
  none: [],
  rng: new Uint32Array([0xffffffff, 0x80000001, 2 ** 31 + 12345, 0]),
};

test("every dtype round-trips exactly through plain datasets", () => {
  const file = h5.create(at("dtypes.h5"));
  const L = 6;
  const cases: [string, H5TypedArray, number[]][] = [
    ["/cfg2d", spins(5 * L * L, 1), [5, L, L]],
    ["/cfg3d", spins(3 * L * L * L, 2), [3, L, L, L]],
    ["/int8_extremes", Int8Array.of(-128, 127, 0, -1), [4]],
    ["/int32", Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, -1, 123456789), [5]],
    ["/uint32", words(1000, 3), [10, 100]],
    ["/field", new Float32Array(words(4 * L * L, 4).buffer), [4, L, L]], // arbitrary bits, NaNs included
    ["/field_special", Float32Array.of(-0, Infinity, -Infinity, NaN, 1.4e-45, 3.4028234663852886e38), [6]],
    ["/series", new Float64Array(words(2 * 500, 5).buffer), [500]],
    ["/series_special", Float64Array.of(-0, Infinity, NaN, 5e-324, Number.MAX_VALUE, 0.1), [6]],
    ["/empty", new Float64Array(0), [0]],
  ];
  for (const [name, data, shape] of cases) h5.writeDataset(file, name, data, shape);
  h5.writeDataset(file, "/packed/cfg", spins(4 * L * L, 6), [4, L, L], { compression: 6 });
  h5.close(file);

  const back = h5.openRead(at("dtypes.h5"));
  for (const [name, data, shape] of cases) {
    const got = h5.readDataset(back, name);
    assert.deepEqual(got.shape, shape, name);
    assert.ok(sameBits(got.data, data), `${name} differs`);
  }
  assert.ok(sameBits(h5.readDataset(back, "/packed/cfg").data, spins(4 * L * L, 6)));
  assert.equal(h5.readDataset(back, "/uint32").dtype, "uint32");
  h5.close(back);
});

test("attributes round-trip exactly: strings, numbers, booleans, number arrays, Uint32Array", () => {
  const file = h5.create(at("attrs.h5"));
  h5.writeAttrs(file, "/", ATTRS);
  h5.writeDataset(file, "/obs/energy", new Float64Array(3));
  h5.writeAttrs(file, "/obs/energy", { unit: "J", count: 3 });
  h5.ensureGroup(file, "/params");
  h5.writeAttr(file, "/params", "seed", new Uint32Array([4000000000]));
  h5.writeAttr(file, "/", "L", 128); // replacing keeps one attribute with the new value
  h5.writeAttr(file, "/", "model", false); // and may change its type
  h5.close(file);

  const back = h5.openRead(at("attrs.h5"));
  const got = h5.readAttrs(back, "/");
  assert.ok(got.rng instanceof Uint32Array);
  assert.ok(Array.isArray(got.one)); // [7] stays an array, 7 stays a number
  assert.deepEqual(got, { ...ATTRS, L: 128, model: false });
  assert.deepEqual(h5.readAttrs(back, "/obs/energy"), { unit: "J", count: 3 });
  assert.deepEqual(h5.readAttr(back, "/params", "seed"), new Uint32Array([4000000000]));
  expectH5Error(() => h5.readAttr(back, "/", "absent"), /attrs\.h5:\/@absent: no such attribute/);
  expectH5Error(() => h5.readAttrs(back, "/nowhere"), /no such group or dataset/);
  h5.close(back);
});

test("appendable datasets grow in pieces, read back whole and in row ranges, and truncate", () => {
  const L = 8;
  const V = L * L;
  const file = h5.create(at("append.h5"));
  h5.createAppendable(file, "/configs", "int8", [L, L], { chunkRows: 8, compression: 4 });
  h5.createAppendable(file, "/obs/energy", "float64", []);
  h5.createAppendable(file, "/fields", "float32", [L, L, L], { chunkRows: 3 });
  h5.createAppendable(file, "/rng", "uint32", [4]);
  assert.deepEqual(h5.datasetShape(file, "/configs"), [0, L, L]);

  const all = spins(70 * V, 7);
  let row = 0;
  for (const n of [1, 3, 17, 8, 40, 1]) {
    const total = h5.appendRows(file, "/configs", all.subarray(row * V, (row + n) * V), n);
    row += n;
    assert.equal(total, row);
  }
  const series = new Float64Array(words(2 * 1000, 8).buffer);
  for (let i = 0; i < 1000; i += 250) h5.appendRows(file, "/obs/energy", series.subarray(i, i + 250));
  const fields = new Float32Array(words(5 * L * L * L, 9).buffer);
  h5.appendRows(file, "/fields", fields, 5);
  h5.appendRows(file, "/rng", words(8, 10), 2);
  h5.flush(file);

  const info = h5.datasetInfo(file, "/configs");
  assert.deepEqual(info, { shape: [70, L, L], dtype: "int8", chunkRows: 8, appendable: true });
  assert.ok(sameBits(h5.readDataset(file, "/configs").data, all));
  for (const [a, b] of [[0, 1], [5, 21], [60, 70], [69, 70], [10, 10]] as const) {
    assert.ok(sameBits(h5.readRows(file, "/configs", a, b), all.subarray(a * V, b * V)), `rows ${a}..${b}`);
  }
  assert.ok(sameBits(h5.readDataset(file, "/obs/energy").data, series));
  assert.ok(sameBits(h5.readRows(file, "/fields", 2, 5), fields.subarray(2 * L * L * L)));
  assert.deepEqual(h5.readDataset(file, "/rng"), { data: words(8, 10), shape: [2, 4], dtype: "uint32" });

  // a resumed run: drop rows after the checkpoint, then continue appending
  h5.truncateRows(file, "/configs", 30);
  h5.appendRows(file, "/configs", all.subarray(30 * V, 35 * V), 5);
  assert.ok(sameBits(h5.readDataset(file, "/configs").data, all.subarray(0, 35 * V)));
  h5.truncateRows(file, "/configs", 0);
  assert.deepEqual(h5.datasetShape(file, "/configs"), [0, L, L]);
  expectH5Error(() => h5.truncateRows(file, "/configs", 1), /has only 0 rows/);
  expectH5Error(() => h5.readRows(file, "/obs/energy", 990, 1001), /rows \[990, 1001\) are outside \[0, 1000\)/);
  expectH5Error(() => h5.appendRows(file, "/obs/energy", new Float32Array(2)), /got a Float32Array but the dataset holds float64; pass the rows as Float64Array/);
  expectH5Error(() => h5.appendRows(file, "/fields", new Float32Array(10)), /do not hold whole rows of 512/);
  expectH5Error(() => h5.createAppendable(file, "/configs", "int8", [L, L]), /already exists/);
  h5.close(file);
});

test("appending continues after reopening with openAppend, from a row that is not chunk-aligned", () => {
  const V = 16;
  const all = spins(50 * V, 11);
  const first = h5.create(at("resume.h5"));
  h5.createAppendable(first, "/configs", "int8", [4, 4], { chunkRows: 8, compression: 1 });
  h5.appendRows(first, "/configs", all.subarray(0, 13 * V), 13);
  h5.close(first);

  const again = h5.openAppend(at("resume.h5"));
  assert.deepEqual(h5.datasetShape(again, "/configs"), [13, 4, 4]);
  for (let r = 13; r < 50; r++) h5.appendRows(again, "/configs", all.subarray(r * V, (r + 1) * V), 1);
  h5.close(again);
  const back = h5.openRead(at("resume.h5"));
  assert.ok(sameBits(h5.readDataset(back, "/configs").data, all));
  h5.close(back);
});

test("2000 configurations of 256x256 appended one at a time stream through at most one chunk", () => {
  const L = 256;
  const V = L * L;
  const rows = 2000;
  const file = h5.create(at("stream.h5"));
  h5.createAppendable(file, "/configs", "int8", [L, L], { compression: 1 });
  const chunkRows = h5.datasetInfo(file, "/configs").chunkRows!;
  assert.equal(chunkRows, 16); // 16 x 64 KiB = 1 MiB
  const cfg = new Int8Array(V);
  for (let r = 0; r < rows; r++) {
    cfg.fill(r % 2 ? 1 : -1);
    cfg[r % V] = 7; // a per-row marker
    h5.appendRows(file, "/configs", cfg, 1);
    const pending = file.appends.get("/configs")!;
    assert.ok(pending.buffered < chunkRows && (pending.buf?.byteLength ?? 0) <= chunkRows * V);
  }
  h5.close(file);

  const back = h5.openRead(at("stream.h5"));
  assert.deepEqual(h5.datasetShape(back, "/configs"), [rows, L, L]);
  for (let start = 0; start < rows; start += chunkRows) {
    const block = h5.readRows(back, "/configs", start, Math.min(rows, start + chunkRows));
    for (let k = 0; k * V < block.length; k++) {
      const r = start + k;
      assert.equal(block[k * V + (r % V)], 7);
      assert.equal(block[k * V + ((r + 1) % V)], r % 2 ? 1 : -1);
    }
  }
  h5.close(back);
});

test("missing, truncated, non-HDF5 files and directories raise H5Error naming the file", () => {
  const good = at("good.h5");
  const file = h5.create(good);
  h5.writeDataset(file, "/x", spins(4096, 12));
  h5.writeAttrs(file, "/", ATTRS);
  h5.close(file);
  const bytes = fs.readFileSync(good);
  fs.writeFileSync(at("half.h5"), bytes.subarray(0, bytes.length >> 1));
  fs.writeFileSync(at("tiny.h5"), bytes.subarray(0, 4));
  fs.writeFileSync(at("text.h5"), "this is not HDF5\n".repeat(100));
  fs.writeFileSync(at("zero.h5"), "");

  expectH5Error(() => h5.openRead(at("missing.h5")), /^cannot open .*missing\.h5: no such file; check the path$/);
  expectH5Error(() => h5.openRead(at("half.h5")), /^cannot open .*half\.h5: truncated HDF5 file/);
  expectH5Error(() => h5.openAppend(at("half.h5")), /^cannot open .*half\.h5: truncated HDF5 file/);
  expectH5Error(() => h5.openRead(at("tiny.h5")), /^cannot open .*tiny\.h5: not an HDF5 file \(or truncated\); check the path$/);
  expectH5Error(() => h5.openRead(at("text.h5")), /^cannot open .*text\.h5: not an HDF5 file \(or truncated\); check the path$/);
  expectH5Error(() => h5.openRead(at("zero.h5")), /^cannot open .*zero\.h5: not an HDF5 file/);
  expectH5Error(() => h5.openRead(dir), /it is a directory/);
  const err = expectH5Error(() => h5.openRead(at("text.h5")), /text\.h5/);
  assert.match(err.detail ?? "", /HDF5-DIAG/); // HDF5's own stack is kept for bug reports
  assert.equal(err.file, at("text.h5"));
  assert.ok(h5.hasHdf5Signature(good) && !h5.hasHdf5Signature(at("text.h5")));
  // the good file is still fine after all that
  const ok = h5.openRead(good);
  assert.ok(sameBits(h5.readDataset(ok, "/x").data, spins(4096, 12)));
  h5.close(ok);
});

test("HDF5 prints nothing to stderr when a file is broken", () => {
  const moduleUrl = new URL("../src/io/h5.js", import.meta.url).href;
  fs.writeFileSync(at("noise.h5"), "not hdf5");
  const script = `
    import * as h5 from ${JSON.stringify(moduleUrl)};
    await h5.initH5();
    for (const p of ${JSON.stringify([at("noise.h5"), at("nothing.h5")])}) {
      try { h5.openRead(p); } catch (e) { console.log(e.name); }
    }
    const f = h5.create(${JSON.stringify(at("noise2.h5"))});
    h5.writeDataset(f, "/x", new Float64Array(3));
    try { h5.writeDataset(f, "/x", new Float64Array(4)); } catch (e) { console.log(e.name); }
    h5.close(f);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "H5Error\nH5Error\nH5Error\n");
  assert.equal(r.stderr, "");
});

test("misuse raises H5Error: read-only, closed, wrong dataset kinds, bad shapes", () => {
  const file = h5.create(at("misuse.h5"));
  h5.writeDataset(file, "/fixed", Float64Array.of(1, 2, 3));
  h5.ensureGroup(file, "/grp");
  expectH5Error(() => h5.appendRows(file, "/fixed", Float64Array.of(4)), /fixed: its first axis cannot grow; create it with createAppendable/);
  expectH5Error(() => h5.readDataset(file, "/grp"), /it is a group, not a dataset/);
  expectH5Error(() => h5.readDataset(file, "/nope"), /misuse\.h5:\/nope: no such dataset/);
  expectH5Error(() => h5.writeDataset(file, "/bad", Float64Array.of(1, 2, 3), [2, 2]), /shape \[2, 2\] does not hold 3 values/);
  expectH5Error(() => h5.writeDataset(file, "/fixed", Float32Array.of(1, 2, 3)), /exists as float64 \[3\], not float32 \[3\]/);
  h5.writeDataset(file, "/fixed", Float64Array.of(7, 8, 9)); // same shape and dtype: overwritten in place
  expectH5Error(() => h5.createAppendable(file, "/c", "int8", [0]), /row shape \[0\] must be positive/);
  expectH5Error(() => h5.createAppendable(file, "/c", "int8", [4], { compression: 12 }), /gzip level 12 is not 0–9/);
  h5.close(file);
  h5.close(file); // idempotent
  expectH5Error(() => h5.readDataset(file, "/fixed"), /the file is closed/);

  const ro = h5.openRead(at("misuse.h5"));
  assert.deepEqual(h5.readDataset(ro, "/fixed").data, Float64Array.of(7, 8, 9));
  expectH5Error(() => h5.writeAttr(ro, "/", "x", 1), /open read-only; open it with openAppend/);
  expectH5Error(() => h5.truncateRows(ro, "/fixed", 0), /open read-only/);
  h5.close(ro);
});

test("atomic writes: temp path in the same directory, commit only after close, clear directory errors", () => {
  const final = at("result.h5");
  const tmp = h5.tempPathFor(final);
  assert.equal(path.dirname(tmp), dir);
  assert.equal(path.basename(tmp), `.result.h5.${process.pid}.tmp`);

  const file = h5.create(tmp);
  h5.writeAttrs(file, "/", { done: true });
  expectH5Error(() => h5.commitTemp(tmp, final), /result\.h5: .*still open; close it before committing/);
  h5.close(file);
  h5.commitTemp(tmp, final);
  assert.ok(!fs.existsSync(tmp));
  const back = h5.openRead(final);
  assert.equal(h5.readAttr(back, "/", "done"), true);
  h5.close(back);
  expectH5Error(() => h5.commitTemp(tmp, final), /temp|missing/);

  expectH5Error(() => h5.assertWritable(at("nodir/x.h5")), /^cannot write .*nodir\/x\.h5: directory .*nodir does not exist; create it first$/);
  expectH5Error(() => h5.create(at("nodir/x.h5")), /directory .*nodir does not exist/);
  expectH5Error(() => h5.assertWritable(path.join(final, "x.h5")), /result\.h5 is not a directory/);
  expectH5Error(() => h5.assertWritable(dir), /a directory has that name/);
  h5.assertWritable(at("fresh.h5"));
});

test("an unwritable directory is reported as permission denied", (t) => {
  if (process.getuid?.() === 0) {
    t.skip("running as root: permissions are not enforced");
    return;
  }
  const locked = at("locked");
  fs.mkdirSync(locked, { mode: 0o555 });
  try {
    expectH5Error(() => h5.assertWritable(path.join(locked, "x.h5")), /permission denied in directory/);
  } finally {
    fs.chmodSync(locked, 0o755);
  }
});

const PYTHON = "/usr/bin/python3";

function h5pyAvailable(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ["-c", "import h5py"], { stdio: "ignore", timeout: 30_000 }).status === 0;
}

test("h5py reads the files exactly (shapes, dtypes, chunking, attributes, values)", (t) => {
  if (!h5pyAvailable()) {
    t.skip("h5py not available");
    return;
  }
  const L = 5;
  const file = h5.create(at("external.h5"));
  h5.writeAttrs(file, "/", ATTRS);
  h5.createAppendable(file, "/configs", "int8", [L, L, L], { chunkRows: 4, compression: 4 });
  h5.appendRows(file, "/configs", spins(9 * L ** 3, 13), 9);
  h5.createAppendable(file, "/energy", "float64", []);
  h5.appendRows(file, "/energy", Float64Array.of(0.1, -2.5, 1e300));
  h5.writeDataset(file, "/fields", Float32Array.of(1.5, -0.25, 3.4028234663852886e38, 1.4e-45), [2, 2]);
  h5.writeDataset(file, "/state", Int32Array.of(-(2 ** 31), 2 ** 31 - 1));
  h5.close(file);

  const script = `
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
out = {"attrs": {}, "ds": {}}
for k, v in f.attrs.items():
    out["attrs"][k] = {"type": type(v).__name__, "dtype": str(getattr(v, "dtype", "")), "value": v.tolist() if hasattr(v, "tolist") else v}
for name in ["configs", "energy", "fields", "state"]:
    d = f[name]
    out["ds"][name] = {"shape": list(d.shape), "dtype": str(d.dtype), "maxshape": [m for m in d.maxshape],
                       "chunks": list(d.chunks) if d.chunks else None, "compression": d.compression,
                       "sum": float(d[()].astype("float64").sum()), "first": d[()].flatten()[:4].tolist()}
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ["-c", script, at("external.h5")], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as {
    attrs: Record<string, { type: string; dtype: string; value: unknown }>;
    ds: Record<string, { shape: number[]; dtype: string; maxshape: (number | null)[]; chunks: number[] | null; compression: string | null; sum: number; first: number[] }>;
  };
  assert.deepEqual(got.attrs.model, { type: "str", dtype: "", value: "ising" });
  assert.deepEqual(got.attrs.unicode!.value, ATTRS.unicode);
  assert.deepEqual(got.attrs.padded!.value, ATTRS.padded);
  assert.deepEqual(got.attrs.big, { type: "float64", dtype: "float64", value: 3e9 });
  assert.deepEqual(got.attrs.maxSafe!.value, Number.MAX_SAFE_INTEGER);
  assert.deepEqual(got.attrs.yes, { type: "int8", dtype: "int8", value: 1 });
  assert.deepEqual(got.attrs.list, { type: "ndarray", dtype: "float64", value: [1.5, -2, 3e9, 0.1] });
  assert.deepEqual(got.attrs.none!.value, []);
  assert.deepEqual(got.attrs.rng, { type: "ndarray", dtype: "uint32", value: Array.from(ATTRS.rng as Uint32Array) });

  const cfg = spins(9 * L ** 3, 13);
  assert.deepEqual(got.ds.configs, {
    shape: [9, L, L, L], dtype: "int8", maxshape: [null, L, L, L], chunks: [4, L, L, L], compression: "gzip",
    sum: cfg.reduce((a, b) => a + b, 0), first: Array.from(cfg.subarray(0, 4)),
  });
  assert.deepEqual(got.ds.energy!.first, [0.1, -2.5, 1e300]);
  assert.deepEqual(got.ds.energy!.maxshape, [null]);
  assert.deepEqual([got.ds.fields!.dtype, got.ds.fields!.shape, got.ds.fields!.first], ["float32", [2, 2], [1.5, -0.25, 3.4028234663852886e38, 1.401298464324817e-45]]);
  assert.deepEqual([got.ds.state!.dtype, got.ds.state!.first], ["int32", [-(2 ** 31), 2 ** 31 - 1]]);
});

test("h5dump reads the files", (t) => {
  const dump = spawnSync("h5dump", ["--version"], { stdio: "ignore" });
  if (dump.status !== 0) {
    t.skip("h5dump not available");
    return;
  }
  const file = h5.create(at("dump.h5"));
  h5.createAppendable(file, "/configs", "int8", [3, 3], { compression: 2 });
  h5.appendRows(file, "/configs", spins(18, 14), 2);
  h5.writeAttrs(file, "/", { L: 3, rng: new Uint32Array([2 ** 32 - 1]) });
  h5.close(file);
  const r = spawnSync("h5dump", [at("dump.h5")], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /DATASPACE {2}SIMPLE \{ \( 2, 3, 3 \) \/ \( H5S_UNLIMITED, 3, 3 \) \}/);
  assert.match(r.stdout, /4294967295/);
});
