// The architecture as a test: every source file imports only its own layer or earlier ones
// (docs/architecture.md), and comparing a model's name is confined to the files that do not yet go
// through the model interface (a list that may only shrink).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const src = join(root, "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const ORDER: Record<string, number> = { lattice: 0, "version.ts": 0, nn: 0.5, mc: 2, cluster: 2.5, gpu: 2.5, rg: 3, irg: 4, analysis: 5, io: 7, jobs: 8, report: 9, cli: 10 };

/** The layer of a source file (models: physics low, descriptors and registry above analysis). */
export function layerOf(path: string): number {
  const parts = relative(src, path).split(/[\\/]/);
  if (parts[0] !== "models") {
    const l = ORDER[parts[0]!];
    if (l === undefined) throw new Error(`${path}: no layer for folder ${parts[0]}; add it to docs/architecture.md and this test`);
    return l;
  }
  if (parts.length === 3) return parts[2] === "model.ts" ? 6 : 2;
  const name = parts[1]!;
  return name === "model.ts" || name === "registry.ts" || name.endsWith("-model.ts") ? 6 : 1;
}

function imports(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/(?:import|export)[^;]*?from "(\.[^"]+)"/g), ...text.matchAll(/import\("(\.[^"]+)"\)/g)].map((m) => normalize(join(dirname(path), m[1]!.replace(/\.js$/, ".ts"))));
}

test("layers: no source file imports a later layer", () => {
  const all = files(src);
  assert.ok(all.length > 100);
  const bad: string[] = [];
  for (const f of all) for (const t of imports(f)) if (layerOf(t) > layerOf(f)) bad.push(`${relative(src, f)} -> ${relative(src, t)}`);
  assert.deepEqual(bad, []);
});

test("layers: the check itself rejects an upward import (the models tier above analysis, physics below mc)", () => {
  assert.ok(layerOf(join(src, "models/ising.ts")) < layerOf(join(src, "mc/ising-samplers.ts")));
  assert.ok(layerOf(join(src, "models/potts/model.ts")) > layerOf(join(src, "analysis/stats.ts")));
  assert.ok(layerOf(join(src, "models/registry.ts")) < layerOf(join(src, "io/ensemble.ts")));
});

/** Files that still compare model names (may only shrink; empty since irg pipeline picks its study through the descriptor). */
const NOT_YET = new Set<string>([]);

test("model names are compared only in the model tier and in the files not yet moved to the interface", () => {
  const names = ["ising", "phi4", "ea", "potts"];
  const pattern = new RegExp(`[!=]==? "(${names.join("|")})"|"(${names.join("|")})" [!=]==?|case "(${names.join("|")})"`);
  const offenders = files(src)
    .filter((f) => layerOf(f) > 6 || (layerOf(f) < 6 && !relative(src, f).startsWith("models")))
    .filter((f) => pattern.test(readFileSync(f, "utf8")))
    .map((f) => relative(src, f).replace(/\\/g, "/"));
  const fresh = offenders.filter((f) => !NOT_YET.has(f));
  assert.deepEqual(fresh, [], "a new switch on a model name: use the model's descriptor (src/models/registry.ts)");
  // The list may only shrink: an entry that no longer switches must be removed from it.
  assert.deepEqual([...NOT_YET].filter((f) => !offenders.includes(f)), []);
});

/** The value (non-type) imports of a source text: every module it loads at run time, as written. */
export function valueImports(text: string): string[] {
  const typeOnly = (clause: string): boolean => {
    const c = clause.trim();
    return c.startsWith("type ") || (/^\{[^}]*\}$/.test(c) && c.slice(1, -1).split(",").map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith("type ")));
  };
  const statics = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s+([^;]*?)\s+from\s+"([^"]+)"/g)].filter((m) => !typeOnly(m[1]!)).map((m) => m[2]!);
  return [...statics, ...[...text.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]!)];
}

