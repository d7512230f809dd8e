// tfjs-backend-wasm's Slice, replaced by a copy of whole contiguous runs within the wasm heap (TypedArray.copyWithin).
// NOTE: tfjs-backend-wasm 4.22's Slice first copies the WHOLE input out of the heap (readSync), then copies row by row in
// JavaScript for rank ≤ 4 and element by element (sliceImplCPU) for rank 5 and up: one shifted copy of a 32³×8 volume
// took 0.4–0.7 s. The volume model's 3×3×3 convolutions (src/model/volume/ops3d.ts) take 27 shifted copies of every
// input, forward and backward. Here: the runs below the innermost axis that is not taken whole are contiguous in
// both input and output; each is one copyWithin. float32 and int32 only; other dtypes go to tfjs's kernel.
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel, wasmInternals } from './kernels.ts';

/** Replaces the wasm backend's Slice (once; call before or after the backend starts). */
export function installWasmSlice(): void {
  if (tf.getKernel('Slice', 'wasm')) replaceWasmKernel('Slice', (args, original) => sliceKernel(args, original!));
}

function sliceKernel(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, attrs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return fallback(args);
  const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  const be = wasmInternals(backend);
  // NOTE: makeOutput may grow the wasm memory, which detaches views taken before it: output first.
  const out = be.makeOutput(s, x.dtype);
  const rank = x.shape.length;
  const n = s.reduce((p, v) => p * v, 1);
  if (n === 0) return out;
  if (rank === 0) {
    const heap0 = be.wasm.HEAPF32;
    const src = be.dataIdMap.get(x.dataId).memoryOffset / 4;
    heap0.copyWithin(be.dataIdMap.get(out.dataId).memoryOffset / 4, src, src + 1);
    return out;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * x.shape[i + 1];
  // The innermost axis not taken whole; everything below it is one contiguous run.
  let k = rank - 1;
  while (k > 0 && s[k] === x.shape[k]) k--;
  const run = s[k] * strides[k];
  // NOTE: copyWithin copies bytes (ECMAScript spec), so int32 data goes through the float32 view bit-exact.
  const heap = be.wasm.HEAPF32;
  const src0 = be.dataIdMap.get(x.dataId).memoryOffset / 4 + b.reduce((acc, v, i) => acc + v * strides[i], 0);
  let dst = be.dataIdMap.get(out.dataId).memoryOffset / 4;
  const idx = new Array<number>(k).fill(0);
  const runs = n / run;
  for (let r = 0; r < runs; r++) {
    let src = src0;
    for (let i = 0; i < k; i++) src += idx[i] * strides[i];
    heap.copyWithin(dst, src, src + run);
    dst += run;
    for (let i = k - 1; i >= 0; i--) {
      if (++idx[i] < s[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}
