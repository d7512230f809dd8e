// The Swin / Video Swin model beside the PyTorch parity test (test/unit/swin-torch.test.ts): the window / shift /
// padding rule and the centre token by hand, the offset gather and the mask on small cases, 'center' inflation =
// the 2D model on the centre slice, config and parameter checks, no forbidden kernel in a training step, and flat
// memory over forward + backward steps.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inflate } from '../../weights/inflate/index.ts';
import { loadFixture, loadJson } from '../../weights/layouts/fixtures.testutil.ts';
import { toCanonical } from '../../weights/layouts/index.ts';
import { MICRO_SWIN, microSwinState } from '../../weights/micro.ts';
import type { EncoderSpec } from '../../weights/types.ts';
import { makeConfig } from '../config.ts';
import { assertNoForbiddenKernels } from '../guard.ts';
import { forward } from '../index.ts';
import { segLoss } from '../losses.ts';
import { createParams, disposeParams, encoderParams, expectedEncoderShapes, trainableVars } from '../params.ts';
import { useCpu } from '../testutil.ts';
import { swinFeatureMaps } from './encoder.ts';
import { blockGeometry, centreToken, shiftMask, temporalTokens, windowRelIndex } from './geometry.ts';

beforeAll(useCpu);

const swinB: EncoderSpec = {
  ...MICRO_SWIN, embedDim: 128, depth: 24, numHeads: 4, grid: [56, 56], swin: { depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], window: [7, 7], patchDepth: 1 },
};

describe('geometry: the window / shift / padding rule', () => {
  it('Swin, window 7 at 128 px: grids 32, 16, 8 padded to 35, 21, 14 and shifted by 3; 4 clipped, never shifted', () => {
    expect(blockGeometry([1, 32, 32], [7, 7], 1)).toEqual({ window: [1, 7, 7], shift: [0, 3, 3], padded: [1, 35, 35] });
    expect(blockGeometry([1, 16, 16], [7, 7], 0)).toEqual({ window: [1, 7, 7], shift: [0, 0, 0], padded: [1, 21, 21] });
    expect(blockGeometry([1, 8, 8], [7, 7], 3)).toEqual({ window: [1, 7, 7], shift: [0, 3, 3], padded: [1, 14, 14] });
    expect(blockGeometry([1, 4, 4], [7, 7], 1)).toEqual({ window: [1, 4, 4], shift: [0, 0, 0], padded: [1, 4, 4] });
    // 224 px: 56, 28, 14 exact; 7 = the window: no shift (as the classification Swin).
    expect(blockGeometry([1, 56, 56], [7, 7], 1)).toEqual({ window: [1, 7, 7], shift: [0, 3, 3], padded: [1, 56, 56] });
    expect(blockGeometry([1, 7, 7], [7, 7], 1)).toEqual({ window: [1, 7, 7], shift: [0, 0, 0], padded: [1, 7, 7] });
  });

  it('Video Swin, window 8×7×7, T 5: 3 temporal tokens (padded 5 → 6 slices), window clipped to 3 and never shifted in depth', () => {
    expect(temporalTokens(2, 5)).toBe(3);
    expect(blockGeometry([3, 56, 56], [8, 7, 7], 1)).toEqual({ window: [3, 7, 7], shift: [0, 3, 3], padded: [3, 56, 56] });
    expect(blockGeometry([3, 32, 32], [2, 7, 7], 1)).toEqual({ window: [2, 7, 7], shift: [1, 3, 3], padded: [4, 35, 35] });
  });

  it('centre token: the one whose patch holds slice ⌊T/2⌋', () => {
    // T 5: 0‑1 | 2‑3 | 4‑pad → 1; T 3: 0‑1 | 2‑pad → 0; T 4: 0‑1 | 2‑3 → 1; T 7: 0‑1 | 2‑3 | 4‑5 | 6‑pad → 1; T 1 → 0.
    expect([5, 3, 4, 7, 1].map((T) => centreToken(2, T))).toEqual([1, 0, 1, 1, 0]);
    // Swin (patch depth 1): the kernel spans the window, one temporal token.
    expect([1, 3, 5].map((T) => [temporalTokens(1, T), centreToken(1, T)])).toEqual([[1, 0], [1, 0], [1, 0]]);
  });

  it('relative index by offsets into the full table: a 2×2 window of a 3×3 table (5×5 rows), by hand', () => {
    // positions (0,0) (0,1) (1,0) (1,1); Δ = query − key; row = (Δh + 2)·5 + (Δw + 2); no offset is row 12.
    expect(Array.from(windowRelIndex([1, 2, 2], [1, 3, 3]))).toEqual([12, 11, 7, 6, 13, 12, 8, 7, 17, 16, 12, 11, 18, 17, 13, 12]);
    // 3D: depth offsets step by (2Wh − 1)(2Ww − 1) = 9 for a 2×2×2 table's 3×3×3 rows, centre 13.
    const i3 = windowRelIndex([2, 1, 1], [2, 2, 2]);
    expect(Array.from(i3)).toEqual([13, 4, 22, 13]);
  });

  it('shift mask on a 1×4×4 grid, window 2, shift 1: regions [0, 2), [2, 3), [3, 4) per axis', () => {
    const m = shiftMask(blockGeometry([1, 4, 4], [2, 2], 1));
    expect(m.length).toBe(4 * 4 * 4);
    const win = (w: number) => Array.from(m.subarray(w * 16, w * 16 + 16));
    expect(win(0).every((v) => v === 0)).toBe(true); // rows 0‑1, cols 0‑1: one region
    // window 1 (rows 0‑1, cols 2‑3): col 2 and col 3 are different regions.
    expect(win(1)).toEqual([0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0]);
    // window 3 (rows 2‑3, cols 2‑3): four regions, only the diagonal is 0.
    expect(win(3)).toEqual([0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0]);
  });
});

