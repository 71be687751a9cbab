// ONNX export: the bytes decode (independent wire-format decoder) to the expected ops, shapes and metadata; a
// small evaluator written from the ONNX operator spec, Python's onnx checker and onnxruntime-node agree with predict.
//
// External checks skip cleanly: Python's needs `/usr/bin/python3 -c "import onnx"` (Debian: python3-onnx);
// onnxruntime-node is not a dependency (see src/io/onnx.ts) — it is used when `import("onnxruntime-node")`
// resolves, or from the directory in IRG_ONNXRUNTIME_NODE (where `npm i onnxruntime-node` was run with
// ONNXRUNTIME_NODE_INSTALL=skip).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Network } from "../src/irg/network.js";
import { efthymiouSpec, irgNetSpec } from "../src/nn/irgnet.js";
import { initParams, type ModelSpec, predict } from "../src/nn/model.js";
import { rngFor } from "../src/lattice/rng.js";
import { saveNetwork } from "../src/io/network.js";
import { convTWrap, loadOnnxRuntime, networkToOnnx, type OrtOutputs, type OrtSession } from "../src/io/onnx.js";
import { SOFTWARE } from "../src/version.js";

const dir = mkdtempSync(join(tmpdir(), "irg-onnx-"));
const PY = "/usr/bin/python3";

// ---------- a protobuf wire-format decoder, independent of the encoder ----------

type Field = bigint | Uint8Array;
type Fields = Map<number, Field[]>;

function decode(buf: Uint8Array): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    let val: Field;
    if (wire === 0) val = varint();
    else if (wire === 2) {
      const n = Number(varint());
      val = buf.subarray(i, i + n);
      i += n;
    } else if (wire === 5) {
      val = buf.subarray(i, i + 4);
      i += 4;
    } else if (wire === 1) {
      val = buf.subarray(i, i + 8);
      i += 8;
    } else throw new Error(`unexpected wire type ${wire}`);
    if (i > buf.length) throw new Error("truncated message");
    out.set(field, [...(out.get(field) ?? []), val]);
  }
  return out;
}

const text = (b: Field | undefined): string => (b === undefined ? "" : new TextDecoder().decode(b as Uint8Array));
const msgs = (f: Fields, n: number): Fields[] => (f.get(n) ?? []).map((b) => decode(b as Uint8Array));
const ints = (f: Fields, n: number): number[] => (f.get(n) ?? []).map((v) => Number(BigInt.asIntN(64, v as bigint)));

interface Tensor64 {
  shape: number[];
  data: Float64Array;
}
interface OnnxNode {
  op: string;
  inputs: string[];
  output: string;
  attrs: Map<string, number[] | string>;
}
interface OnnxModel {
  ir: number;
  opset: number;
  nodes: OnnxNode[];
  inits: Map<string, Tensor64 & { type: number }>;
  input: { name: string; dims: (number | string)[] };
  output: { name: string; dims: (number | string)[] };
  meta: Map<string, string>;
}

function valueInfo(v: Fields): { name: string; dims: (number | string)[] } {
  const shape = msgs(msgs(msgs(v, 2)[0]!, 1)[0]!, 2)[0]!;
  return { name: text(v.get(1)?.[0]), dims: msgs(shape, 1).map((d) => (d.has(1) ? ints(d, 1)[0]! : text(d.get(2)?.[0]))) };
}

function readModel(bytes: Uint8Array): OnnxModel {
  const m = decode(bytes), g = msgs(m, 7)[0]!;
  const nodes = msgs(g, 1).map((n) => ({
    op: text(n.get(4)?.[0]),
    inputs: (n.get(1) ?? []).map(text),
    output: text(n.get(2)?.[0]),
    attrs: new Map(msgs(n, 5).map((a) => [text(a.get(1)?.[0]), a.has(4) ? text(a.get(4)?.[0]) : a.has(3) ? ints(a, 3) : ints(a, 8)])),
  }));
  const inits = new Map(msgs(g, 5).map((t) => {
    const dims = ints(t, 1), type = ints(t, 2)[0]!, raw = t.get(9)![0] as Uint8Array, dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const n = raw.length / (type === 1 ? 4 : 8);
    const data = Float64Array.from({ length: n }, (_, i) => (type === 1 ? dv.getFloat32(4 * i, true) : Number(dv.getBigInt64(8 * i, true))));
    return [text(t.get(8)?.[0]), { shape: dims, data, type }];
  }));
  return {
    ir: ints(m, 1)[0]!,
    opset: ints(msgs(m, 8)[0]!, 2)[0]!,
    nodes,
    inits,
    input: valueInfo(msgs(g, 11)[0]!),
    output: valueInfo(msgs(g, 12)[0]!),
    meta: new Map(msgs(m, 14).map((e) => [text(e.get(1)?.[0]), text(e.get(2)?.[0])])),
  };
}

