// The EA ±J multi-spin checkerboard sweep in WGSL: one thread per (group, slot, block), 32 disorder
// samples in its bits (Bhanot, Duke & Salvador, J. Stat. Phys. 44, 985 (1986)); mc/ea-multispin.ts's msSweepSlot, bit for bit.
//
// Why the CPU engine's layout and streams unchanged: a thread walks its block's sites in the CPU order
// with the block's own xoshiro128** stream, so a GPU run equals a CPU run of the same seed exactly, and a
// checkpoint written by either resumes on the other. Parallel tempering stays on the host: after each
// sweep the unsatisfied-bond counters come back (a few words per sample), the host decides the exchanges,
// and the masks go up for the swap kernel. Blocks of a group sit side by side (W = 32 of them), so the 32
// threads of a warp read 32 consecutive words.

import { type Lattice } from "../lattice/geometry.js";
import { type MsKernel, msLayout, msSlabCounts, slotEnergies } from "../mc/ea-multispin.js";
import { encodePass, type Gpu, grid } from "./device.js";

// Small workgroups: a few thousand threads (blocks × slots) then spread over every multiprocessor.
const WG = 32;
/** Blocks per group on the GPU (one warp of consecutive words). */
export const GPU_BLOCKS = 32;

const SHADER = /* wgsl */ `
struct Params { V: u32, z: u32, W: u32, B: u32, T: u32, slots: u32, groupWords: u32, couplings: u32,
  spins: u32, rng: u32, thresholds: u32, counters: u32, masks: u32, half: u32, threads: u32, swapThreads: u32, nx: u32 }
@group(0) @binding(0) var<storage, read_write> buf: array<i32>;
@group(0) @binding(1) var<storage, read> nb: array<i32>;
@group(0) @binding(2) var<storage, read> sites: array<i32>;
@group(0) @binding(3) var<uniform> P: Params;

// Adds the 6-bit per-sample counts into the B-plane counter at 'at' (stride W): a ripple-carry add.
fn flushCounter(at: u32, l0: i32, l1: i32, l2: i32, l3: i32, l4: i32, l5: i32) {
  var c = 0i;
  for (var b = 0u; b < P.B; b++) {
    var x = 0i;
    switch b {
      case 0u: { x = l0; }
      case 1u: { x = l1; }
      case 2u: { x = l2; }
      case 3u: { x = l3; }
      case 4u: { x = l4; }
      case 5u: { x = l5; }
      default: {}
    }
    let h = buf[at + b * P.W];
    let hx = h ^ x;
    buf[at + b * P.W] = hx ^ c;
    c = (h & x) | (hx & c);
    if (c == 0i && b >= 5u) { break; }
  }
}

@compute @workgroup_size(${WG})
fn sweep(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * P.nx * ${WG}u;
  if (t >= P.threads) { return; }
  let W = P.W;
  let w = t % W; let gs = t / W; let slot = gs % P.slots; let g = gs / P.slots;
  let base = g * P.groupWords;
  let sp = base + P.spins + slot * P.V * W;
  let jc = base + P.couplings;
  let rs = base + P.rng + slot * 4u * W;
  let th = base + P.thresholds + 4u * (slot % P.T);
  let t0 = buf[th]; let t1 = buf[th + 1u]; let t2 = buf[th + 2u];
  let cnt = base + P.counters + slot * P.B * W;
  let three = P.z == 6u;
  var s0 = u32(buf[rs + w]); var s1 = u32(buf[rs + W + w]); var s2 = u32(buf[rs + 2u * W + w]); var s3 = u32(buf[rs + 3u * W + w]);
  for (var b = 0u; b < P.B; b++) { buf[cnt + b * W + w] = 0i; }
  var l0 = 0i; var l1 = 0i; var l2 = 0i; var l3 = 0i; var l4 = 0i; var l5 = 0i; var n = 0u;
  for (var q = 0u; q < P.V; q++) {
    let i = u32(sites[q]);
    let o = i * P.z;
    let jo = jc + o * W + w;
    let S = buf[sp + i * W + w];
    let a0 = S ^ buf[sp + u32(nb[o]) * W + w] ^ buf[jo];
    let a1 = S ^ buf[sp + u32(nb[o + 1u]) * W + w] ^ buf[jo + W];
    let a2 = S ^ buf[sp + u32(nb[o + 2u]) * W + w] ^ buf[jo + 2u * W];
    let a3 = S ^ buf[sp + u32(nb[o + 3u]) * W + w] ^ buf[jo + 3u * W];
    var a4 = 0i; var a5 = 0i;
    if (three) {
      a4 = S ^ buf[sp + u32(nb[o + 4u]) * W + w] ^ buf[jo + 4u * W];
      a5 = S ^ buf[sp + u32(nb[o + 5u]) * W + w] ^ buf[jo + 5u * W];
    }
    let x1 = a0 ^ a1; let sA = x1 ^ a2; let cA = (a0 & a1) | (x1 & a2);
    let x2 = a3 ^ a4; let sB = x2 ^ a5; let cB = (a3 & a4) | (x2 & a5);
    let u0 = sA ^ sB; let k0 = sA & sB;
    let xc = cA ^ cB; let u1 = xc ^ k0; let u2 = (cA & cB) | (xc & k0);
    let m1 = u0 | u1 | u2; let m2 = u1 | u2; let m3 = u2 | (u1 & u0);
    let mm = s1 * 5u;
    let r = i32((((mm << 7u) | (mm >> 25u)) * 9u) >> 1u);
    let tt = s1 << 9u;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= tt; s3 = (s3 << 11u) | (s3 >> 21u);
    let flip = select(-1i, 0i, r > t0) | select(m1, 0i, r > t1) | select(m2, 0i, r > t2) | m3;
    buf[sp + i * W + w] = S ^ flip;
    if (q >= P.half) {
      let v1 = select(u1 ^ (flip & u0), u1 ^ (flip & ~u0), three);
      let v2 = u2 ^ (flip & (select(~m1, ~m3, three) ^ u2));
      var cc = l0 & u0;
      l0 ^= u0;
      var h = l1 ^ v1;
      var cn = (l1 & v1) | (h & cc);
      l1 = h ^ cc; cc = cn;
      h = l2 ^ v2;
      cn = (l2 & v2) | (h & cc);
      l2 = h ^ cc; cc = cn;
      cn = l3 & cc; l3 ^= cc; cc = cn;
      cn = l4 & cc; l4 ^= cc; cc = cn;
      l5 ^= cc;
      n++;
      if (n == 10u) {
        flushCounter(cnt + w, l0, l1, l2, l3, l4, l5);
        l0 = 0i; l1 = 0i; l2 = 0i; l3 = 0i; l4 = 0i; l5 = 0i; n = 0u;
      }
    }
  }
  if (n > 0u) { flushCounter(cnt + w, l0, l1, l2, l3, l4, l5); }
  buf[rs + w] = i32(s0); buf[rs + W + w] = i32(s1); buf[rs + 2u * W + w] = i32(s2); buf[rs + 3u * W + w] = i32(s3);
}

// Masked exchanges of slots (a·T + k, a·T + k + 1), k in turn, one thread per (group, replica, site, block).
@compute @workgroup_size(${WG})
fn swap(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * P.nx * ${WG}u;
  if (t >= P.swapThreads) { return; }
  let W = P.W;
  let w = t % W; let r1 = t / W; let i = r1 % P.V; let r2 = r1 / P.V; let a = r2 % 2u; let g = r2 / 2u;
  let base = g * P.groupWords; let n = P.V * W;
  for (var k = 0u; k + 1u < P.T; k++) {
    let m = buf[base + P.masks + (a * (P.T - 1u) + k) * W + w];
    if (m == 0i) { continue; }
    let p = base + P.spins + (a * P.T + k) * n + i * W + w;
    let x = (buf[p] ^ buf[p + n]) & m;
    buf[p] ^= x;
    buf[p + n] ^= x;
  }
}
`;

