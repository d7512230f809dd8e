// The rule machinery: patterns with placeholders match exactly (dots are literal), fill back, and rename/merge rules
// run both ways; concat0/split0 are inverses.
import { describe, expect, it } from 'vitest';
import { applyRules, concat0, fill, match, reverseRules, split0, type Rule } from './rules.ts';
import { CANONICAL_PATTERNS, HF_RULES, TIMM_RULES } from './tables.ts';
import type { HostTensor } from '../../core/types.ts';

const t = (shape: number[], from = 0): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => from + j) });

describe('patterns', () => {
  it('placeholders capture block index and weight/bias; literals are literal', () => {
    expect(match('blocks.{i}.mlp.fc1.{p}', 'blocks.11.mlp.fc1.bias')).toEqual({ '{i}': '11', '{p}': 'bias' });
    expect(match('blocks.{i}.mlp.fc1.{p}', 'blocks.x.mlp.fc1.bias')).toBeNull();
    expect(match('norm.{p}', 'normX.weight')).toBeNull();
    expect(match('norm.{p}', 'norm.weight_g')).toBeNull();
    expect(match('head.mlp.{*}', 'head.mlp.0.weight')).toEqual({ '{*}': '0.weight' });
    expect(fill('encoder.layer.{i}.output.dense.{p}', { '{i}': '3', '{p}': 'weight' })).toBe('encoder.layer.3.output.dense.weight');
    expect(() => fill('blocks.{i}.norm1.{p}', { '{i}': '0' })).toThrow(/no value for \{p\}/);
  });

  it('the canonical patterns never overlap (first-match order cannot change a result)', () => {
    const samples = CANONICAL_PATTERNS.map((p) => fill(p.replace('{p}', 'weight'), { '{i}': '0' }));
    for (const s of samples) expect(CANONICAL_PATTERNS.filter((p) => match(p, s)), s).toHaveLength(1);
  });

  it('every HF rename/merge target is a canonical pattern', () => {
    for (const r of HF_RULES) if (r.kind !== 'drop') expect(CANONICAL_PATTERNS as readonly string[]).toContain(r.to);
  });
});

describe('apply and reverse', () => {
  it('renames, merges in order, drops with reasons, reports unknown keys', () => {
    const rules: Rule[] = [
      { kind: 'drop', from: 'head.{p}', reason: 'classifier' },
      { kind: 'merge', from: ['a.{i}.q.{p}', 'a.{i}.k.{p}'], to: 'blocks.{i}.qk.{p}' },
      { kind: 'rename', from: 'a.{i}.o.{p}', to: 'blocks.{i}.proj.{p}' },
    ];
    const src = new Map([['a.0.k.weight', t([2, 3], 100)], ['a.0.q.weight', t([2, 3])], ['a.0.o.bias', t([3])], ['head.bias', t([1])], ['what', t([1])]]);
    const r = applyRules(src, rules, 'f');
    expect([...r.state.keys()].sort()).toEqual(['blocks.0.proj.bias', 'blocks.0.qk.weight']);
    expect(Array.from(r.state.get('blocks.0.qk.weight')!.data)).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105]);
    expect(r.sources.get('blocks.0.qk.weight')).toEqual(['a.0.q.weight', 'a.0.k.weight']);
    expect(r.dropped).toEqual([{ key: 'head.bias', reason: 'classifier' }]);
    expect(r.unknown).toEqual(['what']);
    const back = reverseRules(r.state, rules, 'src');
    expect(Array.from(back.get('a.0.k.weight')!.data)).toEqual(Array.from(src.get('a.0.k.weight')!.data));
    expect(back.get('a.0.q.weight')!.shape).toEqual([2, 3]);
  });

  it('timm rules are the identity on canonical keys', () => {
    const src = new Map([['blocks.3.attn.q_bias', t([4])], ['rel_pos_bias.relative_position_bias_table', t([12, 2])]]);
    const r = applyRules(src, TIMM_RULES, 'f');
    expect([...r.state.entries()]).toEqual([...src.entries()]);
  });

  it('concat0 and split0 are inverses; mismatched parts are refused', () => {
    const parts: Array<[string, HostTensor]> = [['q', t([2, 2])], ['k', t([2, 2], 4)], ['v', t([2, 2], 8)]];
    const c = concat0(parts, 'f');
    expect(c.shape).toEqual([6, 2]);
    expect(split0(c, 3, 'qkv').map((s) => Array.from(s.data))).toEqual(parts.map(([, p]) => Array.from(p.data)));
    expect(() => concat0([['q', t([2, 2])], ['k', t([2, 3])]], 'f')).toThrow(/cannot concatenate k \[2,3\] float32 with q \[2,2\] float32/);
    expect(() => split0(t([5, 2]), 3, 'qkv')).toThrow(/cannot split dim 0 of \[5,2\] into 3/);
  });
});
