// Seeded init: determinism, the truncated normal's bounds and spread, timm's per-name rules, 'scratch' states.
import { describe, expect, it } from 'vitest';
import { microModel } from '../../../test/reference/micro.ts';
import { hash32, initState, initTensor, makeRng, truncNormal } from './init.ts';
import { inflate } from './index.ts';

function stats(x: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
  }
  const mean = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / x.length), min, max };
}

describe('makeRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const c = makeRng(43);
    const xa = Array.from({ length: 8 }, () => a.uniform());
    expect(Array.from({ length: 8 }, () => b.uniform())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.uniform())).not.toEqual(xa);
    expect(xa.every((u) => u >= 0 && u < 1)).toBe(true);
  });
  it('gives standard normals (mean 0, std 1 on 200k draws)', () => {
    const r = makeRng(7);
    const x = Float64Array.from({ length: 200_000 }, () => r.normal());
    const s = stats(x);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.01);
  });
  it('hash32 separates names and seeds', () => {
    expect(hash32('blocks.0.attn.qkv.weight', 0)).not.toBe(hash32('blocks.1.attn.qkv.weight', 0));
    expect(hash32('pos_embed', 0)).not.toBe(hash32('pos_embed', 1));
  });
});

describe('truncNormal', () => {
  it('respects the ±2σ default bounds; its std is the truncated one, 0.8796·σ', () => {
    const t = truncNormal([512, 512], makeRng(3), { std: 0.02 });
    const s = stats(t.data);
    expect(t.shape).toEqual([512, 512]);
    expect(s.min).toBeGreaterThanOrEqual(Math.fround(-0.04));
    expect(s.max).toBeLessThanOrEqual(Math.fround(0.04));
    expect(s.min).toBeLessThan(-0.039); // the bounds are reached, not a narrower range
    expect(Math.abs(s.mean)).toBeLessThan(2e-4);
    expect(s.std / 0.02).toBeCloseTo(0.8796, 2);
  });
  it('with timm’s absolute ±2 bounds at std 0.02 it is a plain N(0, 0.02²)', () => {
    const t = truncNormal([512, 512], makeRng(4), { std: 0.02, a: -2, b: 2 });
    expect(stats(t.data).std).toBeCloseTo(0.02, 4);
  });
  it('honours custom bounds and mean, and refuses impossible ones', () => {
    const t = truncNormal([10_000], makeRng(5), { mean: 1, std: 0.5, a: 0.9, b: 1.3 });
    const s = stats(t.data);
    expect(s.min).toBeGreaterThanOrEqual(0.9);
    expect(s.max).toBeLessThanOrEqual(1.3);
    expect(() => truncNormal([1], makeRng(1), { std: 0.02, a: 1, b: 2 })).toThrow(/a < b/);
    expect(() => truncNormal([1], makeRng(1), { std: 0 })).toThrow(/std > 0/);
  });
});

