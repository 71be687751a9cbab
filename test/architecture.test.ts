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

const ORDER: Record<string, number> = { lattice: 0, "version.ts": 0, nn: 0.5, mc: 2, cluster: 2.5, rg: 3, irg: 4, analysis: 5, io: 7, jobs: 8, report: 9, cli: 10 };

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

/** Files that still compare model names: the pipeline command, which also dispatches to the spin-glass and compatible-MC studies. */
const NOT_YET = new Set([
  "cli/pipeline.ts",
]);

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
