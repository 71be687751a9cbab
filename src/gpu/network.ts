// A network's forward pass in WGSL: periodic convolution, stride-2 transposed convolution (Dumoulin &
// Visin, "A guide to convolution arithmetic", 2016), ×2 upsampling and the activations, one thread per output value.
//
// Why direct convolution and not im2col: with one thread per output a GPU keeps the k^d·cin inputs of
// neighbouring threads in cache, and no column buffer is written. Activations that follow a convolution
// run in its thread. The CPU pass (nn/model.ts predict) stays the reference: the sums run in another
// order, so the outputs agree to float32 rounding, not bit for bit.

import { type Activation } from "../nn/act.js";
import { paramIndex, type ModelSpec } from "../nn/model.js";
import { layout, type Tensor } from "../nn/tensor.js";
import { encodePass, type Gpu, grid } from "./device.js";
import { HEAD_MAX, HEAD_SHADER, HEAD_WG, headCode } from "./heads.js";

const WG = 256;
const ACT: Record<Activation, number> = { identity: 0, relu: 1, tanh: 2, sigmoid: 3, softplus: 4 };

const SHADER = /* wgsl */ `
struct P { kind: u32, n: u32, cin: u32, cout: u32, D: u32, H: u32, W: u32, k: u32, dim: u32, act: u32, woff: u32, total: u32, nx: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

fn activate(v: f32) -> f32 {
  switch p.act {
    case 1u: { return max(v, 0.0); }
    case 2u: { return tanh(v); }
    case 3u: { return 1.0 / (1.0 + exp(-v)); }
    case 4u: { return max(v, 0.0) + log(1.0 + exp(-abs(v))); }
    default: { return v; }
  }
}

// v mod n for v within one period of [0, n) without a division (the common case), else by division.
fn wrap(v: i32, n: u32) -> u32 {
  let m = i32(n);
  if (v >= 0 && v < m) { return u32(v); }
  if (v < 0 && v >= -m) { return u32(v + m); }
  if (v >= m && v < 2 * m) { return u32(v - m); }
  return u32(((v % m) + m) % m);
}

// conv (kind 0): D, H, W the lattice; convT (kind 1) and upsample (kind 2): D, H, W the coarse input.
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.nx * ${WG}u;
  if (e >= p.total) { return; }
  let D = p.D; let H = p.H; let W = p.W;
  let kz = select(1u, p.k, p.dim == 3u);
  let kd = kz * p.k * p.k;
  if (p.kind == 0u) {
    let S = D * H * W;
    let s = e % S; let co = (e / S) % p.cout; let b = e / (S * p.cout);
    let xx = s % W; let yy = (s / W) % H; let zz = s / (W * H);
    let r = i32(p.k / 2u);
    var acc = w[p.woff + p.cout * p.cin * kd + co];
    for (var ci = 0u; ci < p.cin; ci++) {
      let xo = (b * p.cin + ci) * S;
      let wo = p.woff + (co * p.cin + ci) * kd;
      var t = 0u;
      for (var a = 0u; a < kz; a++) {
        let z = select(0u, wrap(i32(zz) + i32(a) - r, D), p.dim == 3u);
        for (var c = 0u; c < p.k; c++) {
          let yv = wrap(i32(yy) + i32(c) - r, H);
          for (var d = 0u; d < p.k; d++) {
            let xv = wrap(i32(xx) + i32(d) - r, W);
            acc += w[wo + t] * x[xo + (z * H + yv) * W + xv];
            t++;
          }
        }
      }
    }
    y[e] = activate(acc);
    return;
  }
  let Df = select(1u, 2u * D, p.dim == 3u); let Hf = 2u * H; let Wf = 2u * W;
  let Sf = Df * Hf * Wf; let S = D * H * W;
  let s = e % Sf; let co = (e / Sf) % p.cout; let b = e / (Sf * p.cout);
  let xf = s % Wf; let yf = (s / Wf) % Hf; let zf = s / (Wf * Hf);
  if (p.kind == 2u) {
    let z = select(0u, zf / 2u, p.dim == 3u);
    y[e] = x[(b * p.cout + co) * S + (z * H + yf / 2u) * W + xf / 2u];
    return;
  }
  // Fine site f receives coarse X through tap t where f = 2X + t - pad: X = (f + pad - t) / 2, t ≡ f + pad (mod 2).
  let pad = i32((p.k - 1u) / 2u);
  var acc = w[p.woff + p.cout * p.cin * kd + co];
  for (var ci = 0u; ci < p.cin; ci++) {
    let xo = (b * p.cin + ci) * S;
    let wo = p.woff + (co * p.cin + ci) * kd;
    for (var tz = 0u; tz < kz; tz++) {
      let vz = i32(zf) + pad - i32(tz);
      if (p.dim == 3u && (vz & 1) != 0) { continue; }
      let z = select(0u, wrap(vz >> 1u, D), p.dim == 3u);
      for (var ty = 0u; ty < p.k; ty++) {
        let vy = i32(yf) + pad - i32(ty);
        if ((vy & 1) != 0) { continue; }
        let yc = wrap(vy >> 1u, H);
        for (var tx = 0u; tx < p.k; tx++) {
          let vx = i32(xf) + pad - i32(tx);
          if ((vx & 1) != 0) { continue; }
          acc += w[wo + (tz * p.k + ty) * p.k + tx] * x[xo + (z * H + yc) * W + wrap(vx >> 1u, W)];
        }
      }
    }
  }
  y[e] = activate(acc);
}
`;

