// The entry module of the worker pool's threads (jobs/worker.ts), apart from the job registry so that
// jobs which start pools themselves do not import the registry that dispatches to them.

export const WORKER_URL = new URL("./worker.js", import.meta.url);
