// Inflation of the hierarchical families on the micro fixtures: Swin's patch kernel exactly as ViT's (checked by hand
// formulas on the file's values), the window tables untouched, Video Swin's colour-only steps and its '2d' tap sum,
// and 'scratch' as a fresh timm-style initialisation of the same architecture.
import { describe, expect, it } from 'vitest';
import { loadFixture, loadJson } from '../layouts/fixtures.testutil.ts';
import { checkSwinStrict, toCanonical } from '../layouts/index.ts';
import { inflate } from './index.ts';

const swin = toCanonical(loadFixture('swin_timm'), 'swin_timm', loadJson('swin_timm.config.json'));
const video = toCanonical(loadFixture('videoswin_original'), 'videoswin');
const at = (t: { data: ArrayLike<number> }, i: number): number => t.data[i];

describe('Swin inflation', () => {
  const w2 = swin.state.get('patch_embed.proj.weight')!; // [4, 3, 4, 4]

  it("'center', T = 3, 2 channels: the ViT kernel recipe; tables, norms and merging passed through (same objects)", () => {
    const r = inflate(swin.state, swin.spec, { strategy: 'center', T: 3, inChans: 2, imgSize: 64 });
    const w = r.state.get('patch_embed.proj.weight')!;
    expect(w.shape).toEqual([4, 2, 3, 4, 4]);
    for (const [o, c, t, k] of [[0, 0, 1, 0], [3, 1, 1, 15], [2, 1, 0, 7], [1, 0, 2, 9]]) {
      // W3[o, c, t, k] = (Σ_rgb W2[o, rgb, k]) / C_in on the centre slice t = 1, else 0
      const grey = at(w2, (o * 3 + 0) * 16 + k) + at(w2, (o * 3 + 1) * 16 + k) + at(w2, (o * 3 + 2) * 16 + k);
      expect(at(w, ((o * 2 + c) * 3 + t) * 16 + k)).toBeCloseTo(t === 1 ? grey / 2 : 0, 6);
    }
    for (const k of ['layers.2.blocks.0.attn.relative_position_bias_table', 'layers.1.downsample.reduction.weight', 'patch_embed.norm.weight', 'norm.bias']) {
      expect(r.state.get(k)).toBe(swin.state.get(k));
    }
    expect(r.spec).toMatchObject({ family: 'swin', T: 3, inChans: 2, grid: [16, 16], inflation: 'center', swin: swin.spec.swin });
    expect(() => checkSwinStrict(r.state, r.spec, 'inflated')).not.toThrow();
  });

  it("'average' spreads over T; '2d' is T = 1 for either", () => {
    const a = inflate(swin.state, swin.spec, { strategy: 'average', T: 5, inChans: 1, imgSize: 32 }).state.get('patch_embed.proj.weight')!;
    const grey0 = at(w2, 0) + at(w2, 16) + at(w2, 32);
    for (let t = 0; t < 5; t++) expect(at(a, t * 16)).toBeCloseTo(grey0 / 5, 6);
    const d = inflate(swin.state, swin.spec, { strategy: '2d', T: 5, inChans: 1, imgSize: 32 });
    expect(d.state.get('patch_embed.proj.weight')!.shape).toEqual([4, 1, 1, 4, 4]);
    expect(at(d.state.get('patch_embed.proj.weight')!, 0)).toBeCloseTo(grey0, 6);
    expect(d.spec.T).toBe(1);
  });

  it("'scratch': the same keys and shapes, timm's init (LayerNorms 1/0, tables and linears trunc-normal 0.02), seeded", () => {
    const r = inflate(swin.state, swin.spec, { strategy: 'scratch', T: 3, inChans: 1, imgSize: 32, seed: 7 });
    const c = inflate(swin.state, swin.spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 32 });
    expect([...r.state].map(([k, t]) => [k, t.shape])).toEqual([...c.state].map(([k, t]) => [k, t.shape]));
    expect([...r.state.get('layers.1.downsample.norm.weight')!.data].every((x) => x === 1)).toBe(true);
    expect([...r.state.get('patch_embed.norm.bias')!.data].every((x) => x === 0)).toBe(true);
    const table = r.state.get('layers.2.blocks.0.attn.relative_position_bias_table')!.data;
    expect(table.some((x) => x !== 0)).toBe(true);
    expect(Math.max(...[...table].map(Math.abs))).toBeLessThan(0.1);
    expect(r.state.get('layers.3.downsample.reduction.weight')!.data).not.toEqual(swin.state.get('layers.3.downsample.reduction.weight')!.data);
    expect(inflate(swin.state, swin.spec, { strategy: 'scratch', T: 3, inChans: 1, imgSize: 32, seed: 7 }).state.get('norm.weight')!.data).toEqual(r.state.get('norm.weight')!.data);
  });
});

