// The software version stamped into every output file (kept in step with package.json by a test).
export const VERSION = "0.1.0";
export const SOFTWARE = `irg ${VERSION}`;
