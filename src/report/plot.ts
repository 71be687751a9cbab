// Charts as SVG strings: Vega-Lite specifications compiled and rendered headless by Vega (no browser,
// no canvas). Satyanarayan et al., "Vega-Lite: A Grammar of Interactive Graphics", IEEE TVCG 23 (2017).

import { type TopLevelSpec } from "vega-lite";

/**
 * Renders a Vega-Lite specification to an SVG string. Vega is loaded on first use: it takes about half
 * a second, which every `irg` command would otherwise pay at start, plotting or not.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Point {
  x: number;
  y: number;
  /** Half-width of the error band or bar (optional). */
  err?: number;
  series: string;
}

export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Curves (drawn as lines with error bands). */
  lines?: Point[];
  /** Data points (drawn as points with error bars). */
  points?: Point[];
  /** Vertical reference lines (e.g. a critical coupling). */
  rules?: { x: number; label: string }[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

/** Lines with error bands, points with error bars and vertical rules, one colour per series. */
export function linePlotSpec(p: LinePlot): TopLevelSpec {
  const xs = { field: "x", type: "quantitative" as const, title: p.xLabel, scale: p.logX ? { type: "log" as const } : { zero: false } };
  const ys = { field: "y", type: "quantitative" as const, title: p.yLabel, scale: p.logY ? { type: "log" as const } : { zero: false } };
  const color = { field: "series", type: "nominal" as const, title: null };
  const band = (d: Point[]) => d.map((q) => ({ ...q, lo: q.y - (q.err ?? 0), hi: q.y + (q.err ?? 0) }));
  const layers: unknown[] = [];
  if (p.lines?.length) {
    const values = band(p.lines);
    layers.push({ data: { values }, mark: { type: "area", opacity: 0.25 }, encoding: { x: xs, y: { field: "lo", type: "quantitative", scale: ys.scale, title: p.yLabel }, y2: { field: "hi" }, color } });
    layers.push({ data: { values }, mark: { type: "line" }, encoding: { x: xs, y: ys, color } });
  }
  if (p.points?.length) {
    const values = band(p.points);
    layers.push({ data: { values }, mark: { type: "errorbar" }, encoding: { x: xs, y: { field: "lo", type: "quantitative", scale: ys.scale, title: p.yLabel }, y2: { field: "hi" }, color } });
    layers.push({ data: { values }, mark: { type: "point", filled: true }, encoding: { x: xs, y: ys, color } });
  }
  if (p.rules?.length) {
    layers.push({ data: { values: p.rules }, mark: { type: "rule", strokeDash: [4, 4], color: "gray" }, encoding: { x: { field: "x", type: "quantitative" } } });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: p.title,
    width: p.width ?? 420,
    height: p.height ?? 280,
    layer: layers,
  } as TopLevelSpec;
}
