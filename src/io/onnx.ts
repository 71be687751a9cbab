// Networks as ONNX models (ModelProto, irVersion 8, opset 19) for Python users: the deterministic part of an
// irg network — input scaling, periodic convolutions, stride-2 transposed conv, activations — up to the head's raw parameters.
//
// Why a hand-written protobuf encoder: the model needs ten messages and about forty fields, written only
// (never read back here), with weights as little-endian raw_data. The one ONNX schema package on npm
// (onnx-proto) pins protobufjs 6 and is unmaintained; protobufjs 8 alone would still need the schema
// typed in by hand. ~60 lines of varint/length-delimited encoding carry no install risk; the tests decode
// the bytes with an independent wire-format decoder and, where installed, with Python's onnx checker.
//
// Why irVersion 8: Debian's python3-onnx 1.12 checks a model only up to IR 8; onnxruntime accepts IR 8
// with opset 19, the first opset whose Pad has mode="wrap" (periodic padding, i.e. the torus).
//
// Layer mapping (exact, same arithmetic up to float rounding order):
//   conv k (odd)   → Pad(wrap, r = (k−1)/2 on every spatial side) → Conv(k, no pads); k = 1: Conv alone.
//   convT k, s = 2 → Pad(wrap, a before / b after, coarse sites) → ConvTranspose(stride 2) → Slice[c, −e).
//     Ours: fine y = 2X + t − p (mod 2L), p = ⌊(k−1)/2⌋. ConvTranspose of the wrapped input puts X' at
//     j = 2X' + t with X' = X + a; the window j = y + c, c = p + 2a, holds every (y, t) exactly once when
//     c ≥ k − 2 (a = max(0, ⌈(k−2−p)/2⌉)) and the last fine site's taps stay inside (b = ⌊(p−1)/2⌋ + 1);
//     the window ends e = 2b − 2 + k − p ≥ 0 before the end, so Slice needs no size and L stays dynamic.
//     k = 2 (the default): a = b = c = e = 0, a bare ConvTranspose (depth-to-space, one parent per site).
//   upsample       → Resize(nearest, asymmetric, floor, scales 2).
//   act            → Relu | Tanh | Sigmoid | Softplus (identity: nothing).

import { createRequire } from "node:module";
import { join } from "node:path";
import { type Network } from "../irg/network.js";
import { checkSpec, type LayerSpec, paramIndex, scaleFactor } from "../nn/model.js";
import { SOFTWARE } from "../version.js";

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 19;
export const ONNX_INPUT = "coarse";
export const ONNX_OUTPUT = "params";

// ---------- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) ----------

type Chunk = Uint8Array;

function varint(v: bigint): Chunk {
  // int64 fields: negative values are their 64-bit two's complement (ten bytes).
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const b = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u === 0n ? b : b | 0x80);
  } while (u !== 0n);
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

/** One message under construction: a list of encoded fields. */
class Msg {
  private parts: Chunk[] = [];
  int(field: number, v: number | bigint): this {
    this.parts.push(varint(BigInt(field << 3)), varint(BigInt(v)));
    return this;
  }
  bytes(field: number, b: Chunk): this {
    this.parts.push(varint(BigInt((field << 3) | 2)), varint(BigInt(b.length)), b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }
  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0), out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// ---------- ONNX messages (field numbers from onnx.proto) ----------

const FLOAT = 1, INT64 = 7; // TensorProto.DataType
const ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7; // AttributeProto.AttributeType

type AttrValue = number | string | number[];
interface NodeDef {
  op: string;
  inputs: string[];
  output: string;
  attrs?: Record<string, AttrValue>;
}
interface Init {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

function tensorMsg(t: Init): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.data instanceof Float32Array ? FLOAT : INT64).str(8, t.name);
  // raw_data is little-endian whatever the host; DataView makes that explicit.
  const raw = new Uint8Array(t.data.length * t.data.BYTES_PER_ELEMENT), dv = new DataView(raw.buffer);
  if (t.data instanceof Float32Array) t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  else t.data.forEach((v, i) => dv.setBigInt64(8 * i, v, true));
  return m.bytes(9, raw);
}

