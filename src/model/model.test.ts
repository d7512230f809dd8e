// End to end: the 'center'-inflated 3D model at init equals the 2D model on the centre slice (same decoder weights),
// for both heads and ViT / BEiT; output shapes for odd grids; predict; the 'average' identity on constant windows.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Variant } from '../../test/reference/micro.ts';
import { forward, predict } from './index.ts';
import { createParams, disposeParams } from './params.ts';
import { microSetup, useCpu, type MicroOptions } from './testutil.ts';
import type { DecoderKind } from './config.ts';

beforeAll(useCpu);

function logits(variant: Variant, o: MicroOptions, x: tf.Tensor): Float32Array {
  const { config, state } = microSetup(variant, o);
  const params = createParams(config, state, 7);
  const out = tf.tidy(() => forward(params, config, x).dataSync() as Float32Array);
  disposeParams(params);
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('center inflation: 3D model at init = 2D model on the centre slice', () => {
  const cases: [Variant, DecoderKind, number][] = [['vit', 'unetr', 5], ['beit', 'unetr', 3], ['deit', 'uper', 5], ['vit-ls', 'uper', 3]];
  for (const [variant, decoder, T] of cases) {
    it(`${variant}, ${decoder}, T = ${T}`, () => {
      const x3 = tf.randomUniform([2, T, 16, 16, 2], 0, 1, 'float32', 11);
      const x2 = tf.slice(x3, [0, Math.floor(T / 2), 0, 0, 0], [2, 1, 16, 16, 2]);
      const common = { inChans: 2, decoder, decoderWidth: 8, numClasses: 3 };
      const a = logits(variant, { ...common, T, strategy: 'center' }, x3);
      const b = logits(variant, { ...common, T: 1, strategy: '2d' }, x2);
      expect(a.length).toBe(2 * 16 * 16 * 3);
      expect(maxDiff(a, b)).toBeLessThanOrEqual(1e-4);
      // The other slices really are ignored at init, and the logits are not trivially constant.
      const noisy = tf.tidy(() => x3.add(tf.randomUniform(x3.shape, 0, 1, 'float32', 12).mul(tf.oneHot([0], T).reshape([1, T, 1, 1, 1]))));
      expect(maxDiff(logits(variant, { ...common, T, strategy: 'center' }, noisy), b)).toBeLessThanOrEqual(1e-4);
      expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(1e-4);
      tf.dispose([x3, x2, noisy]);
    });
  }

  it("'average' inflation: a window of identical slices gives the 2D model's logits", () => {
    const s = tf.randomUniform([1, 1, 16, 16, 1], 0, 1, 'float32', 13);
    const x3 = tf.tile(s, [1, 3, 1, 1, 1]);
    const a = logits('dino', { T: 3, strategy: 'average' }, x3);
    const b = logits('dino', { T: 1, strategy: '2d' }, s);
    expect(maxDiff(a, b)).toBeLessThanOrEqual(1e-4);
    tf.dispose([s, x3]);
  });
});

describe('forward / predict', () => {
  for (const decoder of ['unetr', 'uper'] as const) {
    for (const size of [12, 20, 32]) {
      it(`${decoder}: ${size} px (grid ${size / 4}) → logits [B, ${size}, ${size}, K]; predict is argmax, no leaks`, () => {
        const { config, state } = microSetup('vit', { T: 3, imgSize: size, decoder });
        const params = createParams(config, state, 1);
        const before = tf.memory().numTensors;
        const x = tf.randomUniform([1, 3, size, size, 1], 0, 1, 'float32', 2);
        const out = tf.tidy(() => forward(params, config, x));
        expect(out.shape).toEqual([1, size, size, 3]);
        const cls = predict(params, config, x);
        expect(cls.shape).toEqual([1, size, size]);
        expect(cls.dtype).toBe('int32');
        const ref = tf.tidy(() => tf.argMax(out, 3));
        expect(Array.from(cls.dataSync())).toEqual(Array.from(ref.dataSync()));
        tf.dispose([x, out, cls, ref]);
        expect(tf.memory().numTensors).toBe(before);
        disposeParams(params);
      });
    }
  }
});