// ---------- an evaluator of the ops used, written from the ONNX operator definitions ----------

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: number[]): number[] => s.map((_, d) => size(s.slice(d + 1)));
/** Calls fn with every multi-index of `shape` in row-major order. */
function each(shape: number[], fn: (idx: number[], flat: number) => void): void {
  const idx = shape.map(() => 0), n = size(shape);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let d = shape.length - 1; d >= 0 && ++idx[d]! === shape[d]; d--) idx[d] = 0;
  }
}
const strideCache = new WeakMap<Tensor64, number[]>();
function at(t: Tensor64, idx: number[]): number {
  let st = strideCache.get(t);
  if (!st) strideCache.set(t, (st = stridesOf(t.shape)));
  let f = 0;
  for (let d = 0; d < idx.length; d++) f += idx[d]! * st[d]!;
  return t.data[f]!;
}

function conv(x: Tensor64, w: Tensor64, b: Tensor64, transpose: boolean, stride: number): Tensor64 {
  const [N, C] = x.shape as [number, number], k = w.shape.slice(2), sp = x.shape.slice(2);
  const M = transpose ? w.shape[1]! : w.shape[0]!;
  const osp = sp.map((v, d) => (transpose ? stride * (v - 1) + k[d]! : v - k[d]! + 1));
  const out: Tensor64 = { shape: [N, M, ...osp], data: new Float64Array(N * M * size(osp)) };
  const os = stridesOf(out.shape);
  each(out.shape, (idx, f) => (out.data[f] = b.data[idx[1]!]!));
  // Conv: y[o] = Σ w[m, c, κ] x[o + κ]; ConvTranspose: y[s·i + κ] += x[i] w[c, m, κ].
  each([N, M, C, ...(transpose ? sp : osp)], (ix) => {
    const [n, m, c] = ix as [number, number, number], pos = ix.slice(3);
    each(k, (kk) => {
      if (transpose) {
        const o = pos.map((p, d) => stride * p + kk[d]!);
        out.data[[n, m, ...o].reduce((a, v, d) => a + v * os[d]!, 0)]! += at(x, [n, c, ...pos]) * at(w, [c, m, ...kk]);
      } else {
        out.data[[n, m, ...pos].reduce((a, v, d) => a + v * os[d]!, 0)]! += at(w, [m, c, ...kk]) * at(x, [n, c, ...pos.map((p, d) => p + kk[d]!)]);
      }
    });
  });
  return out;
}

function evalOp(n: OnnxNode, v: (name: string) => Tensor64): Tensor64 {
  const x = v(n.inputs[0]!), map = (f: (a: number) => number): Tensor64 => ({ shape: x.shape, data: x.data.map(f) });
  const ia = (name: string): number[] => (n.attrs.get(name) as number[] | undefined) ?? [];
  switch (n.op) {
    case "Mul":
      return map((a) => a * v(n.inputs[1]!).data[0]!);
    case "Relu":
      return map((a) => Math.max(0, a));
    case "Tanh":
      return map(Math.tanh);
    case "Sigmoid":
      return map((a) => 1 / (1 + Math.exp(-a)));
    case "Softplus":
      return map((a) => Math.log(Math.exp(a) + 1));
    case "Identity":
      return x;
    case "Pad": {
      assert.equal(n.attrs.get("mode"), "wrap");
      const p = Array.from(v(n.inputs[1]!).data), r = x.shape.length;
      const shape = x.shape.map((s, d) => s + p[d]! + p[d + r]!), data = new Float64Array(size(shape));
      each(shape, (idx, f) => (data[f] = at(x, idx.map((i, d) => (((i - p[d]!) % x.shape[d]!) + x.shape[d]!) % x.shape[d]!))));
      return { shape, data };
    }
    case "Conv":
    case "ConvTranspose":
      assert.deepEqual(ia("kernel_shape"), v(n.inputs[1]!).shape.slice(2));
      return conv(x, v(n.inputs[1]!), v(n.inputs[2]!), n.op === "ConvTranspose", ia("strides")[0] ?? 1);
    case "Slice": {
      const [st, en, ax] = [1, 2, 3].map((j) => Array.from(v(n.inputs[j]!).data));
      const lo = x.shape.map(() => 0), hi = x.shape.slice();
      ax!.forEach((a, j) => {
        const clamp = (e: number): number => Math.min(x.shape[a]!, e < 0 ? e + x.shape[a]! : e);
        lo[a] = clamp(st![j]!);
        hi[a] = clamp(en![j]!);
      });
      const shape = hi.map((h, d) => h - lo[d]!), data = new Float64Array(size(shape));
      each(shape, (idx, f) => (data[f] = at(x, idx.map((i, d) => i + lo[d]!))));
      return { shape, data };
    }
    case "Resize": {
      assert.equal(n.attrs.get("mode"), "nearest");
      const s = Array.from(v(n.inputs[2]!).data), shape = x.shape.map((d, j) => Math.floor(d * s[j]!)), data = new Float64Array(size(shape));
      each(shape, (idx, f) => (data[f] = at(x, idx.map((i, d) => Math.floor(i / s[d]!)))));
      return { shape, data };
    }
  }
  throw new Error(`op ${n.op} is not in the test evaluator`);
}

