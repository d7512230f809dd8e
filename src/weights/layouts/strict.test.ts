// Strictness: unknown, missing, mis-shaped and mis-typed keys, non-ViT checkpoints, grids and head counts that
// cannot be read — every error names the key (or the numbers) and what was expected.
import { describe, expect, it } from 'vitest';
import { expectedKeys, toCanonical } from './index.ts';
import { loadFixture } from './fixtures.testutil.ts';
import type { EncoderSpec, StateDict } from '../types.ts';
import type { HostTensor } from '../../core/types.ts';

const micro = { numHeads: 2 };
const f32 = (shape: number[], v = 0.5): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });

/** A canonical state dict for any spec, from expectedKeys. */
function synth(spec: EncoderSpec): StateDict {
  return new Map([...expectedKeys(spec)].map(([k, s]) => [k, f32(s)]));
}
const BASE: EncoderSpec = {
  family: 'vit', layout: 'timm', embedDim: 192, depth: 1, numHeads: 3, mlpRatio: 4, patchSize: 16, inChans: 3, grid: [2, 2],
  hasClsToken: true, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: true, relPosBias: 'none', normEps: 1e-6, fcNorm: false,
};

describe('strict key and shape checks', () => {
  it('an unknown extra key is an error that names it', () => {
    const t = new Map(loadFixture('timm_vit')).set('blocks.0.attn.extra_scale', f32([24]));
    expect(() => toCanonical(t, 'timm_vit.safetensors', undefined, micro)).toThrow(/timm_vit\.safetensors: 1 unrecognised key\(s\) for the timm layout: blocks\.0\.attn\.extra_scale/);
  });

  it('lists at most 20 unknown keys and counts the rest', () => {
    const t = new Map(loadFixture('timm_vit'));
    for (let i = 0; i < 25; i++) t.set(`reg_token_${i}`, f32([1]));
    const msg = (() => { try { toCanonical(t, 'x', undefined, micro); } catch (e) { return (e as Error).message; } return ''; })();
    expect(msg).toMatch(/25 unrecognised key\(s\)/);
    expect(msg).toMatch(/reg_token_19, … and 5 more/);
    expect(msg).not.toMatch(/reg_token_20/);
  });

  it('a missing key is an error naming it and its expected shape', () => {
    const t = new Map(loadFixture('timm_vit'));
    t.delete('blocks.1.mlp.fc2.bias');
    expect(() => toCanonical(t, 'timm_vit.safetensors', undefined, micro)).toThrow(/missing blocks\.1\.mlp\.fc2\.bias \(expected shape \[24\]\)/);
    const b = new Map(loadFixture('beit_timm'));
    b.delete('blocks.1.attn.relative_position_bias_table');
    expect(() => toCanonical(b, 'beit')).toThrow(/missing blocks\.1\.attn\.relative_position_bias_table \(expected shape \[52,2\]\)/);
  });

  it('a shape mismatch names both shapes (and the key in the file when it was renamed)', () => {
    const t = new Map(loadFixture('timm_vit')).set('blocks.0.attn.proj.weight', f32([24, 12]));
    expect(() => toCanonical(t, 'timm_vit.safetensors', undefined, micro)).toThrow(/blocks\.0\.attn\.proj\.weight: expected shape \[24,24\] but the checkpoint has \[24,12\]/);
    const h = new Map(loadFixture('hf_vit')).set('vit.encoder.layer.1.output.dense.bias', f32([23]));
    expect(() => toCanonical(h, 'hf_vit', { num_attention_heads: 2 })).toThrow(
      /blocks\.1\.mlp\.fc2\.bias \(from vit\.encoder\.layer\.1\.output\.dense\.bias\): expected shape \[24\] but the checkpoint has \[23\]/,
    );
  });

  it('a non-float weight is an error', () => {
    const t = new Map(loadFixture('timm_vit')).set('norm.bias', { dtype: 'int32', shape: [24], data: new Int32Array(24) });
    expect(() => toCanonical(t, 'timm_vit', undefined, micro)).toThrow(/norm\.bias: dtype int32, expected float32/);
  });

  it('two source keys mapping to one canonical key is an error', () => {
    const h = new Map(loadFixture('hf_vit')).set('embeddings.cls_token', f32([1, 1, 24]));
    expect(() => toCanonical(h, 'hf_vit', { num_attention_heads: 2 })).toThrow(/two keys map to embeddings\.cls_token: vit\.embeddings\.cls_token and embeddings\.cls_token/);
  });

  it('block indices must be contiguous', () => {
    const t = new Map([...loadFixture('timm_vit')].map(([k, v]) => [k.replace(/^blocks\.1\./, 'blocks.2.'), v]));
    expect(() => toCanonical(t, 'timm_vit', undefined, micro)).toThrow(/block indices are not contiguous: found 0, 2; missing 1/);
  });
});