it('a size that the mergings cannot halve three times is refused at inflation, with the unit', () => {
  expect(() => inflate(swin.state, swin.spec, { strategy: 'center', T: 3, inChans: 1, imgSize: 48 })).toThrow(/imgSize must be a multiple of 32 for a swin encoder \(patch 4, then 3 2×2 patch mergings\), found 48/);
});

describe('Video Swin inflation', () => {
  const w = video.state.get('patch_embed.proj.weight')!; // [4, 3, 2, 4, 4]
  const grey = (o: number, tap: number, k: number): number => [0, 1, 2].reduce((s, c) => s + at(w, ((o * 3 + c) * 2 + tap) * 16 + k), 0);

  it("'center' = 'average': the colour steps on each temporal tap, the taps kept; T is the slices per window", () => {
    const c = inflate(video.state, video.spec, { strategy: 'center', T: 5, inChans: 2, imgSize: 32 });
    const a = inflate(video.state, video.spec, { strategy: 'average', T: 5, inChans: 2, imgSize: 32 });
    const k3 = c.state.get('patch_embed.proj.weight')!;
    expect(k3.shape).toEqual([4, 2, 2, 4, 4]);
    expect(a.state.get('patch_embed.proj.weight')!.data).toEqual(k3.data);
    for (const [o, ch, tap, k] of [[0, 0, 0, 0], [3, 1, 1, 15], [1, 0, 1, 6]]) expect(at(k3, ((o * 2 + ch) * 2 + tap) * 16 + k)).toBeCloseTo(grey(o, tap, k) / 2, 6);
    expect(c.spec).toMatchObject({ family: 'videoswin', T: 5, inChans: 2, grid: [8, 8], swin: { window: [2, 2, 2], patchDepth: 2 } });
    expect(c.state.get('layers.0.blocks.1.attn.relative_position_bias_table')).toBe(video.state.get('layers.0.blocks.1.attn.relative_position_bias_table'));
    expect(() => checkSwinStrict(c.state, c.spec, 'inflated')).not.toThrow();
  });

  it("'2d': one slice, the taps summed (= the pre-trained kernel on a static clip of that slice), patch depth 1", () => {
    const d = inflate(video.state, video.spec, { strategy: '2d', T: 5, inChans: 1, imgSize: 32 });
    const k = d.state.get('patch_embed.proj.weight')!;
    expect(k.shape).toEqual([4, 1, 1, 4, 4]);
    expect(at(k, 2 * 16 + 5)).toBeCloseTo(grey(2, 0, 5) + grey(2, 1, 5), 6);
    expect(d.spec).toMatchObject({ T: 1, inflation: '2d', swin: { patchDepth: 1 } });
    expect(() => checkSwinStrict(d.state, d.spec, 'inflated')).not.toThrow();
  });

  it("'scratch': the 'center' architecture re-initialised", () => {
    const s = inflate(video.state, video.spec, { strategy: 'scratch', T: 5, inChans: 1, imgSize: 32 });
    expect(s.state.get('patch_embed.proj.weight')!.shape).toEqual([4, 1, 2, 4, 4]);
    expect(s.spec.swin!.patchDepth).toBe(2);
    expect(() => checkSwinStrict(s.state, s.spec, 'inflated')).not.toThrow();
  });

  it('a kernel that does not match the spec is refused', () => {
    const bad = new Map(video.state).set('patch_embed.proj.weight', { dtype: 'float32' as const, shape: [4, 3, 4, 4], data: new Float32Array(192) });
    expect(() => inflate(bad, video.spec, { strategy: 'center', T: 5, inChans: 1, imgSize: 32 })).toThrow(/a Video Swin patch_embed\.proj\.weight must be \[4, 3, 2, 4, 4\]/);
  });
});