function evaluate(model: OnnxModel, input: Tensor64): Tensor64 {
  const vals = new Map<string, Tensor64>([[model.input.name, input], ...model.inits]);
  const v = (name: string): Tensor64 => vals.get(name) ?? assert.fail(`undefined tensor ${name}`);
  for (const n of model.nodes) vals.set(n.output, evalOp(n, v));
  return v(model.output.name);
}

// ---------- networks and inputs ----------

/** Initial weights plus small random biases (init leaves them 0, which would hide a bias bug). */
function netOf(spec: ModelSpec, seed: number, inputScale = 0.85): Network {
  const rng = rngFor({ seed });
  const params = initParams(spec, rng) as Float32Array;
  for (let i = 0; i < params.length; i++) if (params[i] === 0) params[i] = 0.1 * rng.normal();
  const model = spec.head?.type === "bernoulli" ? "ising" : "phi4";
  return { model, dim: spec.dim, spec, params, inputScale, training: { couplings: "-0.95,-0.94", L: 16, epochs: 3 } };
}

function randomInput(dim: number, N: number, L: number, seed: number): { shape: number[]; data: Float32Array } {
  const rng = rngFor({ seed });
  return { shape: [N, 1, ...Array<number>(dim).fill(L)], data: Float32Array.from({ length: N * L ** dim }, () => rng.normal()) };
}

