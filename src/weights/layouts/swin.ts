// Swin and Video Swin checkpoints → canonical names (timm ≥ 0.9 Swin, see models/CANONICAL_KEYS.md): layout
// detection, the key maps (index shifts of the patch merging, torchvision's features.{2s}, Hugging Face's q/k/v),
// the stage spec read from the shapes (depths, heads from the bias tables, window from the table rows, patch depth
// from the kernel) and the strict key/shape check. Pure: typed arrays only.
import type { HostTensor } from '../../core/types.ts';
import type { EncoderSpec, Family, StateDict, SwinSpec } from '../types.ts';
import { cfgNumber, type Config, type LayoutHint } from './detect.ts';
import { concat0 } from './rules.ts';

export type SwinLayout = 'timm' | 'swin-original' | 'hf-swin' | 'videoswin-original' | 'torchvision-swin3d' | 'torchvision-swin';

/** Swin's LayerNorm epsilon (PyTorch's default, used by every Swin release and by Hugging Face's SwinConfig). */
const SWIN_EPS = 1e-5;
/** NOTE: the releases do not store their input size; without a config (or attn_mask buffers) we assume 224 px. */
const DEFAULT_IMG = 224;

/** True when the keys look like a Swin / Video Swin model in any layout we know (after or before wrappers). */
export function looksLikeSwin(keys: Iterable<string>): boolean {
  for (const k of keys) {
    if (/(^|\.)layers\.\d+\.blocks\.\d+\./.test(k) || /(^|\.)features\.\d+\.\d+\.attn\.qkv\./.test(k)) return true;
  }
  return false;
}

type Action =
  | { to: string }
  | { merge: string; part: number; of: number }
  | { drop: string }
  | { refuse: string };

interface KeyRule {
  re: RegExp;
  act: (m: RegExpExecArray) => Action;
}

const P = '(weight|bias)';
const BLOCK_LEAF = `(norm1\\.${P}|attn\\.qkv\\.${P}|attn\\.proj\\.${P}|attn\\.relative_position_bias_table|norm2\\.${P}|mlp\\.fc1\\.${P}|mlp\\.fc2\\.${P})`;
const BUFFER = 'buffer: recomputed from the window';
const HEAD = 'classifier head (the segmentation encoder does not use it)';

/** Keys the timm / original / mmaction layouts share, with the merging stored at `shift` = 0 (start) or 1 (end of s−1). */
function swinRules(shift: 0 | 1): KeyRule[] {
  return [
    { re: new RegExp(`^patch_embed\\.(proj|norm)\\.${P}$`), act: (m) => ({ to: m[0] }) },
    { re: new RegExp(`^layers\\.(\\d+)\\.blocks\\.(\\d+)\\.${BLOCK_LEAF}$`), act: (m) => ({ to: m[0] }) },
    { re: new RegExp(`^layers\\.(\\d+)\\.downsample\\.(norm\\.${P}|reduction\\.weight)$`), act: (m) => ({ to: `layers.${Number(m[1]) + shift}.downsample.${m[2]}` }) },
    { re: new RegExp(`^norm\\.${P}$`), act: (m) => ({ to: m[0] }) },
    { re: new RegExp(`^stage_norms\\.(\\d+)\\.${P}$`), act: (m) => ({ to: m[0] }) },
    { re: /^layers\.\d+\.blocks\.\d+\.attn\.relative_position_index$/, act: () => ({ drop: BUFFER }) },
    { re: /^layers\.\d+\.blocks\.\d+\.attn_mask$/, act: () => ({ drop: 'buffer: the shifted-window mask, recomputed from the input size' }) },
    { re: /^head(\.fc)?\.(weight|bias)$/, act: () => ({ drop: HEAD }) },
    { re: /^cls_head\./, act: () => ({ drop: 'mmaction classification head (cls_head; the segmentation encoder does not use it)' }) },
  ];
}

