// Losses against values computed by hand on a 1×2×2 image with 2 classes (probabilities 3/4, 1/4, 1/2 chosen to
// keep the arithmetic exact), plus input checks and a stable gradient on extreme logits.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { segLoss, type LossOptions } from './losses.ts';
import { useCpu } from './testutil.ts';

beforeAll(useCpu);

const L3 = Math.log(3);
// Pixels (row-major): logits → softmax p, label.
//   0: [ln3, 0] → [3/4, 1/4], label 0     1: [0, ln3] → [1/4, 3/4], label 1
//   2: [0, 0]   → [1/2, 1/2], label 1     3: [ln3, 0] → [3/4, 1/4], label 1
const LOGITS = [L3, 0, 0, L3, 0, 0, L3, 0];
const LABELS = [0, 1, 1, 1];
// p of the label: 3/4, 3/4, 1/2, 1/4.
const CE = -(Math.log(0.75) * 2 + Math.log(0.5) + Math.log(0.25)) / 4; // 0.6637015
const FOCAL = -(0.25 ** 2 * Math.log(0.75) * 2 + 0.5 ** 2 * Math.log(0.5) + 0.75 ** 2 * Math.log(0.25)) / 4; // 0.2472344
// Dice class 0: Σp·y = 3/4, Σp = 9/4, Σy = 1 → 1.5 / 3.25.  Class 1: Σp·y = 3/4 + 1/2 + 1/4 = 3/2, Σp = 7/4, Σy = 3 → 3 / 4.75.
const DICE0 = 1.5 / 3.25;
const DICE1 = 3 / 4.75;
const DICE = 1 - (DICE0 + DICE1) / 2; // 0.4534413
const DICE_FG = 1 - DICE1; // 0.3684211

const loss = (opts: LossOptions): number =>
  tf.tidy(() => segLoss(tf.tensor4d(LOGITS, [1, 2, 2, 2]), tf.tensor3d(LABELS, [1, 2, 2], 'int32'), opts).dataSync()[0]);

describe('losses (hand-computed, 1×2×2, 2 classes)', () => {
  it('cross-entropy', () => expect(loss({ kind: 'ce' })).toBeCloseTo(CE, 6));
  it('Dice + CE (smooth 0 is exact; the default 1e-5 is within 1e-5)', () => {
    expect(loss({ kind: 'dice-ce', smooth: 0 })).toBeCloseTo(DICE + CE, 6);
    expect(Math.abs(loss({ kind: 'dice-ce' }) - (DICE + CE))).toBeLessThan(1e-5);
  });
  it('Dice + focal (γ = 2) is the default', () => {
    expect(loss({ smooth: 0 })).toBeCloseTo(DICE + FOCAL, 6);
    expect(loss({ kind: 'dice-focal', gamma: 2, smooth: 0 })).toBeCloseTo(DICE + FOCAL, 6);
  });
  it('focal with γ = 0 is cross-entropy; a non-integer γ uses pow', () => {
    expect(loss({ gamma: 0, smooth: 0 })).toBeCloseTo(DICE + CE, 6);
    const f15 = -(0.25 ** 1.5 * Math.log(0.75) * 2 + 0.5 ** 1.5 * Math.log(0.5) + 0.75 ** 1.5 * Math.log(0.25)) / 4;
    expect(loss({ gamma: 1.5, smooth: 0 })).toBeCloseTo(DICE + f15, 6);
  });
  it('ignoreBackground leaves class 0 out of the Dice mean', () => {
    expect(loss({ kind: 'dice-ce', ignoreBackground: true, smooth: 0 })).toBeCloseTo(DICE_FG + CE, 6);
  });
  it('stays finite, with finite gradients, on extreme logits', () => {
    const { value, grad } = tf.tidy(() => {
      const logits = tf.tensor4d([200, -200, -200, 200, 0, 0, 300, -300], [1, 2, 2, 2]);
      const labels = tf.tensor3d([0, 1, 1, 1], [1, 2, 2], 'int32');
      const g = tf.valueAndGrad((l: tf.Tensor) => segLoss(l, labels))(logits);
      return { value: g.value.dataSync()[0], grad: Array.from(g.grad.dataSync()) };
    });
    expect(Number.isFinite(value)).toBe(true);
    expect(grad.every(Number.isFinite)).toBe(true);
  });
  it('rejects bad shapes and float labels', () => {
    tf.tidy(() => {
      const logits = tf.zeros([1, 2, 2, 2]);
      expect(() => segLoss(logits, tf.zeros([1, 2, 3], 'int32'))).toThrow(/labels \[B, H, W\]/);
      expect(() => segLoss(logits, tf.zeros([1, 2, 2]))).toThrow(/int32/);
    });
  });
});
