// Tests for parameter groups: the weight-decay predicate and layer-wise lr decay multipliers.
import { describe, expect, it } from 'vitest';
import { defaultDecay, layerDecayMultipliers } from './groups.ts';

describe('defaultDecay', () => {
  it('decays weights but not biases, norms, tokens, position tables or layer scale', () => {
    const yes = ['patch_embed.proj.weight', 'blocks.3.attn.qkv.weight', 'blocks.0.mlp.fc2.weight', 'decode_head.conv_seg.weight',
      'decode_head.fpn1.0.weight', 'decode_head.bottleneck.conv.weight', 'blocks.1.ls1_proj.weight'];
    const no = ['patch_embed.proj.bias', 'blocks.0.norm1.weight', 'blocks.0.norm2.bias', 'norm.weight', 'fc_norm.weight',
      'blocks.0.attn.q_bias', 'blocks.0.attn.v_bias', 'pos_embed', 'cls_token', 'dist_token', 'mask_token',
      'blocks.2.attn.relative_position_bias_table', 'rel_pos_bias.relative_position_bias_table', 'blocks.0.ls1.gamma',
      'blocks.0.ls2.gamma', 'blocks.0.gamma_1', 'blocks.0.gamma_2', 'decode_head.bottleneck.norm.weight', 'decode_head.gn.weight',
      'decode_head.ln.weight', 'decode_head.bn.weight', 'encoder.LayerNorm.weight'];
    for (const n of yes) expect(defaultDecay(n), n).toBe(true);
    for (const n of no) expect(defaultDecay(n), n).toBe(false);
  });
});

describe('layerDecayMultipliers', () => {
  it('gives blocks.i decay^(depth − i), embeddings decay^(depth + 1), the rest 1', () => {
    const names = ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', 'blocks.0.attn.qkv.weight',
      'blocks.1.norm1.weight', 'blocks.11.mlp.fc2.bias', 'norm.weight', 'rel_pos_bias.relative_position_bias_table',
      'decode_head.conv_seg.weight'];
    const m = layerDecayMultipliers(names, 12, 0.65);
    expect(m.get('cls_token')).toBeCloseTo(0.65 ** 13, 15);
    expect(m.get('pos_embed')).toBeCloseTo(0.65 ** 13, 15);
    expect(m.get('patch_embed.proj.weight')).toBeCloseTo(0.65 ** 13, 15);
    expect(m.get('patch_embed.proj.bias')).toBeCloseTo(0.65 ** 13, 15);
    expect(m.get('blocks.0.attn.qkv.weight')).toBeCloseTo(0.65 ** 12, 15);
    expect(m.get('blocks.1.norm1.weight')).toBeCloseTo(0.65 ** 11, 15);
    expect(m.get('blocks.11.mlp.fc2.bias')).toBeCloseTo(0.65, 15);
    expect(m.get('norm.weight')).toBe(1);
    expect(m.get('rel_pos_bias.relative_position_bias_table')).toBe(1);
    expect(m.get('decode_head.conv_seg.weight')).toBe(1);
    expect(m.size).toBe(names.length);
  });

  it('is all ones for decay 1 and refuses blocks beyond the depth', () => {
    expect([...layerDecayMultipliers(['cls_token', 'blocks.3.attn.proj.weight'], 4, 1).values()]).toEqual([1, 1]);
    expect(() => layerDecayMultipliers(['blocks.12.norm1.weight'], 12, 0.75)).toThrow(/blocks.12.norm1.weight is block 12, but depth is 12/);
    expect(() => layerDecayMultipliers([], 12, 0)).toThrow(/decay 0/);
  });
});

describe('defaultDecay on the model’s own parameter names (encoder and decoder)', () => {
  it('no decay for biases, norms, tokens, pos_embed, relative tables, layer scale; decay for weights', () => {
    for (const k of ['patch_embed.proj.bias', 'blocks.0.attn.q_bias', 'blocks.0.attn.v_bias', 'blocks.3.norm1.weight', 'norm.weight', 'fc_norm.weight',
      'pos_embed', 'cls_token', 'dist_token', 'blocks.0.attn.relative_position_bias_table', 'rel_pos_bias.relative_position_bias_table',
      'blocks.0.ls1.gamma', 'blocks.0.gamma_2', 'decode_head.fuse.0.bias', 'decode_head.bottleneck.norm.weight']) {
      expect(defaultDecay(k), k).toBe(false);
    }
    for (const k of ['patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.mlp.fc1.weight', 'decode_head.conv_seg.weight', 'decode_head.bottleneck.conv.weight']) {
      expect(defaultDecay(k), k).toBe(true);
    }
  });

});

describe('layerDecayMultipliers, Swin names', () => {
  it('Swin: blocks numbered across stages, the merging with the last block before it, stage norms and decoder at 1', () => {
    const names = ['patch_embed.proj.weight', 'layers.0.blocks.0.attn.qkv.weight', 'layers.0.blocks.1.norm1.weight', 'layers.1.downsample.reduction.weight',
      'layers.1.blocks.0.mlp.fc1.weight', 'layers.3.blocks.1.attn.relative_position_bias_table', 'stage_norms.3.weight', 'norm.weight', 'decode_head.conv_seg.weight'];
    const m = layerDecayMultipliers(names, 8, 0.5, [2, 2, 2, 2]);
    // depth 8: multiplier 0.5^(9 − layer); layers: embedding 0, blocks 1…8, downsample of stage 1 = layer 2 (block 1 of stage 0).
    expect([...m.values()]).toEqual([0.5 ** 9, 0.5 ** 8, 0.5 ** 7, 0.5 ** 7, 0.5 ** 6, 0.5 ** 1, 1, 1, 1]);
    expect(() => layerDecayMultipliers(['layers.4.blocks.0.norm1.weight'], 8, 0.5, [2, 2, 2, 2])).toThrow(/stage 4, but there are 4 stages/);
  });
});
