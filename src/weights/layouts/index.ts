// Checkpoint layouts ↔ canonical (timm) names: toCanonical detects the layout, renames by its table, infers the
// EncoderSpec and checks every key and shape strictly; fromCanonical exports back (timm: identity; Hugging Face).
import type { EncoderSpec, StateDict } from '../types.ts';
import { detect, type Config, type Layout, type LayoutHint } from './detect.ts';
import { applyRules, reverseRules } from './rules.ts';
import { checkStrict, inferSpec } from './spec.ts';
import { HF_PREFIXES, HF_RULES } from './tables.ts';
import { looksLikeSwin, swinToCanonical } from './swin.ts';

export type { Layout, LayoutHint } from './detect.ts';
export type { Rule, Pattern } from './rules.ts';
export { expectedKeys, relTableRows } from './spec.ts';
export { CANONICAL_PATTERNS, HF_RULES, TIMM_RULES } from './tables.ts';
export { checkSwinStrict, expectedSwinKeys, inferSwinSpec, looksLikeSwin, swinTableRows, windowFromRows, type SwinLayout } from './swin.ts';

export interface LayoutReport {
  /** Keys of the file that went into the canonical state. */
  used: string[];
  /** Keys of the file left out on purpose, with why (heads, buffers, pooler, mask token, DINO student copy…). */
  dropped: Array<{ key: string; reason: string }>;
  /** [key in the file, canonical key] for every key whose name changed (q, k, v each point at their qkv). */
  renamed: Array<[string, string]>;
}

export interface Canonical {
  state: StateDict;
  spec: EncoderSpec;
  report: LayoutReport;
}

/**
 * Brings a ViT checkpoint (timm, DINO or BEiT release, Hugging Face ViT/DeiT) or a Swin / Video Swin checkpoint
 * (timm, the Swin release, Hugging Face Swin, the Video Swin release, torchvision Swin3D; see swin.ts) to canonical
 * timm names.
 * `name` (file or repo) appears in every error and helps tell DINO's release from timm's; `config` is a
 * config.json (Hugging Face or timm) when one came with the weights. Tensors are shared, not copied, except the
 * concatenated q/k/v. Throws on a non-ViT checkpoint, on any key it does not know, and on any missing key or shape.
 */
export function toCanonical(tensors: StateDict, name: string, config?: object, hint: LayoutHint = {}): Canonical {
  const cfg = (config ?? {}) as Config;
  if (looksLikeSwin(tensors.keys())) return swinToCanonical(tensors, name, cfg, hint);
  const found = detect(tensors, name, cfg, hint);
  const applied = applyRules(found.tensors, found.rules, name);
  if (applied.unknown.length) {
    const list = applied.unknown.slice(0, 20).map((k) => found.original.get(k) ?? k);
    throw new Error(
      `${name}: ${applied.unknown.length} unrecognised key(s) for the ${found.layout} layout: ${list.join(', ')}` +
        `${applied.unknown.length > 20 ? `, … and ${applied.unknown.length - 20} more` : ''} (nothing is ignored silently)`,
    );
  }
  const origin = (k: string): string => (applied.sources.get(k) ?? [k]).map((s) => found.original.get(s) ?? s).join(' + ');
  const spec = inferSpec(applied.state, found.layout, found.family, cfg, hint, name);
  checkStrict(applied.state, spec, name, origin);

  const used: string[] = [];
  const renamed: Array<[string, string]> = [];
  for (const [key, from] of applied.sources) {
    for (const f of from) {
      const file = found.original.get(f) ?? f;
      used.push(file);
      if (file !== key) renamed.push([file, key]);
    }
  }
  const dropped = [...found.dropped, ...applied.dropped.map((d) => ({ key: found.original.get(d.key) ?? d.key, reason: d.reason }))];
  return { state: applied.state, spec, report: { used, dropped, renamed } };
}

export type ExportLayout = 'timm' | 'hf-vit' | 'hf-deit';

/**
 * Canonical state → a layout's names. 'timm' is the identity (a new Map sharing the tensors). The Hugging Face
 * layouts split qkv back into query/key/value under `vit.` / `deit.`; BEiT-only keys have no Hugging Face name and
 * throw.
 */
export function fromCanonical(state: StateDict, target: ExportLayout): StateDict {
  if (target === 'timm') return new Map(state);
  if (target === 'hf-vit' && state.has('dist_token')) throw new Error('cannot export dist_token to hf-vit: use hf-deit');
  const prefix = target === 'hf-deit' ? HF_PREFIXES.deit : HF_PREFIXES.vit;
  const out: StateDict = new Map();
  for (const [k, t] of reverseRules(state, HF_RULES, target)) out.set(prefix + k, t);
  return out;
}

/** The layouts toCanonical recognises, for messages and docs. */
export const LAYOUTS: readonly Layout[] = [
  'timm', 'dino-original', 'beit-original', 'hf-vit', 'hf-deit', 'swin-original', 'hf-swin', 'torchvision-swin', 'videoswin-original', 'torchvision-swin3d',
];
