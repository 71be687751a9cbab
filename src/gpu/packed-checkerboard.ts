// The packed checkerboard Ising kernel in WGSL: one thread per word of eight 4-bit spins (Romero,
// Bisson, Fatica & Bernaschi, Comput. Phys. Commun. 256, 107473 (2020)); equal bit for bit to mc/packed-checkerboard.ts.
//
// Why dynamic uniform offsets: a batch of sweeps is one submission of many dispatches, each reading its
// own (colour, half-sweep) from a slot of one uniform buffer, so the CPU does not wait between sweeps.

import { PHILOX_WGSL } from "../lattice/philox.js";
import { type PackedKernel, type PackedKernelFactory, type PackedSpec, type PackedSums } from "../mc/packed-checkerboard.js";
import { encodePass, type Gpu, grid } from "./device.js";

const WG = 256;
/** Workgroups of the reduction (each thread strides over the words). */
const SUM_GROUPS = 512;
/** Bytes per uniform slot (WebGPU's minimum dynamic-offset alignment). */
const SLOT = 256;
/** Half-sweeps per submission. */
const BATCH = 128;

const SHADER = /* wgsl */ `
${PHILOX_WGSL}
struct Params { R: u32, rows: u32, L: u32, dim: u32, c: u32, tLo: u32, tHi: u32, k0: u32, k1: u32, half: u32, nx: u32, n: u32, valid: u32 }
@group(0) @binding(0) var<storage, read_write> own: array<u32>;
@group(0) @binding(1) var<storage, read> other: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<storage, read_write> partial: array<i32>;

// Up-neighbour counts, nibble by nibble, of word g of the colour c whose other colour is 'other'.
fn counts(g: u32, c: u32) -> u32 {
  let r = g / P.R; let k = g - r * P.R;
  let y = r % P.L; let zc = r / P.L; let base = r - y;
  let same = other[g];
  var side: u32;
  let end = 4u * (P.n - 1u);
  if (((y + zc + c) & 1u) == 0u) {
    side = (same << 4u) | (other[r * P.R + select(k - 1u, P.R - 1u, k == 0u)] >> end);
  } else {
    side = (same >> 4u) | (other[r * P.R + select(k + 1u, 0u, k == P.R - 1u)] << end);
  }
  side &= P.valid;
  let yp = base + select(y + 1u, 0u, y == P.L - 1u);
  let ym = base + select(y - 1u, P.L - 1u, y == 0u);
  var sum = same + side + other[yp * P.R + k] + other[ym * P.R + k];
  if (P.dim == 3u) {
    let zp = select(zc + 1u, 0u, zc == P.L - 1u);
    let zm = select(zc - 1u, P.L - 1u, zc == 0u);
    sum += other[(zp * P.L + y) * P.R + k] + other[(zm * P.L + y) * P.R + k];
  }
  return sum;
}

@compute @workgroup_size(${WG})
fn update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x + gid.y * P.nx * ${WG}u;
  if (g >= P.half) { return; }
  let sum = counts(g, P.c);
  let w = own[g];
  let z1 = 2u * P.dim + 1u;
  var flips = 0u;
  var rnd = vec4<u32>(0u);
  var drawn = 0u;
  for (var i = 0u; i < P.n; i++) {
    let T = table[((w >> (4u * i)) & 1u) * z1 + ((sum >> (4u * i)) & 15u)];
    if (T == 0xffffffffu) { flips |= 1u << (4u * i); continue; }
    let q = i >> 2u;
    if (drawn != q + 1u) {
      rnd = philox4x32(vec4<u32>(g, P.tLo, P.tHi, q), vec2<u32>(P.k0, P.k1));
      drawn = q + 1u;
    }
    if (rnd[i & 3u] < T) { flips |= 1u << (4u * i); }
  }
  own[g] = w ^ flips;
}

var<workgroup> upW: array<i32, ${WG}>;
var<workgroup> bondW: array<i32, ${WG}>;

// Per workgroup: up spins of both colours' words, and the bond sum of colour 0's words (own = colour 0),
// each thread striding over the words so that a few hundred partial sums come back.
@compute @workgroup_size(${WG})
fn sums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var up = 0i; var bond = 0i;
  let z = i32(2u * P.dim);
  for (var g = gid.x; g < P.half; g += nwg.x * ${WG}u) {
    let sum = counts(g, 0u);
    let w = own[g];
    up += i32(countOneBits(w & 0x11111111u) + countOneBits(other[g] & 0x11111111u));
    for (var i = 0u; i < P.n; i++) {
      bond += (2i * i32((w >> (4u * i)) & 1u) - 1i) * (2i * i32((sum >> (4u * i)) & 15u) - z);
    }
  }
  upW[li] = up; bondW[li] = bond;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { upW[li] += upW[li + s]; bondW[li] += bondW[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    partial[2u * wid.x] = upW[0]; partial[2u * wid.x + 1u] = bondW[0];
  }
}
`;

/** The packed kernel on a GPU (words of colour 0 and 1 in two storage buffers). */
export function gpuPackedKernel(gpu: Gpu): PackedKernelFactory {
  return (spec: PackedSpec): PackedKernel => makeKernel(gpu, spec);
}