describe('config and parameters', () => {
  it('featureBlocks are the stage ends; imgSize must be a multiple of 32; 4 stages', () => {
    const c = makeConfig({ encoder: swinB, numClasses: 4, T: 1, inChans: 1 });
    expect(c.imgSize).toBe(224);
    expect(c.featureBlocks).toEqual([2, 4, 22, 24]);
    expect(() => makeConfig({ encoder: swinB, numClasses: 4, imgSize: 112 })).toThrow(/imgSize must be a multiple of 32 for swin/);
    expect(() => makeConfig({ encoder: swinB, numClasses: 4, featureBlocks: [4, 6, 8, 12] })).toThrow(/stage ends \[2, 4, 22, 24\]/);
    expect(() => makeConfig({ encoder: { ...swinB, swin: { ...swinB.swin!, depths: [2, 2, 18] } }, numClasses: 4 })).toThrow(/4 stages/);
    expect(() => makeConfig({ encoder: { ...swinB, swin: { ...swinB.swin!, heads: [4, 8, 16, 30] } }, numClasses: 4 })).toThrow(/stage 3 width 1024 is not divisible by its 30 heads/);
  });

  it('Swin-B shapes: 3D patch kernel, tables of 13² rows per stage heads, merging 4C → 2C; stage norms added, stage_norms.3 from norm', () => {
    const c = makeConfig({ encoder: swinB, numClasses: 4, T: 5, inChans: 1 });
    const s = expectedEncoderShapes(c);
    expect(s.get('patch_embed.proj.weight')).toEqual([128, 1, 5, 4, 4]);
    expect(s.get('layers.2.blocks.17.attn.relative_position_bias_table')).toEqual([169, 16]);
    expect(s.get('layers.3.downsample.reduction.weight')).toEqual([1024, 2048]);
    expect(s.get('stage_norms.3.weight')).toEqual([1024]);
    const v = makeConfig({ encoder: { ...swinB, family: 'videoswin', swin: { ...swinB.swin!, window: [8, 7, 7], patchDepth: 2 } }, numClasses: 4, T: 5, inChans: 1 });
    expect(expectedEncoderShapes(v).get('patch_embed.proj.weight')).toEqual([128, 1, 2, 4, 4]);
    expect(expectedEncoderShapes(v).get('layers.0.blocks.0.attn.relative_position_bias_table')).toEqual([15 * 13 * 13, 4]);
  });

  it('a classification state loads: stage norms created (3 from norm, others 1/0), norm kept but not trained; unknown keys refused', () => {
    const { state, spec } = inflate(microSwinState(MICRO_SWIN, 2), MICRO_SWIN, { strategy: 'center', T: 3, inChans: 1, imgSize: 64 });
    const config = makeConfig({ encoder: spec, numClasses: 3 });
    const norm = state.get('norm.weight')!;
    norm.data[0] = 3; // recognisable
    const p = encoderParams(config, state);
    expect(state.has('stage_norms.0.weight')).toBe(false); // the input is not modified
    expect(p.get('stage_norms.3.weight')!.dataSync()[0]).toBe(3);
    expect(Array.from(p.get('stage_norms.1.bias')!.dataSync())).toEqual(new Array(32).fill(0));
    expect(p.get('norm.weight')!.trainable).toBe(false);
    expect(trainableVars(p).length).toBe(p.size - 2);
    disposeParams(p);
    state.set('head.weight', { dtype: 'float32', shape: [2, 2], data: new Float32Array(4) });
    expect(() => encoderParams(config, state)).toThrow(/unknown: head\.weight/);
  });
});

