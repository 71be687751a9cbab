// Provenance stamped into every HDF5 file: the command line that wrote it and the commit of the source
// tree. The commit is read from the files under .git, not from a `git` process: git may be missing on
// a compute node, and the answer must never fail or slow a run (anything unexpected means "unknown").

import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getEnvironmentData, isMainThread, setEnvironmentData } from "node:worker_threads";
import { commandLine } from "../version.js";

const COMMAND_KEY = "irg:command";
// A worker thread's process.argv holds only [node, script]: the main thread's command line is handed to
// every worker it starts (environment data is copied into each new worker), so that files written by a
// pool (scans, pipelines) name the command that was run.
if (isMainThread) setEnvironmentData(COMMAND_KEY, commandLine(process.argv));

/** The command line of this run, as `irg …`. */
export function currentCommand(): string {
  const passed = getEnvironmentData(COMMAND_KEY);
  return typeof passed === "string" ? passed : commandLine(process.argv);
}

/** The root attributes every new file gets: `command`, and `git_commit` when the package runs from a git checkout. */
export function provenanceAttrs(): { command: string; git_commit?: string } {
  const commit = gitCommit();
  return commit ? { command: currentCommand(), git_commit: commit } : { command: currentCommand() };
}

let cached: { commit: string | undefined } | null = null;

/** The commit checked out in the package's own folder (not in a repository around an installed copy); undefined when unknown. */
export function gitCommit(): string | undefined {
  cached ??= { commit: commitAt(packageRoot(fileURLToPath(import.meta.url))) };
  return cached.commit;
}

/** The nearest folder above `file` holding a package.json (dist/src/io/… → the package root). */
function packageRoot(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (isFile(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The commit HEAD points to in the checkout at `root` (a .git folder, or a .git file of a worktree). */
export function commitAt(root: string | undefined): string | undefined {
  try {
    if (root === undefined) return undefined;
    const dotGit = join(root, ".git");
    const gitDir = isFile(dotGit) ? resolve(root, /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))![1]!.trim()) : dotGit;
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    const sha = ref === undefined ? head : refCommit(gitDir, ref);
    return sha !== undefined && /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** A branch's commit: its loose ref file, else its line in packed-refs (worktrees keep both in the common dir). */
function refCommit(gitDir: string, ref: string): string | undefined {
  const common = isFile(join(gitDir, "commondir")) ? resolve(gitDir, readFileSync(join(gitDir, "commondir"), "utf8").trim()) : gitDir;
  for (const dir of [gitDir, common]) {
    if (isFile(join(dir, ref))) return readFileSync(join(dir, ref), "utf8").trim();
  }
  if (!isFile(join(common, "packed-refs"))) return undefined;
  for (const line of readFileSync(join(common, "packed-refs"), "utf8").split("\n")) {
    const [sha, name] = line.trim().split(" ");
    if (name === ref) return sha;
  }
  return undefined;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
