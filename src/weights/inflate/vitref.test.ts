// The test-only reference forward (test/reference/vit.ts): hand-checkable tiny encoders, erf/GELU values, and
// agreement with the PyTorch outputs in test/fixtures/weights/layouts/*.ref.json.
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import type { EncoderSpec, StateDict } from '../types.ts';
import { erf, gelu, vitTokens } from '../../../test/reference/vit.ts';
import { LAYOUT_FIXTURES, loadRef, loadSafetensors, refFixtures } from '../../../test/reference/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference/micro.ts';
import { relativePositionIndex } from './posembed.ts';
import { toCanonical } from '../layouts/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { inflate } from './index.ts';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const zeros = (...shape: number[]): HostTensor => f32(shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0));
const eye = (n: number): HostTensor => f32([n, n], Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)));

describe('erf and GELU', () => {
  it('erf matches tabulated values to 1e-14', () => {
    const table: [number, number][] = [
      [0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
      [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [4, 0.9999999845827421],
    ];
    for (const [x, want] of table) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-14);
  });
  it('GELU(1) = Φ(1) = 0.8413447460685429, GELU(−1) = −0.15865525393145707', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 14);
  });
});

/** D = 4, 1 head, depth 1, P = 1, grid 1×2 (two patch tokens) + a class token; every weight given by the test. */
function tiny(over: Record<string, HostTensor>): { state: StateDict; spec: EncoderSpec } {
  const state: StateDict = new Map([
    ['cls_token', f32([1, 1, 4], [1, -1, 1, -1])],
    // Patch kernel [4, 1, 1, 1]: token = pixel · (1, −1, 1, −1) + bias.
    ['patch_embed.proj.weight', f32([4, 1, 1, 1], [1, -1, 1, -1])],
    ['patch_embed.proj.bias', f32([4], [2, 2, 2, 2])],
    ['blocks.0.norm1.weight', f32([4], [1, 1, 1, 1])],
    ['blocks.0.norm1.bias', zeros(4)],
    ['blocks.0.attn.qkv.weight', zeros(12, 4)],
    ['blocks.0.attn.qkv.bias', zeros(12)],
    ['blocks.0.attn.proj.weight', eye(4)],
    ['blocks.0.attn.proj.bias', zeros(4)],
    ['blocks.0.norm2.weight', f32([4], [1, 1, 1, 1])],
    ['blocks.0.norm2.bias', zeros(4)],
    ['blocks.0.mlp.fc1.weight', zeros(4, 4)],
    ['blocks.0.mlp.fc1.bias', zeros(4)],
    ['blocks.0.mlp.fc2.weight', zeros(4, 4)],
    ['blocks.0.mlp.fc2.bias', zeros(4)],
  ]);
  for (const [k, v] of Object.entries(over)) state.set(k, v);
  const spec: EncoderSpec = {
    family: 'vit', layout: 'timm', embedDim: 4, depth: 1, numHeads: 1, mlpRatio: 1, patchSize: 1, inChans: 1, grid: [1, 2],
    hasClsToken: true, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: false, relPosBias: 'none',
    normEps: 0, fcNorm: false,
  };
  return { state, spec };
}

// Pixels 1 and −3: tokens cls = (1, −1, 1, −1), p0 = (3, 1, 3, 1), p1 = (−1, 5, −1, 5).
// LayerNorm (eps 0): every token has |x − mean| = 1 or 2 ⇒ LN(cls) = LN(p0) = s = (1, −1, 1, −1), LN(p1) = −s.
const input = Float32Array.from([1, -3]);
const s = [1, -1, 1, -1];
const tokens = [[1, -1, 1, -1], [3, 1, 3, 1], [-1, 5, -1, 5]];

