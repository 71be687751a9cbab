// Commander options from parameter specs (the only place that knows both).

import { type Command, Option } from "commander";
import { type ParamSpecs } from "../models/params.js";

/** Registers every spec as a commander option (defaults are applied in `parseParams`, not here, so
 * that we can tell what the user set explicitly). */
export function addParams(cmd: Command, specs: ParamSpecs): Command {
  for (const spec of Object.values(specs)) {
    const opt = new Option(spec.flag, spec.description);
    if (spec.default !== undefined) opt.default(spec.default as string, String(spec.default));
    cmd.addOption(opt);
  }
  return cmd;
}