const TORCHVISION_RULES: KeyRule[] = [
  { re: new RegExp(`^patch_embed\\.(proj|norm)\\.${P}$`), act: (m) => ({ to: m[0] }) },
  { re: new RegExp(`^norm\\.${P}$`), act: (m) => ({ to: m[0] }) },
  {
    re: /^features\.(\d+)\.(\d+)\.(.+)$/,
    act: (m) => {
      const k = Number(m[1]);
      if (k % 2 !== 0) return { refuse: `features.${k} is a patch merging (odd index), not a stage of blocks` };
      const leaf = m[3].replace(/^mlp\.0\./, 'mlp.fc1.').replace(/^mlp\.3\./, 'mlp.fc2.');
      if (leaf === 'attn.relative_position_index') return { drop: BUFFER };
      if (!new RegExp(`^${BLOCK_LEAF}$`).test(leaf)) return { refuse: `unknown block key ${m[0]}` };
      return { to: `layers.${k / 2}.blocks.${m[2]}.${leaf}` };
    },
  },
  {
    re: new RegExp(`^features\\.(\\d+)\\.(norm\\.${P}|reduction\\.weight)$`),
    act: (m) => (Number(m[1]) % 2 === 1 ? { to: `layers.${(Number(m[1]) - 1) / 2 + 1}.downsample.${m[2]}` } : { refuse: `features.${m[1]} should be a stage of blocks` }),
  },
  { re: /^head\.(weight|bias)$/, act: () => ({ drop: HEAD }) },
];

/**
 * torchvision's 2D SwinTransformer (swin_t/s/b): features.0 = [Conv2d, Permute, LayerNorm], stage s's blocks at
 * features.{2s+1}, the merging after stage s at features.{2s+2}.
 */
const TORCHVISION_2D_RULES: KeyRule[] = [
  { re: new RegExp(`^features\\.0\\.0\\.${P}$`), act: (m) => ({ to: `patch_embed.proj.${m[1]}` }) },
  { re: new RegExp(`^features\\.0\\.2\\.${P}$`), act: (m) => ({ to: `patch_embed.norm.${m[1]}` }) },
  { re: new RegExp(`^norm\\.${P}$`), act: (m) => ({ to: m[0] }) },
  {
    re: /^features\.(\d+)\.(\d+)\.(.+)$/,
    act: (m) => {
      const k = Number(m[1]);
      if (k % 2 !== 1) return { refuse: `features.${k} should be the patch embedding (0) or a patch merging (even index)` };
      const leaf = m[3].replace(/^mlp\.0\./, 'mlp.fc1.').replace(/^mlp\.3\./, 'mlp.fc2.');
      if (leaf === 'attn.relative_position_index') return { drop: BUFFER };
      if (!new RegExp(`^${BLOCK_LEAF}$`).test(leaf)) return { refuse: `unknown block key ${m[0]}` };
      return { to: `layers.${(k - 1) / 2}.blocks.${m[2]}.${leaf}` };
    },
  },
  {
    re: new RegExp(`^features\\.(\\d+)\\.(norm\\.${P}|reduction\\.weight)$`),
    act: (m) => (Number(m[1]) % 2 === 0 && Number(m[1]) > 0 ? { to: `layers.${Number(m[1]) / 2}.downsample.${m[2]}` } : { refuse: `features.${m[1]} should be a stage of blocks` }),
  },
  { re: /^head\.(weight|bias)$/, act: () => ({ drop: HEAD }) },
];

const HF_LEAF: Record<string, string> = {
  layernorm_before: 'norm1',
  'attention.output.dense': 'attn.proj',
  layernorm_after: 'norm2',
  'intermediate.dense': 'mlp.fc1',
  'output.dense': 'mlp.fc2',
};