describe('vitTokens on hand-checkable tiny encoders', () => {
  it('q = k = 0, v = identity: uniform attention adds the mean of LN(x) = s/3 to every token', () => {
    const qkvW = zeros(12, 4);
    for (let i = 0; i < 4; i++) qkvW.data[(8 + i) * 4 + i] = 1; // v = x
    const { state, spec } = tiny({ 'blocks.0.attn.qkv.weight': qkvW });
    const out = vitTokens(state, spec, input, [1, 1, 2]);
    const want = tokens.flatMap((t) => t.map((v, i) => v + s[i] / 3));
    expect(maxAbsDiff(out, want)).toBeLessThan(1e-6);
  });
  it('BEiT relative bias makes attention one-hot; q_bias/v_bias form the qkv bias; gamma_1 scales', () => {
    // Window 1×2: rows = 1·3 + 3 = 6, index [[5, 3, 3], [4, 1, 0], [4, 2, 1]]; table row 0 (dx = −1) = 100 ⇒
    // token p0 attends only to p1; p1 and cls attend uniformly (all their entries are 0).
    expect(Array.from(relativePositionIndex(1, 2))).toEqual([5, 3, 3, 4, 1, 0, 4, 2, 1]);
    const qkvW = zeros(12, 4);
    for (let i = 0; i < 4; i++) qkvW.data[(8 + i) * 4 + i] = 1;
    const { state, spec } = tiny({
      'blocks.0.attn.qkv.weight': qkvW,
      'blocks.0.attn.q_bias': f32([4], [5, 5, 5, 5]), // q is a constant vector and k = 0: q·k = 0, no effect
      'blocks.0.attn.v_bias': f32([4], [0, 0, 0, 1]),
      'blocks.0.attn.relative_position_bias_table': f32([6, 1], [100, 0, 0, 0, 0, 0]),
      'blocks.0.gamma_1': f32([4], [0.5, 0.5, 0.5, 0.5]),
    });
    state.delete('blocks.0.attn.qkv.bias');
    const out = vitTokens(state, { ...spec, family: 'beit', qkvBias: 'qv', relPosBias: 'per-layer' }, input, [1, 1, 2]);
    const vb = [0, 0, 0, 1];
    const attn = [s.map((v, i) => v / 3 + vb[i]), s.map((v, i) => -v + vb[i]), s.map((v, i) => v / 3 + vb[i])];
    const want = tokens.flatMap((t, r) => t.map((v, i) => v + 0.5 * attn[r][i]));
    expect(maxAbsDiff(out, want)).toBeLessThan(1e-6);
  });
  it('MLP: fc1 = fc2 = identity gives x + GELU(LN(x)); ls2 scales; the final norm is applied when present', () => {
    const { state, spec } = tiny({
      'blocks.0.mlp.fc1.weight': eye(4),
      'blocks.0.mlp.fc2.weight': eye(4),
      'blocks.0.ls2.gamma': f32([4], [2, 2, 2, 2]),
    });
    const mid = tokens.map((t, r) => t.map((v, i) => v + 2 * gelu((r === 2 ? -1 : 1) * s[i])));
    expect(maxAbsDiff(vitTokens(state, spec, input, [1, 1, 2]), mid.flat())).toBeLessThan(1e-6);
    state.set('norm.weight', f32([4], [1, 1, 1, 1]));
    state.set('norm.bias', f32([4], [0, 0, 0, 7]));
    const normed = mid.map((t) => {
      const m = t.reduce((a, b) => a + b, 0) / 4;
      const sd = Math.sqrt(t.reduce((a, b) => a + (b - m) ** 2, 0) / 4);
      return t.map((v, i) => (v - m) / sd + (i === 3 ? 7 : 0));
    });
    expect(maxAbsDiff(vitTokens(state, spec, input, [1, 1, 2]), normed.flat())).toBeLessThan(1e-5);
  });
  it('Conv3d patch embedding: kernel = stride = (T, P, P), one token per in-plane patch', () => {
    // C = 2, T = 3, P = 1, grid 1×2: a kernel picking channel 1, depth 2 → token = that pixel (per D row).
    const w = zeros(4, 2, 3, 1, 1);
    for (let o = 0; o < 4; o++) w.data[((o * 2 + 1) * 3 + 2)] = o + 1;
    const { state, spec } = tiny({ 'patch_embed.proj.weight': w, 'patch_embed.proj.bias': zeros(4) });
    const x = Float32Array.from({ length: 2 * 3 * 2 }, (_, k) => k); // [c][t][x]: channel 1, depth 2 → 10, 11
    const out = vitTokens(state, { ...spec, T: 3 }, x, [2, 3, 1, 2]);
    // q = k = v = 0 and zero MLP: the block is the identity; tokens are cls, 10·(1, 2, 3, 4), 11·(1, 2, 3, 4).
    expect(Array.from(out)).toEqual([1, -1, 1, -1, 10, 20, 30, 40, 11, 22, 33, 44]);
    expect(() => vitTokens(state, spec, x, [2, 2, 1, 3])).toThrow(/does not fit kernel/);
  });
});

