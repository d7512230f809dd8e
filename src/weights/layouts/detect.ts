// Which layout a checkpoint is in: takes off wrapper prefixes (module., model., DINO's teacher./student./backbone.),
// finds the sentinel keys, and picks the layout, its rule table and the family. Fails loudly on non-ViT checkpoints.
import type { Family, StateDict } from '../types.ts';
import type { Rule } from './rules.ts';
import { HF_PREFIXES, HF_RULES, SENTINELS, TIMM_RULES, WRAPPERS } from './tables.ts';

export type Layout = 'timm' | 'dino-original' | 'beit-original' | 'hf-vit' | 'hf-deit' | 'swin-original' | 'hf-swin' | 'torchvision-swin' | 'videoswin-original' | 'torchvision-swin3d';

/** Caller's knowledge: the preset's family, and the head count where shapes cannot tell it (e.g. micro models). */
export interface LayoutHint {
  family?: Family;
  numHeads?: number;
}

export interface Detected {
  layout: Layout;
  family: Family;
  rules: Rule[];
  /** Keys with wrapper prefixes taken off. */
  tensors: StateDict;
  /** current key → the key in the file */
  original: Map<string, string>;
  dropped: Array<{ key: string; reason: string }>;
}

/** A config.json (Hugging Face or timm) as a plain record. */
export type Config = Record<string, unknown>;

/** Reads a config field that should be a number (or undefined). */
export function cfgNumber(config: Config, field: string, where: string): number | undefined {
  const v = config[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: config.${field} should be a number, got ${JSON.stringify(v)}`);
  return v;
}

const BEIT_KEY = /^(blocks\.\d+\.(attn\.q_bias|attn\.relative_position_bias_table|gamma_1)|rel_pos_bias\.relative_position_bias_table)$/;
const DINO_HEAD_KEY = /^head\.(mlp|last_layer)\./;
/** The original DINO release's file names (dino_deitsmall16_pretrain.pth, dino_vitbase8_pretrain.pth, checkpoint.pth). */
const DINO_ORIGINAL_NAME = /dino_(deit|vit|xcit|resnet)|dino.*(pretrain|checkpoint)/i;

export function detect(input: StateDict, name: string, config: Config, hint: LayoutHint): Detected {
  let original = new Map<string, string>([...input.keys()].map((k) => [k, k]));
  const dropped: Detected['dropped'] = [];
  let tensors = input;
  let fromDinoTraining = false;

  const rewrite = (keep: (key: string) => string | null): void => {
    const next: StateDict = new Map();
    const nextOriginal = new Map<string, string>();
    for (const [k, t] of tensors) {
      const k2 = keep(k);
      if (k2 === null) continue;
      if (next.has(k2)) throw new Error(`${name}: two keys map to ${k2}: ${nextOriginal.get(k2)} and ${original.get(k)} (after taking off a wrapper prefix)`);
      nextOriginal.set(k2, original.get(k)!);
      next.set(k2, t);
    }
    tensors = next;
    original = nextOriginal;
  };
  const keys = (): string[] => [...tensors.keys()];

  // --- 1. wrappers: DINO training checkpoint {student, teacher} (the teacher is kept); DataParallel / release dicts;
  //        DINO's backbone. ---------------------------------------------------------------------------------------
  if (keys().some((k) => k.startsWith('teacher.'))) {
    fromDinoTraining = true;
    rewrite((k) => {
      if (!k.startsWith('student.')) return k.startsWith('teacher.') ? k.slice(8) : k;
      dropped.push({ key: k, reason: 'DINO student copy (the teacher is the released backbone)' });
      return null;
    });
  }
  for (let again = true; again; ) {
    again = false;
    for (const w of WRAPPERS) {
      if (tensors.size > 0 && keys().every((k) => k.startsWith(w))) {
        rewrite((k) => k.slice(w.length));
        again = true;
      }
    }
  }
  if (tensors.has(`backbone.${SENTINELS.timm}`)) {
    fromDinoTraining = true;
    rewrite((k) => (k.startsWith('backbone.') ? k.slice(9) : k));
  }

  // --- 2. layout by sentinel keys ------------------------------------------------------------------------------
  const text = [name, config.architecture, config._name_or_path, (config.pretrained_cfg as Config | undefined)?.tag]
    .filter((s) => typeof s === 'string')
    .join(' ');
  const hfKey = keys().find((k) => k.endsWith(SENTINELS.hf));
  if (hfKey !== undefined) {
    const prefix = hfKey.slice(0, hfKey.length - SENTINELS.hf.length);
    if (prefix !== '' && prefix !== HF_PREFIXES.vit && prefix !== HF_PREFIXES.deit) {
      throw new Error(
        `${name}: Hugging Face ${prefix.replace(/\.$/, '')} layout (keys like ${hfKey}) is not supported; ` +
          `expected ViTModel/DeiTModel keys (vit.embeddings.*, deit.embeddings.* or embeddings.*), or a timm checkpoint`,
      );
    }
    if (prefix) rewrite((k) => (k.startsWith(prefix) ? k.slice(prefix.length) : k));
    const distilled = tensors.has('embeddings.distillation_token');
    const layout: Layout = distilled || prefix === HF_PREFIXES.deit || config.model_type === 'deit' ? 'hf-deit' : 'hf-vit';
    return { layout, family: family(false, distilled, false, text, config, hint, name), rules: HF_RULES, tensors, original, dropped };
  }

  if (!tensors.has(SENTINELS.timm) || !keys().some((k) => /^blocks\.\d+\./.test(k))) throw notViT(input, name);
  const beit = keys().some((k) => BEIT_KEY.test(k));
  const distilled = tensors.has('dist_token');
  let layout: Layout = 'timm';
  if (beit && keys().some((k) => k === 'mask_token' || k.startsWith('rel_pos_bias.') || k.startsWith('lm_head.'))) layout = 'beit-original';
  if (!beit && (fromDinoTraining || keys().some((k) => DINO_HEAD_KEY.test(k)) || DINO_ORIGINAL_NAME.test(name))) layout = 'dino-original';
  return {
    layout,
    family: family(beit, distilled, layout === 'dino-original', text, config, hint, name),
    rules: TIMM_RULES,
    tensors,
    original,
    dropped,
  };
}

/** Family: structure first (BEiT keys, a distillation token, the DINO release), then the caller's hint, then names. */
function family(beit: boolean, distilled: boolean, dino: boolean, text: string, config: Config, hint: LayoutHint, name: string): Family {
  if (hint.family !== undefined && beit !== (hint.family === 'beit')) {
    throw new Error(`${name}: the preset says ${hint.family}, but the checkpoint ${beit ? 'has' : 'has no'} BEiT keys (q_bias/v_bias, relative position bias, gamma_1)`);
  }
  if (beit) return 'beit';
  if (distilled) return 'deit';
  if (dino) return 'dino';
  if (hint.family) return hint.family;
  if (/dino/i.test(text)) return 'dino';
  if (/deit/i.test(text) || config.model_type === 'deit') return 'deit';
  return 'vit';
}

function notViT(input: StateDict, name: string): Error {
  const all = [...input.keys()];
  const like = all.slice(0, 4).join(', ');
  return new Error(
    `${name}: not a ViT checkpoint: found keys like ${like}${all.length > 4 ? ', …' : ''} (${all.length} keys); ` +
      `expected timm/DINO/BEiT/Hugging Face ViT layouts (keys like patch_embed.proj.weight or vit.embeddings.*), ` +
      `or a Swin / Video Swin checkpoint (keys like layers.0.blocks.0.* or features.0.0.*)`,
  );
}
