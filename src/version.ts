// The software version stamped into every output file (kept in step with package.json by a test).
export const VERSION = "0.1.0";
export const SOFTWARE = `irg ${VERSION}`;

/**
 * The command line as a user would type it again (the `command` attribute of output files): the
 * script path becomes `irg`, and an argument the shell would split or expand is single-quoted.
 */
export function commandLine(argv: readonly string[]): string {
  return ["irg", ...argv.slice(2).map(shellQuote)].join(" ");
}

/** POSIX shell quoting: plain words stay as they are, anything else goes in single quotes. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