describe('initTensor rules (timm)', () => {
  const rng = () => makeRng(11);
  it('norms 1/0, biases 0, layer scale 1e-5 (ViT) / 0.1 (BEiT), relative tables 0', () => {
    expect(Array.from(initTensor('blocks.3.norm1.weight', [4], 'vit', rng()).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(initTensor('fc_norm.bias', [2], 'beit', rng()).data)).toEqual([0, 0]);
    expect(Array.from(initTensor('blocks.0.attn.qkv.bias', [3], 'vit', rng()).data)).toEqual([0, 0, 0]);
    expect(Array.from(initTensor('blocks.0.attn.q_bias', [2], 'beit', rng()).data)).toEqual([0, 0]);
    expect(initTensor('blocks.1.ls2.gamma', [1], 'vit', rng()).data[0]).toBe(Math.fround(1e-5));
    expect(initTensor('blocks.1.gamma_1', [1], 'beit', rng()).data[0]).toBe(Math.fround(0.1));
    expect(Array.from(initTensor('blocks.1.attn.relative_position_bias_table', [3, 1], 'beit', rng()).data)).toEqual([0, 0, 0]);
  });
  it('linear weights trunc-normal(0.02); BEiT rescales proj/fc2 of block i by 1/√(2(i+1))', () => {
    const w = initTensor('blocks.0.mlp.fc1.weight', [384, 384], 'vit', rng());
    expect(stats(w.data).std).toBeCloseTo(0.02, 3);
    const vitFc2 = initTensor('blocks.3.mlp.fc2.weight', [64], 'vit', rng());
    const beitFc2 = initTensor('blocks.3.mlp.fc2.weight', [64], 'beit', rng());
    for (let i = 0; i < 64; i++) expect(beitFc2.data[i]).toBeCloseTo(vitFc2.data[i] / Math.sqrt(8), 7);
  });
  it('cls_token: normal(1e-6) for ViT/DINO, trunc-normal(0.02) for DeiT/BEiT', () => {
    expect(stats(initTensor('cls_token', [1, 1, 4096], 'dino', rng()).data).std).toBeLessThan(2e-6);
    expect(stats(initTensor('cls_token', [1, 1, 4096], 'deit', rng()).data).std).toBeCloseTo(0.02, 3);
  });
  it('patch kernel: U(±1/√fan_in); bias needs the fan-in; unknown names are refused', () => {
    const w = initTensor('patch_embed.proj.weight', [64, 1, 5, 4, 4], 'vit', rng());
    const s = stats(w.data);
    expect(s.max).toBeLessThanOrEqual(1 / Math.sqrt(80));
    expect(s.min).toBeGreaterThanOrEqual(-1 / Math.sqrt(80));
    expect(s.std).toBeCloseTo(1 / Math.sqrt(80) / Math.sqrt(3), 2);
    expect(() => initTensor('patch_embed.proj.bias', [64], 'vit', rng())).toThrow(/fan-in/);
    expect(() => initTensor('mask_token', [1, 1, 4], 'beit', rng())).toThrow(/no initialisation rule for 'mask_token'/);
  });
});

describe("'scratch' states", () => {
  it('same keys and shapes as the inflated model, deterministic per seed, independent of key order', () => {
    for (const variant of ['vit', 'deit', 'beit-shared'] as const) {
      const { state, spec } = microModel(variant);
      const opts = { T: 5, inChans: 2, imgSize: 24 };
      const centre = inflate(state, spec, { ...opts, strategy: 'center' });
      const a = inflate(state, spec, { ...opts, strategy: 'scratch', seed: 9 });
      const b = inflate(state, spec, { ...opts, strategy: 'scratch', seed: 9 });
      const c = inflate(state, spec, { ...opts, strategy: 'scratch', seed: 10 });
      expect([...a.state.keys()]).toEqual([...centre.state.keys()]);
      for (const [k, t] of centre.state) {
        expect(a.state.get(k)!.shape, k).toEqual(t.shape);
        expect(Array.from(b.state.get(k)!.data), k).toEqual(Array.from(a.state.get(k)!.data));
      }
      expect(Array.from(c.state.get('blocks.0.attn.qkv.weight')!.data)).not.toEqual(Array.from(a.state.get('blocks.0.attn.qkv.weight')!.data));
      const reversed = new Map([...centre.state].reverse());
      const r = initState(reversed, spec.family, 9);
      expect(Array.from(r.get('blocks.1.mlp.fc1.weight')!.data)).toEqual(Array.from(a.state.get('blocks.1.mlp.fc1.weight')!.data));
      expect(a.state.get('patch_embed.proj.weight')!.shape).toEqual([16, 2, 5, 4, 4]);
      expect(a.spec.inflation).toBe('scratch');
      expect(a.notes.some((n) => n.includes('seed 9'))).toBe(true);
    }
  });
  it('a big tensor has std ≈ 0.02 (timm’s trunc_normal_ bounds are absolute ±2)', () => {
    const { state, spec } = microModel('vit', 1, { embedDim: 192, depth: 1, numHeads: 3, patchSize: 4, grid: [4, 4] });
    const out = inflate(state, spec, { strategy: 'scratch', T: 3, inChans: 1, imgSize: 16, seed: 1 });
    const w = out.state.get('blocks.0.mlp.fc1.weight')!; // 768 × 192
    expect(stats(w.data).std).toBeCloseTo(0.02, 3);
    expect(Math.abs(stats(w.data).mean)).toBeLessThan(2e-4);
  });
});