/** Hugging Face SwinModel / SwinForImageClassification, after `swin.` comes off. */
const HF_SWIN_RULES: KeyRule[] = [
  { re: new RegExp(`^embeddings\\.patch_embeddings\\.projection\\.${P}$`), act: (m) => ({ to: `patch_embed.proj.${m[1]}` }) },
  { re: new RegExp(`^embeddings\\.norm\\.${P}$`), act: (m) => ({ to: `patch_embed.norm.${m[1]}` }) },
  { re: /^embeddings\.mask_token$/, act: () => ({ drop: 'masked-image-modelling token (pre-training only)' }) },
  {
    re: new RegExp(`^encoder\\.layers\\.(\\d+)\\.blocks\\.(\\d+)\\.attention\\.self\\.(query|key|value)\\.${P}$`),
    act: (m) => ({ merge: `layers.${m[1]}.blocks.${m[2]}.attn.qkv.${m[4]}`, part: ['query', 'key', 'value'].indexOf(m[3]), of: 3 }),
  },
  { re: /^encoder\.layers\.(\d+)\.blocks\.(\d+)\.attention\.self\.relative_position_bias_table$/, act: (m) => ({ to: `layers.${m[1]}.blocks.${m[2]}.attn.relative_position_bias_table` }) },
  { re: /^encoder\.layers\.\d+\.blocks\.\d+\.attention\.self\.relative_position_index$/, act: () => ({ drop: BUFFER }) },
  {
    re: new RegExp(`^encoder\\.layers\\.(\\d+)\\.blocks\\.(\\d+)\\.(layernorm_before|attention\\.output\\.dense|layernorm_after|intermediate\\.dense|output\\.dense)\\.${P}$`),
    act: (m) => ({ to: `layers.${m[1]}.blocks.${m[2]}.${HF_LEAF[m[3]]}.${m[4]}` }),
  },
  { re: new RegExp(`^encoder\\.layers\\.(\\d+)\\.downsample\\.(norm\\.${P}|reduction\\.weight)$`), act: (m) => ({ to: `layers.${Number(m[1]) + 1}.downsample.${m[2]}` }) },
  { re: new RegExp(`^layernorm\\.${P}$`), act: (m) => ({ to: `norm.${m[1]}` }) },
  { re: /^classifier\.(weight|bias)$/, act: () => ({ drop: HEAD }) },
  { re: /^pooler\./, act: () => ({ drop: 'pooler (not used by the encoder)' }) },
];

/** Keys no Swin layout we read can hold: refused with the reason instead of 'unrecognised'. */
const UNSUPPORTED: Array<[RegExp, string]> = [
  [/(^|\.)absolute_pos_embed$|(^|\.)embeddings\.position_embeddings$/, 'an absolute position embedding (Swin with ape=True) is not supported; the Swin-T/B releases have none'],
  [/(^|\.)(logit_scale|cpb_mlp\.)/, 'this is a Swin V2 checkpoint (cosine attention, continuous position bias), which is not supported; use a Swin (V1) checkpoint'],
];

export interface SwinCanonical {
  state: StateDict;
  spec: EncoderSpec;
  report: { used: string[]; dropped: Array<{ key: string; reason: string }>; renamed: Array<[string, string]> };
}

/**
 * A Swin / Video Swin checkpoint (timm, original release, Hugging Face, torchvision swin_t/s/b, mmaction Video Swin,
 * torchvision Swin3D) →
 * canonical names, spec, and report. `name` appears in every error. Throws on unknown keys, on missing keys and on
 * any shape that differs from what the spec implies.
 */
