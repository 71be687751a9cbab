// The project's WebAssembly SIMD kernels (asm/*.ts, compiled by `npm run asbuild` into dist/asm/): the one
// place that reads a compiled module, and the few WebAssembly calls used, typed by hand (the lib settings
// have no WebAssembly types).

import { readFileSync } from "node:fs";

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (mod: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The compiled kernel dist/asm/<name>.wasm; throws where it is not built or SIMD is missing. */
export function compileKernel(name: string): object {
  return new WA.Module(readFileSync(new URL(`../../asm/${name}.wasm`, import.meta.url)));
}

/** A memory of `pages` 64 KiB pages, to be imported by a kernel. */
export function wasmMemory(pages: number): WasmMemory {
  return new WA.Memory({ initial: pages });
}

/** An instance of `mod` importing env.memory, env.abort (a no-op unless given) and `env`; its exports as E. */
export function instantiate<E>(mod: object, memory: WasmMemory, env: Record<string, unknown> = {}): E {
  return new WA.Instance(mod, { env: { memory, abort() {}, ...env } }).exports as E;
}