describe('converted checkpoints (src/weights/layouts) load strictly and run', () => {
  // The micro fixtures of every Swin layout (depths 2-2-1-1, window 2 or 2×2×2), through toCanonical and inflate.
  const LAYOUTS: Array<[string, string, string | undefined]> = [
    ['swin_timm', 'timm/swin_micro/model.safetensors', 'swin_timm.config.json'], ['swin_timm_legacy', 'legacy', undefined],
    ['swin_original', 'swin_micro_patch4_window2_32.pth', undefined], ['hf_swin', 'hf_swin', 'hf_swin.config.json'],
    ['torchvision_swin', 'torchvision_swin', undefined], ['videoswin_original', 'swin_micro_patch244_window222_kinetics.pth', undefined],
    ['torchvision_swin3d', 'swin3d', undefined],
  ];
  for (const [fixture, name, config] of LAYOUTS) {
    it(`${fixture}: 'center' T 3, 1 channel, 32 px, UPerNet: the strict key check passes and the logits are finite`, () => {
      const c = toCanonical(loadFixture(fixture), name, config ? loadJson(config) : undefined);
      const { state, spec } = inflate(c.state, c.spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 32 });
      const cfg = makeConfig({ encoder: spec, numClasses: 3, decoder: 'uper', decoderWidth: 8 });
      const params = createParams(cfg, state, 1);
      const x = tf.tidy(() => tf.randomUniform([1, 3, 32, 32, 1], 0, 1, 'float32', 2));
      const out = tf.tidy(() => Array.from(forward(params, cfg, x).dataSync()));
      expect(out.length).toBe(32 * 32 * 3);
      expect(out.every(Number.isFinite)).toBe(true);
      disposeParams(params);
      x.dispose();
    });
  }
});

describe('inflation equivalence', () => {
  it("Swin 'center' at T 5 = the 2D Swin (T 1) on the centre slice: maps and logits", () => {
    const state2d = microSwinState(MICRO_SWIN, 3);
    const c = inflate(state2d, MICRO_SWIN, { strategy: 'center', T: 5, inChans: 2, imgSize: 64 });
    const d = inflate(state2d, MICRO_SWIN, { strategy: '2d', T: 1, inChans: 2, imgSize: 64 });
    const cc = makeConfig({ encoder: c.spec, numClasses: 3, decoder: 'uper', decoderWidth: 8 });
    const cd = makeConfig({ encoder: d.spec, numClasses: 3, decoder: 'uper', decoderWidth: 8 });
    expect([cc.T, cd.T]).toEqual([5, 1]);
    const pc = createParams(cc, c.state, 9);
    const pd = createParams(cd, d.state, 9); // the same decoder (seed 9)
    const x = tf.randomUniform([2, 5, 64, 64, 2], 0, 1, 'float32', 5);
    const mid = tf.slice(x, [0, 2, 0, 0, 0], [2, 1, 64, 64, 2]);
    const diffs = tf.tidy(() => {
      const a = swinFeatureMaps(pc, cc, x);
      const b = swinFeatureMaps(pd, cd, mid);
      const maps = a.map((m, i) => m.sub(b[i]).abs().max().dataSync()[0]);
      const logits = forward(pc, cc, x).sub(forward(pd, cd, mid)).abs().max().dataSync()[0];
      const scale = forward(pd, cd, mid).abs().max().dataSync()[0];
      return { maps, logits, scale };
    });
    expect(diffs.scale).toBeGreaterThan(1e-3);
    for (const m of diffs.maps) expect(m).toBeLessThan(1e-5);
    expect(diffs.logits).toBeLessThan(1e-6);
    disposeParams(pc);
    disposeParams(pd);
    tf.dispose([x, mid]);
  });
});

describe('training graph', () => {
  for (const [family, decoder] of [['swin', 'uper'], ['videoswin', 'unetr']] as const) {
    it(`${family} + ${decoder}: no forbidden kernel in forward + gradient of every parameter; memory flat over 3 steps`, () => {
      const spec: EncoderSpec = family === 'swin' ? MICRO_SWIN : { ...MICRO_SWIN, family, swin: { ...MICRO_SWIN.swin!, window: [2, 4, 4], patchDepth: 2 } };
      // 32 px: stage grids 8 (windowed, shifted), 4, 2, 1 (clipped).
      const { state, spec: inflated } = inflate(microSwinState(spec, 4), spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 32 });
      const config = makeConfig({ encoder: inflated, numClasses: 3, decoder, decoderWidth: 8 });
      const params = createParams(config, state, 4);
      const vars = trainableVars(params);
      const x = tf.randomUniform([2, 3, 32, 32, 1], 0, 1, 'float32', 6);
      const y = tf.randomUniform([2, 32, 32], 0, 3, 'int32', 7);
      let zero: string[] = [];
      const step = (): void => tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => segLoss(forward(params, config, x), y), vars);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        expect(Object.keys(grads).length).toBe(vars.length);
        zero = [...params].filter(([, v]) => v.trainable && grads[v.name].abs().max().dataSync()[0] === 0).map(([k]) => k);
      });
      const kernels = assertNoForbiddenKernels(step);
      for (const k of ['GatherV2', 'UnsortedSegmentSum', 'Concat', 'Slice', 'PadV2', 'Softmax', 'BatchMatMul']) expect(kernels.has(k), k).toBe(true);
      // Every parameter gets a gradient, except Swin's stage-3 tables at 32 px: a 1×1 grid is a window of one token,
      // whose one score softmax turns into 1 whatever the bias (Video Swin at T 3 has 2 temporal tokens there).
      expect(zero).toEqual(family === 'swin' ? ['layers.3.blocks.0.attn.relative_position_bias_table', 'layers.3.blocks.1.attn.relative_position_bias_table'] : []);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) step();
      expect(tf.memory().numTensors).toBe(before);
      disposeParams(params);
      tf.dispose([x, y]);
    });
  }
});
