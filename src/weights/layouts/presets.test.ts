// models/presets.json agrees with expectedKeys: each preset's stated encoder parameter count is the sum of the
// canonical shapes its spec implies; the micro preset's fixture maps to its stated spec.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectedKeys, toCanonical } from './index.ts';
import { loadFixture } from './fixtures.testutil.ts';
import type { EncoderSpec, Family } from '../types.ts';

interface Preset {
  id: string; repo: string; family: Family; title: string; file: string; params: number; encoderParams: number;
  approxBytes: number; licence: string; description: string;
  spec: { embedDim: number; depth: number; numHeads: number; patchSize: number; grid: [number, number]; swin?: EncoderSpec['swin'] };
}
const presets = (JSON.parse(readFileSync(new URL('../../../models/presets.json', import.meta.url), 'utf8')) as { presets: Preset[] }).presets;

function fullSpec(p: Preset): EncoderSpec {
  if (p.family === 'swin') {
    return {
      ...p.spec, family: 'swin', layout: 'timm', mlpRatio: 4, inChans: 3, hasClsToken: false, hasDistToken: false, qkvBias: 'qkv',
      layerScale: false, absPosEmbed: false, relPosBias: 'per-layer', normEps: 1e-5, fcNorm: false,
    };
  }
  const beit = p.family === 'beit';
  return {
    ...p.spec, family: p.family, layout: 'timm', mlpRatio: 4, inChans: 3, hasClsToken: true, hasDistToken: false,
    qkvBias: beit ? 'qv' : 'qkv', layerScale: beit || p.id === 'micro', absPosEmbed: !beit, relPosBias: beit ? 'per-layer' : 'none',
    normEps: 1e-6, fcNorm: beit, ...(p.id === 'micro' ? { mlpRatio: 2 } : {}),
  };
}

describe('models/presets.json', () => {
  it('has the seven Hub presets and the micro one, every field filled', () => {
    expect(presets.map((p) => p.repo)).toEqual([
      'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k', 'timm/deit_small_patch16_224.fb_in1k', 'timm/vit_small_patch16_224.dino',
      'timm/vit_base_patch16_224.dino', 'timm/beit_base_patch16_224.in22k_ft_in22k', 'timm/swin_tiny_patch4_window7_224.ms_in1k',
      'timm/swin_base_patch4_window7_224.ms_in22k', 'test/fixtures/weights/layouts/timm_vit.safetensors',
    ]);
    for (const p of presets) {
      for (const f of ['id', 'title', 'file', 'licence', 'description'] as const) expect(p[f].length, `${p.id}.${f}`).toBeGreaterThan(2);
      expect(p.params).toBeGreaterThanOrEqual(p.encoderParams);
      expect(p.approxBytes).toBeGreaterThanOrEqual(4 * p.params * 0.99);
    }
  });

  it('Swin: params = encoder + the classifier (768·1000 + 1000 for Swin-T, 1024·21841 + 21841 for Swin-B 22k)', () => {
    const head = (p: Preset): number => p.params - p.encoderParams;
    expect(head(presets.find((p) => p.id === 'swin-tiny')!)).toBe(768 * 1000 + 1000);
    expect(head(presets.find((p) => p.id === 'swint')!)).toBe(1024 * 21841 + 21841);
  });

  it('encoderParams = the sum of the canonical shapes of the stated spec', () => {
    for (const p of presets) {
      const n = [...expectedKeys(fullSpec(p)).values()].reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
      expect(n, p.id).toBe(p.encoderParams);
    }
  });

  it('the micro preset loads from its fixture with its stated spec (numHeads from the preset)', () => {
    const micro = presets.find((p) => p.id === 'micro')!;
    const { spec } = toCanonical(loadFixture('timm_vit'), micro.file, undefined, { family: micro.family, numHeads: micro.spec.numHeads });
    expect(spec).toMatchObject(micro.spec);
  });
});