function makeKernel(gpu: Gpu, spec: PackedSpec): PackedKernel {
  const { device, flags } = gpu;
  const U = flags.BufferUsage, S = flags.ShaderStage;
  const { lay, key, table } = spec;
  const groups = Math.ceil(lay.half / WG);
  const [nx, ny] = grid(device, groups);
  const sumGroups = Math.min(SUM_GROUPS, groups);
  const bytes = lay.half * 4;
  const limit = device.limits.maxStorageBufferBindingSize;
  if (bytes > limit) throw new RangeError(`L = ${lay.L} in ${lay.dim}D needs ${bytes} bytes per colour, more than this GPU binds (${limit})`);
  const words = [0, 1].map(() => device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST | U.COPY_SRC }));
  const tableBuf = device.createBuffer({ size: Math.ceil(table.byteLength / 16) * 16, usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(tableBuf, 0, table);
  const partialBytes = sumGroups * 8;
  const partial = device.createBuffer({ size: partialBytes, usage: U.STORAGE | U.COPY_SRC });
  const params = device.createBuffer({ size: BATCH * SLOT, usage: U.UNIFORM | U.COPY_DST });
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: S.COMPUTE, buffer: { type: "storage" } },
      { binding: 1, visibility: S.COMPUTE, buffer: { type: "read-only-storage" } },
      { binding: 2, visibility: S.COMPUTE, buffer: { type: "read-only-storage" } },
      { binding: 3, visibility: S.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: 64 } },
      { binding: 4, visibility: S.COMPUTE, buffer: { type: "storage" } },
    ],
  });
  const module = device.createShaderModule({ code: SHADER });
  const pipeLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const update = device.createComputePipeline({ layout: pipeLayout, compute: { module, entryPoint: "update" } });
  const sumsPipe = device.createComputePipeline({ layout: pipeLayout, compute: { module, entryPoint: "sums" } });
  const bind = [0, 1].map((c) =>
    device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: words[c]! } },
        { binding: 1, resource: { buffer: words[1 - c]! } },
        { binding: 2, resource: { buffer: tableBuf } },
        { binding: 3, resource: { buffer: params, size: 64 } },
        { binding: 4, resource: { buffer: partial } },
      ],
    }),
  );
  const slots = new Uint32Array((BATCH * SLOT) / 4);
  const slot = (n: number, c: number, t: number): void => {
    slots.set([lay.R, lay.rows, lay.L, lay.dim, c, t >>> 0, Math.floor(t / 4294967296) >>> 0, key[0], key[1], lay.half, nx, lay.n, lay.valid >>> 0], (n * SLOT) / 4);
  };
  // At most two submissions in flight: the CPU runs ahead by one batch, never by thousands of sweeps.
  const inflight: Promise<void>[] = [];
  return {
    device: gpu.info.description,
    write(w) {
      device.queue.writeBuffer(words[0]!, 0, w, 0, lay.half);
      device.queue.writeBuffer(words[1]!, 0, w, lay.half, lay.half);
    },
    sweeps(from, n) {
      for (let s0 = from; s0 < from + n; s0 += BATCH / 2) {
        const m = Math.min(BATCH / 2, from + n - s0);
        for (let h = 0; h < 2 * m; h++) slot(h, h & 1, 2 * s0 + h);
        device.queue.writeBuffer(params, 0, slots, 0, (2 * m * SLOT) / 4);
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(update);
        for (let h = 0; h < 2 * m; h++) {
          pass.setBindGroup(0, bind[h & 1]!, [h * SLOT]);
          pass.dispatchWorkgroups(nx, ny);
        }
        pass.end();
        device.queue.submit([enc.finish()]);
        inflight.push(device.queue.onSubmittedWorkDone());
      }
      if (inflight.length <= 2) return undefined;
      const older = inflight.splice(0, inflight.length - 2);
      return Promise.all(older).then(() => gpu.check());
    },
    async read() {
      const [a, b] = await gpu.readBack(device.createCommandEncoder(), words.map((buffer) => ({ buffer, offset: 0, size: bytes })));
      const w = new Uint32Array(lay.words);
      w.set(new Uint32Array(a!), 0);
      w.set(new Uint32Array(b!), lay.half);
      return w;
    },
    async sums(): Promise<PackedSums> {
      slot(0, 0, 0);
      device.queue.writeBuffer(params, 0, slots, 0, SLOT / 4);
      const enc = device.createCommandEncoder();
      encodePass(enc, sumsPipe, bind[0]!, [sumGroups], [0]);
      const got = new Int32Array((await gpu.readBack(enc, [{ buffer: partial, offset: 0, size: partialBytes }]))[0]!);
      let up = 0, bonds = 0;
      for (let i = 0; i < got.length; i += 2) {
        up += got[i]!;
        bonds += got[i + 1]!;
      }
      return { up, bonds };
    },
    finish: () => device.queue.onSubmittedWorkDone().then(() => gpu.check()),
    dispose() {
      for (const b of [...words, tableBuf, partial, params]) b.destroy();
    },
  };
}
