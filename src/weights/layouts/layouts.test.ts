// Every micro fixture (one per real layout) → toCanonical: the spec the generating script states, exact canonical
// keys and shapes, values carried over unchanged, and the report (dropped with reasons, renamed).
import { describe, expect, it } from 'vitest';
import { expectedKeys, toCanonical, type LayoutHint } from './index.ts';
import { loadFixture, loadJson } from './fixtures.testutil.ts';
import type { EncoderSpec } from '../types.ts';

interface Case {
  fixture: string;
  name: string;
  hint?: LayoutHint;
  config?: boolean;
  dropped: string[];
  /** a few [key in the file, canonical key] pairs that must be reported */
  renamed?: Array<[string, string]>;
}

const micro = { numHeads: 2 }; // D 24: no standard width, no config, no BEiT table → the preset tells the heads

const CASES: Case[] = [
  { fixture: 'timm_vit', name: 'timm/vit_micro/model.safetensors', hint: micro, dropped: ['head.weight', 'head.bias'] },
  {
    fixture: 'timm_deit_distilled',
    name: 'timm_deit_distilled.safetensors',
    hint: micro,
    dropped: ['head.weight', 'head.bias', 'head_dist.weight', 'head_dist.bias'],
  },
  { fixture: 'dino_vitmicro4_pretrain', name: 'dino_vitmicro4_pretrain.pth', hint: micro, dropped: [] },
  {
    fixture: 'dino_vitmicro4_checkpoint',
    name: 'checkpoint.pth',
    hint: micro,
    dropped: ['student.module.backbone.cls_token', 'teacher.head.mlp.0.weight', 'teacher.head.last_layer.weight_g', 'teacher.head.last_layer.weight_v'],
    renamed: [['teacher.backbone.cls_token', 'cls_token'], ['teacher.backbone.blocks.1.mlp.fc2.bias', 'blocks.1.mlp.fc2.bias']],
  },
  {
    fixture: 'beit_timm',
    name: 'timm/beit_micro/model.safetensors',
    dropped: ['head.weight', 'blocks.0.attn.relative_position_index', 'blocks.1.attn.relative_position_index'],
  },
  {
    fixture: 'beit_original',
    name: 'beit_micro_pt22k.pth',
    dropped: ['model.mask_token', 'model.lm_head.weight', 'model.lm_head.bias', 'model.rel_pos_bias.relative_position_index'],
    renamed: [['model.rel_pos_bias.relative_position_bias_table', 'rel_pos_bias.relative_position_bias_table'], ['model.blocks.0.gamma_1', 'blocks.0.gamma_1']],
  },
  {
    fixture: 'hf_vit',
    name: 'hf_vit/pytorch_model.bin',
    config: true,
    dropped: ['classifier.weight', 'classifier.bias'],
    renamed: [['vit.embeddings.position_embeddings', 'pos_embed'], ['vit.encoder.layer.1.attention.attention.value.bias', 'blocks.1.attn.qkv.bias'], ['vit.layernorm.weight', 'norm.weight']],
  },
  {
    fixture: 'hf_deit',
    name: 'hf_deit/pytorch_model.bin',
    config: true,
    dropped: ['cls_classifier.weight', 'distillation_classifier.bias'],
    renamed: [['deit.embeddings.distillation_token', 'dist_token'], ['deit.encoder.layer.0.layernorm_after.bias', 'blocks.0.norm2.bias']],
  },
];

