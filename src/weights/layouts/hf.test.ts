// Hugging Face ViT/DeiT: q, k, v concatenated into timm's qkv (checked number for number), base-model checkpoints
// without the vit. prefix, config-driven eps and heads, config/shape agreement, and export back (fromCanonical).
import { describe, expect, it } from 'vitest';
import { fromCanonical, toCanonical } from './index.ts';
import { loadFixture, loadJson } from './fixtures.testutil.ts';
import type { StateDict } from '../types.ts';

const config = loadJson('hf_vit.config.json');

describe('Hugging Face ViT', () => {
  it('qkv = [query; key; value] along the output dim, weights and biases, every block', () => {
    const file = loadFixture('hf_vit');
    const { state } = toCanonical(file, 'hf_vit', config);
    for (let i = 0; i < 2; i++) {
      for (const p of ['weight', 'bias']) {
        const qkv = state.get(`blocks.${i}.attn.qkv.${p}`)!;
        const parts = ['query', 'key', 'value'].map((n) => file.get(`vit.encoder.layer.${i}.attention.attention.${n}.${p}`)!);
        expect(qkv.shape).toEqual(p === 'weight' ? [72, 24] : [72]);
        const n = parts[0].data.length;
        parts.forEach((part, j) => expect(Array.from(qkv.data.subarray(j * n, (j + 1) * n))).toEqual(Array.from(part.data)));
        // spot check by row: row 24 + 5 of qkv.weight is row 5 of key.weight
        if (p === 'weight') expect(qkv.data[(24 + 5) * 24 + 7]).toBe(parts[1].data[5 * 24 + 7]);
      }
    }
  });

  it('a checkpoint saved from the base model (no vit. prefix, with pooler) gives the same state; the pooler is dropped', () => {
    const file = loadFixture('hf_vit');
    const base: StateDict = new Map();
    for (const [k, t] of file) if (k.startsWith('vit.')) base.set(k.slice(4), t);
    base.set('pooler.dense.weight', { dtype: 'float32', shape: [24, 24], data: new Float32Array(576) });
    base.set('pooler.dense.bias', { dtype: 'float32', shape: [24], data: new Float32Array(24) });
    const a = toCanonical(file, 'hf_vit', config);
    const b = toCanonical(base, 'google/vit-micro (ViTModel)', config);
    expect(b.spec).toEqual(a.spec);
    expect([...b.state.keys()]).toEqual([...a.state.keys()]);
    for (const [k, t] of a.state) expect(Array.from(b.state.get(k)!.data), k).toEqual(Array.from(t.data));
    expect(b.report.dropped).toContainEqual({ key: 'pooler.dense.weight', reason: expect.stringMatching(/pooler/) });
  });

  it('timm configs give the head count as model_args.num_heads (push_to_hub) or num_heads', () => {
    const timm = loadFixture('timm_vit');
    expect(toCanonical(timm, 'timm_vit', { architecture: 'vit_micro', model_args: { num_heads: 2 } }).spec.numHeads).toBe(2);
    expect(toCanonical(timm, 'timm_vit', { num_heads: 2 }).spec.numHeads).toBe(2);
    expect(() => toCanonical(timm, 'timm_vit', { model_args: { num_heads: 3 } }, { numHeads: 2 })).toThrow(/model_args\.num_heads says 3/);
  });

  it('layer_norm_eps and num_attention_heads come from the config; eps defaults to 1e-12', () => {
    const file = loadFixture('hf_vit');
    expect(toCanonical(file, 'hf_vit', { ...config, layer_norm_eps: 1e-5 }).spec.normEps).toBe(1e-5);
    expect(toCanonical(file, 'hf_vit', { num_attention_heads: 2 }).spec.normEps).toBe(1e-12);
    expect(toCanonical(file, 'hf_vit', { num_attention_heads: 3 }).spec.numHeads).toBe(3);
    expect(() => toCanonical(file, 'hf_vit')).toThrow(/cannot tell the number of attention heads for embedDim 24/);
  });

  it('a config that disagrees with the shapes is an error naming the field', () => {
    const file = loadFixture('hf_vit');
    expect(() => toCanonical(file, 'hf_vit', { ...config, hidden_size: 32 })).toThrow(/config\.hidden_size is 32 but the weights say 24/);
    expect(() => toCanonical(file, 'hf_vit', { ...config, num_hidden_layers: 12 })).toThrow(/config\.num_hidden_layers is 12 but the weights say 2/);
    expect(() => toCanonical(file, 'hf_vit', { ...config, layer_norm_eps: '1e-12' })).toThrow(/config\.layer_norm_eps should be a number/);
  });

  it('a missing key, query or value, is named', () => {
    const file = new Map(loadFixture('hf_vit'));
    file.delete('vit.encoder.layer.1.attention.attention.key.bias');
    expect(() => toCanonical(file, 'hf_vit', config)).toThrow(
      /blocks\.1\.attn\.qkv\.bias is the concatenation of encoder\.layer\.1\.attention\.attention\.query\.bias, .*key\.bias, .*value\.bias, but encoder\.layer\.1\.attention\.attention\.key\.bias is missing/,
    );
  });
});

describe('fromCanonical', () => {
  it('timm is the identity', () => {
    const { state } = toCanonical(loadFixture('beit_timm'), 'beit');
    const out = fromCanonical(state, 'timm');
    expect(out).not.toBe(state);
    expect([...out]).toEqual([...state]);
  });

  it('hf-vit / hf-deit give back the original encoder keys and values (q, k, v split again)', () => {
    for (const [fixture, target, prefix] of [['hf_vit', 'hf-vit', 'vit.'], ['hf_deit', 'hf-deit', 'deit.']] as const) {
      const file = loadFixture(fixture);
      const { state } = toCanonical(file, fixture, loadJson(`${fixture}.config.json`));
      const back = fromCanonical(state, target);
      const encoderKeys = [...file.keys()].filter((k) => k.startsWith(prefix)).sort();
      expect([...back.keys()].sort()).toEqual(encoderKeys);
      for (const [k, t] of back) {
        expect(t.shape, k).toEqual(file.get(k)!.shape);
        expect(Array.from(t.data), k).toEqual(Array.from(file.get(k)!.data));
      }
    }
  });

  it('keys with no Hugging Face name (BEiT) and a dist token to hf-vit are errors', () => {
    const { state } = toCanonical(loadFixture('beit_timm'), 'beit');
    expect(() => fromCanonical(state, 'hf-vit')).toThrow(/cannot export blocks\.0\.attn\.q_bias to the hf-vit layout|cannot export .* to the hf-vit layout/);
    const deit = toCanonical(loadFixture('timm_deit_distilled'), 'deit', undefined, { numHeads: 2 }).state;
    expect(() => fromCanonical(deit, 'hf-vit')).toThrow(/dist_token .* use hf-deit/);
    expect(fromCanonical(deit, 'hf-deit').has('deit.embeddings.distillation_token')).toBe(true);
  });
});
