// The command line as a user runs it: simulate → measure --json, stop/resume bit-for-bit (also by
// Ctrl-C), the HDF5 layout seen by h5py, and one-line errors with exit code 2 for bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, renameSync, truncateSync, statSync, chmodSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { createFile, closeFile, writeAttrs } from "../src/io/h5.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-cli-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function contents(path: string): { configs: number[]; energy: number[]; magnetization: number[]; rng: number[] } {
  const r = openEnsemble(path);
  try {
    return {
      configs: Array.from(r.configs(0, r.configRows)),
      energy: Array.from(r.series("energy")),
      magnetization: Array.from(r.series("magnetization")),
      rng: [],
    };
  } finally {
    r.close();
  }
}

const base = ["simulate", "ising", "--dim", "2", "--L", "16", "--beta", "0.44", "--sweeps", "300", "--therm", "50", "--every", "2", "--save-every", "3", "--seed", "7"];

test("phi4: the command printed after a stop (irg simulate phi4 --resume --out f) continues it, bit for bit", async () => {
  await h5Ready();
  const args = ["simulate", "phi4", "--L", "8", "--mu2", "-0.9", "--sweeps", "200", "--therm", "20", "--seed", "3"];
  const full = join(dir, "phi4-full.h5"), part = join(dir, "phi4-part.h5");
  assert.equal(irg(...args, "--out", full).code, 0);
  const r1 = irg(...args, "--out", part, "--stop-after", "70");
  const command = /continue with: (irg simulate phi4 --resume --out \S+)/.exec(r1.stdout)![1]!;
  const r2 = irg(...command.split(" ").slice(1));
  assert.equal(r2.code, 0, r2.stderr);
  const read = (p: string): number[][] => {
    const e = openEnsemble(p);
    try {
      return [Array.from(e.configs(0, e.configRows)), Array.from(e.series("action")), Array.from(e.series("phi2"))];
    } finally {
      e.close();
    }
  };
  assert.deepEqual(read(part), read(full));
});

test("a run killed hard leaves only <out>.partial: --resume --out <out> continues from its checkpoint, bit for bit; an unreadable partial is refused in one line", async () => {
  await h5Ready();
  const args = ["simulate", "ising", "--L", "8", "--beta", "0.4", "--algorithm", "heatbath", "--sweeps", "300", "--therm", "20", "--seed", "5"];
  const full = join(dir, "kill-full.h5"), part = join(dir, "kill-part.h5");
  assert.equal(irg(...args, "--out", full).code, 0);
  // What SIGKILL after a periodic checkpoint leaves: the partial file with a checkpoint, no final file.
  assert.equal(irg(...args, "--out", part, "--stop-after", "90").code, 3);
  renameSync(part, `${part}.partial`);
  const r = irg("simulate", "ising", "--resume", "--out", part);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(part) && !existsSync(`${part}.partial`));
  assert.deepEqual(contents(part), contents(full));
  const early = join(dir, "kill-early.h5");
  writeFileSync(`${early}.partial`, Buffer.alloc(48));
  const bad = irg("simulate", "ising", "--resume", "--out", early);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /killed before its first checkpoint, so there is nothing to resume; start it again with --force/);
});

