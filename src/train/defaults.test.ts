// The defaults by encoder kind and data: sizes worked out by hand from the samples' in-plane voxels.
import { describe, expect, it } from 'vitest';
import { MICRO_DEFAULTS_SPEC, randomInit, suggestDefaults, suggestImgSize } from './defaults.ts';

const vit16 = { embedDim: 192, patchSize: 16, grid: [14, 14] as [number, number] };

describe('suggestImgSize', () => {
  it('follows the data\'s in-plane size, rounded to the patch, between 4 patches and the native size', () => {
    const size = (plane?: [number, number]) => suggestImgSize({ spec: vit16, strategy: 'center', micro: false, plane });
    expect(size([91, 109])).toBe(112); // Colin27 2 mm axial: 109 / 16 = 6.8 → 7 patches
    expect(size([181, 217])).toBe(224); // Colin27 1 mm: 13.6 → 14 patches = the native 224
    expect(size([512, 512])).toBe(224); // a CT slice: capped at the pre-training size
    expect(size([128, 128])).toBe(128); // ITK head
    expect(size([20, 24])).toBe(64); // at least 4 patches
    expect(size(undefined)).toBe(224); // no data yet: native
  });

  it('reports a size already settled (typed by the user, or the converted encoder\'s) instead of choosing one', () => {
    expect(suggestImgSize({ spec: vit16, strategy: 'center', micro: false, plane: [91, 109], imgSize: 160 })).toBe(160);
    expect(suggestDefaults({ spec: vit16, strategy: 'center', micro: false, plane: [91, 109], imgSize: 160 }).why).toBe('pre-trained: lr 1e-4, 500 steps, 160 px (slices of 91×109 voxels)');
  });

  it('keeps the micro ViT at its native 64 px whatever the data', () => {
    expect(suggestImgSize({ spec: MICRO_DEFAULTS_SPEC, strategy: 'center', micro: true, plane: [181, 217] })).toBe(64);
  });
});

describe('suggestDefaults', () => {
  it('gives random-init encoders lr 1e-3 and pre-trained ones 1e-4', () => {
    const micro = suggestDefaults({ spec: MICRO_DEFAULTS_SPEC, strategy: 'center', micro: true });
    expect(micro.train).toEqual({ steps: 1500, lr: 1e-3, warmupSteps: 50, valEvery: 100, augment: 'light' });
    expect(micro.why).toMatch(/micro ViT, random init/);
    const scratch = suggestDefaults({ spec: vit16, strategy: 'scratch', micro: false, plane: [91, 109] });
    expect(scratch.train.lr).toBe(1e-3);
    expect(scratch.imgSize).toBe(112);
    const pre = suggestDefaults({ spec: vit16, strategy: 'center', micro: false, plane: [91, 109] });
    expect(pre.train).toEqual({ steps: 500, lr: 1e-4, warmupSteps: 20, valEvery: 50, augment: 'light' });
    expect(pre.why).toMatch(/pre-trained: lr 1e-4, 500 steps, 112 px \(slices of 91×109 voxels\)/);
    expect([randomInit({ micro: false, strategy: '2d' }), randomInit({ micro: false, strategy: 'scratch' }), randomInit({ micro: true, strategy: 'center' })]).toEqual([false, true, true]);
  });
});
