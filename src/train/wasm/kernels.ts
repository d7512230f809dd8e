// What our own kernels for tfjs-backend-wasm share: the backend's internals they use (its heap, tensor offsets,
// outputs), replacing one of its kernels while keeping the original reachable, and one instance of a hand-written
// module per backend (bound to that backend's memory).
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm 4.22's BackendWasm our kernels use (internal API: checked by the wasm tests). */
export interface WasmBackendInternals {
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPF32: Float32Array; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(id: tf.DataId): void;
}

/** The wasm backend behind a kernel's `backend` argument. */
export const wasmInternals = (backend: unknown): WasmBackendInternals => backend as WasmBackendInternals;

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Registers `kernelFunc` as the wasm backend's `name` (once: a second call does nothing), in place of tfjs's kernel
 * where it has one; `kernelFunc` gets that original to fall back on. The original's setup still runs when the
 * backend starts, so call before or after it starts.
 */
export function replaceWasmKernel(name: string, kernelFunc: (args: KernelArgs, original: tf.KernelFunc | undefined) => tf.TensorInfo | tf.TensorInfo[]): void {
  if (isOurWasmKernel(name)) return;
  const original = tf.getKernel(name, 'wasm');
  if (original) tf.unregisterKernel(name, 'wasm');
  const config: tf.KernelConfig & { inflateseg: true } = {
    kernelName: name, backendName: 'wasm', setupFunc: original?.setupFunc, inflateseg: true,
    kernelFunc: (args) => kernelFunc(args, original?.kernelFunc),
  };
  tf.registerKernel(config);
}

/** True when the wasm backend's `name` is one registered by replaceWasmKernel. */
export const isOurWasmKernel = (name: string): boolean => !!(tf.getKernel(name, 'wasm') as { inflateseg?: boolean } | undefined)?.inflateseg;

/**
 * `instantiate` bound to each wasm backend's memory, made on first use and kept per backend instance; null where
 * the backend exposes no memory or `instantiate` gives null (no SIMD): the caller then works without it.
 */
export function perWasmBackend<T>(instantiate: (memory: WebAssembly.Memory) => T | null): (be: WasmBackendInternals) => T | null {
  const made = new WeakMap<object, T | null>();
  return (be) => {
    if (!made.has(be)) made.set(be, be.wasm.asm?.memory ? instantiate(be.wasm.asm.memory) : null);
    return made.get(be)!;
  };
}