test("in a batch log (stderr not a terminal) progress comes as plain timestamped lines, every IRG_PROGRESS_SECONDS", () => {
  const r = spawnSync(process.execPath, [main, "simulate", "ising", "--L", "32", "--beta", "0.44", "--algorithm", "metropolis", "--sweeps", "30000", "--save-every", "0", "--out", join(dir, "log.h5")],
    { encoding: "utf8", env: { ...process.env, IRG_TEST: "", IRG_PROGRESS_SECONDS: "0.05" } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.ok(lines.length >= 2, r.stderr);
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z ising L=32: \d+\/30200 sweeps \([\d.]+%\), elapsed \dh\d\dm\d\ds, left about/);
  const quiet = spawnSync(process.execPath, [main, "simulate", "ising", "--L", "32", "--beta", "0.44", "--sweeps", "3000", "--save-every", "0", "--quiet", "--force", "--out", join(dir, "log.h5")],
    { encoding: "utf8", env: { ...process.env, IRG_TEST: "", IRG_PROGRESS_SECONDS: "0.01" } });
  assert.equal(quiet.stderr, "");
});

test("outputs never replace what they should not: a report path holding an ensemble, an --out that is a directory (refused before the run)", async () => {
  await h5Ready();
  const ens = join(dir, "keep.h5");
  assert.equal(irg("simulate", "ising", "--L", "8", "--beta", "0.4", "--sweeps", "50", "--out", ens).code, 0);
  const before = readFileSync(ens);
  const r = irg("validate", ens, "--against", ens, "--report", ens);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exists and is not an HTML report; it would be overwritten: choose another path/);
  assert.deepEqual(readFileSync(ens), before);
  // 10^8 sweeps: were the directory found only at the final rename, this would not return in the test's time.
  const d = irg("simulate", "ising", "--L", "8", "--beta", "0.4", "--sweeps", "100000000", "--force", "--out", dir);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /is a directory; give --out a file name/);
});

test("validate exits 0 when generated and direct agree and 1 when they disagree, so scripts can gate on it", async () => {
  await h5Ready();
  const sim = (name: string, ...extra: string[]): string => {
    const out = join(dir, name);
    assert.equal(irg("simulate", "ising", "--L", "16", "--beta", "0.44", "--out", out, ...extra).code, 0);
    return out;
  };
  const a = sim("va1.h5", "--algorithm", "wolff", "--sweeps", "2000", "--therm", "200", "--seed", "1");
  const b = sim("va2.h5", "--algorithm", "wolff", "--sweeps", "2000", "--therm", "200", "--seed", "2");
  // Not equilibrated: a cold start with no thermalisation, far too few local sweeps at the critical point.
  const c = sim("va3.h5", "--algorithm", "metropolis", "--start", "cold", "--sweeps", "400", "--therm", "0", "--seed", "3");
  const agree = irg("validate", b, "--against", a);
  assert.equal(agree.code, 0, agree.stdout);
  assert.match(agree.stdout, /verdict: agree/);
  const disagree = irg("validate", c, "--against", a);
  assert.equal(disagree.code, 1, disagree.stdout);
  assert.match(disagree.stdout, /verdict: disagree/);
});

test("one run per --out: a live run's lock refuses a second one (even with --force); a dead run's lock is taken over", async () => {
  await h5Ready();
  const out = join(dir, "locked.h5");
  const args = ["simulate", "ising", "--L", "8", "--beta", "0.4", "--sweeps", "50", "--force", "--out", out];
  writeFileSync(`${out}.lock`, `${process.pid} ${hostname()}\n`); // this test process: alive
  const r = irg(...args);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`is being written by another irg run \\(process ${process.pid}\\)`));
  assert.ok(!existsSync(out));
  writeFileSync(`${out}.lock`, `2147483646 ${hostname()}\n`); // no such process: a killed run's leftover
  assert.equal(irg(...args).code, 0);
  assert.ok(existsSync(out) && !existsSync(`${out}.lock`));
});

