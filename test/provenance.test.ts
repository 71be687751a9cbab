// Provenance and types of what every HDF5 output says about itself: the command line that wrote it
// (and the one that resumed it), the software and the git commit; integer parameters stored as HDF5
// integers while couplings stay float64 even when integral; the spin glass's ladder as numbers; and
// blocked and generated files that say what they are instead of claiming their parent's run.
// Types are checked through the h5 layer and, where h5py is installed, independently with h5py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { attrTypes, closeFile, createFile, H5Error, h5Ready, intAttr, openFile, readAttrs, writeAttrs, type AttrRecord } from "../src/io/h5.js";
import { commitAt } from "../src/io/provenance.js";
import { noisyCopy } from "../src/irg/generator.js";
import { generate, generatedPath } from "../src/jobs/generate.js";
import { commandLine, SOFTWARE } from "../src/version.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
// A space in the directory: the stored command must quote the paths.
const dir = mkdtempSync(join(tmpdir(), "irg prov-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The command as the file should record it. */
const cmd = (...args: string[]): string => commandLine(["node", main, ...args]);

function attrs(path: string): { a: AttrRecord; types: Record<string, string> } {
  const f = openFile(path, "r");
  try {
    return { a: readAttrs(f, "/"), types: attrTypes(f, "/") };
  } finally {
    closeFile(f);
  }
}

let h5pyMissing: string | null | undefined;
/** numpy dtypes of the root attributes as h5py reads them; null (reason printed once) without h5py. */
function h5pyTypes(path: string): Record<string, string> | null {
  const script = "import h5py, json, sys\nf = h5py.File(sys.argv[1], 'r')\nprint(json.dumps({k: str(getattr(v, 'dtype', 'str')) for k, v in f.attrs.items()}))";
  const r = spawnSync("/usr/bin/python3", ["-c", script, path], { encoding: "utf8" });
  if (r.status !== 0) {
    if (h5pyMissing === undefined) {
      h5pyMissing = r.error ? String(r.error.message) : r.stderr.trim().split("\n").at(-1) ?? "python3 failed";
      console.log(`# provenance: h5py check skipped (${h5pyMissing}); types checked through the h5 layer only`);
    }
    return null;
  }
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** Every key in `ints` is stored as int64 and every key in `floats` as float64, by the h5 layer and by h5py. */
function assertTypes(path: string, ints: string[], floats: string[]): void {
  const { types } = attrs(path);
  const seen = [types, h5pyTypes(path)].filter((t): t is Record<string, string> => t !== null);
  for (const t of seen) {
    for (const k of ints) assert.equal(t[k], "int64", `${path}: ${k} should be int64, is ${t[k]}`);
    for (const k of floats) assert.equal(t[k], "float64", `${path}: ${k} should be float64, is ${t[k]}`);
  }
}

/** The commit of this checkout as git says it (read before and after a run: a commit may land in between). */
function gitHead(): string | null {
  const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

let gitMissingSaid = false;
function assertProvenance(path: string, command: string, heads: (string | null)[]): void {
  const { a } = attrs(path);
  assert.equal(a.command, command, path);
  assert.equal(a.software, SOFTWARE);
  const known = heads.filter((h): h is string => h !== null);
  if (known.length > 0) assert.ok(known.includes(String(a.git_commit)), `git_commit ${String(a.git_commit)}, git says ${known.join(" or ")}`);
  else if (!existsSync(join(root, ".git"))) assert.equal(a.git_commit, undefined, "not a git checkout: no git_commit");
  else if (!gitMissingSaid) {
    gitMissingSaid = true;
    console.log("# provenance: git cannot read this checkout; git_commit not compared");
  }
}

const ENSEMBLE_INTS = ["format_version", "dim", "L", "chains", "complete", "sweeps", "therm", "every", "saveEvery", "seed", "task"];

test("command lines: the script becomes irg, arguments that need it are single-quoted", () => {
  assert.equal(commandLine(["/usr/bin/node", "/x/dist/src/cli/main.js", "simulate", "ising", "--mu2", "-0.9", "--out", "a b.h5", "--betas", "0.5,0.6"]),
    "irg simulate ising --mu2 -0.9 --out 'a b.h5' --betas 0.5,0.6");
  assert.equal(commandLine(["node", "irg", "block", "it's.h5", "", "$HOME", "a*"]), `irg block 'it'\\''s.h5' '' '$HOME' 'a*'`);
});

test("intAttr: int64 scalars and arrays read back as plain numbers; a plain number stays float64; a fraction is refused in one line", async () => {
  await h5Ready();
  const path = join(dir, "ints.h5");
  const f = createFile(path);
  try {
    writeAttrs(f, "/", { n: intAttr(3), zero: intAttr(0), big: intAttr(2 ** 40), list: intAttr([4, 8]), x: 1 });
    assert.throws(() => writeAttrs(f, "/", { bad: intAttr(1.5) }), (e: unknown) => e instanceof H5Error && /1\.5 is not an integer; store it as a plain number/.test(e.message) && !e.message.includes("\n"));
  } finally {
    closeFile(f);
  }
  const { a, types } = attrs(path);
  assert.deepEqual(a, { n: 3, zero: 0, big: 2 ** 40, list: [4, 8], x: 1 });
  assert.deepEqual(types, { n: "int64", zero: "int64", big: "int64", list: "int64", x: "float64" });
});

test("git_commit from the .git files: a branch (loose or packed), a detached HEAD, a worktree's .git file; unknown otherwise", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567", other = "fedcba9876543210fedcba9876543210fedcba98";
  const repo = (name: string, files: Record<string, string>): string => {
    const r = join(dir, name);
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(r, p, ".."), { recursive: true });
      writeFileSync(join(r, p), text);
    }
    mkdirSync(r, { recursive: true });
    return r;
  };
  assert.equal(commitAt(repo("loose", { ".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": `${sha}\n` })), sha);
  assert.equal(commitAt(repo("packed", { ".git/HEAD": "ref: refs/heads/dev\n", ".git/packed-refs": `# pack-refs with: peeled\n${other} refs/heads/main\n${sha} refs/heads/dev\n` })), sha);
  assert.equal(commitAt(repo("detached", { ".git/HEAD": `${sha}\n` })), sha);
  repo("common", { ".git/refs/heads/wt": `${other}\n`, ".git/worktrees/wt/HEAD": "ref: refs/heads/wt\n", ".git/worktrees/wt/commondir": "../..\n" });
  assert.equal(commitAt(repo("worktree", { ".git": `gitdir: ${join(dir, "common/.git/worktrees/wt")}\n` })), other);
  assert.equal(commitAt(repo("unborn", { ".git/HEAD": "ref: refs/heads/none\n" })), undefined);
  assert.equal(commitAt(repo("garbage", { ".git/HEAD": "not a ref\n" })), undefined);
  assert.equal(commitAt(repo("plain", { "x.txt": "" })), undefined);
  assert.equal(commitAt(undefined), undefined);
});

test("simulate ising: command, software, git_commit; integer parameters int64 and beta = 1 float64; a resume keeps command and adds resumed_command", async () => {
  await h5Ready();
  const out = join(dir, "ising run.h5");
  const args = ["simulate", "ising", "--L", "8", "--beta", "1", "--sweeps", "40", "--therm", "10", "--seed", "3", "--out", out];
  const before = gitHead();
  const r1 = irg(...args, "--stop-after", "20");
  assert.equal(r1.code, 3, r1.stderr);
  assertProvenance(out, cmd(...args, "--stop-after", "20"), [before, gitHead()]);
  assert.equal(attrs(out).a.resumed_command, undefined);
  assertTypes(out, ENSEMBLE_INTS, ["beta"]);
  const r2 = irg("simulate", "ising", "--resume", "--out", out);
  assert.equal(r2.code, 0, r2.stderr);
  const { a } = attrs(out);
  assert.equal(a.command, cmd(...args, "--stop-after", "20"));
  assert.equal(a.resumed_command, cmd("simulate", "ising", "--resume", "--out", out));
  assert.equal(a.complete, 1);
  assertTypes(out, ENSEMBLE_INTS, ["beta"]);
  const cp = openFile(out, "r");
  try {
    const t = attrTypes(cp, "/checkpoint");
    for (const k of ["sweeps_done", "measurements", "saved"]) assert.equal(t[k], "int64", k);
  } finally {
    closeFile(cp);
  }
});

test("simulate phi4: mu2 = -1 stays float64 beside int64 sizes; blocked and generated files say what they are and keep the parent's run as parent_*", async () => {
  await h5Ready();
  const out = join(dir, "phi4.h5");
  const args = ["simulate", "phi4", "--L", "8", "--mu2", "-1", "--sweeps", "30", "--therm", "10", "--save-every", "2", "--seed", "5", "--out", out];
  const before = gitHead();
  const r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  assertProvenance(out, cmd(...args), [before, gitHead()]);
  assertTypes(out, ENSEMBLE_INTS, ["mu2", "lambda", "kappa"]);
  assert.equal(attrs(out).a.origin, undefined);

  const blocked = join(dir, "phi4 blocked.h5");
  const b = irg("block", out, "--out", blocked);
  assert.equal(b.code, 0, b.stderr);
  const { a } = attrs(blocked);
  assertProvenance(blocked, cmd("block", out, "--out", blocked), [before, gitHead()]);
  assert.equal(a.origin, "blocked");
  assert.equal(a.parent, "phi4.h5");
  for (const k of ["algorithm", "sweeps", "therm", "every", "seed", "task"]) assert.equal(a[k], undefined, `a blocked file has no ${k} of its own`);
  assert.equal(a.parent_algorithm, "cluster");
  assert.equal(a.parent_sweeps, 30);
  assert.equal(a.parent_saveEvery, 2);
  assert.equal(a.saveEvery, 1);
  assert.equal(a.mu2, -1);
  assertTypes(blocked, ["L", "dim", "parent_sweeps", "parent_therm", "parent_seed", "parent_saveEvery", "saveEvery", "block_level", "block_seed"], ["mu2", "lambda"]);
  // Readers of the parent's attributes still work on it; resuming it is refused in one line.
  const m = irg("measure", blocked, "--json");
  assert.equal(m.code, 0, m.stderr);
  const res = irg("simulate", "phi4", "--resume", "--out", blocked);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /is a blocked ensemble \(from phi4\.h5\), not a simulation; only simulations resume/);

  // Blocking a blocked file: the Monte Carlo run stays as parent_*, the block seed defaults to its seed.
  const twice = join(dir, "phi4 blocked2.h5");
  assert.equal(irg("block", blocked, "--out", twice).code, 0);
  const a2 = attrs(twice).a;
  assert.equal(a2.parent, "phi4 blocked.h5");
  assert.equal(a2.parent_sweeps, 30);
  assert.equal(a2.block_seed, 5);
  assert.equal(a2.block_level, 2);

  const prefix = join(dir, "gen");
  await generate(noisyCopy(2, 0.3), { from: out, prefix, steps: 1, seed: 4 });
  const g = attrs(generatedPath(prefix, 16)).a;
  assert.equal(typeof g.command, "string");
  assert.equal(g.origin, "generated");
  assert.equal(g.parent, "phi4.h5");
  for (const k of ["algorithm", "sweeps", "therm", "seed"]) assert.equal(g[k], undefined, `a generated file has no ${k} of its own`);
  assert.equal(g.parent_algorithm, "cluster");
  assertTypes(generatedPath(prefix, 16), ["L", "parent_sweeps", "parent_seed", "generated_from_L", "generation_step", "generation_seed", "refine_sweeps"], ["mu2", "refine_coupling"]);
});

