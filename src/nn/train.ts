// One training step of an IRG generator: forward, head loss (BCE or mixture NLL, mean per site),
// backward without the input adjoint, Adam. Batch-sliceable: see lossAndGrad for splitting over workers.
//
// Why mean per site: gradients of batch slices then combine as a weighted average (weights = sites),
// and the learning rate does not depend on lattice or batch size.

import { type AdamOptions, type AdamState, adamStep } from "./adam.js";
import { headLoss } from "./heads.js";
import { type ModelSpec, backward, forward } from "./model.js";
import { type Arr, type Tensor } from "./tensor.js";

/** Loss (mean per site) and its gradient with respect to the parameters, for input → target. */
export function lossAndGrad(spec: ModelSpec, params: Arr, input: Tensor, target: ArrayLike<number>): { loss: number; gradParams: Arr } {
  if (!spec.head) throw new RangeError("the model has no head: no loss is defined");
  const { output, cache } = forward(spec, params, input);
  const { loss, grad } = headLoss(spec.head, output, target);
  const { gradParams } = backward(spec, params, cache, grad, { inputGrad: false });
  return { loss, gradParams };
}

/** lossAndGrad then one Adam update of `params` (in place); returns the loss before the update. */
export function trainStep(spec: ModelSpec, params: Arr, adam: AdamState, opts: AdamOptions, input: Tensor, target: ArrayLike<number>): number {
  const { loss, gradParams } = lossAndGrad(spec, params, input, target);
  adamStep(params, gradParams, adam, opts);
  return loss;
}
