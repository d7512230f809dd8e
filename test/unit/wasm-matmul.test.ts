// The wasm backend's matrix product (src/train/wasm/matmul.ts: hand-written SIMD in place of tfjs's XNNPACK kernel)
// against a float64 product computed here from the same inputs: every tail of M (mod 4) and N (mod 8), K of 1,
// both transposes, batches equal and broadcast, rank 4, empty and K = 0 shapes; then gradients through tf.grads.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/train/backend.ts';
import { wasmGemm } from '../../src/train/wasm/matmul.ts';

beforeAll(async () => {
  expect((await chooseBackend('wasm')).name).toBe('wasm');
});
afterAll(async () => {
  wasmGemm.enabled = true;
  await tf.setBackend('cpu');
});

/** Deterministic values in [-1, 1) with a seed (a linear congruential generator). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** C = op(A)·op(B) in float64 from the stored values; batch dims broadcast (the size-1 side repeats). */
function reference(a: Float32Array, aShape: number[], tA: boolean, b: Float32Array, bShape: number[], tB: boolean) {
  const ra = aShape.length, rb = bShape.length;
  const M = tA ? aShape[ra - 1] : aShape[ra - 2], K = tA ? aShape[ra - 2] : aShape[ra - 1];
  const N = tB ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2).reduce((x, y) => x * y, 1), batchB = bShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(batchA, batchB);
  const c = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = (batchA > 1 ? t : 0) * M * K, bo = (batchB > 1 ? t : 0) * K * N;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ao + (tA ? k * M + i : i * K + k)] * b[bo + (tB ? j * K + k : k * N + j)];
      c[t * M * N + i * N + j] = s;
    }
  }
  return c;
}

interface Case { a: number[]; b: number[]; tA?: boolean; tB?: boolean; out: number[] }

function check({ a: aShape, b: bShape, tA = false, tB = false, out }: Case, seed: number) {
  const av = values(aShape.reduce((x, y) => x * y, 1), seed), bv = values(bShape.reduce((x, y) => x * y, 1), seed + 1);
  const got = tf.tidy(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB));
  expect(got.shape).toEqual(out);
  const g = got.dataSync();
  got.dispose();
  const ref = reference(av, aShape, tA, bv, bShape, tB);
  const K = tA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
  expect(g.length).toBe(ref.length);
  let worst = 0;
  // Each term is a product of two values in [-1, 1): float32 accumulation over K terms stays within K·2⁻²³ or so.
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(g[i] - ref[i]));
  expect(worst).toBeLessThanOrEqual(Math.max(1, K) * 2 ** -22);
  return worst;
}

describe('wasm matMul (hand-written SIMD kernel) against a float64 product', () => {
  it('every tail of M (mod 4) and N (mod 8), K from 1, plain and transposed operands', () => {
    let n = 0;
    for (const M of [1, 2, 3, 4, 5, 7, 8, 13]) for (const N of [1, 3, 7, 8, 9, 16, 17]) for (const K of [1, 2, 5, 33]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        check({ a: tA ? [K, M] : [M, K], b: tB ? [N, K] : [K, N], tA, tB, out: [M, N] }, 7 * n++ + 1);
      }
    }
    expect(n).toBe(8 * 7 * 4 * 4);
  });

  it('the model\'s shapes (ViT-Tiny 128 px, batch 2: 130 tokens) and a large square', () => {
    check({ a: [130, 192], b: [192, 576], out: [130, 576] }, 11);
    check({ a: [130, 768], b: [192, 768], tB: true, out: [130, 192] }, 12);
    check({ a: [130, 192], b: [130, 768], tA: true, out: [192, 768] }, 13);
    check({ a: [65, 64], b: [65, 64], tB: true, out: [65, 65] }, 14);
    check({ a: [256, 256], b: [256, 256], out: [256, 256] }, 15);
  });

  it('batches: equal, broadcast from either side, rank 4', () => {
    check({ a: [3, 5, 6], b: [3, 6, 9], out: [3, 5, 9] }, 21);
    check({ a: [1, 5, 6], b: [4, 6, 9], out: [4, 5, 9] }, 22);
    check({ a: [4, 6, 5], b: [6, 10], tA: true, out: [4, 5, 10] }, 23);
    check({ a: [2, 3, 7, 4], b: [2, 3, 9, 4], tB: true, out: [2, 3, 7, 9] }, 24);
  });

  it('empty and K = 0 products', () => {
    check({ a: [0, 4], b: [4, 5], out: [0, 5] }, 31);
    check({ a: [3, 4], b: [4, 0], out: [3, 0] }, 32);
    const z = tf.tidy(() => tf.matMul(tf.ones([3, 0]), tf.ones([0, 5])));
    expect(Array.from(z.dataSync())).toEqual(new Array(15).fill(0));
    z.dispose();
  });

  it('gradients through tf.grads equal the float64 products dA = dC·Bᵀ, dB = Aᵀ·dC', () => {
    const [M, K, N] = [13, 21, 10];
    const av = values(M * K, 41), bv = values(K * N, 42), dc = values(M * N, 43);
    const [da, db] = tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))(
      [tf.tensor2d(av, [M, K]), tf.tensor2d(bv, [K, N])], tf.tensor2d(dc, [M, N])).map((g) => g.clone()));
    const refA = reference(dc, [M, N], false, bv, [K, N], true);
    const refB = reference(av, [M, K], true, dc, [M, N], false);
    const maxDiff = (g: tf.Tensor, r: Float64Array) => Math.max(...Array.from(g.dataSync(), (v, i) => Math.abs(v - r[i])));
    expect(maxDiff(da, refA)).toBeLessThan(N * 2 ** -22);
    expect(maxDiff(db, refB)).toBeLessThan(M * 2 ** -22);
    da.dispose();
    db.dispose();
  });

  it('agrees with tfjs\'s own kernel (XNNPACK) on the same inputs, and frees its scratch memory', () => {
    const a = tf.tensor2d(values(130 * 192, 51), [130, 192]), b = tf.tensor2d(values(192 * 577, 52), [192, 577]);
    const before = tf.memory().numTensors;
    const calls = wasmGemm.calls;
    const ours = tf.matMul(a, b);
    expect(wasmGemm.calls).toBe(calls + 1);
    wasmGemm.enabled = false;
    const theirs = tf.matMul(a, b);
    wasmGemm.enabled = true;
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]);
    expect(d).toBeLessThan(192 * 2 ** -22);
    tf.dispose([ours, theirs]);
    expect(tf.memory().numTensors).toBe(before);
    // Scratch is malloc'd and freed per call: after a few calls, 200 more leave the wasm heap's size where it was.
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    for (let i = 0; i < 5; i++) tf.matMul(a, b).dispose();
    const heap = heapBytes();
    for (let i = 0; i < 200; i++) tf.matMul(a, b).dispose();
    expect(heapBytes()).toBe(heap);
    tf.dispose([a, b]);
  });
});