test("simulate ea with --store-betas: every file (the per-temperature ones too) has the command, int64 counts and the ladder as a float64 array", async () => {
  await h5Ready();
  const sub = join(dir, "ea");
  mkdirSync(sub);
  const out = join(sub, "ea.h5");
  const args = ["simulate", "ea", "--L", "4", "--beta", "0.9", "--temperatures", "2.5,1.8,1.4,1.1111111111111112", "--samples", "3", "--sweeps", "20", "--therm", "10",
    "--seed", "4", "--store-betas", "all", "--quiet", "--out", out];
  const before = gitHead();
  const r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(sub).filter((n) => n.endsWith(".h5"));
  assert.equal(files.length, 4);
  const ladder = [1 / 2.5, 1 / 1.8, 1 / 1.4, 0.9];
  for (const name of files) {
    const path = join(sub, name);
    assertProvenance(path, cmd(...args), [before, gitHead()]);
    const { a } = attrs(path);
    assert.deepEqual(a.beta_ladder, ladder);
    assert.equal(a.betas, ladder.join(","));
    assertTypes(path, [...ENSEMBLE_INTS, "samples", "firstSample", "disorderSeed", "temps", "target_index", "couplings_seed", "equilibrated"], ["beta", "betaMin", "betaMax", "beta_ladder"]);
  }
});

