// Progress on stderr: a bar (cli-progress) on a terminal once a run has lasted two seconds; in a batch
// log (stderr not a terminal, e.g. under SLURM) one plain line every IRG_PROGRESS_SECONDS (default 60),
// so that a long job shows where it is without filling the log. --quiet silences both.

import cliProgress from "cli-progress";

export interface Progress {
  /** `status` is shown after the counts (e.g. the epoch and the current loss). */
  update(done: number, total: number, status?: string): void;
  stop(): void;
}

/** Plain progress lines for logs: at most one every `seconds`, with the rate-based time left. */
function logLines(label: string, unit: string, seconds: number): Progress {
  const start = performance.now();
  let last = start;
  return {
    update(done, total, status) {
      const now = performance.now();
      if (now - last < seconds * 1000 || done <= 0) return;
      last = now;
      const elapsed = (now - start) / 1000, left = (elapsed * (total - done)) / done;
      const hms = (t: number): string => `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m${String(Math.floor(t % 60)).padStart(2, "0")}s`;
      process.stderr.write(`${new Date().toISOString()} ${label}: ${done}/${total} ${unit} (${((100 * done) / total).toFixed(1)}%), elapsed ${hms(elapsed)}, left about ${hms(left)}${status ? ` | ${status}` : ""}\n`);
    },
    stop() {},
  };
}

export function progressReporter(opts: { quiet: boolean; label: string; unit?: string }): Progress {
  if (!opts.quiet && process.stderr.isTTY !== true) {
    const seconds = Number(process.env.IRG_PROGRESS_SECONDS ?? (process.env.IRG_TEST ? 0 : 60));
    return seconds > 0 ? logLines(opts.label, opts.unit ?? "sweeps", seconds) : { update() {}, stop() {} };
  }
  const enabled = !opts.quiet && process.stderr.isTTY === true && !process.env.IRG_TEST;
  const start = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total, status) {
      if (!enabled) return;
      if (!bar) {
        if (performance.now() - start < 2000) return;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${opts.unit ?? "sweeps"} | ETA {eta_formatted}{status}`,
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { status: "" });
      }
      bar.setTotal(total);
      bar.update(done, { status: status ? ` | ${status}` : "" });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
