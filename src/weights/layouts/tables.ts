// The mapping tables, as data: canonical (timm) key patterns, and the ordered rule lists that bring each source
// layout to them. Summarised for people in models/CANONICAL_KEYS.md; applied by rules.ts.
import type { Rule } from './rules.ts';

/** Every canonical key pattern (timm names). The timm, DINO and BEiT releases already use these names. */
export const CANONICAL_PATTERNS = [
  'cls_token',
  'dist_token',
  'pos_embed',
  'patch_embed.proj.{p}',
  'rel_pos_bias.relative_position_bias_table',
  'blocks.{i}.norm1.{p}',
  'blocks.{i}.attn.qkv.{p}',
  'blocks.{i}.attn.q_bias',
  'blocks.{i}.attn.v_bias',
  'blocks.{i}.attn.relative_position_bias_table',
  'blocks.{i}.attn.proj.{p}',
  'blocks.{i}.ls1.gamma',
  'blocks.{i}.gamma_1',
  'blocks.{i}.norm2.{p}',
  'blocks.{i}.mlp.fc1.{p}',
  'blocks.{i}.mlp.fc2.{p}',
  'blocks.{i}.ls2.gamma',
  'blocks.{i}.gamma_2',
  'norm.{p}',
  'fc_norm.{p}',
] as const;

/** Keys of timm / DINO / BEiT checkpoints that the encoder does not use. */
export const TIMM_DROPS: Rule[] = [
  { kind: 'drop', from: 'head.{p}', reason: 'classifier head (the segmentation encoder does not use it)' },
  { kind: 'drop', from: 'head_dist.{p}', reason: 'DeiT distillation classifier head' },
  { kind: 'drop', from: 'pre_logits.fc.{p}', reason: 'representation layer before the classifier (original ViT ImageNet-21k weights)' },
  { kind: 'drop', from: 'head.mlp.{*}', reason: 'DINO projection head (self-supervised training only)' },
  { kind: 'drop', from: 'head.last_layer.{*}', reason: 'DINO prototype layer (self-supervised training only)' },
  { kind: 'drop', from: 'lm_head.{p}', reason: 'BEiT masked-image-modelling head (pre-training only)' },
  { kind: 'drop', from: 'mask_token', reason: 'masked-image-modelling token (pre-training only)' },
  { kind: 'drop', from: 'blocks.{i}.attn.relative_position_index', reason: 'buffer: recomputed from the token grid' },
  { kind: 'drop', from: 'rel_pos_bias.relative_position_index', reason: 'buffer: recomputed from the token grid' },
];

/** timm, DINO (original release) and BEiT (original release): names are canonical already. */
export const TIMM_RULES: Rule[] = [
  ...TIMM_DROPS,
  ...CANONICAL_PATTERNS.map((p): Rule => ({ kind: 'rename', from: p, to: p })),
];

/**
 * Hugging Face transformers ViTModel / DeiTModel, after the model prefix (`vit.`, `deit.` or none for a checkpoint
 * saved from the base model) is taken off. q, k and v are concatenated in that order into timm's fused qkv.
 */
export const HF_RULES: Rule[] = [
  { kind: 'drop', from: 'pooler.dense.{p}', reason: 'pooler (dense + tanh on the class token; not used by the encoder)' },
  { kind: 'drop', from: 'classifier.{p}', reason: 'classifier head (the segmentation encoder does not use it)' },
  { kind: 'drop', from: 'cls_classifier.{p}', reason: 'DeiT class-token classifier head' },
  { kind: 'drop', from: 'distillation_classifier.{p}', reason: 'DeiT distillation classifier head' },
  { kind: 'drop', from: 'embeddings.mask_token', reason: 'masked-image-modelling token (pre-training only)' },
  { kind: 'rename', from: 'embeddings.cls_token', to: 'cls_token' },
  { kind: 'rename', from: 'embeddings.distillation_token', to: 'dist_token' },
  { kind: 'rename', from: 'embeddings.position_embeddings', to: 'pos_embed' },
  { kind: 'rename', from: 'embeddings.patch_embeddings.projection.{p}', to: 'patch_embed.proj.{p}' },
  { kind: 'rename', from: 'encoder.layer.{i}.layernorm_before.{p}', to: 'blocks.{i}.norm1.{p}' },
  {
    kind: 'merge',
    from: [
      'encoder.layer.{i}.attention.attention.query.{p}',
      'encoder.layer.{i}.attention.attention.key.{p}',
      'encoder.layer.{i}.attention.attention.value.{p}',
    ],
    to: 'blocks.{i}.attn.qkv.{p}',
  },
  { kind: 'rename', from: 'encoder.layer.{i}.attention.output.dense.{p}', to: 'blocks.{i}.attn.proj.{p}' },
  { kind: 'rename', from: 'encoder.layer.{i}.layernorm_after.{p}', to: 'blocks.{i}.norm2.{p}' },
  { kind: 'rename', from: 'encoder.layer.{i}.intermediate.dense.{p}', to: 'blocks.{i}.mlp.fc1.{p}' },
  { kind: 'rename', from: 'encoder.layer.{i}.output.dense.{p}', to: 'blocks.{i}.mlp.fc2.{p}' },
  { kind: 'rename', from: 'layernorm.{p}', to: 'norm.{p}' },
];

/** Sentinel keys (after wrapper prefixes are taken off) that identify a layout. */
export const SENTINELS = {
  timm: 'patch_embed.proj.weight',
  hf: 'embeddings.patch_embeddings.projection.weight',
} as const;

/** Hugging Face model prefixes this module reads (the base model's own keys have none). */
export const HF_PREFIXES = { vit: 'vit.', deit: 'deit.' } as const;

/**
 * Outer wrappers taken off before detection, when EVERY key has them: DataParallel (`module.`), the BEiT/DeiT
 * release dicts (`model.`), Lightning-style (`state_dict.`). `backbone.` (DINO) is taken off the keys that have it.
 */
export const WRAPPERS = ['module.', 'model.', 'state_dict.'] as const;

/**
 * NOTE: heuristic, used only when neither a config, a hint nor a BEiT bias table gives the head count: timm's
 * convention of 64-dim heads (ViT-Ti/S/B/L), with ViT-H (1280) at 16 heads of 80.
 */
export const HEADS_BY_WIDTH: Record<number, number> = { 192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16 };
