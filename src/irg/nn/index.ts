// The IRG network engine in one import: tensors, periodic conv / transposed conv / upsampling layers,
// sequential models over a flat parameter vector, Bernoulli and Gaussian-mixture heads, Adam, IRG nets.
export * from "./tensor.js";
export * from "./gemm.js";
export * from "./conv.js";
export * from "./convt.js";
export * from "./act.js";
export * from "./model.js";
export * from "./heads.js";
export * from "./adam.js";
export * from "./train.js";
export * from "./irgnet.js";
export * from "./fused.js";
export * from "./gradcheck.js";
