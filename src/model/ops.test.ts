// Layer semantics against PyTorch's definitions written as explicit loops: Conv2d and ConvTranspose2d(k2, s2) with
// PyTorch weight layouts, bilinear resize (align_corners=False), adaptive average pooling, 2×2 max pooling; the plain
// matMul helpers' custom gradients against tfjs's own matMul gradients.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, randomInput } from '../../test/reference/micro.ts';
import { adaptiveAvgPool, conv2d, convTranspose2x2, linear, matMul2d, matMulBT, maxPool2, resizeBilinear } from './ops.ts';
import { useCpu } from './testutil.ts';

beforeAll(useCpu);

const run = (f: () => tf.Tensor): number[] => tf.tidy(() => Array.from(f().dataSync()));

describe('ops', () => {
  it('conv2d: PyTorch weight [out, in, k, k], padding k // 2, on NHWC', () => {
    const [B, H, W, I, O, k] = [2, 5, 4, 3, 2, 3];
    const x = randomInput(B * H * W * I, 1);
    const w = randomInput(O * I * k * k, 2);
    const b = randomInput(O, 3);
    const want = new Float32Array(B * H * W * O);
    for (let n = 0; n < B; n++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) {
        const yy = y + dy - 1;
        const xs = xx + dx - 1;
        if (yy >= 0 && yy < H && xs >= 0 && xs < W) s += w[((o * I + i) * k + dy) * k + dx] * x[((n * H + yy) * W + xs) * I + i];
      }
      want[((n * H + y) * W + xx) * O + o] = s;
    }
    const got = run(() => conv2d(tf.tensor4d(x, [B, H, W, I]), tf.tensor4d(w, [O, I, k, k]), tf.tensor1d(b)));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    const w1 = randomInput(O * I, 4);
    const got1 = run(() => conv2d(tf.tensor4d(x, [B, H, W, I]), tf.tensor4d(w1, [O, I, 1, 1]), null));
    const want1 = new Float32Array(B * H * W * O);
    for (let p = 0; p < B * H * W; p++) for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) want1[p * O + o] += w1[o * I + i] * x[p * I + i];
    expect(maxAbsDiff(got1, want1)).toBeLessThan(1e-5);
  });

  it('convTranspose2x2: PyTorch ConvTranspose2d(k 2, stride 2), weight [in, out, 2, 2]', () => {
    const [B, H, W, I, O] = [2, 3, 2, 3, 4];
    const x = randomInput(B * H * W * I, 5);
    const w = randomInput(I * O * 4, 6);
    const b = randomInput(O, 7);
    const want = new Float32Array(B * 2 * H * 2 * W * O);
    for (let n = 0; n < B; n++) for (let y = 0; y < 2 * H; y++) for (let xx = 0; xx < 2 * W; xx++) for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += x[((n * H + (y >> 1)) * W + (xx >> 1)) * I + i] * w[((i * O + o) * 2 + (y & 1)) * 2 + (xx & 1)];
      want[((n * 2 * H + y) * 2 * W + xx) * O + o] = s;
    }
    const got = run(() => convTranspose2x2(tf.tensor4d(x, [B, H, W, I]), tf.tensor4d(w, [I, O, 2, 2]), tf.tensor1d(b)));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it('resizeBilinear matches F.interpolate(bilinear, align_corners=False)', () => {
    // torch: F.interpolate(tensor([[[[1., 2.]]]]), size=(1, 4), mode='bilinear') → [1, 1.25, 1.75, 2]
    expect(run(() => resizeBilinear(tf.tensor4d([1, 2], [1, 1, 2, 1]), 1, 4))).toEqual([1, 1.25, 1.75, 2]);
    // ×½ of [0, 1, 2, 3] samples at 0.5 and 2.5 → [0.5, 2.5]; 3 → 2 samples at 0.25 and 1.75.
    expect(run(() => resizeBilinear(tf.tensor4d([0, 1, 2, 3], [1, 4, 1, 1]), 2, 1))).toEqual([0.5, 2.5]);
    const r = run(() => resizeBilinear(tf.tensor4d([0, 1, 2], [1, 1, 3, 1]), 1, 2));
    expect(r[0]).toBeCloseTo(0.25, 6);
    expect(r[1]).toBeCloseTo(1.75, 6);
    // Separable in 2D with channels kept apart.
    const two = run(() => resizeBilinear(tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]), 4, 4));
    expect(two.length).toBe(32);
    expect(two[0]).toBeCloseTo(1, 6);
    expect(two[1]).toBeCloseTo(10, 6);
    expect(two[31]).toBeCloseTo(40, 6);
  });

  it('adaptiveAvgPool matches nn.AdaptiveAvgPool2d bins (also when the output is larger)', () => {
    // 1×3 → 1×1: the global mean.
    expect(run(() => adaptiveAvgPool(tf.tensor4d([1, 2, 4], [1, 1, 3, 1]), 1))[0]).toBeCloseTo(7 / 3, 6);
    // 1×3 → 1×2 (along w; h 1 → 1 needs s = 1, so pool a 3×3 map to 2×2 instead): bins [0, 2) and [1, 3).
    const p = run(() => adaptiveAvgPool(tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]), 2));
    expect(p.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([2, 3, 5, 6]);
    const w = run(() => adaptiveAvgPool(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), 3));
    // bins along an axis of 2 for 3 outputs: [0,1), [0,2), [1,2).
    expect(w.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });

  it('maxPool2 floors odd sides and passes a side of 1 through', () => {
    expect(run(() => maxPool2(tf.tensor4d([1, 5, 2, 3, 4, 0, 9, 9, 9], [1, 3, 3, 1])))).toEqual([5]);
    expect(run(() => maxPool2(tf.tensor4d([1, 5, 2, 3], [1, 1, 4, 1])))).toEqual([5, 3]);
  });

  it('matMul2d, matMulBT and linear: values and gradients equal those of tfjs matMul (custom plain-matMul backward)', () => {
    const t = (n: number, shape: number[], seed: number) => tf.tensor(randomInput(n, seed), shape);
    const grads = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor): number[][] => tf.tidy(() => {
      const { value, grads: g } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => f(x, y).mul(dy).sum())([a, b]);
      return [value, ...g].map((v) => Array.from(v.dataSync()));
    });
    const same = (got: number[][], want: number[][]) => got.forEach((g, i) => expect(maxAbsDiff(g, Float32Array.from(want[i]))).toBeLessThan(1e-5));
    const [a, b, dy] = [t(12, [3, 4], 11), t(20, [4, 5], 12), t(15, [3, 5], 13)];
    same(grads(matMul2d, a, b, dy), grads((x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), a, b, dy));
    // linear: x [2, 3, 4] · W [5, 4]ᵀ.
    const [x, w, dl] = [t(24, [2, 3, 4], 14), t(20, [5, 4], 15), t(30, [2, 3, 5], 16)];
    same(grads((p, q) => linear(p, q, null), x, w, dl), grads((p, q) => tf.matMul(p.reshape([6, 4]), q, false, true).reshape([2, 3, 5]), x, w, dl));
    // matMulBT: [3, 4] · [5, 4]ᵀ.
    const bt = t(20, [5, 4], 17);
    same(grads(matMulBT, a, bt, dy), grads((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, false, true), a, bt, dy));
    tf.dispose([a, b, dy, x, w, dl, bt]);
  });
});