test("simulate writes an ensemble that measure reads (--json schema)", async () => {
  await h5Ready();
  const out = join(dir, "a.h5");
  const r = irg(...base, "--algorithm", "metropolis", "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*a\.h5: 150 measurements, 50 configurations/);
  const m = irg("measure", out, "--json");
  assert.equal(m.code, 0, m.stderr);
  const j = JSON.parse(m.stdout);
  assert.equal(j.model, "ising");
  assert.equal(j.dim, 2);
  assert.equal(j.L, 16);
  assert.equal(j.beta, 0.44);
  assert.equal(j.samples, 150);
  for (const k of ["e", "abs_m", "m2", "m4", "binder", "chi", "c"]) {
    const o = j.observables[k];
    assert.ok(Number.isFinite(o.value) && o.error > 0 && o.tau_int >= 0.5 - 1e-9, `${k}: ${JSON.stringify(o)}`);
  }
  const table = irg("measure", out);
  assert.match(table.stdout, /binder/);
});

for (const algorithm of ["wolff", "multispin"]) {
  test(`${algorithm}: --stop-after then --resume equals one uninterrupted run, bit for bit`, async () => {
    await h5Ready();
    const full = join(dir, `full-${algorithm}.h5`);
    const part = join(dir, `part-${algorithm}.h5`);
    assert.equal(irg(...base, "--algorithm", algorithm, "--out", full).code, 0);
    const r1 = irg(...base, "--algorithm", algorithm, "--out", part, "--stop-after", "120");
    assert.equal(r1.code, 3, r1.stderr); // stopped with a checkpoint: not 0, so scripts can tell
    assert.match(r1.stdout, /stopped after 120 of 350 sweeps/);
    assert.ok(existsSync(part) && !existsSync(`${part}.partial`));
    const r2 = irg("simulate", "ising", "--resume", "--out", part, "--stop-after", "100");
    assert.equal(r2.code, 3, r2.stderr);
    const r3 = irg("simulate", "ising", "--resume", "--out", part);
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(contents(part), contents(full));
    // A finished run cannot be resumed again, but it can be extended.
    const again = irg("simulate", "ising", "--resume", "--out", part);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already complete/);
  });
}

test("SIGTERM (a scheduler's time limit) stops at the next sweep with a checkpoint and exit code 143; the run then resumes to completion", async () => {
  await h5Ready();
  const args = ["simulate", "ising", "--L", "32", "--beta", "0.44", "--algorithm", "metropolis", "--sweeps", "3000000", "--save-every", "0", "--seed", "4"];
  const out = join(dir, "sigterm.h5");
  const child = spawn(process.execPath, [main, ...args, "--out", out], { env: { ...process.env, IRG_TEST: "1" } });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  for (let k = 0; k < 300 && !existsSync(`${out}.partial`); k++) await new Promise((res) => setTimeout(res, 50));
  await new Promise((res) => setTimeout(res, 500));
  child.kill("SIGTERM");
  const code = await new Promise((res) => child.on("exit", res));
  assert.equal(code, 143);
  assert.match(stdout, /stopped after \d+ of 3000200 sweeps.*continue with: irg simulate ising --resume/);
  assert.ok(existsSync(out) && !existsSync(`${out}.partial`));
  const r = irg("simulate", "ising", "--resume", "--out", out, "--max-time", "0.002");
  assert.equal(r.code, 3, r.stderr); // stopped again, now by --max-time
});

test("Ctrl-C stops at the next sweep with a checkpoint identical to a deterministic stop there", async () => {
  await h5Ready();
  const args = ["simulate", "ising", "--dim", "3", "--L", "16", "--beta", "0.22", "--algorithm", "heatbath", "--sweeps", "200000", "--therm", "10", "--save-every", "0", "--seed", "3"];
  const out = join(dir, "sigint.h5");
  const child = spawn(process.execPath, [main, ...args, "--out", out], { env: { ...process.env, IRG_TEST: "1" } });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  // Interrupt only once the run is under way (the handler is installed before the partial file
  // appears); a signal during start-up would meet Node's default handler on a loaded machine.
  for (let k = 0; k < 300 && !existsSync(`${out}.partial`); k++) await new Promise((res) => setTimeout(res, 50));
  await new Promise((res) => setTimeout(res, 500));
  child.kill("SIGINT");
  const code = await new Promise((res) => child.on("exit", res));
  assert.equal(code, 130);
  const m = /stopped after (\d+) of/.exec(stdout);
  assert.ok(m, stdout);
  const done = Number(m[1]);
  assert.ok(done > 10 && done < 200010);
  // The uninterrupted reference of the same length: stop it at exactly the same sweep.
  const ref = join(dir, "sigint-ref.h5");
  assert.equal(irg(...args, "--out", ref, "--stop-after", String(done)).code, 3);
  assert.deepEqual(contents(out), contents(ref));
});

