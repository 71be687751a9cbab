#!/usr/bin/env node
// Runs every compiled test file with node:test and ends with the line "N passed, N failed".
// node --test does not expand globs on Node 20, so the file list is built here.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir, availableParallelism } from "node:os";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const dir = join(root, "dist", "test");
const filter = process.argv.slice(2);
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.js"))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort()
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error("no test files found under dist/test (did the build run?)");
  console.log("0 passed, 0 failed");
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), "irg-test-"));
const tap = join(tmp, "report.tap");
const res = spawnSync(
  process.execPath,
  [
    "--test",
    `--test-concurrency=${Math.max(2, availableParallelism())}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: "inherit", env: { ...process.env, IRG_TEST: "1" } },
);
const text = readFileSync(tap, "utf8");
rmSync(tmp, { recursive: true, force: true });
const count = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)`, "m")) ?? [0, 0])[1]);
const passed = count("pass");
const failed = count("fail") + count("cancelled");
console.log(`${passed} passed, ${failed} failed`);
process.exit(res.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
