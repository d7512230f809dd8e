// The tfjs encoder against the float64 reference forward (test/reference/vit.ts) on every family variant,
// 2D-inflated (T = 1) and 3D (T = 3, a random full-depth kernel, 2 channels), batch 2, and a resampled grid.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, randomInput, VARIANTS } from '../../test/reference/micro.ts';
import { vitTokens } from '../../test/reference/vit.ts';
import { makeRng, truncNormal } from '../weights/inflate/index.ts';
import { encode, forwardIntermediates } from './encoder.ts';
import { disposeParams, encoderParams } from './params.ts';
import { microSetup, toModelLayout, useCpu } from './testutil.ts';

beforeAll(useCpu);

describe('encoder vs reference vitTokens', () => {
  for (const variant of VARIANTS) {
    for (const [T, C, size] of [[1, 1, 16], [3, 2, 16], [5, 1, 24]] as const) {
      it(`${variant}: T = ${T}, C_in = ${C}, ${size} px, batch 2`, () => {
        const { config, state } = microSetup(variant, { T, inChans: C, imgSize: size, strategy: T === 1 ? '2d' : 'average' });
        // A random full kernel, so that every slice and channel (and their order) matters.
        const D = config.encoder.embedDim;
        const P = config.encoder.patchSize;
        state.set('patch_embed.proj.weight', truncNormal([D, C, T, P, P], makeRng(9), { std: 0.2 }));
        const params = encoderParams(config, state);
        const n = C * T * size * size;
        const inputs = [randomInput(n, 3), randomInput(n, 4)];
        const got = tf.tidy(() => {
          const x = tf.tensor(Float32Array.from([...toModelLayout(inputs[0], C, T, size, size), ...toModelLayout(inputs[1], C, T, size, size)]), [2, T, size, size, C]);
          return encode(params, config, x).arraySync() as number[][][];
        });
        for (let b = 0; b < 2; b++) {
          const ref = vitTokens(state, config.encoder, inputs[b], [C, T, size, size]);
          expect(maxAbsDiff(got[b].flat(), ref)).toBeLessThan(1e-4);
        }
        disposeParams(params);
      });
    }
  }

  it('forwardIntermediates returns raw block outputs; the last equals encode() before the final norm', () => {
    const { config, state } = microSetup('vit', { T: 3 });
    const params = encoderParams(config, state);
    tf.tidy(() => {
      const x = tf.randomUniform([1, 3, 16, 16, 1], -1, 1, 'float32', 5);
      const [a, b] = forwardIntermediates(params, config, x, [1, 2]);
      expect(a.shape).toEqual([1, 17, 16]);
      expect(b.shape).toEqual([1, 17, 16]);
      const normed = encode(params, config, x);
      expect(tf.max(tf.abs(normed.sub(b))).dataSync()[0]).toBeGreaterThan(1e-3);
      expect(() => forwardIntermediates(params, config, x, [3])).toThrow(/block 3 outside 1…2/);
      expect(() => encode(params, config, tf.zeros([1, 2, 16, 16, 1]))).toThrow(/input must be \[B, T=3/);
    });
    disposeParams(params);
  });
});