function attrMsg(name: string, v: AttrValue): Msg {
  const m = new Msg().str(1, name);
  if (typeof v === "number") return m.int(20, ATTR_INT).int(3, v);
  if (typeof v === "string") return m.int(20, ATTR_STRING).str(4, v);
  m.int(20, ATTR_INTS);
  for (const x of v) m.int(8, x); // proto2 repeated int64: unpacked
  return m;
}

function nodeMsg(n: NodeDef, name: string): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.str(1, i);
  m.str(2, n.output).str(3, name).str(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.msg(5, attrMsg(k, v));
  return m;
}

/** A float tensor value with fixed (number) or symbolic (string) dimensions. */
function valueInfoMsg(name: string, dims: (number | string)[], doc: string): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === "number" ? new Msg().int(1, d) : new Msg().str(2, d));
  const tensorType = new Msg().int(1, FLOAT).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tensorType)).str(3, doc);
}

// ---------- the graph ----------

export interface OnnxGraph {
  nodes: NodeDef[];
  inits: Init[];
}

const ACT_OPS = { relu: "Relu", tanh: "Tanh", sigmoid: "Sigmoid", softplus: "Softplus" } as const;
const INT64_MAX = 0x7fffffffffffffffn;

/** Pads, starts and the like are int64 initialisers. */
function i64(name: string, xs: (number | bigint)[]): Init {
  return { name, dims: [xs.length], data: BigInt64Array.from(xs, (v) => BigInt(v)) };
}

/** Offsets of the periodic stride-2 transposed conv (see the file header for the derivation). */
export function convTWrap(k: number): { a: number; b: number; c: number; e: number } {
  const p = Math.floor((k - 1) / 2);
  const a = Math.max(0, Math.ceil((k - 2 - p) / 2)), b = Math.floor((p - 1) / 2) + 1;
  return { a, b, c: p + 2 * a, e: 2 * b - 2 + k - p };
}

/** Wrap padding of `before`/`after` sites on every spatial axis of an [N, C, ...spatial] tensor. */
function padWrap(g: OnnxGraph, x: string, out: string, dim: number, before: number, after: number): void {
  const z = Array<number>(2).fill(0);
  g.inits.push(i64(`${out}_pads`, [...z, ...Array<number>(dim).fill(before), ...z, ...Array<number>(dim).fill(after)]));
  g.nodes.push({ op: "Pad", inputs: [x, `${out}_pads`], output: out, attrs: { mode: "wrap" } });
}

/** Weights of layer i (ours: [cout, cin, k^dim] then [cout] biases); ConvTranspose wants [cin, cout, k^dim]. */
function weights(net: Network, off: number, l: { cin: number; cout: number; k: number }, transpose: boolean): { w: Float32Array; b: Float32Array } {
  const kd = l.k ** net.dim, n = l.cout * l.cin * kd, src = net.params.subarray(off, off + n);
  const w = new Float32Array(n);
  if (!transpose) w.set(src);
  else for (let co = 0; co < l.cout; co++) for (let ci = 0; ci < l.cin; ci++) w.set(src.subarray((co * l.cin + ci) * kd, (co * l.cin + ci + 1) * kd), (ci * l.cout + co) * kd);
  return { w, b: net.params.slice(off + n, off + n + l.cout) };
}

