// The GPU back-end as a user runs it: --backend checks and messages everywhere; where an adapter or
// lavapipe (scripts/lavapipe.sh, .cache/lavapipe) exists, the WGSL kernel equals its CPU reference bit
// for bit, a GPU run reproduces Kaufman's exact energy and specific heat, and it stops and resumes
// bit for bit, on the GPU or on the CPU reference. GPU work runs in child processes, retried once
// when dawn.node dies in native code (exit 134/139); without any adapter those tests skip and say why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble, partialPath } from "../src/io/ensemble.js";
import { dosProbabilities, enumerateIsing, kaufman } from "../src/models/ising-exact.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { BETA_C_2D } from "../src/models/ising.js";
import { isingEstimates } from "../src/analysis/observables.js";
import { probeReason } from "../src/gpu/probe.js";
import { runChainsToEnsemble, simulateOptions, type SimulateOptions } from "../src/jobs/simulation.js";
import { GpuError } from "../src/mc/backend.js";
import { type Chains } from "../src/mc/chains.js";
import { cpuPackedKernel, packedSampler } from "../src/mc/packed-checkerboard.js";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { exitCodeOf } from "../src/models/params.js";
import { loadNetwork } from "../src/io/network.js";
import { encodeInput } from "../src/irg/network.js";
import { predict } from "../src/nn/model.js";
import { headLogProb } from "../src/nn/heads.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const child = fileURLToPath(new URL("./gpu-child.js", import.meta.url));
const eaChild = fileURLToPath(new URL("./gpu-ea-child.js", import.meta.url));
const nnChild = fileURLToPath(new URL("./gpu-nn-child.js", import.meta.url));
const headChild = fileURLToPath(new URL("./gpu-head-child.js", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-gpu-"));
const NO_GPU = { ...process.env, VK_DRIVER_FILES: "/nonexistent/icd.json", VK_ICD_FILENAMES: "/nonexistent/icd.json" };

/** The environment that reaches an adapter: lavapipe from .cache/lavapipe, or the machine's own GPU. */
function gpuEnv(): { env?: NodeJS.ProcessEnv; skip?: string } {
  const lvp = join(root, ".cache", "lavapipe");
  if (existsSync(join(lvp, "lvp.json"))) {
    const lib = join(lvp, "root", "usr", "lib", "x86_64-linux-gnu");
    return { env: { ...process.env, VK_DRIVER_FILES: join(lvp, "lvp.json"), LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") } };
  }
  const r = run(["doctor", "--json"], process.env);
  const found = r.code === 0 && (JSON.parse(r.stdout) as { gpu: { found: boolean } }).gpu.found;
  return found ? { env: process.env } : { skip: "no GPU adapter and no lavapipe (run scripts/lavapipe.sh to test the GPU path on the CPU)" };
}

function run(args: string[], env: NodeJS.ProcessEnv, file = main): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [file, ...args], { encoding: "utf8", env: { ...env, IRG_TEST: "1" } });
  return { code: r.status ?? (r.signal === "SIGSEGV" ? 139 : 134), stdout: r.stdout, stderr: r.stderr };
}

/** GPU work in a child, retried once when dawn.node crashes in native code. */
function onGpu(args: string[], env: NodeJS.ProcessEnv, file = main): { code: number; stdout: string; stderr: string } {
  const r = run(args, env, file);
  return r.code === 134 || r.code === 139 ? run(args, env, file) : r;
}

const G = gpuEnv();

/** Runs a child script on the GPU and returns its `cases` (checking there are `n`). */
function childCases<T>(file: string, n: number): T[] {
  const r = onGpu([], G.env!, file);
  assert.equal(r.code, 0, r.stderr);
  const { cases } = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { cases: T[] };
  assert.equal(cases.length, n);
  return cases;
}

test("--backend: one-line errors with exit 2 (no GPU kernel, L neither below 16 nor a multiple of 16, no adapter), auto falls back with one line", () => {
  const base = ["simulate", "ising", "--beta", "0.44", "--sweeps", "10", "--out", join(dir, "e.h5")];
  const cases: [string[], RegExp][] = [
    [[...base, "--L", "32", "--backend", "gpu", "--algorithm", "wolff"], /--backend gpu: ising --algorithm wolff has no GPU kernel; ising's GPU kernels: --algorithm metropolis\|heatbath; use --backend cpu/],
    [[...base, "--L", "24", "--backend", "gpu"], /--backend gpu needs --L below 16 or a multiple of 16/],
    [["simulate", "phi4", "--L", "32", "--mu2", "-0.9", "--sweeps", "10", "--backend", "gpu", "--out", join(dir, "p.h5")], /phi4 --algorithm \S+ has no GPU kernel; use --backend cpu/],
    [[...base, "--L", "32", "--backend", "gpu", "--algorithm", "metropolis"], /--backend gpu: no GPU adapter found.*; use --backend cpu or auto|--backend gpu: the Vulkan loader/],
    [[...base, "--L", "32", "--backend", "tpu"], /--backend/],
    [["bench", "--backend", "tpu"], /--backend must be auto, cpu, gpu, got tpu/],
    [["bench", "--L", "100"], /--L must be a multiple of 16/],
    [["simulate", "ea", "--L", "4", "--beta", "0.9", "--samples", "8", "--sweeps", "10", "--backend", "gpu", "--kernel", "wasm", "--out", join(dir, "ea.h5")], /--kernel and --workers choose the CPU engine: drop them with --backend gpu/],
  ];
  for (const [args, want] of cases) {
    const r = run(args, NO_GPU);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, want);
  }
  const auto = run([...base, "--L", "32", "--algorithm", "metropolis", "--backend", "auto", "--force"], NO_GPU);
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stderr.trim(), /^irg: --backend auto: .*; running on the CPU$/);
  // The default (cpu), and auto for a model or algorithm without a GPU kernel, do not look for one.
  for (const extra of [["--algorithm", "metropolis"], ["--backend", "auto"]]) {
    const quiet = run([...base, "--L", "32", ...extra, "--force"], NO_GPU);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
  }
  assert.match(probeReason("Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file", "x"), /apt install libvulkan1/);
});

test("a GPU failure mid-run (GpuError) keeps the last checkpoint, exits 5, and the run resumes (here on the CPU reference) to the uninterrupted result", async () => {
  await h5Ready();
  const flags = { L: 16, beta: 0.44, algorithm: "metropolis", backend: "gpu", therm: 20, sweeps: 400, saveEvery: 50, checkpointEvery: 0.0001 };
  const chainsOf = async (o: SimulateOptions, failAt: number): Promise<Chains<Int8Array>> => {
    const smp = await packedSampler({ lat: lattice(2, 16), beta: 0.44, rule: "metropolis", rng: rngFor({ seed: o.seed, task: o.task, replica: 0 }) }, cpuPackedKernel);
    let n = 0;
    return { ...smp, sweep: () => {
      if (++n === failAt) throw new GpuError("the GPU failed: device lost (test)");
      return smp.sweep();
    } };
  };
  const whole = simulateOptions("ising", { ...flags, out: join(dir, "whole.h5") });
  await runChainsToEnsemble("ising", whole, (await chainsOf(whole, -1)) as never, { checkpointEvery: 0.0001 }, false, true, { params: {}, integers: [] });
  const broken = simulateOptions("ising", { ...flags, out: join(dir, "broken.h5") });
  await assert.rejects(runChainsToEnsemble("ising", broken, (await chainsOf(broken, 250)) as never, { checkpointEvery: 0.0001 }, false, true, { params: {}, integers: [] }), (e: Error) => e.name === "GpuError" && /the last checkpoint is kept: continue with irg simulate ising --resume --out/.test(e.message));
  assert.ok(existsSync(partialPath(broken.out)), "the checkpoint file is gone");
  const r = run(["simulate", "ising", "--resume", "--quiet", "--out", broken.out], NO_GPU);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /continues on the CPU reference of its kernel/);
  const [a, b] = [whole.out, broken.out].map((f) => openEnsemble(f));
  try {
    assert.deepEqual(Array.from(b!.series("energy")), Array.from(a!.series("energy")));
  } finally {
    a!.close();
    b!.close();
  }
  assert.equal(exitCodeOf(new GpuError("x")), 5);
});