/** What the GPU kernel adds to MsKernel: sweeps and swaps of every group on the device, and moving the state. */
export interface GpuMsKernel extends MsKernel {
  /** Sweeps every slot of every group; resolves when the counters are back in `buf`. */
  sweepAll(): Promise<void>;
  /** Uploads the masks in `buf` and swaps every group. */
  swapAll(): void;
  /** Brings the device's state into `buf` (spins, streams, counters), or only the spins of `slots`. */
  pull(slots?: readonly number[]): Promise<void>;
  /** Sends `buf` to the device. */
  push(): void;
  dispose(): void;
}

/** A kernel factory for makeEaMultispinSampler that sweeps on the GPU. */
export function gpuMsKernel(gpu: Gpu): (lat: Lattice, T: number, groups: (W: number) => number) => GpuMsKernel {
  return (lat, T, groups) => {
    const W = Math.min(GPU_BLOCKS, groups(1));
    return makeKernel(gpu, lat, T, W, groups(W));
  };
}

function makeKernel(gpu: Gpu, lat: Lattice, T: number, W: number, groups: number): GpuMsKernel {
  const { device, flags } = gpu;
  const U = flags.BufferUsage;
  const lay = msLayout(lat, T, W);
  const buf = new Int32Array(lay.groupWords * groups);
  const limit = device.limits.maxStorageBufferBindingSize;
  if (buf.byteLength > limit) throw new RangeError(`the spin-glass state (${buf.byteLength} bytes) exceeds what this GPU binds (${limit}); run fewer samples per process`);
  const storage = (data: Int32Array, usage: number): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const dbuf = storage(buf, U.STORAGE | U.COPY_DST | U.COPY_SRC);
  const nbBuf = storage(lay.nb, U.STORAGE | U.COPY_DST);
  const sitesBuf = storage(Int32Array.from([...lay.colours[0], ...lay.colours[1]]), U.STORAGE | U.COPY_DST);
  const threads = groups * lay.slots * W, swapThreads = groups * 2 * lat.V * W;

  const [nxS, nyS] = grid(device, Math.ceil(threads / WG)), [nxW, nyW] = grid(device, Math.ceil(swapThreads / WG));
  const uniforms: GPUBuffer[] = [];
  const params = (nx: number): GPUBuffer => {
    const p = Uint32Array.from([lat.V, lay.z, W, lay.B, T, lay.slots, lay.groupWords, lay.couplings, lay.spins, lay.rng, lay.thresholds, lay.counters, lay.masks, lay.colours[0].length, threads, swapThreads, nx]);
    const b = device.createBuffer({ size: Math.ceil(p.byteLength / 16) * 16, usage: U.UNIFORM | U.COPY_DST });
    device.queue.writeBuffer(b, 0, p);
    uniforms.push(b);
    return b;
  };
  const module = device.createShaderModule({ code: SHADER });
  // One explicit layout for both entry points ("auto" would drop the bindings swap does not use).
  const C = flags.ShaderStage.COMPUTE;
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: C, buffer: { type: "storage" } },
      { binding: 1, visibility: C, buffer: { type: "read-only-storage" } },
      { binding: 2, visibility: C, buffer: { type: "read-only-storage" } },
      { binding: 3, visibility: C, buffer: { type: "uniform" } },
    ],
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipe = (entryPoint: string, nx: number): { pipeline: GPUComputePipeline; bind: GPUBindGroup } => {
    const pipeline = device.createComputePipeline({ layout: pipelineLayout, compute: { module, entryPoint } });
    const bind = device.createBindGroup({
      layout,
      entries: [dbuf, nbBuf, sitesBuf, params(nx)].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { pipeline, bind };
  };
  const sweepP = pipe("sweep", nxS), swapP = pipe("swap", nxW);
  const encode = (p: { pipeline: GPUComputePipeline; bind: GPUBindGroup }, nx: number, ny: number): GPUCommandEncoder => {
    const enc = device.createCommandEncoder();
    encodePass(enc, p.pipeline, p.bind, [nx, ny]);
    return enc;
  };
  /** Submits `enc` and reads the words [at, at + n) of every group and region back into buf. */
  const readRegions = async (enc: GPUCommandEncoder, regions: { at: number; n: number }[]): Promise<void> => {
    const parts = regions.flatMap((r) => Array.from({ length: groups }, (_, g) => ({ buffer: dbuf, offset: (g * lay.groupWords + r.at) * 4, size: r.n * 4, to: g * lay.groupWords + r.at })));
    const got = await gpu.readBack(enc, parts);
    parts.forEach((p, i) => buf.set(new Int32Array(got[i]!), p.to));
  };
  const energyView = new Int32Array(lay.slots * 32 * W);
  const maskWords = 2 * Math.max(1, T - 1) * W;
  return {
    name: "webgpu", lay, buf,
    sweep() {
      throw new Error("the GPU spin-glass kernel sweeps every group at once (sweepAll)");
    },
    swap() {
      throw new Error("the GPU spin-glass kernel swaps every group at once (swapAll)");
    },
    slabs: (g, a, b) => msSlabCounts(buf, lay, g, a, b),
    energies(g) {
      const lanes = 32 * W, one = new Float64Array(lanes);
      for (let slot = 0; slot < lay.slots; slot++) energyView.set(slotEnergies(buf, lay, g, slot, one), slot * lanes);
      return energyView;
    },
    async sweepAll() {
      await readRegions(encode(sweepP, nxS, nyS), [{ at: lay.counters, n: lay.slots * lay.B * W }]);
    },
    swapAll() {
      for (let g = 0; g < groups; g++) {
        const at = g * lay.groupWords + lay.masks;
        device.queue.writeBuffer(dbuf, at * 4, buf, at, maskWords);
      }
      device.queue.submit([encode(swapP, nxW, nyW).finish()]);
    },
    pull: (slots) => readRegions(device.createCommandEncoder(), slots ? slots.map((slot) => ({ at: lay.spins + slot * lat.V * W, n: lat.V * W })) : [{ at: 0, n: lay.groupWords }]),
    push() {
      device.queue.writeBuffer(dbuf, 0, buf);
    },
    dispose() {
      for (const b of [dbuf, nbBuf, sitesBuf, ...uniforms]) b.destroy();
    },
  };
}
