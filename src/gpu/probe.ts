// Looks for a GPU adapter in a child process: Dawn writes its own warnings to stderr from native code
// (a missing Vulkan loader, lavapipe's limits), and a crash there must not take the caller down. The
// child prints one JSON line; the parent turns Dawn's warnings into a reason a user can act on.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type GpuInfo } from "./device.js";

export type GpuProbe = { found: true; info: GpuInfo } | { found: false; reason: string };

const SELF = fileURLToPath(new URL("./probe-main.js", import.meta.url));

/** What Dawn's stderr says about why no adapter came back, in words with a fix. */
export function probeReason(stderr: string, fallback: string): string {
  const m = /Couldn't load Vulkan: ([^\s:]+)/.exec(stderr);
  if (m) return `the Vulkan loader ${m[1]} is not installed (Debian/Ubuntu: apt install libvulkan1)`;
  return fallback;
}

/** Probes for an adapter (`software` admits lavapipe and the like); at most `timeoutMs`. */
export function probeGpu(software: boolean, timeoutMs = 30000): Promise<GpuProbe> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SELF, software ? "software" : "hardware"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").at(-1) ?? "";
      try {
        const r = JSON.parse(line) as GpuProbe;
        resolve(r.found ? r : { found: false, reason: probeReason(err, r.reason) });
      } catch {
        resolve({ found: false, reason: `the GPU probe ${signal ? `was killed by ${signal}` : `exited with code ${code}`} (${err.trim().split("\n")[0] ?? "no message"})` });
      }
    });
  });
}