/** The forward pass of one network on a GPU; `predict` takes and returns tensors as nn/model.ts's predict does. */
export interface GpuNetwork {
  predict(input: Tensor): Promise<Tensor>;
  /**
   * The forward pass and the head's draw on the GPU (Philox key `key`): per batch entry the values drawn
   * (spins ±1, states, fields) and their ln q, summed in float32 per 256 sites and in float64 over those.
   */
  sample(input: Tensor, key: readonly [number, number]): Promise<{ sample: Float32Array; logProb: Float64Array }>;
  dispose(): void;
}

interface Step {
  kind: 0 | 1 | 2;
  cin: number;
  cout: number;
  k: number;
  act: Activation;
  woff: number;
}

/** The network's layers as kernel steps: an activation after a convolution runs inside it. */
function stepsOf(spec: ModelSpec): Step[] {
  const { offsets } = paramIndex(spec);
  const steps: Step[] = [];
  let C = spec.inChannels;
  spec.layers.forEach((l, i) => {
    if (l.type === "conv" || l.type === "convT") {
      steps.push({ kind: l.type === "conv" ? 0 : 1, cin: l.cin, cout: l.cout, k: l.k, act: "identity", woff: offsets[i]! });
      C = l.cout;
    } else if (l.type === "upsample") {
      steps.push({ kind: 2, cin: C, cout: C, k: 1, act: "identity", woff: 0 });
    } else if (l.type === "act") {
      const last = steps.at(-1);
      if (last && last.kind !== 2 && last.act === "identity") last.act = l.fn;
      // A lone activation (first layer, or after upsampling) is an identity 1×1 convolution with it.
      else steps.push({ kind: 0, cin: C, cout: C, k: 1, act: l.fn, woff: -1 });
    }
  });
  return steps;
}