/** predict on the scaled input: what the ONNX graph must reproduce. */
function ours(net: Network, x: { shape: number[]; data: Float32Array }): { shape: number[]; data: Float32Array } {
  return predict(net.spec, net.params, { shape: x.shape, data: x.data.map((v) => v * net.inputScale) }) as { shape: number[]; data: Float32Array };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const phi4Default = (dim: 2 | 3): ModelSpec => irgNetSpec({ dim, head: "gaussian-mixture", components: 2, hidden: [16, 16], kernel: 5 });
const isingDefault = (dim: 2 | 3): ModelSpec => irgNetSpec({ dim, head: "bernoulli", hidden: [16, 16], kernel: 5 });

// ---------- tests ----------

test("onnx: the model decodes with IR 8, opset 19, the layer ops, weight shapes and provenance", () => {
  const net = netOf(phi4Default(2), 1);
  const m = readModel(networkToOnnx(net));
  assert.equal(m.ir, 8);
  assert.equal(m.opset, 19);
  assert.deepEqual(m.nodes.map((n) => n.op), ["Mul", "Pad", "Conv", "Relu", "Conv", "Relu", "ConvTranspose"]);
  assert.deepEqual(m.input, { name: "coarse", dims: ["N", 1, "L", "L"] });
  assert.deepEqual(m.output, { name: "params", dims: ["N", 6, "2L", "2L"] });
  const shapes = Object.fromEntries([...m.inits].map(([k, t]) => [k, t.shape]));
  assert.deepEqual(shapes, {
    input_scale: [], conv0_w: [16, 1, 5, 5], conv0_b: [16], conv0_wrapped_pads: [8], conv2_w: [16, 16, 1, 1], conv2_b: [16], convT4_w: [16, 6, 2, 2], convT4_b: [6],
  });
  assert.deepEqual(Array.from(m.inits.get("conv0_wrapped_pads")!.data), [0, 0, 2, 2, 0, 0, 2, 2]);
  assert.equal(m.inits.get("input_scale")!.data[0], Math.fround(0.85));
  // Weights are stored exactly (float32 raw data); ConvTranspose's are [cin, cout, k, k].
  const off = 16 * 25 + 16 + 16 * 16 + 16, w = m.inits.get("convT4_w")!.data;
  assert.equal(w[(3 * 6 + 5) * 4 + 2], net.params[off + (5 * 16 + 3) * 4 + 2]);
  assert.equal(m.nodes[6]!.output, "params");
  assert.deepEqual(m.nodes[6]!.attrs.get("strides"), [2, 2]);
  assert.equal(m.meta.get("model"), "phi4");
  assert.equal(m.meta.get("head"), "gaussian-mixture");
  assert.equal(m.meta.get("components"), "2");
  assert.equal(m.meta.get("couplings"), "-0.95,-0.94");
  assert.equal(m.meta.get("training.epochs"), "3");
  assert.equal(m.meta.get("software"), SOFTWARE);
  assert.match(m.meta.get("output")!, /channels 0..1 means.*2..3 raw log-scales.*4..5 mixture logits/);
  assert.deepEqual(JSON.parse(m.meta.get("spec")!), net.spec);

  const m3 = readModel(networkToOnnx(netOf(isingDefault(3), 2, 1)));
  assert.deepEqual(m3.input.dims, ["N", 1, "L", "L", "L"]);
  assert.deepEqual(m3.output.dims, ["N", 1, "2L", "2L", "2L"]);
  assert.deepEqual(m3.inits.get("conv0_w")!.shape, [16, 1, 5, 5, 5]);
  assert.deepEqual(m3.inits.get("convT4_w")!.shape, [16, 1, 2, 2, 2]);
  assert.equal(m3.meta.get("head"), "bernoulli");

  // A wider transposed kernel wraps the coarse input first and cuts a window with negative ends.
  const mk = readModel(networkToOnnx(netOf(irgNetSpec({ dim: 2, head: "bernoulli", hidden: [4], kernel: 3, outKernel: 5 }), 3)));
  assert.deepEqual(mk.nodes.map((n) => n.op), ["Mul", "Pad", "Conv", "Relu", "Pad", "ConvTranspose", "Slice"]);
  assert.deepEqual(convTWrap(5), { a: 1, b: 1, c: 4, e: 3 });
  assert.deepEqual(Array.from(mk.inits.get("convT2_starts")!.data), [4, 4]);
  assert.deepEqual(Array.from(mk.inits.get("convT2_ends")!.data), [-3, -3]);
});

const evalCases: [string, ModelSpec, number[]][] = [
  ["2D phi4 default", phi4Default(2), [2, 5, 8]],
  ["2D ising default", isingDefault(2), [3, 8]],
  ["3D phi4 default", phi4Default(3), [2, 4]],
  ...[3, 4, 5, 6].map((k): [string, ModelSpec, number[]] => [`2D transposed k=${k}, tanh`, irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 1, hidden: [4], kernel: 3, outKernel: k, activation: "tanh" }), [2, 3, 6]]),
  ["3D transposed k=3", irgNetSpec({ dim: 3, head: "bernoulli", hidden: [3], kernel: 3, outKernel: 3 }), [3]],
  ["2D nearest upsample, softplus", irgNetSpec({ dim: 2, head: "bernoulli", hidden: [4, 4], kernel: 3, upsample: "nearest", activation: "softplus" }), [3, 4]],
  ["2D Efthymiou", efthymiouSpec(2, "gaussian-mixture", 2), [4]],
];

test("onnx: the decoded graph, evaluated by the ONNX operator definitions, reproduces predict", (t) => {
  let worst = 0;
  evalCases.forEach(([name, spec, sizes], j) => {
    const net = netOf(spec, 10 + j), m = readModel(networkToOnnx(net));
    for (const L of sizes) {
      const x = randomInput(spec.dim, 2, L, 100 + L), want = ours(net, x);
      const got = evaluate(m, { shape: x.shape, data: Float64Array.from(x.data) });
      assert.deepEqual(got.shape, want.shape, name);
      const d = maxDiff(got.data, want.data);
      worst = Math.max(worst, d);
      assert.ok(d < 1e-4, `${name}, L = ${L}: max |onnx − predict| = ${d}`);
    }
  });
  t.diagnostic(`test evaluator: max |onnx − predict| = ${worst.toExponential(2)}`);
});