describe('vitTokens against PyTorch (test/fixtures/weights/layouts/*.ref.json)', () => {
  // Fixtures whose safetensors hold canonical (timm) names, directly or under one prefix.
  const DIRECT: Record<string, string> = {
    timm_vit: '',
    timm_deit_distilled: '',
    beit_timm: '',
    dino_vitmicro4_pretrain: '',
    dino_vitmicro4_checkpoint: 'teacher.backbone.',
    beit_original: 'model.',
  };
  const present = refFixtures().filter((n) => n in DIRECT);
  it.skipIf(present.length === 0)(`matches within 1e-4 (${present.join(', ') || 'no fixtures yet'})`, () => {
    for (const name of present) {
      const ref = loadRef(name);
      const state = loadSafetensors(new URL(`${name}.safetensors`, LAYOUT_FIXTURES), DIRECT[name]);
      const [, C, H, W] = ref.input.shape;
      const out = vitTokens(state, ref.spec, Float32Array.from(ref.input.data), [C, H, W]);
      expect(out.length, name).toBe(ref.tokens.data.length);
      expect(maxAbsDiff(out, ref.tokens.data), name).toBeLessThan(1e-4);
    }
  });
  it.skipIf(!present.includes('beit_timm') || !present.includes('beit_original'))(
    'relativePositionIndex equals the buffers stored by timm and by the original BEiT code',
    () => {
      const timm = loadSafetensors(new URL('beit_timm.safetensors', LAYOUT_FIXTURES));
      const orig = loadSafetensors(new URL('beit_original.safetensors', LAYOUT_FIXTURES), 'model.');
      const mine = Array.from(relativePositionIndex(4, 4));
      expect(mine).toEqual(Array.from(timm.get('blocks.0.attn.relative_position_index')!.data));
      expect(mine).toEqual(Array.from(orig.get('rel_pos_bias.relative_position_index')!.data));
    },
  );
  const all = refFixtures();
  it.skipIf(all.length === 0)(`every fixture through weights/layouts toCanonical matches within 1e-4 (${all.join(', ') || 'none yet'})`, () => {
    for (const name of all) {
      const ref = loadRef(name);
      const cfgUrl = new URL(`${name}.config.json`, LAYOUT_FIXTURES);
      const config = existsSync(cfgUrl) ? (JSON.parse(readFileSync(cfgUrl, 'utf8')) as object) : undefined;
      const canon = toCanonical(loadSafetensors(new URL(`${name}.safetensors`, LAYOUT_FIXTURES)), `${name}.safetensors`, config, {
        numHeads: ref.spec.numHeads,
      });
      const [, C, H, W] = ref.input.shape;
      const out = vitTokens(canon.state, canon.spec, Float32Array.from(ref.input.data), [C, H, W]);
      expect(maxAbsDiff(out, ref.tokens.data), name).toBeLessThan(1e-4);
      // The real checkpoints inflated: the 'center' model on a window whose centre slice is m (the mean of the
      // fixture's RGB planes) and whose outer slices are anything equals the 2D forward on (m, m, m).
      const inf = inflate(canon.state, canon.spec, { strategy: 'center', T: 3, inChans: 1, imgSize: H });
      const m = Float32Array.from({ length: H * W }, (_, i) => (ref.input.data[i] + ref.input.data[H * W + i] + ref.input.data[2 * H * W + i]) / 3);
      const win = new Float32Array(3 * H * W);
      win.set(m, H * W);
      win.set(m.map((v) => -v), 0); // the outer slices must not matter
      const t3 = vitTokens(inf.state, inf.spec, win, [1, 3, H, W]);
      const t2 = vitTokens(canon.state, canon.spec, Float32Array.from([...m, ...m, ...m]), [3, H, W]);
      expect(maxAbsDiff(t3, t2), name).toBeLessThan(1e-4);
    }
  });
});
