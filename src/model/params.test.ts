// Parameter map: exact round trip through toStateDict/createParams, strict checks with the key in the message,
// decoder init statistics, trainable flags, names and layouts, the no-weight-decay rule, config defaults.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultFeatureBlocks, makeConfig } from './config.ts';
import { decoderParamSpecs } from './decoder.ts';
import { createParams, disposeParams, toStateDict, trainableVars } from './params.ts';
import { microSetup, useCpu } from './testutil.ts';

beforeAll(useCpu);

describe('params', () => {
  for (const decoder of ['unetr', 'uper'] as const) {
    it(`toStateDict → createParams round trip is exact (beit, ${decoder})`, () => {
      const { config, state } = microSetup('beit', { T: 3, decoder });
      const before = tf.memory().numTensors;
      const a = createParams(config, state, 3);
      const sd = toStateDict(a);
      const b = createParams(config, sd, 99); // the decoder in sd wins over the seed
      const sd2 = toStateDict(b);
      expect([...sd2.keys()]).toEqual([...sd.keys()]);
      for (const [k, t] of sd) {
        expect(sd2.get(k)?.shape).toEqual(t.shape);
        expect(sd2.get(k)?.data).toEqual(t.data);
        if (!k.startsWith('decode_head.')) expect(Array.from(t.data)).toEqual(Array.from(state.get(k)?.data ?? []));
      }
      expect(sd.get('patch_embed.proj.weight')?.shape).toEqual([16, 1, 3, 4, 4]);
      disposeParams(a);
      disposeParams(b);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('decoder: PyTorch layouts, He init, zero biases, same seed → same weights', () => {
    const { config } = microSetup('vit', { decoderWidth: 32 });
    const specs = decoderParamSpecs(config);
    expect(specs.get('decode_head.lateral.0.weight')?.shape).toEqual([32, 16, 1, 1]);
    expect(specs.get('decode_head.up.0.0.weight')?.shape).toEqual([32, 32, 2, 2]);
    expect(specs.get('decode_head.fuse.0.weight')?.shape).toEqual([32, 32, 3, 3]);
    expect(specs.get('decode_head.conv_seg.weight')?.shape).toEqual([3, 32, 1, 1]);
    const p = createParams(config, null, 5);
    const q = createParams(config, null, 5);
    expect([...p.keys()].every((k) => k.startsWith('decode_head.'))).toBe(true);
    const fuse = p.get('decode_head.fuse.1.weight')?.dataSync() as Float32Array;
    const std = Math.sqrt(fuse.reduce((s, v) => s + v * v, 0) / fuse.length);
    expect(std).toBeGreaterThan(0.85 * Math.sqrt(2 / (32 * 9)));
    expect(std).toBeLessThan(1.15 * Math.sqrt(2 / (32 * 9)));
    expect(Array.from(p.get('decode_head.fuse.1.bias')?.dataSync() ?? []).every((v) => v === 0)).toBe(true);
    expect(Array.from(q.get('decode_head.fuse.1.weight')?.dataSync() ?? [])).toEqual(Array.from(fuse));
    disposeParams(p);
    disposeParams(q);
  });

  it('uper: mmseg-like names, channel norms at 1 / 0', () => {
    const { config } = microSetup('vit', { decoder: 'uper', decoderWidth: 8 });
    const specs = decoderParamSpecs(config);
    expect(specs.get('decode_head.fpn1.0.weight')?.shape).toEqual([16, 16, 2, 2]);
    expect(specs.get('decode_head.psp_modules.3.1.conv.weight')?.shape).toEqual([8, 16, 1, 1]);
    expect(specs.get('decode_head.bottleneck.conv.weight')?.shape).toEqual([8, 16 + 32, 3, 3]);
    expect(specs.get('decode_head.fpn_bottleneck.norm.weight')?.init).toEqual({ kind: 'ones' });
    expect(specs.has('decode_head.bottleneck.conv.bias')).toBe(false);
  });

  it('fc_norm (BEiT, unused by the forward) is kept for export but not trainable', () => {
    const { config, state } = microSetup('beit');
    const p = createParams(config, state);
    expect(p.get('fc_norm.weight')?.trainable).toBe(false);
    expect(trainableVars(p).length).toBe(p.size - 2);
    disposeParams(p);
  });

  it('strict: missing, unknown and mis-shaped keys are errors naming the key', () => {
    const { config, state } = microSetup('vit', { T: 3 });
    const missing = new Map(state);
    missing.delete('blocks.1.mlp.fc2.bias');
    expect(() => createParams(config, missing)).toThrow(/missing: blocks\.1\.mlp\.fc2\.bias/);
    const extra = new Map(state).set('head.weight', state.get('norm.weight')!);
    expect(() => createParams(config, extra)).toThrow(/unknown: head\.weight/);
    const wrongT = microSetup('vit', { T: 5 }).state;
    expect(() => createParams(config, wrongT)).toThrow(/'patch_embed\.proj\.weight' has shape \[16, 1, 5, 4, 4\], the config needs \[16, 1, 3, 4, 4\]/);
    const partialDecoder = new Map(state).set('decode_head.conv_seg.bias', { dtype: 'float32', shape: [3], data: new Float32Array(3) });
    expect(() => createParams(config, partialDecoder)).toThrow(/decoder state .* missing: decode_head\.lateral\.0\.weight/);
  });

  it('config defaults: paper taps 4, 6, 8, 12 for depth 12; unetr, width 64, T from the spec', () => {
    expect(defaultFeatureBlocks(12)).toEqual([4, 6, 8, 12]);
    expect(defaultFeatureBlocks(2)).toEqual([1, 1, 1, 2]);
    const { spec } = microSetup('vit', { T: 3 });
    const c = makeConfig({ encoder: spec, numClasses: 4 });
    expect(c).toMatchObject({ T: 3, inChans: 1, imgSize: 16, decoder: 'unetr', decoderWidth: 64, featureBlocks: [1, 1, 1, 2] });
    expect(() => makeConfig({ encoder: spec, numClasses: 4, imgSize: 18 })).toThrow(/imgSize must be a positive multiple of the patch size 4, found 18/);
    expect(() => makeConfig({ encoder: spec, numClasses: 4, featureBlocks: [1, 2, 3, 4] })).toThrow(/featureBlocks entries must be 1…2/);
  });
});
