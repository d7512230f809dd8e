// A kernel guard for tests: records the name of every kernel a function runs (forward and backward) by wrapping the
// engine's runKernel, and asserts none of the kernels tfjs 4.22 cannot differentiate (or we must not use) ran.
import * as tf from '@tensorflow/tfjs';

/** Kernels without a gradient in tfjs 4.22 (Einsum, StridedSlice, Conv3DBackpropInputV2) or banned from the graph (Conv3D). */
export const FORBIDDEN_KERNELS: readonly string[] = ['Einsum', 'StridedSlice', 'Conv3DBackpropInputV2', 'Conv3D'];

/** Runs fn and returns its result and the set of kernel names dispatched through the engine while it ran. */
export function recordKernels<T>(fn: () => T): { result: T; kernels: Set<string> } {
  const engine = tf.engine();
  const original = engine.runKernel;
  const kernels = new Set<string>();
  engine.runKernel = function (this: typeof engine, name: string, ...rest: unknown[]) {
    kernels.add(name);
    return (original as (...a: unknown[]) => unknown).call(this, name, ...rest);
  } as typeof engine.runKernel;
  try {
    return { result: fn(), kernels };
  } finally {
    engine.runKernel = original;
  }
}

/** Runs fn (e.g. forward + gradient of the loss) and throws, naming them, if any forbidden kernel ran; returns the kernel set. */
export function assertNoForbiddenKernels(fn: () => void, forbidden: readonly string[] = FORBIDDEN_KERNELS): Set<string> {
  const { kernels } = recordKernels(fn);
  const bad = forbidden.filter((k) => kernels.has(k));
  if (bad.length) throw new Error(`guard: forbidden kernels ran: ${bad.join(', ')} (all kernels: ${[...kernels].sort().join(', ')})`);
  return kernels;
}
