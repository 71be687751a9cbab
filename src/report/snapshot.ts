// Lattice snapshots as PNG (pngjs): a 2D configuration (or the z = 0 slice of a 3D one) mapped to
// colours, spins black/white and fields on a diverging blue–white–red scale, upscaled by whole pixels.

import { PNG } from "pngjs";

/** RGB of a value in [−1, 1] on a blue–white–red scale. */
function diverging(t: number): [number, number, number] {
  const u = Math.max(-1, Math.min(1, t));
  if (u < 0) return [Math.round(255 * (1 + u)), Math.round(255 * (1 + u)), 255];
  return [255, Math.round(255 * (1 - u)), Math.round(255 * (1 - u))];
}

/**
 * Encodes an L×L configuration (row-major, x fastest) as a PNG of about `size` pixels square.
 * Spins (int8 ±1) are black/white; fields use ±`range` (default: 3 standard deviations) for the colour scale.
 */
export function snapshotPng(cfg: ArrayLike<number>, L: number, opts: { size?: number; range?: number } = {}): Uint8Array {
  const scale = Math.max(1, Math.round((opts.size ?? 256) / L));
  const W = L * scale;
  const png = new PNG({ width: W, height: W });
  const spins = cfg instanceof Int8Array;
  let range = opts.range ?? 0;
  if (!spins && !range) {
    let s2 = 0;
    for (let i = 0; i < L * L; i++) s2 += cfg[i]! * cfg[i]!;
    range = 3 * Math.sqrt(s2 / (L * L)) || 1;
  }
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      const v = cfg[Math.floor(y / scale) * L + Math.floor(x / scale)]!;
      const [r, g, b] = spins ? (v > 0 ? [255, 255, 255] : [0, 0, 0]) : diverging(v / range);
      const k = (y * W + x) * 4;
      png.data[k] = r;
      png.data[k + 1] = g;
      png.data[k + 2] = b;
      png.data[k + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}