test("the ensemble opens in h5py with the documented layout", (t) => {
  const py = "/usr/bin/python3";
  if (!existsSync(py) || spawnSync(py, ["-c", "import h5py"]).status !== 0) {
    t.skip("h5py not available");
    return;
  }
  const out = join(dir, "h5py.h5");
  assert.equal(irg(...base, "--algorithm", "sw", "--out", out).code, 0);
  const script = `
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
print(json.dumps({k: [list(f[k].shape), str(f[k].dtype)] for k in ["configs", "energy", "magnetization"]} |
  {"attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()},
   "rng": f["checkpoint"].attrs["rng_state"].tolist(), "rng_dtype": str(f["checkpoint"].attrs["rng_state"].dtype),
   "spins": sorted(set(f["configs"][:].ravel().tolist()))}))`;
  const r = spawnSync(py, ["-c", script, out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.configs, [[50, 16, 16], "int8"]);
  assert.deepEqual(j.energy, [[150], "float64"]);
  assert.equal(j.attrs.model, "ising");
  assert.equal(j.attrs.beta, 0.44);
  assert.equal(j.attrs.algorithm, "sw");
  assert.equal(j.attrs.seed, 7);
  assert.match(j.attrs.software, /^irg \d/);
  assert.equal(j.rng.length, 4);
  assert.equal(j.rng_dtype, "uint32");
  assert.deepEqual(j.spins, [-1, 1]);
});

test("bad input: one line on stderr, exit code 2, no stack trace, no file left behind", async () => {
  await h5Ready();
  const junk = join(dir, "junk.h5");
  writeFileSync(junk, "not an hdf5 file at all");
  const foreign = join(dir, "foreign.h5");
  const f = createFile(foreign);
  writeAttrs(f, "/", { creator: "someone else" });
  closeFile(f);
  const truncated = join(dir, "trunc.h5");
  assert.equal(irg(...base, "--out", truncated).code, 0);
  truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
  const exists = join(dir, "exists.h5");
  writeFileSync(exists, "x");
  const ro = join(dir, "readonly");
  spawnSync("mkdir", [ro]);
  chmodSync(ro, 0o500);
  const cases: [string[], RegExp][] = [
    [["simulate", "xy", "--L", "8", "--out", join(dir, "x.h5")], /unknown model "xy"/],
    [["simulate", "ising", "--L", "7", "--beta", "0.4", "--out", join(dir, "x.h5")], /--L must be even/],
    [["simulate", "ising", "--L", "8", "--beta", "-0.4", "--out", join(dir, "x.h5")], /--beta must be > 0/],
    [["simulate", "ising", "--L", "8", "--beta", "abc", "--out", join(dir, "x.h5")], /--beta must be a/],
    [["simulate", "ising", "--L", "8", "--beta", "0.4", "--algorithm", "glauber", "--out", join(dir, "x.h5")], /--algorithm must be one of/],
    [["simulate", "ising", "--L", "8", "--beta", "0.4", "--dim", "4", "--out", join(dir, "x.h5")], /--dim must be between 2 and 3/],
    [["simulate", "ising", "--L", "8", "--beta", "0.4"], /--out <file.h5> is required/],
    [["simulate", "ising", "--L", "8", "--beta", "0.4", "--out", exists], /already exists/],
    [["simulate", "ising", "--L", "8", "--beta", "0.4", "--out", join(dir, "nodir", "x.h5")], /does not exist/],
    [["simulate", "phi4", "--L", "8", "--beta", "0.4", "--out", join(dir, "x.h5")], /--beta does not apply to phi4/],
    [["simulate", "ising", "--resume", "--out", join(dir, "missing.h5")], /no such file/],
    [["measure", join(dir, "missing.h5")], /no such file/],
    [["measure", junk], /not an HDF5 file/],
    [["measure", foreign], /not an irg ensemble/],
    [["measure", truncated], /truncated/],
    [["frobnicate"], /unknown command/],
  ];
  if (process.getuid?.() !== 0) cases.push([["simulate", "ising", "--L", "8", "--beta", "0.4", "--out", join(ro, "x.h5")], /not writable/]);
  for (const [args, want] of cases) {
    const r = irg(...args);
    assert.equal(r.code, 2, `${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(" "));
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("(run with --help"));
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.ok(!existsSync(join(dir, "x.h5")) && !existsSync(join(dir, "x.h5.partial")));
  assert.equal(readFileSync(exists, "utf8"), "x");
});