describe('not a ViT', () => {
  it('ResNet', () => {
    expect(() => toCanonical(loadFixture('resnet_like'), 'resnet50.pth')).toThrow(
      /resnet50\.pth: not a ViT checkpoint: found keys like .*conv1\.weight.* \(\d+ keys\); expected timm\/DINO\/BEiT\/Hugging Face ViT layouts \(keys like patch_embed\.proj\.weight or vit\.embeddings\.\*\)/,
    );
  });

  it('a partial Swin goes to the Swin reader (and fails there naming what is missing); ConvNeXt is not a ViT', () => {
    const swin: StateDict = new Map([
      ['patch_embed.proj.weight', f32([96, 3, 4, 4])], ['patch_embed.proj.bias', f32([96])],
      ['layers.0.blocks.0.attn.qkv.weight', f32([288, 96])], ['layers.0.blocks.0.attn.relative_position_bias_table', f32([169, 3])],
    ]);
    expect(() => toCanonical(swin, 'swin_tiny.pth')).toThrow(/^swin_tiny\.pth: missing layers\.0\.blocks\.0\.mlp\.fc1\.weight/);
    const convnext: StateDict = new Map([['stem.0.weight', f32([96, 3, 4, 4])], ['stages.0.blocks.0.conv_dw.weight', f32([96, 1, 7, 7])]]);
    expect(() => toCanonical(convnext, 'convnext_tiny.safetensors')).toThrow(/not a ViT checkpoint: found keys like stem\.0\.weight.*, or a Swin \/ Video Swin checkpoint/);
  });

  it('Hugging Face BEiT names are refused with a pointer to the timm weights', () => {
    const hf: StateDict = new Map([['beit.embeddings.patch_embeddings.projection.weight', f32([24, 3, 4, 4])]]);
    expect(() => toCanonical(hf, 'microsoft/beit-base')).toThrow(/Hugging Face beit layout .* is not supported/);
  });
});

describe('grid and head count', () => {
  it('a non-square pos_embed is an error with the numbers, unless the config gives the image size', () => {
    const t = new Map(loadFixture('timm_vit')).set('pos_embed', f32([1, 13, 24]));
    expect(() => toCanonical(t, 'timm_vit', undefined, micro)).toThrow(/pos_embed has 13 tokens = 1 prefix token\(s\) \+ 12 patch tokens, which is not a square grid; give the image size/);
    expect(toCanonical(t, 'timm_vit', { pretrained_cfg: { input_size: [3, 12, 16] } }, micro).spec.grid).toEqual([3, 4]);
    expect(() => toCanonical(t, 'timm_vit', { image_size: 16 }, micro)).toThrow(/nor the config's image size 16×16 \/ patch 4 = 4×4/);
  });

  it('NOTE heuristic: standard widths give 64-dim heads when nothing else tells', () => {
    expect(toCanonical(synth(BASE), 'vit_tiny').spec.numHeads).toBe(3);
    expect(toCanonical(synth({ ...BASE, embedDim: 384, numHeads: 6 }), 'vit_small').spec.numHeads).toBe(6);
  });

  it('config, hint and BEiT table must agree on the head count', () => {
    expect(() => toCanonical(loadFixture('beit_timm'), 'beit', undefined, { numHeads: 3 })).toThrow(/head count disagrees: the preset \(hint\.numHeads\) says 3, blocks\.0\.attn\.relative_position_bias_table \(last dim\) says 2/);
    expect(() => toCanonical(loadFixture('timm_vit'), 'vit', { num_attention_heads: 4 }, micro)).toThrow(/config\.num_attention_heads says 4, the preset \(hint\.numHeads\) says 2/);
  });

  it('a preset family that contradicts the keys is an error', () => {
    expect(() => toCanonical(loadFixture('beit_timm'), 'beit', undefined, { family: 'dino' })).toThrow(/the preset says dino, but the checkpoint has BEiT keys/);
    expect(() => toCanonical(loadFixture('timm_vit'), 'vit', undefined, { ...micro, family: 'beit' })).toThrow(/the preset says beit, but the checkpoint has no BEiT keys/);
  });

  it('grid from a BEiT table when there is no pos_embed; from the config when the table is not square', () => {
    expect(toCanonical(loadFixture('beit_original'), 'beit').spec.grid).toEqual([4, 4]);
    const spec = { ...BASE, family: 'beit' as const, absPosEmbed: false, relPosBias: 'per-layer' as const, qkvBias: 'qv' as const, grid: [2, 3] as [number, number], embedDim: 64, numHeads: 2 };
    expect(() => toCanonical(synth(spec), 'beit_rect')).toThrow(/relative_position_bias_table has 18 rows, not \(2g−1\)² \+ 3/);
    expect(toCanonical(synth(spec), 'beit_rect', { image_size: [32, 48] }).spec.grid).toEqual([2, 3]);
  });
});