export function gpuNetwork(gpu: Gpu, spec: ModelSpec, params: Float32Array): GpuNetwork {
  const { device, flags } = gpu;
  const U = flags.BufferUsage;
  const steps = stepsOf(spec);
  // Identity 1×1 convolutions for lone activations: weights appended after the network's.
  let extra = 0;
  for (const s of steps) if (s.woff < 0) extra += s.cin * s.cout + s.cout;
  const all = new Float32Array(params.length + extra);
  all.set(params);
  let at = params.length;
  for (const s of steps) {
    if (s.woff >= 0) continue;
    s.woff = at;
    for (let c = 0; c < s.cout; c++) all[at + c * s.cin + c] = 1;
    at += s.cin * s.cout + s.cout;
  }
  const wbuf = device.createBuffer({ size: Math.max(16, all.byteLength), usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(wbuf, 0, all);
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const owned: GPUBuffer[] = [wbuf];
  /** Buffers, uniforms and bind groups of one input shape, made once (generation calls with one shape). */
  interface Plan {
    ping: GPUBuffer[];
    binds: { bind: GPUBindGroup; nx: number; ny: number }[];
    outLen: number;
    outShape: number[];
    N: number;
    /** Sites of one output configuration. */
    S: number;
    head?: { draw: GPUBuffer; partial: GPUBuffer; uniform: GPUBuffer; bind: GPUBindGroup; nx: number; ny: number; per: number };
  }
  const plans = new Map<string, Plan>();
  const planFor = (input: Tensor): Plan => {
    const key = input.shape.join("x");
    const known = plans.get(key);
    if (known) return known;
    const { N, C, sp } = layout(input.shape, spec.dim);
    if (C !== spec.inChannels) throw new RangeError(`input has ${C} channels, the model expects ${spec.inChannels}`);
    // Sizes of every activation, then two ping-pong buffers of the largest.
    let D = sp.D, H = sp.H, W = sp.W, maxLen = input.data.length;
    const dims = steps.map((s) => {
      const here = { D, H, W };
      if (s.kind !== 0) {
        D = spec.dim === 3 ? 2 * D : 1;
        H *= 2;
        W *= 2;
      }
      maxLen = Math.max(maxLen, N * s.cout * D * H * W);
      return here;
    });
    const bytes = Math.max(16, maxLen * 4);
    if (bytes > device.limits.maxStorageBufferBindingSize) throw new RangeError(`an activation of ${bytes} bytes exceeds what this GPU binds; generate fewer configurations per call`);
    const ping = [0, 1].map(() => device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST | U.COPY_SRC }));
    owned.push(...ping);
    const binds = steps.map((s, i) => {
      const d = dims[i]!;
      const total = N * s.cout * d.D * d.H * d.W * (s.kind === 0 ? 1 : 2 ** spec.dim);
      const [nx, ny] = grid(device, Math.ceil(total / WG));
      const u = device.createBuffer({ size: 64, usage: U.UNIFORM | U.COPY_DST });
      owned.push(u);
      device.queue.writeBuffer(u, 0, Uint32Array.from([s.kind, N, s.cin, s.cout, d.D, d.H, d.W, s.k, spec.dim, ACT[s.act], s.woff, total, nx]));
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [ping[i % 2]!, ping[(i + 1) % 2]!, wbuf, u].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      return { bind, nx, ny };
    });
    const last = steps.at(-1)!;
    const plan: Plan = { ping, binds, outLen: N * last.cout * D * H * W, outShape: [N, last.cout, ...(spec.dim === 3 ? [D] : []), H, W], N, S: D * H * W };
    plans.set(key, plan);
    return plan;
  };
  /** Writes the input and encodes every layer. */
  const encodeLayers = (plan: Plan, input: Tensor): GPUCommandEncoder => {
    device.queue.writeBuffer(plan.ping[0]!, 0, input.data as Float32Array);
    const enc = device.createCommandEncoder();
    for (const b of plan.binds) encodePass(enc, pipeline, b.bind, [b.nx, b.ny]);
    return enc;
  };
  let headPipeline: GPUComputePipeline | null = null;
  const headOf = (plan: Plan): NonNullable<Plan["head"]> => {
    if (plan.head) return plan.head;
    if (!spec.head) throw new RangeError("the network has no output head to draw from");
    const code = headCode(spec.head);
    if (code.n > HEAD_MAX) throw new RangeError(`the GPU head draws at most ${HEAD_MAX} components or classes, the network has ${code.n}`);
    headPipeline ??= device.createComputePipeline({ layout: "auto", compute: { module: device.createShaderModule({ code: HEAD_SHADER }), entryPoint: "main" } });
    const [nx, ny] = grid(device, Math.ceil(plan.S / HEAD_WG));
    const draw = device.createBuffer({ size: Math.max(16, plan.N * plan.S * 4), usage: U.STORAGE | U.COPY_SRC });
    const partial = device.createBuffer({ size: Math.max(16, plan.N * nx * ny * 4), usage: U.STORAGE | U.COPY_SRC });
    const uniform = device.createBuffer({ size: 32, usage: U.UNIFORM | U.COPY_DST });
    owned.push(draw, partial, uniform);
    const bind = device.createBindGroup({
      layout: headPipeline.getBindGroupLayout(0),
      entries: [plan.ping[steps.length % 2]!, draw, partial, uniform].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    plan.head = { draw, partial, uniform, bind, nx, ny, per: nx * ny };
    return plan.head;
  };
  return {
    async sample(input, key) {
      const plan = planFor(input), head = headOf(plan), code = headCode(spec.head!);
      device.queue.writeBuffer(head.uniform, 0, Uint32Array.from([code.kind, code.n, plan.S, plan.N, key[0] >>> 0, key[1] >>> 0, head.nx, head.per]));
      const enc = encodeLayers(plan, input);
      encodePass(enc, headPipeline!, head.bind, [head.nx, head.ny, plan.N]);
      const [d, p] = await gpu.readBack(enc, [{ buffer: head.draw, offset: 0, size: plan.N * plan.S * 4 }, { buffer: head.partial, offset: 0, size: plan.N * head.per * 4 }]);
      const sample = new Float32Array(d!), parts = new Float32Array(p!);
      const logProb = new Float64Array(plan.N);
      for (let b = 0; b < plan.N; b++) for (let j = 0; j < head.per; j++) logProb[b]! += parts[b * head.per + j]!;
      return { sample, logProb };
    },
    async predict(input) {
      const plan = planFor(input);
      const enc = encodeLayers(plan, input);
      const [out] = await gpu.readBack(enc, [{ buffer: plan.ping[steps.length % 2]!, offset: 0, size: plan.outLen * 4 }]);
      const data = new Float32Array(out!);
      return { shape: plan.outShape.slice(), data };
    },
    dispose() {
      for (const b of owned) b.destroy();
    },
  };
}
