// inflate() properties on every family variant, checked with the reference forward (test/reference/vit.ts):
// the 3D model at initialisation equals the 2D model where METHOD.md says it must; untouched tensors are not copied.
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import type { EncoderSpec, StateDict } from '../types.ts';
import { vitTokens } from '../../../test/reference/vit.ts';
import { maxAbsDiff, MICRO, microModel, randomInput, sliceOf, stackPlanes, VARIANTS } from '../../../test/reference/micro.ts';
import { inflate } from './index.ts';
import { greyToChannels, rgbToGrey } from './patch.ts';

const H = MICRO.grid[0] * MICRO.patchSize; // 16 px: the pre-training grid, no resampling
const W = MICRO.grid[1] * MICRO.patchSize;
const TOL = 1e-4;

/** The 2D (RGB) model on a grey slice s fed as (s, s, s): W2·(s, s, s) = Σ_c W2[c]·s = G·s. */
const rgbOf = (s: Float32Array): Float32Array => stackPlanes([s, s, s]);
const tokens2d = (state: StateDict, spec: EncoderSpec, rgb: Float32Array, h = H, w = W): Float32Array => vitTokens(state, spec, rgb, [3, h, w]);

describe.each(VARIANTS)('inflate — %s', (variant) => {
  const { state, spec } = microModel(variant, 7);

  it("'center', C_in = 1: a random 5-slice window gives the 2D tokens of its centre slice (as RGB s, s, s)", () => {
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: H });
    const x = randomInput(1 * 5 * H * W, 11);
    const t3 = vitTokens(out.state, out.spec, x, [1, 5, H, W]);
    const t2 = tokens2d(state, spec, rgbOf(sliceOf(x, 1, 5, H, W, 0, 2)));
    expect(maxAbsDiff(t3, t2)).toBeLessThanOrEqual(TOL);
  });

  it("'center', C_in = 2 with equal modalities: W·(s, s) = (G/2)·2s = G·s, the same 2D tokens", () => {
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 2, imgSize: H });
    const one = randomInput(5 * H * W, 12);
    const x = stackPlanes([one, one]); // [2, 5, H, W], both modalities the same window
    const t3 = vitTokens(out.state, out.spec, x, [2, 5, H, W]);
    const t2 = tokens2d(state, spec, rgbOf(sliceOf(x, 2, 5, H, W, 0, 2)));
    expect(maxAbsDiff(t3, t2)).toBeLessThanOrEqual(TOL);
  });

  it("'center', C_in = 2 with different modalities a, b: equals the grey-kernel 2D model on (a, b) and the RGB model on m = (a + b)/2", () => {
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 2, imgSize: H });
    const x = randomInput(2 * 5 * H * W, 13);
    const t3 = vitTokens(out.state, out.spec, x, [2, 5, H, W]);
    const a = sliceOf(x, 2, 5, H, W, 0, 2);
    const b = sliceOf(x, 2, 5, H, W, 1, 2);
    // (i) The 2D model whose kernel is W = G/2 per channel, on the two centre slices.
    const grey = new Map(state);
    grey.set('patch_embed.proj.weight', greyToChannels(rgbToGrey(state.get('patch_embed.proj.weight')!), 2));
    const tGrey = vitTokens(grey, { ...spec, inChans: 2 }, stackPlanes([a, b]), [2, H, W]);
    expect(maxAbsDiff(t3, tGrey)).toBeLessThanOrEqual(TOL);
    // (ii) (G/2)·a + (G/2)·b = G·m: the RGB model on (m, m, m).
    const m = a.map((v, i) => (v + b[i]) / 2);
    expect(maxAbsDiff(t3, tokens2d(state, spec, rgbOf(m)))).toBeLessThanOrEqual(TOL);
  });

  it("'average': a window of identical slices gives the 2D tokens of that slice (C_in = 1 and 3)", () => {
    for (const cIn of [1, 3]) {
      const out = inflate(state, spec, { strategy: 'average', T: 5, inChans: cIn, imgSize: H });
      const s = randomInput(H * W, 14);
      const x = stackPlanes(Array.from({ length: cIn * 5 }, () => s)); // every channel, every depth = s
      const t3 = vitTokens(out.state, out.spec, x, [cIn, 5, H, W]);
      expect(maxAbsDiff(t3, tokens2d(state, spec, rgbOf(s)))).toBeLessThanOrEqual(TOL);
    }
  });

  it("'average' on a varying window is the 2D model on the mean slice (the kernel is linear in the input)", () => {
    const out = inflate(state, spec, { strategy: 'average', T: 3, inChans: 1, imgSize: H });
    const x = randomInput(3 * H * W, 15);
    const mean = sliceOf(x, 1, 3, H, W, 0, 0).map((v, i) => (v + x[H * W + i] + x[2 * H * W + i]) / 3);
    expect(maxAbsDiff(vitTokens(out.state, out.spec, x, [1, 3, H, W]), tokens2d(state, spec, rgbOf(mean)))).toBeLessThanOrEqual(TOL);
  });

  it("'2d': T = 1 (whatever opts.T says) equals the 2D model on the slice", () => {
    const out = inflate(state, spec, { strategy: '2d', T: 5, inChans: 1, imgSize: H });
    expect(out.state.get('patch_embed.proj.weight')!.shape).toEqual([MICRO.embedDim, 1, 1, MICRO.patchSize, MICRO.patchSize]);
    expect(out.spec.T).toBe(1);
    const s = randomInput(H * W, 16);
    expect(maxAbsDiff(vitTokens(out.state, out.spec, s, [1, 1, H, W]), tokens2d(state, spec, rgbOf(s)))).toBeLessThanOrEqual(TOL);
  });

  it("at a new grid (8 px → 2×2 and 24 px → 6×6), 'center' still equals '2d' on the centre slice", () => {
    for (const imgSize of [8, 24]) {
      const c = inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize });
      const d = inflate(state, spec, { strategy: '2d', T: 5, inChans: 1, imgSize });
      expect(c.spec.grid).toEqual([imgSize / 4, imgSize / 4]);
      const x = randomInput(5 * imgSize * imgSize, 17);
      const t3 = vitTokens(c.state, c.spec, x, [1, 5, imgSize, imgSize]);
      const t2 = vitTokens(d.state, d.spec, sliceOf(x, 1, 5, imgSize, imgSize, 0, 2), [1, 1, imgSize, imgSize]);
      expect(t3.length).toBe((1 + (spec.hasDistToken ? 1 : 0) + (imgSize / 4) ** 2) * MICRO.embedDim);
      expect(maxAbsDiff(t3, t2)).toBeLessThanOrEqual(TOL);
    }
  });

  it("'scratch' runs through the forward (finite tokens) with the inflated shapes", () => {
    const out = inflate(state, spec, { strategy: 'scratch', T: 5, inChans: 2, imgSize: 24, seed: 3 });
    const t = vitTokens(out.state, out.spec, randomInput(2 * 5 * 24 * 24, 18), [2, 5, 24, 24]);
    expect(t.every(Number.isFinite)).toBe(true);
  });

  it('untouched tensors are the same objects; the input state is not modified; heads are dropped', () => {
    const before = new Map([...state].map(([k, t]) => [k, { t, data: Array.from(t.data) }]));
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: 24 });
    const computed = new Set(['patch_embed.proj.weight', 'pos_embed']);
    for (const [k, t] of out.state) {
      if (computed.has(k) || k.endsWith('relative_position_bias_table')) expect(state.get(k), k).not.toBe(t);
      else expect(state.get(k), k).toBe(t);
    }
    expect(out.state.get('patch_embed.proj.bias')).toBe(state.get('patch_embed.proj.bias'));
    expect([...out.state.keys()].some((k) => k.startsWith('head'))).toBe(false);
    expect(state.size).toBe(before.size);
    for (const [k, { t, data }] of before) {
      expect(state.get(k), k).toBe(t);
      expect(Array.from(t.data), k).toEqual(data);
    }
    if (spec.fcNorm) expect(out.state.has('fc_norm.weight')).toBe(true);
  });

  it('updates the spec and explains itself', () => {
    const progress: [number, number][] = [];
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 4, imgSize: 24 }, (d, t) => progress.push([d, t]));
    expect(out.spec).toMatchObject({ inChans: 4, grid: [6, 6], T: 5, inflation: 'center' });
    expect(out.spec.relPosBias).toBe(spec.relPosBias === 'shared' ? 'per-layer' : spec.relPosBias);
    expect(spec.inChans).toBe(3); // the input spec is not modified
    expect(progress.length).toBe(state.size);
    expect(progress.at(-1)).toEqual([state.size, state.size]);
    expect(out.notes.some((n) => n.includes('[16, 3, 4, 4] → [16, 4, 5, 4, 4]'))).toBe(true);
  });
});