test("scan on worker threads: every file names the scan command (handed from the main thread to the workers)", async () => {
  await h5Ready();
  const sub = join(dir, "scan");
  const args = ["scan", "phi4", "--L", "4", "--mu2", "-1.0,-0.9", "--sweeps", "20", "--therm", "5", "--seed", "2", "--out-dir", sub, "--workers", "2"];
  const r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(sub).filter((n) => n.endsWith(".h5"));
  assert.equal(files.length, 2);
  for (const name of files) {
    assert.equal(attrs(join(sub, name)).a.command, cmd(...args));
    assertTypes(join(sub, name), ENSEMBLE_INTS, ["mu2"]);
  }
});

test("compatible files: command, int64 sizes and counts, float64 beta; a resume keeps command and adds resumed_command", async () => {
  await h5Ready();
  const out = join(dir, "compatible.h5");
  const args = ["compatible", "--dim", "2", "--from", "4", "--to", "8", "--chains", "3", "--sweeps", "2", "--therm", "5", "--seed", "4", "--workers", "0", "--quiet", "--out", out];
  const before = gitHead();
  const r1 = irg(...args, "--stop-after", "1");
  assert.notEqual(r1.code, 0, "stopped after one chain");
  const r2 = irg(...args, "--resume");
  assert.equal(r2.code, 0, r2.stderr);
  assertProvenance(out, cmd(...args, "--stop-after", "1"), [before, gitHead()]);
  const { a } = attrs(out);
  assert.equal(a.resumed_command, cmd(...args, "--resume"));
  assert.deepEqual(a.sizes, [4, 8]);
  assertTypes(out, ["format_version", "dim", "from", "to", "sizes", "sweeps", "chains", "unconstrained", "therm", "seed", "chains_written", "complete"], ["beta", "seconds"]);
  const f = openFile(out, "r");
  try {
    assert.deepEqual(attrTypes(f, "/L8"), { L: "int64", level: "int64", changed_fraction: "float64" });
  } finally {
    closeFile(f);
  }
});