/** Appends the nodes of one layer reading tensor x; returns the name of its output. */
function layerNodes(g: OnnxGraph, net: Network, l: LayerSpec, i: number, off: number, x: string): string {
  const dim = net.dim, sp = (v: number): number[] => Array<number>(dim).fill(v);
  switch (l.type) {
    case "conv": {
      const { w, b } = weights(net, off, l, false), r = (l.k - 1) / 2;
      g.inits.push({ name: `conv${i}_w`, dims: [l.cout, l.cin, ...sp(l.k)], data: w }, { name: `conv${i}_b`, dims: [l.cout], data: b });
      let src = x;
      if (r > 0) padWrap(g, x, (src = `conv${i}_wrapped`), dim, r, r);
      g.nodes.push({ op: "Conv", inputs: [src, `conv${i}_w`, `conv${i}_b`], output: `conv${i}`, attrs: { kernel_shape: sp(l.k) } });
      return `conv${i}`;
    }
    case "convT": {
      const { w, b } = weights(net, off, l, true), { a, b: after, c, e } = convTWrap(l.k);
      g.inits.push({ name: `convT${i}_w`, dims: [l.cin, l.cout, ...sp(l.k)], data: w }, { name: `convT${i}_b`, dims: [l.cout], data: b });
      let src = x;
      if (a > 0 || after > 0) padWrap(g, x, (src = `convT${i}_wrapped`), dim, a, after);
      const full = c > 0 || e > 0 ? `convT${i}_full` : `convT${i}`;
      g.nodes.push({ op: "ConvTranspose", inputs: [src, `convT${i}_w`, `convT${i}_b`], output: full, attrs: { kernel_shape: sp(l.k), strides: sp(2) } });
      if (full === `convT${i}`) return full;
      // Negative ends count from the end: the window needs no knowledge of L.
      g.inits.push(i64(`convT${i}_starts`, sp(c)), i64(`convT${i}_ends`, sp(e).map((v) => (v > 0 ? BigInt(-v) : INT64_MAX))), i64(`convT${i}_axes`, Array.from({ length: dim }, (_, d) => d + 2)));
      g.nodes.push({ op: "Slice", inputs: [full, `convT${i}_starts`, `convT${i}_ends`, `convT${i}_axes`], output: `convT${i}` });
      return `convT${i}`;
    }
    case "upsample": {
      g.inits.push({ name: `up${i}_scales`, dims: [dim + 2], data: Float32Array.from([1, 1, ...sp(2)]) });
      g.nodes.push({ op: "Resize", inputs: [x, "", `up${i}_scales`], output: `up${i}`, attrs: { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" } });
      return `up${i}`;
    }
    case "act":
      if (l.fn === "identity") return x;
      g.nodes.push({ op: ACT_OPS[l.fn], inputs: [x], output: `act${i}` });
      return `act${i}`;
  }
}

/** Nodes and initialisers from the network input (ONNX_INPUT) to its output (ONNX_OUTPUT). */
export function onnxGraph(net: Network): OnnxGraph {
  const g: OnnxGraph = { nodes: [], inits: [{ name: "input_scale", dims: [], data: Float32Array.of(net.inputScale) }] };
  g.nodes.push({ op: "Mul", inputs: [ONNX_INPUT, "input_scale"], output: "scaled" });
  const { offsets } = paramIndex(net.spec);
  let x = "scaled";
  net.spec.layers.forEach((l, i) => (x = layerNodes(g, net, l, i, offsets[i]!, x)));
  // The last node's output becomes the graph output (an activation-only tail may have added none).
  const last = g.nodes[g.nodes.length - 1]!;
  if (last.output === x) last.output = ONNX_OUTPUT;
  else g.nodes.push({ op: "Identity", inputs: [x], output: ONNX_OUTPUT });
  return g;
}

/** What the output channels mean, for doc_string and metadata. */
export function outputDoc(net: Network): string {
  const h = net.spec.head;
  if (!h) return "raw network output (no head)";
  if (h.type === "bernoulli") return "channel 0: Bernoulli logit l per fine site, P(s = +1) = sigmoid(l)";
  if (h.type === "categorical") return `channels 0..${h.classes - 1}: logits l_c per fine site, P(state c) = softmax(l)_c. Fine sites are independent given the coarse configuration`;
  const K = h.components;
  return (
    `Gaussian mixture, K = ${K}: channels 0..${K - 1} means mu_k; ${K}..${2 * K - 1} raw log-scales rho_k ` +
    `(ln sigma_k = rho_k for |rho_k| <= 6, else sign(rho_k)*(7 - exp(-(|rho_k| - 6))), inside (-7, 7)); ` +
    `${2 * K}..${3 * K - 1} mixture logits a_k (weights softmax(a)_k). Fine sites are independent given the coarse configuration`
  );
}

function metadata(net: Network): [string, string][] {
  const h = net.spec.head;
  const kv: [string, string][] = [
    ["format", "irg-network-onnx"],
    ["software", SOFTWARE],
    ["model", net.model],
    ["dim", String(net.dim)],
    ["head", h ? h.type : "none"],
    ["components", h?.type === "gaussian-mixture" ? String(h.components) : "1"],
    ["input_scale", String(net.inputScale)],
    ["input", `${ONNX_INPUT}: coarse configuration [N, 1, L${", L".repeat(net.dim - 1)}] as stored (spins ±1 or field values); the graph multiplies it by input_scale`],
    ["output", `${ONNX_OUTPUT}: ${outputDoc(net)}`],
    ["spec", JSON.stringify(net.spec)],
    ["training", JSON.stringify(net.training)],
  ];
  if (net.training.couplings !== undefined) kv.push(["couplings", String(net.training.couplings)]);
  for (const [k, v] of Object.entries(net.training)) kv.push([`training.${k}`, String(v)]);
  return kv;
}

/** The ONNX ModelProto of the network's deterministic part; dynamic batch N and lattice size L. */
export function networkToOnnx(net: Network): Uint8Array {
  if (!net.spec.head) throw new RangeError("only networks with an output head can be exported");
  if (net.spec.inChannels !== 1) throw new RangeError(`ONNX export takes networks with one input channel; this ${net.model} network reads ${net.spec.inChannels} one-hot channels`);
  const g = onnxGraph(net), s = scaleFactor(net.spec), outC = checkSpec(net.spec);
  const graph = new Msg();
  g.nodes.forEach((n, i) => graph.msg(1, nodeMsg(n, `${n.op.toLowerCase()}_${i}`)));
  graph.str(2, `irg_${net.model}_${net.dim}d`);
  for (const t of g.inits) graph.msg(5, tensorMsg(t));
  graph.str(10, outputDoc(net));
  const sizes = (v: string): string[] => Array<string>(net.dim).fill(v);
  graph.msg(11, valueInfoMsg(ONNX_INPUT, ["N", 1, ...sizes("L")], "coarse configuration, multiplied by input_scale inside the graph"));
  graph.msg(12, valueInfoMsg(ONNX_OUTPUT, ["N", outC, ...sizes(s === 1 ? "L" : `${s}L`)], outputDoc(net)));
  const model = new Msg()
    .int(1, ONNX_IR_VERSION)
    .str(2, "irg")
    .str(3, SOFTWARE.replace(/^irg /, ""))
    .int(5, 1)
    .str(6, `irg inverse-RG network (${net.model}, ${net.dim}D): coarse configuration in, per-site head parameters of the ${s}x finer one out. ${outputDoc(net)}.`)
    .msg(7, graph)
    .msg(8, new Msg().str(1, "").int(2, ONNX_OPSET));
  for (const [k, v] of metadata(net)) model.msg(14, new Msg().str(1, k).str(2, v));
  return model.finish();
}

/** What the tests and the benchmark use of onnxruntime-node (an optional package, not a dependency). */
export type OrtOutputs = Record<string, { dims: readonly number[]; data: Float32Array }>;
export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<OrtOutputs>;
}
export interface Ort {
  InferenceSession: { create(model: Uint8Array, options?: { intraOpNumThreads?: number; interOpNumThreads?: number }): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
}

/**
 * onnxruntime-node when `import("onnxruntime-node")` resolves, or from the directory named by
 * IRG_ONNXRUNTIME_NODE (where `ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node@1.30.0` was run);
 * null otherwise. It is 290 MB with its native libraries, so it stays out of the dependencies.
 */
export async function loadOnnxRuntime(): Promise<Ort | null> {
  try {
    return (await import("onnxruntime-node" as string)) as Ort;
  } catch {
    const from = process.env.IRG_ONNXRUNTIME_NODE;
    if (!from) return null;
    try {
      return createRequire(join(from, "package.json"))("onnxruntime-node") as Ort;
    } catch {
      return null;
    }
  }
}
