// The output heads' draws in WGSL, one thread per site: Bernoulli spins, categorical states, and a mixture
// of Gaussians (Bishop, "Mixture density networks", 1994), each with its exact ln q, summed per workgroup.
//
// Why on the GPU: at 512² drawing a mixture field on one CPU core costs more than the network on a GPU,
// and reading back the draws (one value per site) moves a third of the head's 3K channels. The numbers
// are Philox (key from the configuration's stream, counter = site and batch entry), so the draws differ
// from the CPU head's xoshiro draws; the returned ln q is that of the values drawn (test: gpu.test.ts).

import { PHILOX_WGSL } from "../lattice/philox.js";
import { type HeadSpec, LOG_SCALE_MAX } from "../nn/heads.js";

export const HEAD_WG = 256;

/** Codes of the head kinds in the kernel's uniform. */
export function headCode(h: HeadSpec): { kind: number; n: number } {
  if (h.type === "bernoulli") return { kind: 0, n: 1 };
  if (h.type === "categorical") return { kind: 1, n: h.classes };
  return { kind: 2, n: h.components };
}

/** Most components or classes the kernel holds per site. */
export const HEAD_MAX = 16;

export const HEAD_SHADER = /* wgsl */ `
${PHILOX_WGSL}
struct H { kind: u32, n: u32, S: u32, N: u32, k0: u32, k1: u32, nx: u32, per: u32 }
@group(0) @binding(0) var<storage, read> o: array<f32>;
@group(0) @binding(1) var<storage, read_write> draw: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<uniform> h: H;
var<workgroup> acc: array<f32, ${HEAD_WG}>;

// Uniform in [0, 1) from the top 24 bits (exact in f32).
fn unit(r: u32) -> f32 { return f32(r >> 8u) * (1.0 / 16777216.0); }

fn logScale(rho: f32) -> f32 {
  let knee = 6.0; let sat = ${LOG_SCALE_MAX} - 6.0;
  if (rho > knee) { return knee - sat * (exp(-(rho - knee) / sat) - 1.0); }
  if (rho < -knee) { return -knee + sat * (exp((rho + knee) / sat) - 1.0); }
  return rho;
}

@compute @workgroup_size(${HEAD_WG})
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  // x, y: the sites of one configuration (nx workgroups per row), z: the batch entry, so that a
  // workgroup's sum belongs to one entry.
  let wg = wid.y * h.nx + wid.x;
  let i = wg * ${HEAD_WG}u + li; let b = wid.z; let e = b * h.S + i;
  var lq = 0.0;
  if (i < h.S) {
    let r = philox4x32(vec4<u32>(i, b, 0u, 0u), vec2<u32>(h.k0, h.k1));
    var C = 1u;
    if (h.kind == 1u) { C = h.n; } else if (h.kind == 2u) { C = 3u * h.n; }
    let base = b * C * h.S + i;
    if (h.kind == 0u) {
      let l = o[base];
      let ex = exp(-abs(l));
      let p = select(ex / (1.0 + ex), 1.0 / (1.0 + ex), l >= 0.0);
      let s = select(-1.0, 1.0, unit(r.x) < p);
      draw[e] = s;
      lq = -(max(-s * l, 0.0) + log(1.0 + ex));
    } else if (h.kind == 1u) {
      var m = o[base];
      for (var c = 1u; c < h.n; c++) { m = max(m, o[base + c * h.S]); }
      var z = 0.0;
      for (var c = 0u; c < h.n; c++) { z += exp(o[base + c * h.S] - m); }
      var u = unit(r.x) * z;
      var c = 0u;
      loop {
        if (c + 1u >= h.n) { break; }
        let pc = exp(o[base + c * h.S] - m);
        if (u < pc) { break; }
        u -= pc;
        c++;
      }
      draw[e] = f32(c);
      lq = o[base + c * h.S] - m - log(z);
    } else {
      let K = h.n; let R = base + K * h.S; let A = base + 2u * K * h.S;
      var amax = o[A];
      for (var k = 1u; k < K; k++) { amax = max(amax, o[A + k * h.S]); }
      var den = 0.0;
      for (var k = 0u; k < K; k++) { den += exp(o[A + k * h.S] - amax); }
      var u = unit(r.x) * den;
      var kk = 0u;
      loop {
        if (kk + 1u >= K) { break; }
        let wk = exp(o[A + kk * h.S] - amax);
        if (u < wk) { break; }
        u -= wk;
        kk++;
      }
      // Box–Muller from two more numbers of the same draw (1 − u in (0, 1] keeps the log finite).
      let g = sqrt(-2.0 * log(1.0 - unit(r.y))) * cos(6.283185307179586 * unit(r.z));
      let y = o[base + kk * h.S] + exp(logScale(o[R + kk * h.S])) * g;
      draw[e] = y;
      // ln q(y) = ln Σ_k e^{a_k − ln σ_k − d_k²/2} − ln Σ_k e^{a_k} − ½ ln 2π.
      var bmax = -3.0e38;
      for (var k = 0u; k < K; k++) {
        let ls = logScale(o[R + k * h.S]);
        let d = (y - o[base + k * h.S]) * exp(-ls);
        bmax = max(bmax, o[A + k * h.S] - ls - 0.5 * d * d);
      }
      var num = 0.0;
      for (var k = 0u; k < K; k++) {
        let ls = logScale(o[R + k * h.S]);
        let d = (y - o[base + k * h.S]) * exp(-ls);
        num += exp(o[A + k * h.S] - ls - 0.5 * d * d - bmax);
      }
      lq = bmax - amax + log(num / den) - 0.9189385332046727;
    }
  }
  acc[li] = lq;
  workgroupBarrier();
  for (var s = ${HEAD_WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { acc[li] += acc[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partial[b * h.per + wg] = acc[0]; }
}
`;