describe('toCanonical on the micro fixtures', () => {
  for (const c of CASES) {
    it(`${c.fixture}: spec, exact keys and shapes, report`, () => {
      const file = loadFixture(c.fixture);
      const ref = loadJson<{ spec: EncoderSpec }>(`${c.fixture}.ref.json`);
      const config = c.config ? loadJson(`${c.fixture}.config.json`) : undefined;
      const { state, spec, report } = toCanonical(file, c.name, config, c.hint);

      expect(spec).toEqual(ref.spec);
      const expected = expectedKeys(spec);
      expect([...state.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [k, shape] of expected) expect(state.get(k)!.shape, k).toEqual(shape);

      const droppedKeys = report.dropped.map((d) => d.key);
      for (const k of c.dropped) expect(droppedKeys, k).toContain(k);
      for (const d of report.dropped) expect(d.reason.length).toBeGreaterThan(5);
      for (const pair of c.renamed ?? []) expect(report.renamed).toContainEqual(pair);
      // every key of the file is accounted for: used or dropped, never both, never silently skipped
      expect(new Set([...report.used, ...droppedKeys]).size).toBe(file.size);
      expect(report.used.length + droppedKeys.length).toBe(file.size);
    });
  }

  it('carries tensors over unchanged where only the name changes', () => {
    const file = loadFixture('beit_original');
    const { state } = toCanonical(file, 'beit_original.pth');
    for (const [k, t] of state) expect(t, k).toBe(file.get(`model.${k}`));
    const dino = loadFixture('dino_vitmicro4_checkpoint');
    const teacher = toCanonical(dino, 'checkpoint.pth', undefined, micro).state;
    expect(teacher.get('blocks.0.attn.qkv.weight')).toBe(dino.get('teacher.backbone.blocks.0.attn.qkv.weight'));
    expect(teacher.get('blocks.0.attn.qkv.weight')!.data).not.toEqual(dino.get('student.module.backbone.blocks.0.attn.qkv.weight')!.data);
  });

  it('a teacher-only dict (teacher.backbone.*) and a timm pre_logits layer are handled', () => {
    const dino = loadFixture('dino_vitmicro4_checkpoint');
    const teacherOnly = new Map([...dino].filter(([k]) => k.startsWith('teacher.')));
    expect(toCanonical(teacherOnly, 'teacher.pth', undefined, micro).spec.layout).toBe('dino-original');
    const t = new Map(loadFixture('timm_vit'));
    t.set('pre_logits.fc.weight', { dtype: 'float32', shape: [24, 24], data: new Float32Array(576) });
    expect(toCanonical(t, 'vit_in21k.pth', undefined, micro).report.dropped.map((d) => d.key)).toContain('pre_logits.fc.weight');
  });

  it('timm names are canonical: nothing renamed, report.used is every kept key', () => {
    const { report, state } = toCanonical(loadFixture('timm_vit'), 'timm_vit.safetensors', undefined, micro);
    expect(report.renamed).toEqual([]);
    expect(report.used.sort()).toEqual([...state.keys()].sort());
  });

  it('family: DINO via timm names by its .dino tag or the hint; DeiT by name; the release by its file name', () => {
    const t = loadFixture('timm_vit');
    expect(toCanonical(t, 'timm/vit_small_patch16_224.dino', undefined, micro).spec).toMatchObject({ family: 'dino', layout: 'timm' });
    expect(toCanonical(t, 'model.safetensors', undefined, { ...micro, family: 'dino' }).spec).toMatchObject({ family: 'dino', layout: 'timm' });
    expect(toCanonical(t, 'timm/deit_small_patch16_224.fb_in1k', undefined, micro).spec.family).toBe('deit');
    expect(toCanonical(t, 'dino_deitsmall16_pretrain.pth', undefined, micro).spec).toMatchObject({ family: 'dino', layout: 'dino-original' });
    expect(toCanonical(t, 'x.safetensors', { architecture: 'vit_small_patch16_224', pretrained_cfg: { tag: 'dino' } }, micro).spec.family).toBe('dino');
  });

  it('drops a timm head of size 0 (DINO via timm exported with num_classes 0)', () => {
    const t = new Map(loadFixture('dino_vitmicro4_pretrain'));
    t.set('head.weight', { dtype: 'float32', shape: [0, 24], data: new Float32Array(0) });
    t.set('head.bias', { dtype: 'float32', shape: [0], data: new Float32Array(0) });
    const { report } = toCanonical(t, 'vit_small_patch16_224.dino.safetensors', undefined, micro);
    expect(report.dropped.map((d) => d.key)).toEqual(['head.weight', 'head.bias']);
  });

  it('without a config, hint or BEiT table, a non-standard width asks for hint.numHeads', () => {
    expect(() => toCanonical(loadFixture('timm_vit'), 'timm_vit.safetensors')).toThrow(/embedDim 24.*hint\.numHeads/);
  });
});
