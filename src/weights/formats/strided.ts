// Strided tensors (PyTorch views: transposes, slices) → row-major copies.
import type { VoxelArray } from '../../core/types.ts';

/** True when the strides are row-major for the shape (strides of size-1 dimensions do not matter). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Copies the elements of `src` at Σ index·stride (offset already applied) into a new row-major array. */
export function gather(src: VoxelArray, shape: readonly number[], stride: readonly number[]): VoxelArray {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new (src.constructor as new (n: number) => VoxelArray)(numel);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const inner = nd ? shape[nd - 1] : 1;
  const innerStride = nd ? stride[nd - 1] : 0;
  let base = 0;
  for (let o = 0; o < numel; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = src[base + j * innerStride];
    // Advance the outer index like an odometer.
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < shape[d]) break;
      base -= idx[d] * stride[d];
      idx[d] = 0;
    }
  }
  return out;
}