export function swinToCanonical(input: StateDict, name: string, config: Config = {}, hint: LayoutHint = {}): SwinCanonical {
  // --- wrappers: DataParallel / release dicts flattened with dots, then mmaction's backbone. and HF's swin. ---------
  let tensors = new Map(input);
  const original = new Map<string, string>([...input.keys()].map((k) => [k, k]));
  const strip = (prefix: string, all: boolean): boolean => {
    const keys = [...tensors.keys()];
    const hit = keys.filter((k) => k.startsWith(prefix));
    if (hit.length === 0 || (all && hit.length !== keys.length)) return false;
    const next: StateDict = new Map();
    const nextOriginal = new Map<string, string>();
    for (const [k, t] of tensors) {
      const k2 = k.startsWith(prefix) ? k.slice(prefix.length) : k;
      if (next.has(k2)) throw new Error(`${name}: two keys map to ${k2}: ${nextOriginal.get(k2)} and ${original.get(k)} (after taking off '${prefix}')`);
      next.set(k2, t);
      nextOriginal.set(k2, original.get(k) ?? k);
    }
    tensors = next;
    original.clear();
    for (const [k, v] of nextOriginal) original.set(k, v);
    return true;
  };
  for (let again = true; again; ) again = ['module.', 'model.', 'state_dict.'].some((w) => strip(w, true));
  strip('backbone.', false); // mmaction keeps the backbone beside cls_head.*
  const hf = [...tensors.keys()].some((k) => /^(swin\.)?embeddings\.patch_embeddings\.projection\.weight$/.test(k));
  if (hf) strip('swin.', false);

  for (const k of tensors.keys()) {
    for (const [re, why] of UNSUPPORTED) if (re.test(k)) throw new Error(`${name}: ${original.get(k)}: ${why}`);
  }

  // --- layout ------------------------------------------------------------------------------------------------
  const keys = [...tensors.keys()];
  let layout: SwinLayout;
  let rules: KeyRule[];
  if (hf) {
    layout = 'hf-swin';
    rules = HF_SWIN_RULES;
  } else if (tensors.has('features.0.0.weight') && keys.some((k) => /^features\.\d+\.\d+\.attn\.qkv\./.test(k))) {
    layout = 'torchvision-swin';
    rules = TORCHVISION_2D_RULES;
  } else if (keys.some((k) => /^features\.\d+\.\d+\.attn\.qkv\./.test(k))) {
    layout = 'torchvision-swin3d';
    rules = TORCHVISION_RULES;
  } else {
    if (!tensors.has('patch_embed.proj.weight')) {
      throw new Error(`${name}: looks like a Swin model (keys like ${keys.find((k) => /layers\.\d+\.blocks\./.test(k))}) but has no patch_embed.proj.weight (nor Hugging Face's embeddings.patch_embeddings.projection.weight)`);
    }
    const video = tensors.get('patch_embed.proj.weight')!.shape.length === 5;
    // The merging's place tells the releases apart: layers.0.downsample (end of stage 0) is the original naming
    // (Swin and Video Swin releases, timm < 0.9); timm ≥ 0.9 starts stages 1…3 with it.
    const endOfStage = keys.some((k) => /^layers\.0\.downsample\./.test(k));
    layout = endOfStage ? (video ? 'videoswin-original' : 'swin-original') : 'timm';
    rules = swinRules(endOfStage ? 1 : 0);
  }

  // --- apply the key map ---------------------------------------------------------------------------------------
  const state: StateDict = new Map();
  const sources = new Map<string, string[]>();
  const dropped: SwinCanonical['report']['dropped'] = [];
  const unknown: string[] = [];
  const merges = new Map<string, Array<[string, HostTensor] | undefined>>();
  const put = (key: string, t: HostTensor, from: string[]): void => {
    if (state.has(key)) throw new Error(`${name}: two keys map to ${key}: ${sources.get(key)!.join(', ')} and ${from.join(', ')}`);
    state.set(key, t);
    sources.set(key, from);
  };
  for (const [key, t] of tensors) {
    const file = original.get(key) ?? key;
    let done = false;
    for (const rule of rules) {
      const m = rule.re.exec(key);
      if (!m) continue;
      const a = rule.act(m);
      if ('refuse' in a) throw new Error(`${name}: ${file}: ${a.refuse} (${layout} layout)`);
      if ('drop' in a) dropped.push({ key: file, reason: a.drop });
      else if ('to' in a) put(a.to, t, [file]);
      else {
        const parts = merges.get(a.merge) ?? new Array<[string, HostTensor] | undefined>(a.of).fill(undefined);
        parts[a.part] = [file, t];
        merges.set(a.merge, parts);
      }
      done = true;
      break;
    }
    if (!done) unknown.push(file);
  }
  if (unknown.length) {
    throw new Error(
      `${name}: ${unknown.length} unrecognised key(s) for the ${layout} Swin layout: ${unknown.slice(0, 20).join(', ')}` +
        `${unknown.length > 20 ? `, … and ${unknown.length - 20} more` : ''} (nothing is ignored silently)`,
    );
  }
  for (const [target, parts] of merges) {
    const missing = ['query', 'key', 'value'].filter((_, j) => !parts[j]);
    if (missing.length) throw new Error(`${name}: ${target} is the concatenation of query, key and value, but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
    put(target, concat0(parts as Array<[string, HostTensor]>, name), parts.map((p) => p![0]));
  }

  const spec = inferSwinSpec(state, layout, config, hint, name, input);
  const origin = (k: string): string => (sources.get(k) ?? [k]).join(' + ');
  checkSwinStrict(state, spec, name, origin);

  const used: string[] = [];
  const renamed: Array<[string, string]> = [];
  for (const [key, from] of sources) {
    for (const f of from) {
      used.push(f);
      if (f !== key) renamed.push([f, key]);
    }
  }
  return { state, spec, report: { used, dropped, renamed } };
}

/** Window [Wh, Ww] (2D, square) or [Wd, Wh, Ww] (3D, square in-plane) from the table rows; `volume` (an index buffer's side) settles ties. */
export function windowFromRows(rows: number, video: boolean, volume?: number): number[] | string {
  if (!video) {
    const side = Math.round(Math.sqrt(rows));
    if (side * side !== rows || side % 2 === 0) return `${rows} rows is not (2W−1)² for a square window`;
    return [(side + 1) / 2, (side + 1) / 2];
  }
  const found: number[][] = [];
  for (let wh = 2; (2 * wh - 1) ** 2 <= rows; wh++) {
    const plane = (2 * wh - 1) ** 2;
    if (rows % plane !== 0) continue;
    const span = rows / plane;
    if (span % 2 === 0) continue;
    const wd = (span + 1) / 2;
    if (volume === undefined || wd * wh * wh === volume) found.push([wd, wh, wh]);
  }
  if (found.length === 1) return found[0];
  if (found.length === 0) return `${rows} rows is not (2Wd−1)(2W−1)² for a window Wd×W×W${volume !== undefined ? ` of ${volume} tokens` : ''}`;
  return `${rows} rows fits several windows (${found.map((w) => w.join('×')).join(', ')}); give window_size in a config`;
}

function configImage(config: Config): number | undefined {
  const pc = config.pretrained_cfg as Config | undefined;
  const v = config.image_size ?? config.img_size ?? pc?.input_size ?? config.input_size;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v.length === 3 ? v[1] : v[0];
  return undefined;
}

/** Reads the Swin spec from a canonical state (and a config, and the file's buffers for the pre-training size). */
export function inferSwinSpec(state: StateDict, layout: SwinLayout, config: Config, hint: LayoutHint, name: string, file: StateDict = new Map()): EncoderSpec {
  const kernel = state.get('patch_embed.proj.weight');
  if (!kernel) throw new Error(`${name}: missing patch_embed.proj.weight (needed for the stage-0 width and the patch size)`);
  const video = kernel.shape.length === 5;
  if (kernel.shape.length !== 4 && !video) throw new Error(`${name}: patch_embed.proj.weight has shape [${kernel.shape}]; expected [C, 3, P, P] (Swin) or [C, 3, Pd, P, P] (Video Swin)`);
  const family: Family = video ? 'videoswin' : 'swin';
  if (hint.family !== undefined && hint.family !== family) {
    throw new Error(`${name}: the preset says ${hint.family}, but the checkpoint is a ${video ? 'Video Swin (3D patch kernel)' : 'Swin (2D patch kernel)'} model`);
  }
  const [C, inChans] = kernel.shape;
  const [ph, pw] = kernel.shape.slice(-2);
  const patchDepth = video ? kernel.shape[2] : 1;
  if (ph !== pw) throw new Error(`${name}: patch_embed.proj.weight [${kernel.shape}] has a non-square ${ph}×${pw} patch`);

  // --- stages and blocks: contiguous indices --------------------------------------------------------------------
  const blocks = new Map<number, Set<number>>();
  for (const k of state.keys()) {
    const m = /^layers\.(\d+)\.blocks\.(\d+)\./.exec(k);
    if (!m) continue;
    const s = Number(m[1]);
    if (!blocks.has(s)) blocks.set(s, new Set());
    blocks.get(s)!.add(Number(m[2]));
  }
  const nStages = blocks.size ? Math.max(...blocks.keys()) + 1 : 0;
  if (nStages === 0) throw new Error(`${name}: no Swin blocks (layers.0.blocks.0.*) after mapping`);
  const depths: number[] = [];
  for (let s = 0; s < nStages; s++) {
    const b = blocks.get(s);
    if (!b) throw new Error(`${name}: stage indices are not contiguous: stage ${s} has no blocks (found ${[...blocks.keys()].sort((x, y) => x - y).join(', ')})`);
    const d = Math.max(...b) + 1;
    if (b.size !== d) throw new Error(`${name}: stage ${s}: block indices are not contiguous (found ${[...b].sort((x, y) => x - y).join(', ')})`);
    depths.push(d);
  }

  // --- heads and window from the bias tables (every block: the same window; heads per stage) ---------------------
  const heads: number[] = [];
  let rows: number | undefined;
  for (let s = 0; s < nStages; s++) {
    for (let b = 0; b < depths[s]; b++) {
      const key = `layers.${s}.blocks.${b}.attn.relative_position_bias_table`;
      const t = state.get(key);
      if (!t) throw new Error(`${name}: missing ${key} (it gives the head count and the window)`);
      if (t.shape.length !== 2) throw new Error(`${name}: ${key} has shape [${t.shape}]; expected [rows, heads]`);
      if (b === 0) heads.push(t.shape[1]);
      else if (t.shape[1] !== heads[s]) throw new Error(`${name}: ${key} has ${t.shape[1]} heads but block 0 of stage ${s} has ${heads[s]}`);
      if (rows === undefined) rows = t.shape[0];
      else if (t.shape[0] !== rows) throw new Error(`${name}: ${key} has ${t.shape[0]} rows, block layers.0.blocks.0 has ${rows}: one window for all stages is expected`);
    }
  }
  let volume: number | undefined;
  for (const [k, t] of file) if (/relative_position_index$/.test(k) && t.shape.length === 2 && t.shape[0] === t.shape[1]) volume = t.shape[0];
  const cfgWindow = config.window_size ?? (config.model_args as Config | undefined)?.window_size;
  let window = windowFromRows(rows!, video, volume);
  if (Array.isArray(cfgWindow) || typeof cfgWindow === 'number') {
    const w = typeof cfgWindow === 'number' ? (video ? undefined : [cfgWindow, cfgWindow]) : (cfgWindow as number[]);
    if (w && typeof window !== 'string' && w.join() !== window.join()) throw new Error(`${name}: config window_size ${JSON.stringify(cfgWindow)} disagrees with the bias tables (${rows} rows: ${window.join('×')})`);
    if (w && typeof window === 'string') window = w;
  }
  if (typeof window === 'string') throw new Error(`${name}: cannot tell the attention window from layers.0.blocks.0.attn.relative_position_bias_table: ${window}`);

  // --- widths double per stage; MLP ratio -----------------------------------------------------------------------
  for (let s = 0; s < nStages; s++) {
    const n = state.get(`layers.${s}.blocks.0.norm1.weight`);
    if (n && n.shape[0] !== C * 2 ** s) throw new Error(`${name}: stage ${s} has width ${n.shape[0]} (layers.${s}.blocks.0.norm1.weight), expected ${C}·2^${s} = ${C * 2 ** s}`);
    if (C * 2 ** s % heads[s] !== 0) throw new Error(`${name}: stage ${s} width ${C * 2 ** s} is not divisible by its ${heads[s]} heads`);
  }
  const fc1 = state.get('layers.0.blocks.0.mlp.fc1.weight');
  if (!fc1) throw new Error(`${name}: missing layers.0.blocks.0.mlp.fc1.weight (needed for the MLP ratio)`);
  const mlpRatio = fc1.shape[0] / C;

  // --- a config must agree --------------------------------------------------------------------------------------
  const args = (config.model_args as Config | undefined) ?? config;
  const same = (a: unknown, b: number[]): boolean => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
  for (const [field, actual] of [['depths', depths], ['num_heads', heads]] as Array<[string, number[]]>) {
    const v = args[field] ?? config[field];
    if (v !== undefined && !same(v, actual)) throw new Error(`${name}: config ${field} ${JSON.stringify(v)} but the weights say [${actual.join(', ')}]`);
  }
  const cfgC = cfgNumber(args, 'embed_dim', name);
  if (cfgC !== undefined && cfgC !== C) throw new Error(`${name}: config embed_dim ${cfgC} but the weights say ${C}`);
  const cfgP = cfgNumber(config, 'patch_size', name);
  if (cfgP !== undefined && cfgP !== ph) throw new Error(`${name}: config patch_size ${cfgP} but the weights say ${ph}`);
  if (hint.numHeads !== undefined && hint.numHeads !== heads[0]) throw new Error(`${name}: the preset says ${hint.numHeads} heads but the stage-0 bias tables have ${heads[0]}`);

  // --- pre-training size: config, else the original release's attn_mask buffers, else 224 px (NOTE) -------------
  let img = configImage(config);
  if (img === undefined && !video) {
    for (const [k, t] of file) {
      const m = /layers\.(\d+)\.blocks\.\d+\.attn_mask$/.exec(k);
      if (!m || t.shape.length !== 3) continue;
      const perSide = Math.round(Math.sqrt(t.shape[0]));
      if (perSide * perSide === t.shape[0]) img = perSide * window[0] * 2 ** Number(m[1]) * ph;
      break;
    }
  }
  const side = (img ?? DEFAULT_IMG) / ph;
  if (!Number.isInteger(side)) throw new Error(`${name}: image size ${img} is not a multiple of the patch size ${ph}`);

  const swin: SwinSpec = { depths, heads, window, patchDepth };
  return {
    family, layout, embedDim: C, depth: depths.reduce((a, b) => a + b, 0), numHeads: heads[0], mlpRatio, patchSize: ph, inChans,
    grid: [side, side], hasClsToken: false, hasDistToken: false, qkvBias: state.has('layers.0.blocks.0.attn.qkv.bias') ? 'qkv' : 'none',
    layerScale: false, absPosEmbed: false, relPosBias: 'per-layer', normEps: layout === 'hf-swin' ? cfgNumber(config, 'layer_norm_eps', name) ?? SWIN_EPS : SWIN_EPS,
    fcNorm: false, swin,
  };
}

/** Rows of a Swin relative position bias table: (2Wh−1)(2Ww−1), or (2Wd−1)(2Wh−1)(2Ww−1). */
export const swinTableRows = (window: number[]): number => window.reduce((p, w) => p * (2 * w - 1), 1);

/**
 * Every canonical key of a Swin spec with its shape (stage_norms excluded: the model creates them). The patch
 * kernel is [C, C_in, P, P] for a 2D Swin spec, [C, C_in, T|Pd, P, P] once inflated or for Video Swin.
 */
export function expectedSwinKeys(spec: EncoderSpec): Map<string, number[]> {
  const sw = spec.swin;
  if (!sw) throw new Error(`expectedSwinKeys: the spec of a ${spec.family} encoder has no swin field`);
  const C = spec.embedDim;
  const P = spec.patchSize;
  const out = new Map<string, number[]>();
  // Video Swin: the temporal patch depth (2, or 1 after '2d'); Swin: T once inflated, none for the 2D checkpoint.
  const depthAxis = spec.family === 'videoswin' ? [sw.patchDepth] : spec.T !== undefined ? [spec.T] : [];
  out.set('patch_embed.proj.weight', [C, spec.inChans, ...depthAxis, P, P]);
  out.set('patch_embed.proj.bias', [C]);
  out.set('patch_embed.norm.weight', [C]);
  out.set('patch_embed.norm.bias', [C]);
  const rows = swinTableRows(sw.window);
  sw.depths.forEach((depth, s) => {
    const c = C * 2 ** s;
    const h = Math.round(spec.mlpRatio * c);
    if (s > 0) {
      out.set(`layers.${s}.downsample.norm.weight`, [2 * c]);
      out.set(`layers.${s}.downsample.norm.bias`, [2 * c]);
      out.set(`layers.${s}.downsample.reduction.weight`, [c, 2 * c]);
    }
    for (let b = 0; b < depth; b++) {
      const k = `layers.${s}.blocks.${b}.`;
      out.set(`${k}norm1.weight`, [c]);
      out.set(`${k}norm1.bias`, [c]);
      out.set(`${k}attn.qkv.weight`, [3 * c, c]);
      if (spec.qkvBias === 'qkv') out.set(`${k}attn.qkv.bias`, [3 * c]);
      out.set(`${k}attn.relative_position_bias_table`, [rows, sw.heads[s]]);
      out.set(`${k}attn.proj.weight`, [c, c]);
      out.set(`${k}attn.proj.bias`, [c]);
      out.set(`${k}norm2.weight`, [c]);
      out.set(`${k}norm2.bias`, [c]);
      out.set(`${k}mlp.fc1.weight`, [h, c]);
      out.set(`${k}mlp.fc1.bias`, [h]);
      out.set(`${k}mlp.fc2.weight`, [c, h]);
      out.set(`${k}mlp.fc2.bias`, [c]);
    }
  });
  const last = C * 2 ** (sw.depths.length - 1);
  out.set('norm.weight', [last]);
  out.set('norm.bias', [last]);
  return out;
}

/** Strict check of a canonical Swin state: every expected key with its shape, float; stage_norms allowed (checked). */
export function checkSwinStrict(state: StateDict, spec: EncoderSpec, name: string, origin: (key: string) => string = (k) => k): void {
  const expected = expectedSwinKeys(spec);
  spec.swin!.depths.forEach((_, s) => {
    const c = spec.embedDim * 2 ** s;
    if (state.has(`stage_norms.${s}.weight`) || state.has(`stage_norms.${s}.bias`)) {
      expected.set(`stage_norms.${s}.weight`, [c]);
      expected.set(`stage_norms.${s}.bias`, [c]);
    }
  });
  const problems: string[] = [];
  const from = (k: string): string => (origin(k) !== k ? ` (from ${origin(k)})` : '');
  for (const [key, shape] of expected) {
    const t = state.get(key);
    if (!t) problems.push(`missing ${key} (expected shape [${shape}])`);
    else if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) problems.push(`${key}${from(key)}: expected shape [${shape}] but the checkpoint has [${t.shape}]`);
    else if (t.dtype !== 'float32' && t.dtype !== 'float64') problems.push(`${key}${from(key)}: dtype ${t.dtype}, expected float32`);
  }
  const sw = spec.swin!;
  for (const key of state.keys()) {
    if (!expected.has(key)) problems.push(`unexpected ${key}${from(key)} for a ${spec.family} encoder (C ${spec.embedDim}, depths [${sw.depths.join(', ')}], heads [${sw.heads.join(', ')}], window ${sw.window.join('×')})`);
  }
  if (problems.length) {
    throw new Error(`${name}: ${problems.length} problem(s) against the expected Swin keys: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; … and ${problems.length - 20} more` : ''}`);
  }
}
