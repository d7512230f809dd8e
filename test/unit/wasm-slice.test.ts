// The wasm backend's Slice (src/train/wasm/slice.ts: contiguous runs copied within the heap) against an element-by-element
// reference computed here: ranks 0–6, float32 and int32 (bit-exact, NaN payloads included), whole and partial axes,
// contiguous slices, empty sizes, size −1, and the bool fallback to tfjs's kernel; its gradient (a pad) through tf.grad.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chooseBackend } from '../../src/train/backend.ts';
import { isOurWasmKernel } from '../../src/train/wasm/kernels.ts';

beforeAll(async () => {
  expect((await chooseBackend('wasm')).name).toBe('wasm');
});
afterAll(async () => { await tf.setBackend('cpu'); });

/** out[i…] = x[begin + i…] by index arithmetic. */
function reference(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const n = size.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let f = 0; f < n; f++) {
    let rem = f, src = 0;
    for (let i = size.length - 1; i >= 0; i--) {
      src += (begin[i] + (rem % size[i])) * strides[i];
      rem = Math.floor(rem / size[i]);
    }
    out.push(x[src]);
  }
  return out;
}

it('is the registered kernel and copies every kind of slice exactly', () => {
  expect(isOurWasmKernel('Slice')).toBe(true);
  let seed = 7;
  const rnd = (k: number) => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed % k; };
  const cases: [number[], number[], number[]][] = [
    [[5], [1], [3]], [[4, 6], [1, 0], [2, 6]], [[4, 6], [0, 2], [4, 3]], [[3, 4, 5], [1, 1, 1], [2, 2, 3]],
    [[2, 34, 34, 34, 3], [0, 1, 2, 0, 0], [2, 32, 32, 32, 3]], [[2, 6, 6, 6, 4], [1, 0, 0, 0, 0], [1, 6, 6, 6, 4]],
    [[2, 3, 4, 5, 6, 7], [0, 1, 1, 2, 0, 3], [2, 2, 3, 3, 6, 4]], [[3, 4], [0, 0], [0, 4]],
  ];
  for (let r = 0; r < 20; r++) {
    const rank = 1 + rnd(6);
    const shape = Array.from({ length: rank }, () => 1 + rnd(5));
    const begin = shape.map((s) => rnd(s));
    cases.push([shape, begin, shape.map((s, i) => 1 + rnd(s - begin[i]))]);
  }
  for (const [shape, begin, size] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
    const i32 = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0);
    const got = tf.tidy(() => [tf.slice(tf.tensor(f, shape), begin, size).dataSync(), tf.slice(tf.tensor(i32, shape, 'int32'), begin, size).dataSync()]);
    expect(Array.from(got[0]), `float32 ${shape} ${begin} ${size}`).toEqual(reference(f, shape, begin, size));
    expect(Array.from(got[1]), `int32 ${shape} ${begin} ${size}`).toEqual(reference(i32, shape, begin, size));
  }
  // Size −1 (to the end), a scalar, NaN payloads bit-exact through the float32 view, bool through tfjs's kernel.
  expect(Array.from(tf.tidy(() => tf.slice(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]), [0, 1], [-1, -1]).dataSync()))).toEqual([2, 3, 5, 6]);
  const nan = new Float32Array(new Uint32Array([0x7fc00001, 0xffc12345, 5]).buffer);
  expect(Array.from(new Uint32Array(tf.tidy(() => tf.slice(tf.tensor(nan), [0], [2]).dataSync() as Float32Array).buffer))).toEqual([0x7fc00001, 0xffc12345]);
  expect(Array.from(tf.tidy(() => tf.slice(tf.tensor([true, false, true, true], [2, 2], 'bool'), [1, 0], [1, 2]).dataSync()))).toEqual([1, 1]);
});

it('has tfjs\'s gradient (a pad)', () => {
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.slice(x, [0, 1, 0], [2, 2, 3]).mul(tf.range(1, 13).reshape([2, 2, 3])).sum())(tf.ones([2, 4, 3])).dataSync());
  expect(Array.from(g)).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0, 0]);
});