test("irg doctor reports the adapter (or why there is none) and exits 0", () => {
  const r = run(["doctor"], NO_GPU);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /GPU\s+none: /);
  const j = run(["doctor", "--json"], NO_GPU);
  assert.equal((JSON.parse(j.stdout) as { gpu: { found: boolean } }).gpu.found, false);
});

test("GPU kernel equals its CPU reference bit for bit (2D and 3D, L = 2 … 48, Metropolis and heat bath, words and sums)", { skip: G.skip }, () => {
  const cases = childCases<{ name: string; diffWords: number; sumsEqual: boolean }>(child, 16);
  for (const c of cases) {
    assert.equal(c.diffWords, 0, `${c.name}: words differ`);
    assert.ok(c.sumsEqual, `${c.name}: energy/magnetisation sums differ`);
  }
});

test("irg simulate ising --backend gpu: Kaufman's exact e and C at L = 16 (beta_c; 4 sigma), HDF5 output, stop/resume bit for bit on the GPU and on the CPU reference, a native crash resumed by the CLI", { skip: G.skip }, async () => {
  await h5Ready();
  const args = (out: string): string[] => ["simulate", "ising", "--L", "16", "--beta", String(BETA_C_2D), "--algorithm", "metropolis", "--backend", "gpu", "--therm", "300", "--sweeps", "20000", "--save-every", "100", "--quiet", "--out", out];
  const full = join(dir, "full.h5");
  const r = onGpu(args(full), G.env!);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /running on the GPU/);
  const read = (p: string) => {
    const e = openEnsemble(p);
    try {
      return { E: e.series("energy"), M: e.series("magnetization"), configs: Array.from(e.configs(0, e.configRows)), backend: e.meta.params.backend };
    } finally {
      e.close();
    }
  };
  const a = read(full);
  assert.equal(a.backend, "gpu");
  const est = isingEstimates(a.E, a.M, { V: 256, beta: BETA_C_2D, chains: 1 });
  const exact = kaufman(16, BETA_C_2D);
  for (const [name, got, want] of [["e", est.e!, exact.e], ["C", est.c!, exact.c]] as const) {
    assert.ok(got.error < 0.1 * Math.abs(want), `${name}: error ${got.error} too large`);
    assert.ok(Math.abs(got.value - want) < 4 * got.error, `${name}: ${got.value} ± ${got.error} vs exact ${want}`);
  }
  // dawn.node dying in native code: the CLI's supervisor resumes the run once from its checkpoint.
  const crash = join(dir, "crash.h5");
  const p = spawn(process.execPath, [main, ...args(crash)], { env: { ...G.env!, IRG_TEST: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
  for (let t = 0; t < 300 && !existsSync(partialPath(crash)); t++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const kids = spawnSync("pgrep", ["-P", String(p.pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
  assert.equal(kids.length, 1, `the supervisor should run one child, found: ${kids.join(" ")}`);
  process.kill(Number(kids[0]), "SIGSEGV");
  assert.equal(await exited, 0, err);
  assert.match(err, /the GPU process failed \(SIGSEGV\); resuming from the last checkpoint, once/);
  assert.deepEqual(Array.from(read(crash).E), Array.from(a.E), "the resumed run differs from the uninterrupted one");
  for (const [label, env] of [["GPU", G.env!], ["CPU reference", NO_GPU]] as const) {
    const part = join(dir, `part-${label.replace(" ", "")}.h5`);
    const s = onGpu([...args(part), "--stop-after", "7000"], G.env!);
    assert.equal(s.code, 3, s.stderr);
    const c = onGpu(["simulate", "ising", "--resume", "--quiet", "--out", part], env);
    assert.equal(c.code, 0, c.stderr);
    if (label === "CPU reference") assert.match(c.stderr, /continues on the CPU reference of its kernel/);
    const b = read(part);
    assert.deepEqual(Array.from(b.E), Array.from(a.E), `${label}: energies differ after resume`);
    assert.deepEqual(b.configs, a.configs, `${label}: configurations differ after resume`);
  }
});

test("spin glass on the GPU: the WGSL multi-spin sweep with host-side parallel tempering equals the CPU engine bit for bit (states and measurements; 2D and 3D)", { skip: G.skip }, () => {
  const cases = childCases<{ name: string; stateDiff: number; measureDiff: number }>(eaChild, 3);
  for (const c of cases) {
    assert.equal(c.stateDiff, 0, `${c.name}: checkpoint words differ`);
    assert.equal(c.measureDiff, 0, `${c.name}: measurements differ`);
  }
});

test("irg simulate ea --backend gpu writes the file a CPU run of the same seed writes (series and overlap configurations)", { skip: G.skip }, async () => {
  await h5Ready();
  const args = ["simulate", "ea", "--L", "4", "--beta", "0.9", "--beta-min", "0.4", "--temps", "4", "--samples", "40", "--sweeps", "120", "--therm", "60", "--save-every", "10", "--quiet"];
  const g = onGpu([...args, "--backend", "gpu", "--out", join(dir, "eag.h5")], G.env!);
  assert.equal(g.code, 0, g.stderr);
  const c = run([...args, "--out", join(dir, "eac.h5")], NO_GPU);
  assert.equal(c.code, 0, c.stderr);
  const [a, b] = ["eag.h5", "eac.h5"].map((f) => openEnsemble(join(dir, f)));
  try {
    assert.equal(a!.meta.params.backend, "gpu");
    for (const name of ["energy", "q", "qk2", "round_trips"]) assert.deepEqual(Array.from(a!.series(name)), Array.from(b!.series(name)), name);
    assert.deepEqual(Array.from(a!.configs(0, a!.configRows)), Array.from(b!.configs(0, b!.configRows)));
  } finally {
    a!.close();
    b!.close();
  }
});

test("network inference on the GPU matches the CPU forward pass to float32 rounding (every layer type and activation, 2D and 3D)", { skip: G.skip }, () => {
  const cases = childCases<{ name: string; shapeEqual: boolean; maxDiff: number; scale: number }>(nnChild, 3);
  for (const c of cases) {
    assert.ok(c.shapeEqual, `${c.name}: output shape`);
    assert.ok(c.scale > 0.5, `${c.name}: outputs too small for a meaningful comparison`);
    assert.ok(c.maxDiff < 1e-5 * c.scale, `${c.name}: max |GPU - CPU| = ${c.maxDiff} (scale ${c.scale})`);
  }
});

test("irg generate --backend gpu: a two-stage network's forward passes on the GPU give the CPU's draws to float32 rounding; a one-stage network draws on the GPU and stores the exact ln q of its draws (phi4)", { skip: G.skip }, async () => {
  await h5Ready();
  const f = (name: string): string => join(dir, name);
  for (const args of [
    ["simulate", "phi4", "--L", "16", "--mu2", "-0.95", "--sweeps", "200", "--save-every", "10", "--quiet", "--out", f("p16.h5")],
    ["train", "--data", f("p16.h5"), "--model", "phi4", "--out", f("net.json"), "--epochs", "2", "--stages", "2", "--quiet"],
    ["generate", "--net", f("net.json"), "--from", f("p16.h5"), "--out", f("cpu"), "--quiet"],
  ]) {
    const r = run(args, NO_GPU);
    assert.equal(r.code, 0, r.stderr);
  }
  const g = onGpu(["generate", "--net", f("net.json"), "--from", f("p16.h5"), "--out", f("gpu"), "--backend", "gpu", "--quiet"], G.env!);
  assert.equal(g.code, 0, g.stderr);
  const [a, b] = ["gpu_L32.h5", "cpu_L32.h5"].map((p) => openEnsemble(f(p)));
  try {
    assert.equal(a!.meta.params.generation_backend, "gpu");
    assert.equal(b!.meta.params.generation_backend, "cpu");
    const x = a!.configs(0, a!.configRows), y = b!.configs(0, b!.configRows);
    assert.equal(x.length, y.length);
    let diff = 0, scale = 0;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(y[i]!));
    }
    assert.ok(scale > 0.5 && diff < 1e-4 * scale, `configurations: max |GPU - CPU| ${diff} (scale ${scale})`);
    const la = a!.series("log_q"), lb = b!.series("log_q");
    for (let i = 0; i < la.length; i++) assert.ok(Math.abs(la[i]! - lb[i]!) < 1e-6 * Math.abs(lb[i]!) + 1e-3, `log q row ${i}: ${la[i]} vs ${lb[i]}`);
  } finally {
    a!.close();
    b!.close();
  }
  // One stage: the head draws on the GPU; its stored ln q must be the CPU's ln q of the stored field.
  const t = run(["train", "--data", f("p16.h5"), "--model", "phi4", "--out", f("net1.json"), "--epochs", "2", "--quiet"], NO_GPU);
  assert.equal(t.code, 0, t.stderr);
  const g1 = onGpu(["generate", "--net", f("net1.json"), "--from", f("p16.h5"), "--out", f("gpu1"), "--backend", "gpu", "--quiet"], G.env!);
  assert.equal(g1.code, 0, g1.stderr);
  const net = loadNetwork(f("net1.json"), { model: "phi4", dim: 2 });
  const [src, gen] = [f("p16.h5"), f("gpu1_L32.h5")].map((p) => openEnsemble(p));
  try {
    const coarse = src!.configs(0, src!.configRows), fine = gen!.configs(0, gen!.configRows), lq = gen!.series("log_q");
    assert.equal(lq.length, src!.configRows);
    for (let row = 0; row < lq.length; row++) {
      const c = coarse.subarray(row * 256, (row + 1) * 256), y = fine.subarray(row * 1024, (row + 1) * 1024);
      const out = predict(net.spec, net.params, { shape: [1, 1, 16, 16], data: encodeInput(net, c, 1, 256) });
      const want = headLogProb(net.spec.head!, out, y)[0]!;
      assert.ok(Math.abs(lq[row]! - want) < 1e-6 * Math.abs(want) + 1e-3, `row ${row}: stored ln q ${lq[row]} vs ${want}`);
    }
  } finally {
    src!.close();
    gen!.close();
  }
});

test("GPU heads: the ln q returned is the CPU's ln q of the values drawn, and the draws follow the head's distribution (Bernoulli, categorical, mixture; 4 sigma)", { skip: G.skip }, () => {
  const cases = childCases<{ head: string; lqGap: number; lqScale: number; z: number[] }>(headChild, 3);
  for (const c of cases) {
    assert.ok(c.lqScale > 100, `${c.head}: ln q too small for the comparison`);
    assert.ok(c.lqGap < 1e-6 * c.lqScale + 1e-3, `${c.head}: |ln q GPU - CPU| = ${c.lqGap} (scale ${c.lqScale})`);
    for (const z of c.z) assert.ok(Math.abs(z) < 4, `${c.head}: draws off their distribution, z = ${z} (all: ${c.z.join(", ")})`);
  }
});

test("irg simulate ising --backend gpu samples the joint (E, M) distribution of the 4x4 torus (complete enumeration, chi-square; a 10 % wrong beta is rejected)", { skip: G.skip }, async () => {
  await h5Ready();
  const out = join(dir, "enum.h5"), beta = 0.3, n = 20000;
  const r = onGpu(["simulate", "ising", "--L", "4", "--beta", String(beta), "--algorithm", "metropolis", "--backend", "gpu", "--therm", "100", "--sweeps", String(3 * n), "--every", "3", "--save-every", "0", "--quiet", "--out", out], G.env!);
  assert.equal(r.code, 0, r.stderr);
  const f = openEnsemble(out);
  const E = f.series("energy"), M = f.series("magnetization");
  f.close();
  const dos = enumerateIsing(lattice(2, 4));
  const index = new Map(dos.E.map((e, k) => [`${e},${dos.M[k]}`, k]));
  const hist = new Float64Array(dos.count.length);
  for (let t = 0; t < E.length; t++) hist[index.get(`${E[t]},${M[t]}`)!]!++;
  assert.equal(E.length, n);
  const res = chiSquareTest(hist, dosProbabilities(dos, beta));
  assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof, p = ${res.pValue}`);
  assert.ok(chiSquareTest(hist, dosProbabilities(dos, beta * 1.1)).pValue < 1e-3, "a 10% wrong beta was not detected");
});
