// Self-describing parameters: one entry (flag, type, default, description) feeds the CLI help, the
// validation of user input (zod) and the attributes stored with every output file. No CLI library here:
// `cli/params.ts` turns the specs into commander options.

import { z } from "zod";

/** A user error: printed as one line, exit code 2, never a stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Whether an error says the disk (or the quota) is full. */
export function isDiskFullError(err: unknown): boolean {
  const e = err as { diskFull?: boolean; code?: string } | null;
  return e?.diskFull === true || e?.code === "ENOSPC" || e?.code === "EDQUOT";
}

/**
 * The exit code an error ends the process with: 4 for a full disk (not bad input, not a bug: a batch
 * script can tell it), 2 for bad input (one line, no stack), 1 for anything else (a bug).
 */
export function exitCodeOf(err: unknown): 1 | 2 | 4 | 5 {
  if (isDiskFullError(err)) return 4;
  const e = err as Error | null;
  // A device failure (mc/backend.ts GpuError): the run's checkpoint is kept, a resume can continue.
  if (e?.name === "GpuError") return 5;
  return e instanceof UsageError || e instanceof RangeError || e?.name === "H5Error" || e?.name === "UsageError" ? 2 : 1;
}

export interface ParamSpec {
  /** Commander flag, e.g. "--beta <b>". */
  flag: string;
  description: string;
  /** zod schema applied to the raw string (or default). */
  schema: z.ZodType;
  default?: unknown;
  /** Stored as a file attribute (simulation parameters are; output paths and UI flags are not). */
  physics?: boolean;
  /** The command fails without it ("--out <file> is required"). */
  required?: boolean;
}

export type ParamSpecs = Record<string, ParamSpec>;

/**
 * The schemas made by `int`: parameters with one of them are integers by definition and are stored as
 * HDF5 integers, while `num` parameters (couplings) stay float64 even when their value is integral. A
 * schema refined further is a new object and no longer counts as one.
 */
const INTEGER_SCHEMAS = new WeakSet<z.ZodType>();

/** Integer option with bounds. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  const schema = z.coerce
    .number({ error: "must be a number" })
    .refine((v) => Number.isInteger(v), { message: "must be an integer" })
    .refine((v) => v >= min && v <= max, { message: max === Number.MAX_SAFE_INTEGER ? `must be >= ${min}` : `must be between ${min} and ${max}` });
  INTEGER_SCHEMAS.add(schema);
  return schema;
}

/** The keys of the specs whose values are integers by definition (declared with `int`). */
export function integerKeys(specs: ParamSpecs): string[] {
  return Object.keys(specs).filter((k) => INTEGER_SCHEMAS.has(specs[k]!.schema));
}

/** Finite number option, optionally strictly positive. */
export function num(opts: { positive?: boolean } = {}): z.ZodType<number> {
  return z.coerce
    .number({ error: "must be a number" })
    .refine((v) => Number.isFinite(v), { message: "must be a finite number" })
    .refine((v) => !opts.positive || v > 0, { message: "must be > 0" });
}

/** A flag without a value (true when given). */
export function flag(): z.ZodType<boolean> {
  return z.boolean();
}

/** A non-empty list of file names (a variadic flag). */
export function files(): z.ZodType<string[]> {
  return z.array(z.string().min(1)).min(1, { message: "needs at least one file" });
}

/** One of a fixed list of names. */
export function oneOf<T extends string>(values: readonly T[]): z.ZodType<T> {
  return z.string().refine((v): v is T => (values as readonly string[]).includes(v), {
    message: `must be one of ${values.join(", ")}`,
  }) as unknown as z.ZodType<T>;
}

/** Validates raw commander options against the specs; throws UsageError naming the flag. */
/**
 * The specs as one strict zod object: every key with its default (or optional, or required), unknown
 * keys refused. Several of them make the discriminated union of a command that serves several models.
 */
export function specsObject(specs: ParamSpecs): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(specs)) {
    shape[key] = spec.default !== undefined ? spec.schema.default(spec.default as never) : spec.required ? spec.schema : spec.schema.optional();
  }
  return z.strictObject(shape);
}

/** The one-line error of a failed parse of `raw` against specs: the flag of the first problem, as parseParams says it. */
export function paramsError(error: z.ZodError, specs: ParamSpecs, raw: Record<string, unknown>): UsageError {
  const issue = error.issues[0];
  const key = String(issue?.path[0] ?? "");
  const spec = specs[key];
  if (!spec) return new UsageError(issue?.message ?? "invalid parameters");
  const value = raw[key];
  if (value === undefined) return new UsageError(`${spec.flag} is required`);
  return new UsageError(`${spec.flag.split(/[ ,]/)[0]} ${issue?.message ?? "is invalid"} (got ${JSON.stringify(value)})`);
}

export function parseParams<T>(specs: ParamSpecs, raw: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = raw[key] ?? spec.default;
    if (value === undefined) {
      if (spec.required) throw new UsageError(`${spec.flag} is required`);
      continue;
    }
    const res = spec.schema.safeParse(value);
    const flag = spec.flag.split(/[ ,]/)[0];
    if (!res.success) {
      const msg = res.error.issues[0]?.message ?? "is invalid";
      throw new UsageError(`${flag} ${msg} (got ${JSON.stringify(value)})`);
    }
    out[key] = res.data;
  }
  return out as T;
}

/** The subset of parsed parameters that describes the physics (stored as attributes). */
export function physicsParams(specs: ParamSpecs, values: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const v = values[key];
    if (spec.physics && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) out[key] = v;
  }
  return out;
}