test("onnx: Python's onnx checker accepts the model (and evaluates it when onnx.reference or onnxruntime is there)", (t) => {
  if (spawnSync(PY, ["-c", "import onnx"]).status !== 0) {
    t.skip(`${PY} cannot import onnx (Debian: apt-get install python3-onnx)`);
    return;
  }
  const net = netOf(phi4Default(2), 4), model = join(dir, "py.onnx");
  writeFileSync(model, networkToOnnx(net));
  const x = randomInput(2, 2, 8, 7);
  writeFileSync(join(dir, "x.f32"), x.data);
  const script = `
import json, sys, numpy as np, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(${JSON.stringify(x.shape)})
y, how = None, "none"
try:
    from onnx.reference import ReferenceEvaluator
    y, how = ReferenceEvaluator(m).run(None, {"coarse": x})[0], "onnx.reference"
except ImportError:
    try:
        import onnxruntime
        y, how = onnxruntime.InferenceSession(sys.argv[1]).run(None, {"coarse": x})[0], "onnxruntime"
    except ImportError:
        pass
if y is not None:
    np.asarray(y, dtype=np.float32).tofile(sys.argv[3])
print(json.dumps({"ops": [n.op_type for n in m.graph.node], "ir": m.ir_version, "evaluator": how, "shape": None if y is None else list(y.shape)}))
`;
  const r = spawnSync(PY, ["-c", script, model, join(dir, "x.f32"), join(dir, "y.f32")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ops: string[]; ir: number; evaluator: string; shape: number[] | null };
  assert.deepEqual(res.ops, ["Mul", "Pad", "Conv", "Relu", "Conv", "Relu", "ConvTranspose"]);
  assert.equal(res.ir, 8);
  if (res.evaluator === "none") {
    t.diagnostic("onnx.checker passed; neither onnx.reference (onnx >= 1.13) nor onnxruntime is importable, so no Python evaluation");
    return;
  }
  const want = ours(net, x);
  assert.deepEqual(res.shape, want.shape);
  const d = maxDiff(new Float32Array(readFileSync(join(dir, "y.f32")).buffer.slice(0)), want.data);
  t.diagnostic(`${res.evaluator}: max |onnx − predict| = ${d}`);
  assert.ok(d < 1e-4, `${res.evaluator}: max |onnx − predict| = ${d}`);
});

test("onnx: onnxruntime-node reproduces predict (2D and 3D, every layer kind)", async (t) => {
  const ort = await loadOnnxRuntime();
  if (!ort) {
    t.skip("onnxruntime-node is not installed (not a dependency; set IRG_ONNXRUNTIME_NODE to a directory where it is)");
    return;
  }
  let worst = 0;
  for (const [name, spec, sizes] of evalCases) {
    const net = netOf(spec, 20), session: OrtSession = await ort.InferenceSession.create(networkToOnnx(net));
    for (const L of [...sizes, spec.dim === 2 ? 16 : 6]) {
      const x = randomInput(spec.dim, 3, L, 200 + L), want = ours(net, x);
      const out: OrtOutputs[string] = (await session.run({ coarse: new ort.Tensor("float32", x.data, x.shape) })).params!;
      assert.deepEqual(Array.from(out.dims), want.shape, name);
      const d = maxDiff(out.data, want.data);
      worst = Math.max(worst, d);
      assert.ok(d < 1e-4, `${name}, L = ${L}: max |onnxruntime − predict| = ${d}`);
    }
  }
  t.diagnostic(`onnxruntime-node: max |onnx − predict| = ${worst}`);
});

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("irg export writes the ONNX model of a saved network; missing or foreign files are one-line errors (exit 2)", () => {
  const net = netOf(isingDefault(2), 5, 1), json = join(dir, "net.json"), out = join(dir, "net.onnx");
  saveNetwork(json, net, SOFTWARE);
  const r = irg("export", "--net", json, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*net\.onnx/);
  const m = readModel(readFileSync(out));
  assert.deepEqual(m.nodes.map((n) => n.op), ["Mul", "Pad", "Conv", "Relu", "Conv", "Relu", "ConvTranspose"]);
  assert.equal(m.meta.get("model"), "ising");
  const again = irg("export", "--net", json, "--out", out);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists.*--force/);

  const foreign = join(dir, "foreign.json");
  writeFileSync(foreign, JSON.stringify({ hello: 1 }));
  for (const bad of [join(dir, "missing.json"), foreign, out]) {
    const e = irg("export", "--net", bad, "--out", join(dir, "x.onnx"));
    assert.equal(e.code, 2, e.stderr);
    assert.equal(e.stderr.trim().split("\n").length, 1, e.stderr);
    assert.match(e.stderr, /^irg: error: /);
  }
  const noDir = irg("export", "--net", json, "--out", join(dir, "nope", "x.onnx"));
  assert.equal(noDir.code, 2, noDir.stderr);
  assert.equal(existsSync(join(dir, "x.onnx")), false);
});
