// tfjs-backend-wasm's BatchMatMul, replaced by the hand-written SIMD product of gemm.ts: every learned product of the
// model runs through this kernel on wasm, forward and backward (test/unit/flops-kernels.test.ts: no convolution
// kernel runs). The operands are packed (B in panels of 8 columns, A transposed when asked), the tails of M and N go
// through small zero-padded blocks, and cases it does not cover (not float32; batch dimensions that are neither equal
// nor 1) go to tfjs's own kernel.
import * as tf from '@tensorflow/tfjs';
import { instantiateGemm, MR, NR } from './gemm.ts';
import { isOurWasmKernel, perWasmBackend, replaceWasmKernel, wasmInternals } from './kernels.ts';

/** Switch for tests and benchmarks (false sends every product to tfjs's own kernel, XNNPACK), and a count of the products this kernel ran. */
export const wasmGemm = { enabled: true, calls: 0 };

/** The SIMD functions of a wasm backend instance (null where the engine cannot run them). */
const fnsOf = perWasmBackend(instantiateGemm);

/**
 * True when the active backend is wasm and its BatchMatMul is this kernel, able to run (enabled, SIMD present): then
 * transposed operands cost the same as plain ones (src/model/ops.ts uses the flags).
 */
export function wasmMatMulFast(): boolean {
  if (!wasmGemm.enabled || tf.getBackend() !== 'wasm' || !isOurWasmKernel('BatchMatMul')) return false;
  return fnsOf(wasmInternals(tf.backend())) !== null;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Replaces the wasm backend's BatchMatMul (once; call before or after the backend starts). The original kernel stays
 * reachable for the cases above, and its setup still runs when the backend starts.
 */
export function installWasmMatMul(): void {
  if (tf.getKernel('BatchMatMul', 'wasm')) replaceWasmKernel('BatchMatMul', (args, original) => matMulKernel(args, original!));
}

function matMulKernel(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, attrs, backend } = args;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const be = wasmInternals(backend);
  const fns = fnsOf(be);
  const ra = a.shape.length, rb = b.shape.length;
  const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
  if (!wasmGemm.enabled || !fns || a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2
    || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return fallback(args);
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  // NOTE: makeOutput and _malloc may grow the memory, which detaches views taken earlier: allocate first, view after.
  const out = be.makeOutput([...outer, M, N], 'float32');
  if (M * N === 0) return out;
  wasmGemm.calls++;
  const cBase = be.dataIdMap.get(out.dataId).memoryOffset;
  if (K === 0) {
    be.wasm.HEAPF32.fill(0, cBase / 4, cBase / 4 + M * N);
    return out;
  }
  const panels = Math.ceil(N / NR), N8 = panels * NR;
  const M4 = M - (M % MR), tail = M - M4;
  const direct = N === N8; // C's rows can be written in place; else through a staging block
  const bpBytes = K * N8 * 4, atBytes = transposeA ? M * K * 4 : 0, tailABytes = tail ? MR * K * 4 : 0;
  const stageRows = (direct ? 0 : M4) + (tail ? MR : 0);
  const scratch = be.wasm._malloc(bpBytes + atBytes + tailABytes + stageRows * N8 * 4) >>> 0;
  try {
    const bp = scratch, at = bp + bpBytes, tailA = at + atBytes, stage = tailA + tailABytes;
    const heap = be.wasm.HEAPF32;
    if (!direct) heap.fill(0, (bp + (panels - 1) * K * 32) / 4, (bp + bpBytes) / 4); // the last panel's padding
    if (tail) heap.fill(0, tailA / 4, (tailA + tailABytes) / 4);
    const aBase = be.dataIdMap.get(a.dataId).memoryOffset, bBase = be.dataIdMap.get(b.dataId).memoryOffset;
    // Byte strides of B[k, n] and A[i, k] as stored.
    const [bk, bn] = transposeB ? [4, K * 4] : [N * 4, 4];
    const { gemm, gather } = fns;
    for (let t = 0; t < batch; t++) {
      if (t === 0 || batchB > 1) {
        const bOff = bBase + (batchB > 1 ? t : 0) * K * N * 4;
        for (let p = 0; p < panels; p++) gather(bOff + p * NR * bn, bk, bn, bp + p * K * 32, 32, K, Math.min(NR, N - p * NR));
      }
      let aOff = aBase + (batchA > 1 ? t : 0) * M * K * 4;
      if (transposeA) {
        gather(aOff, 4, M * 4, at, K * 4, M, K);
        aOff = at;
      }
      const cOff = cBase + t * M * N * 4;
      if (M4) gemm(aOff, K * 4, bp, direct ? cOff : stage, direct ? N * 4 : N8 * 4, M4, K, panels);
      if (!direct && M4) gather(stage, N8 * 4, 4, cOff, N * 4, M4, N);
      if (tail) {
        const tailC = stage + (direct ? 0 : M4) * N8 * 4;
        gather(aOff + M4 * K * 4, K * 4, 4, tailA, K * 4, tail, K);
        gemm(tailA, K * 4, bp, tailC, N8 * 4, MR, K, panels);
        gather(tailC, N8 * 4, 4, cOff + M4 * N * 4, N * 4, tail, N);
      }
    }
  } finally {
    be.wasm._free(scratch);
  }
  return out;
}
