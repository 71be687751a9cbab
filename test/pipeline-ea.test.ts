// `irg pipeline ea` on tiny sizes (L0 = 4 → 8 → 16, direct 8): the file layout, the report's sections,
// the summary lines, the refusal of non-equilibrated ensembles, reruns that reuse finished ensembles, and
// the verdict logic where the answer is known (an ensemble against itself agrees; against another
// temperature it does not).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { compareEnsembles } from "../src/jobs/pipeline-ea.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-pipeline-ea-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tiny = ["pipeline", "ea", "--L0", "4", "--target", "16", "--direct", "8", "--temperatures", "1.6,1.3,1.1,1.0", "--samples", "40", "--direct-samples", "40",
  "--gen-limit", "24", "--epochs", "1", "--workers", "2", "--quiet"];

test("pipeline ea refuses ensembles that fail the equilibration check (one line, exit 2)", () => {
  const r = irg(...tiny, "--sweeps", "32", "--therm", "0", "--direct-sweeps", "32", "--direct-therm", "0", "--out-dir", join(dir, "short"));
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const last = r.stderr.trim().split("\n").at(-1)!;
  assert.match(last, /^irg: error: L = 4: equilibration not shown .*--allow-unequilibrated/);
});

test("pipeline ea 4 -> 8 -> 16: files, report, summary; a rerun reuses the ensembles", async () => {
  await h5Ready();
  const out = join(dir, "run");
  const args = [...tiny, "--sweeps", "1024", "--therm", "512", "--direct-sweeps", "1024", "--direct-therm", "512", "--allow-unequilibrated", "--out-dir", out];
  const r = irg(...args);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ["mc/ea_L4.h5", "mc/ea_L4_beta0.625000.h5", "mc/ea_L8.h5", "overlap-net.json", "generated/ea_T1.0000_L8.h5", "generated/ea_T1.6000_L16.h5", "report.html"]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  assert.match(r.stdout, /T_c from xi\/L \(direct L = 4 and 8\)/);
  assert.match(r.stdout, /T_c from g \(generated vs direct, L = 8\)/);
  assert.equal((r.stdout.match(/^validation L=8 T=/gm) ?? []).length, 4);
  const html = readFileSync(join(out, "report.html"), "utf8");
  for (const h of ["Critical temperature and exponents", "Curves against temperature", "Generated against direct simulation", "All ensembles", "Cost", "Overlap fields"]) assert.ok(html.includes(`<h2>${h}`), h);
  assert.match(html, /Validated against direct simulation: L = 8\. The generated L = 16 are extrapolations of the network/);
  // The overlap rule against itself: blocked 8 → 4 beside direct 4 at every temperature.
  assert.ok(html.includes("<h2>The overlap rule against itself"));
  assert.match(html, /\[&lt;q²&gt;\] blocked 8 → 4|\[<q²>\] blocked 8 → 4/);
  assert.ok(existsSync(join(out, "mc", "blocked_ea_L8.h5")));
  assert.ok(html.includes("<h2>The coupling map and the generated systems at the temperature the flow assigns them"));
  assert.match(html, /peak resident memory of the whole run \d+ MiB/);
  assert.match(html, /The larger start --L0 8 .* needs direct PT of \d+ samples at L = 8 and \d+ at 16 with 10 round trips each: about [\d.]+ (s|min|h)/);
  assert.match(r.stdout, /^coupling map L=8 -> 4 \(\[<q\^2>\] matching\): T\* /m);
  assert.ok((html.match(/<svg/g) ?? []).length >= 2 && (html.match(/data:image\/png/g) ?? []).length >= 4);
  // The flow validation has the short range (G(1), G(2) of the fields, reweighted to T′) and the whole G(r);
  // the curves against T are reweighted between the ladder temperatures.
  assert.match(r.stdout, /^flow validation L=8 T=\S+ at T'=\S+: long range (agree|DISAGREE) \(.*\); short range (agree|DISAGREE) \(G1 -?[\d.]+σ, G2 -?[\d.]+σ\)$/m);
  assert.ok(html.includes("Overlap correlation G(r) at L = 8"));
  assert.match(html, /reweighted in β between them/);
  // The rerun reuses the ensembles; with one network per temperature.
  const again = irg(...args, "--networks", "per-temperature");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /L = 4: found complete ensembles/);
  assert.match(again.stderr, /L = 8: found complete ensembles/);
  for (const T of ["1.0000", "1.1000", "1.3000", "1.6000"]) assert.ok(existsSync(join(out, `overlap-net_T${T}.json`)), T);
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /one network per temperature/);
  const bad = irg(...args, "--networks", "two");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--networks must be one or per-temperature/);
  // Another ladder in the same directory is refused, not mixed in.
  const clash = irg(...args.map((a) => (a === "1.6,1.3,1.1,1.0" ? "1.5,1.3,1.1,1.0" : a)));
  assert.equal(clash.code, 2, clash.stderr);
  assert.match(clash.stderr.trim().split("\n").at(-1)!, /^irg: error: .*ea_L4\.h5 belongs to another study/);
  // The verdict: an ensemble agrees with itself on every quantity; T = 1.0 against T = 1.6 does not.
  const same = compareEnsembles(join(out, "mc/ea_L8.h5"), join(out, "mc/ea_L8.h5"));
  assert.ok(same.longAgree && same.shortAgree === true && same.rows.every((x) => x.z === 0), JSON.stringify(same.rows.map((x) => x.z)));
  const other = compareEnsembles(join(out, "mc/ea_L8.h5"), join(out, "mc/ea_L8_beta0.625000.h5"));
  assert.equal(other.longAgree, false);
  assert.ok(other.rows.some((x) => x.range === "short"));
});
