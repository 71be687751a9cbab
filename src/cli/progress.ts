// Progress bar on stderr (cli-progress): shown only on a TTY, without --quiet, and only once a
// run has lasted two seconds, so that short runs and logs stay clean.

import cliProgress from "cli-progress";

export interface Progress {
  /** `status` is shown after the counts (e.g. the epoch and the current loss). */
  update(done: number, total: number, status?: string): void;
  stop(): void;
}

export function progressReporter(opts: { quiet: boolean; label: string; unit?: string }): Progress {
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