describe('inflate — BEiT relative position bias', () => {
  it('a shared table is copied to every layer (separate arrays), resized, and the shared key removed', () => {
    const { state, spec } = microModel('beit-shared', 2);
    const out = inflate(state, spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 16 });
    const shared = state.get('rel_pos_bias.relative_position_bias_table')!;
    expect(out.state.has('rel_pos_bias.relative_position_bias_table')).toBe(false);
    const t0 = out.state.get('blocks.0.attn.relative_position_bias_table')!;
    const t1 = out.state.get('blocks.1.attn.relative_position_bias_table')!;
    expect(Array.from(t0.data)).toEqual(Array.from(shared.data));
    expect(t0.data).not.toBe(t1.data);
    expect(t0.data).not.toBe(shared.data);
    const small = inflate(state, spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 8 });
    expect(small.state.get('blocks.1.attn.relative_position_bias_table')!.shape).toEqual([3 * 3 + 3, 2]);
    expect(small.notes.some((n) => n.includes('shared table copied to blocks.0–1'))).toBe(true);
  });
  it("relPosResize 'bicubic' is honoured, stored relative_position_index buffers are dropped", () => {
    const { state, spec } = microModel('beit', 2);
    state.set('blocks.0.attn.relative_position_index', { dtype: 'int32', shape: [17, 17], data: new Int32Array(289) });
    const out = inflate(state, spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 24, relPosResize: 'bicubic' });
    expect(out.state.has('blocks.0.attn.relative_position_index')).toBe(false);
    expect(out.notes.some((n) => n.includes('(bicubic)'))).toBe(true);
    expect(out.state.get('blocks.0.attn.relative_position_bias_table')!.shape).toEqual([11 * 11 + 3, 2]);
  });
  it('refuses a state with both a shared and per-layer tables', () => {
    const { state, spec } = microModel('beit', 2);
    state.set('rel_pos_bias.relative_position_bias_table', state.get('blocks.0.attn.relative_position_bias_table')!);
    expect(() => inflate(state, spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 16 })).toThrow(/both the shared/);
  });
});

