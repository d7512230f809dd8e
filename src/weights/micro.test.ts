// The built-in micro ViT: timm's key set and shapes for a 2D ViT, timm's init statistics, deterministic per seed,
// and it inflates like any checkpoint.
import { describe, expect, it } from 'vitest';
import { MICRO_VIT, microSpec, microState } from './micro.ts';
import { inflate } from './inflate/index.ts';

const std = (a: Float32Array) => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

describe('micro ViT', () => {
  it('has the timm ViT keys and shapes, timm init and is deterministic per seed', () => {
    const s = microState();
    expect(s.size).toBe(4 + 12 * MICRO_VIT.depth + 2);
    expect(s.get('patch_embed.proj.weight')!.shape).toEqual([32, 3, 8, 8]);
    expect(s.get('pos_embed')!.shape).toEqual([1, 65, 32]);
    // timm's trunc_normal_(std=0.02) cuts at ±2 (absolute), i.e. 100 σ: a plain normal of std 0.02.
    expect(Math.abs(std(s.get('blocks.0.mlp.fc1.weight')!.data as Float32Array) - 0.02)).toBeLessThan(0.001);
    expect(Array.from(s.get('blocks.1.norm2.weight')!.data)).toEqual(new Array(32).fill(1));
    expect(microState().get('blocks.0.attn.qkv.weight')!.data).toEqual(s.get('blocks.0.attn.qkv.weight')!.data);
    expect(microState(MICRO_VIT, 1).get('blocks.0.attn.qkv.weight')!.data).not.toEqual(s.get('blocks.0.attn.qkv.weight')!.data);
  });

  it('inflates to a 1-channel window model at another size', () => {
    const r = inflate(microState(), microSpec(), { strategy: 'center', T: 3, inChans: 1, imgSize: 32 });
    expect(r.state.get('patch_embed.proj.weight')!.shape).toEqual([32, 1, 3, 8, 8]);
    expect(r.state.get('pos_embed')!.shape).toEqual([1, 17, 32]);
    expect(r.spec.T).toBe(3);
  });
});