/** A cli file's value imports that reach past the jobs: "cli/<file> -> <target>" (targets relative to src, or the package). */
export function cliViolations(file: string, text: string): string[] {
  const from = join(src, file);
  return valueImports(text).flatMap((t) => {
    if (!t.startsWith(".")) return t === "node:fs" || t.startsWith("node:fs/") ? [`${file} -> ${t}`] : [];
    const target = relative(src, normalize(join(dirname(from), t.replace(/\.js$/, ".ts")))).replace(/\\/g, "/");
    const ok = /^(cli|jobs|report)\//.test(target) || target === "models/params.ts" || target === "version.ts";
    return ok ? [] : [`${file} -> ${target}`];
  });
}

/**
 * What src/cli still imports past the jobs (a list that may only shrink). The command line parses
 * arguments, calls a job and prints its result: files, HDF5 and analysis belong to the jobs.
 */
const CLI_NOT_YET: Record<string, string> = {};

test("src/cli imports only src/jobs, src/cli, src/report, models/params.ts (UsageError), version.ts and packages (not node:fs)", () => {
  const all = files(join(src, "cli")).map((f) => relative(src, f).replace(/\\/g, "/"));
  const found = all.flatMap((f) => cliViolations(f, readFileSync(join(src, f), "utf8")));
  assert.deepEqual(found.filter((v) => !(v in CLI_NOT_YET)), [], "move the work into a job (src/jobs) and call that");
  assert.deepEqual(Object.keys(CLI_NOT_YET).filter((v) => !found.includes(v)), [], "an allowed import is gone: remove it from CLI_NOT_YET");
});

test("the cli check itself: value imports past the jobs are found, type imports and the allowed layers are not", () => {
  const text = [
    'import { type Estimate } from "../analysis/stats.js";',
    'import type { Chains } from "../mc/chains.js";',
    'import { h5Ready } from "../io/h5.js";',
    'import { type Dim, lattice } from "../lattice/geometry.js";',
    'import { mkdirSync } from "node:fs";',
    'import { join } from "node:path";',
    'import { runMcrg } from "../jobs/mcrg.js";',
    'import { fmt } from "../report/mcrg-report.js";',
    'import { UsageError } from "../models/params.js";',
    'const m = await import("../models/registry.js");',
  ].join("\n");
  assert.deepEqual(cliViolations("cli/x.ts", text), ["cli/x.ts -> io/h5.ts", "cli/x.ts -> lattice/geometry.ts", "cli/x.ts -> node:fs", "cli/x.ts -> models/registry.ts"]);
});

test("reports are pure functions from a result to HTML: src/report reads and writes no files (no io, no jobs at run time, no node:fs)", () => {
  const bad = files(join(src, "report")).flatMap((f) => {
    const file = relative(src, f).replace(/\\/g, "/");
    return valueImports(readFileSync(f, "utf8"))
      .filter((t) => t === "node:fs" || t.startsWith("node:fs/") || /^\.\.\/(io|jobs)\//.test(t))
      .map((t) => `${file} -> ${t}`);
  });
  assert.deepEqual(bad, []);
});

/** Strongly connected components of more than one file in the import graph. */
function cycles(): string[][] {
  const all = files(src);
  const edges = new Map(all.map((f) => [f, imports(f).filter((t) => all.includes(t))]));
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>(), out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        on.delete(w);
        c.push(relative(src, w).replace(/\\/g, "/"));
        if (w === v) break;
      }
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const f of all) if (!idx.has(f)) visit(f);
  return out.map((c) => c).sort();
}

test("import cycles: none", () => {
  assert.deepEqual(cycles().map((c) => c.join(" <-> ")), []);
});

test("only src/io touches files: no other source file imports node:fs (except lattice/wasm.ts loading the compiled kernels)", () => {
  const ALLOWED: Record<string, string> = {
    "lattice/wasm.ts": "loads the compiled kernels shipped beside it (dist/asm), not data",
  };
  const found = files(src).filter((p) => !relative(src, p).startsWith("io")).filter((p) => /from "node:fs(\/promises)?"/.test(readFileSync(p, "utf8"))).map((p) => relative(src, p).split("\\").join("/"));
  assert.deepEqual(found.filter((f) => !(f in ALLOWED)), [], "read and write files through src/io (io/files.ts, io/ensemble.ts, io/h5.ts)");
  assert.deepEqual(Object.keys(ALLOWED).filter((f) => !found.includes(f)), [], "an allowed import is gone: remove it from the list");
});