describe('inflate — options and errors', () => {
  const { state, spec } = microModel('vit', 1);
  it('names what is wrong', () => {
    const base = { strategy: 'center' as const, T: 5, inChans: 1, imgSize: 16 };
    expect(() => inflate(state, spec, { ...base, imgSize: 18 })).toThrow(/multiple of the patch size 4, found 18/);
    expect(() => inflate(state, spec, { ...base, T: 0 })).toThrow(/T \(slices per window\)/);
    expect(() => inflate(state, spec, { ...base, inChans: 0 })).toThrow(/inChans/);
    expect(() => inflate(state, spec, { ...base, strategy: 'i3d' as 'center' })).toThrow(/strategy must be one of/);
    const noKernel = new Map(state);
    noKernel.delete('patch_embed.proj.weight');
    expect(() => inflate(noKernel, spec, base)).toThrow(/no 'patch_embed.proj.weight'/);
    expect(() => inflate(state, { ...spec, patchSize: 8 }, { ...base, imgSize: 16 })).toThrow(/must be a 2D kernel \[16, 3, 8, 8\].*found \[16, 3, 4, 4\]/);
    const bad = new Map(state);
    bad.set('pos_embed', { ...state.get('pos_embed')!, shape: [1, 16, 16] } as HostTensor);
    expect(() => inflate(bad, spec, { ...base, imgSize: 8 })).toThrow(/pos_embed has 16 tokens/);
  });
  it('pos_embed at the same grid is passed through untouched; timm’s antialiased resize is the default, posEmbedAntialias: false gives the plain bicubic', () => {
    expect(inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: 16 }).state.get('pos_embed')).toBe(state.get('pos_embed'));
    const a = inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: 8 }).state.get('pos_embed')!;
    const b = inflate(state, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: 8, posEmbedAntialias: false }).state.get('pos_embed')!;
    expect(a.shape).toEqual([1, 5, 16]);
    expect(maxAbsDiff(a.data, b.data)).toBeGreaterThan(1e-3);
  });
});

describe('inflate — performance', () => {
  it('a ViT-B/16 state (86 M parameters) inflates in well under a second', () => {
    const D = 768;
    const state: StateDict = new Map();
    const t = (...shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    state.set('cls_token', t(1, 1, D));
    state.set('pos_embed', t(1, 197, D));
    state.set('patch_embed.proj.weight', t(D, 3, 16, 16));
    state.set('patch_embed.proj.bias', t(D));
    for (let i = 0; i < 12; i++) {
      const p = `blocks.${i}.`;
      for (const n of ['norm1', 'norm2']) {
        state.set(`${p}${n}.weight`, t(D));
        state.set(`${p}${n}.bias`, t(D));
      }
      state.set(`${p}attn.qkv.weight`, t(3 * D, D));
      state.set(`${p}attn.qkv.bias`, t(3 * D));
      state.set(`${p}attn.proj.weight`, t(D, D));
      state.set(`${p}attn.proj.bias`, t(D));
      state.set(`${p}mlp.fc1.weight`, t(4 * D, D));
      state.set(`${p}mlp.fc1.bias`, t(4 * D));
      state.set(`${p}mlp.fc2.weight`, t(D, 4 * D));
      state.set(`${p}mlp.fc2.bias`, t(D));
    }
    state.set('norm.weight', t(D));
    state.set('norm.bias', t(D));
    state.set('head.weight', t(1000, D));
    state.set('head.bias', t(1000));
    let params = 0;
    for (const x of state.values()) params += x.data.length;
    expect(params).toBeGreaterThan(86e6);
    const spec = { ...microModel('vit').spec, embedDim: D, depth: 12, numHeads: 12, patchSize: 16, grid: [14, 14] as [number, number] };
    const out = inflate(state, spec, { strategy: 'center', T: 5, inChans: 4, imgSize: 128 });
    expect(out.state.get('patch_embed.proj.weight')!.shape).toEqual([D, 4, 5, 16, 16]);
    expect(out.state.get('pos_embed')!.shape).toEqual([1, 65, D]);
    // Every block tensor is passed through untouched (timing lives in bench/, not here).
    expect(out.state.get('blocks.11.mlp.fc1.weight')).toBe(state.get('blocks.11.mlp.fc1.weight'));
  });
});
