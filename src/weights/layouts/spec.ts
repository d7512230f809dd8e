// Hyper-parameters of a canonical state dict read from its shapes (and a config when one came with it), the exact
// canonical key → shape list a spec implies, and the strict nanoGPT-style check of one against the other.
import type { HostTensor } from '../../core/types.ts';
import type { EncoderSpec, Family, StateDict } from '../types.ts';
import { cfgNumber, type Config, type Layout, type LayoutHint } from './detect.ts';
import { HEADS_BY_WIDTH } from './tables.ts';
import { expectedSwinKeys } from './swin.ts';
import { isHierarchical } from '../types.ts';

const TIMM_EPS = 1e-6; // timm, DINO and BEiT build their LayerNorms with eps 1e-6
const HF_EPS = 1e-12; // Hugging Face ViTConfig / DeiTConfig default layer_norm_eps

/** Reads the encoder's hyper-parameters from a canonical state dict. Throws, naming the key, when one cannot be read. */
export function inferSpec(state: StateDict, layout: Layout, family: Family, config: Config, hint: LayoutHint, name: string): EncoderSpec {
  const need = (key: string, rank: number, why: string): HostTensor => {
    const t = state.get(key);
    if (!t) throw new Error(`${name}: missing ${key} (needed for ${why})`);
    if (t.shape.length !== rank) throw new Error(`${name}: ${key} has shape [${t.shape}]; expected ${rank} dimensions`);
    return t;
  };
  const hf = layout === 'hf-vit' || layout === 'hf-deit';

  // --- patch embedding: D, C, P ---------------------------------------------------------------------------------
  const [embedDim, inChans, ph, pw] = need('patch_embed.proj.weight', 4, 'the embedding width and patch size').shape;
  if (ph !== pw) throw new Error(`${name}: patch_embed.proj.weight [${embedDim},${inChans},${ph},${pw}] has a non-square ${ph}×${pw} patch`);
  const patchSize = ph;

  // --- depth: block indices 0 … depth−1, contiguous --------------------------------------------------------------
  const indices = new Set<number>();
  for (const k of state.keys()) {
    const m = /^blocks\.(\d+)\./.exec(k);
    if (m) indices.add(Number(m[1]));
  }
  if (indices.size === 0) throw new Error(`${name}: no transformer blocks (blocks.0.*) after mapping`);
  const depth = Math.max(...indices) + 1;
  if (indices.size !== depth) {
    const missing = Array.from({ length: depth }, (_, i) => i).filter((i) => !indices.has(i));
    throw new Error(`${name}: block indices are not contiguous: found ${[...indices].sort((a, b) => a - b).join(', ')}; missing ${missing.join(', ')}`);
  }

  // --- tokens, bias flavours, norms -----------------------------------------------------------------------------
  const hasClsToken = state.has('cls_token');
  const hasDistToken = state.has('dist_token');
  const prefix = (hasClsToken ? 1 : 0) + (hasDistToken ? 1 : 0);
  const qkvBias = state.has('blocks.0.attn.qkv.bias') ? 'qkv' : state.has('blocks.0.attn.q_bias') ? 'qv' : 'none';
  const layerScale = state.has('blocks.0.ls1.gamma') || state.has('blocks.0.gamma_1');
  const shared = state.get('rel_pos_bias.relative_position_bias_table');
  const perLayer = state.get('blocks.0.attn.relative_position_bias_table');
  const relTable = shared ?? perLayer;
  const relPosBias = shared ? 'shared' : perLayer ? 'per-layer' : 'none';
  const fcNorm = state.has('fc_norm.weight') && !state.has('norm.weight');
  const hidden = need('blocks.0.mlp.fc1.weight', 2, 'the MLP ratio').shape[0];

  // --- grid: from pos_embed, else the relative bias table, else the config's image size -----------------------
  const imgSize = configImageSize(config);
  const fromImage = (): [number, number] | undefined => (imgSize ? [imgSize[0] / patchSize, imgSize[1] / patchSize] : undefined);
  let grid: [number, number];
  const pos = state.get('pos_embed');
  if (pos) {
    if (pos.shape.length !== 3) throw new Error(`${name}: pos_embed has shape [${pos.shape}]; expected [1, tokens, ${embedDim}]`);
    const tokens = pos.shape[1];
    const n = tokens - prefix;
    const side = Math.round(Math.sqrt(n));
    const img = fromImage();
    if (side * side === n) grid = [side, side];
    else if (img && img[0] * img[1] === n) grid = img;
    else {
      throw new Error(
        `${name}: pos_embed has ${tokens} tokens = ${prefix} prefix token(s) + ${n} patch tokens, which is not a square grid` +
          (img ? ` nor the config's image size ${imgSize![0]}×${imgSize![1]} / patch ${patchSize} = ${img[0]}×${img[1]}` : '; give the image size in the config (image_size)'),
      );
    }
  } else if (relTable) {
    const span = Math.round(Math.sqrt(relTable.shape[0] - 3));
    const img = fromImage();
    if (img && (2 * img[0] - 1) * (2 * img[1] - 1) + 3 === relTable.shape[0]) grid = img;
    else if (span * span === relTable.shape[0] - 3 && span % 2 === 1) grid = [(span + 1) / 2, (span + 1) / 2];
    else throw new Error(`${name}: relative_position_bias_table has ${relTable.shape[0]} rows, not (2g−1)² + 3 for a square grid; give the image size in the config`);
  } else {
    const img = fromImage();
    if (!img) throw new Error(`${name}: no pos_embed and no relative position bias table: cannot tell the token grid; give the image size in the config`);
    grid = img;
  }
  if (!grid.every((g) => Number.isInteger(g) && g > 0)) throw new Error(`${name}: token grid ${grid.join('×')} is not whole (image size not a multiple of patch ${patchSize})`);

  // --- heads: config, hint, BEiT bias table (they must agree), else the 64-dim-head heuristic -------------------
  const votes: Array<[string, number]> = [];
  const cfgHeads = cfgNumber(config, 'num_attention_heads', name);
  if (cfgHeads !== undefined) votes.push(['config.num_attention_heads', cfgHeads]);
  // timm Hub repos: config.json may carry the constructor arguments under model_args (push_to_hub), or flat.
  const modelArgs = config.model_args;
  const argsHeads = modelArgs && typeof modelArgs === 'object' ? cfgNumber(modelArgs as Record<string, unknown>, 'num_heads', `${name} (model_args)`) : undefined;
  const flatHeads = cfgNumber(config, 'num_heads', name);
  if (argsHeads !== undefined) votes.push(['config.model_args.num_heads', argsHeads]);
  else if (flatHeads !== undefined) votes.push(['config.num_heads', flatHeads]);
  if (hint.numHeads !== undefined) votes.push(['the preset (hint.numHeads)', hint.numHeads]);
  if (relTable) votes.push([`${shared ? 'rel_pos_bias' : 'blocks.0.attn'}.relative_position_bias_table (last dim)`, relTable.shape[1]]);
  for (const [src, n] of votes) {
    if (n !== votes[0][1]) throw new Error(`${name}: head count disagrees: ${votes[0][0]} says ${votes[0][1]}, ${src} says ${n}`);
  }
  const numHeads = votes.length ? votes[0][1] : HEADS_BY_WIDTH[embedDim];
  if (numHeads === undefined) {
    throw new Error(`${name}: cannot tell the number of attention heads for embedDim ${embedDim} (no config, no BEiT bias table, not a standard width); pass hint.numHeads or a config with num_attention_heads (Hugging Face) or model_args.num_heads (timm)`);
  }
  if (embedDim % numHeads !== 0) throw new Error(`${name}: embedDim ${embedDim} is not divisible by ${numHeads} heads`);

  // --- Hugging Face config must agree with the shapes -----------------------------------------------------------
  const checks: Array<[string, number]> = [['hidden_size', embedDim], ['num_hidden_layers', depth], ['patch_size', patchSize], ['intermediate_size', hidden], ['num_channels', inChans]];
  for (const [field, actual] of checks) {
    const v = cfgNumber(config, field, name);
    if (v !== undefined && v !== actual) throw new Error(`${name}: config.${field} is ${v} but the weights say ${actual}`);
  }
  const eps = hf ? cfgNumber(config, 'layer_norm_eps', name) ?? HF_EPS : TIMM_EPS;

  return {
    family, layout, embedDim, depth, numHeads, mlpRatio: hidden / embedDim, patchSize, inChans, grid,
    hasClsToken, hasDistToken, qkvBias, layerScale, absPosEmbed: !!pos, relPosBias, normEps: eps, fcNorm,
  };
}

/** Image size [H, W] from a Hugging Face (image_size) or timm (pretrained_cfg.input_size, img_size) config. */
function configImageSize(config: Config): [number, number] | undefined {
  const pc = config.pretrained_cfg as Config | undefined;
  const v = config.image_size ?? config.img_size ?? pc?.input_size ?? config.input_size;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) {
    if (v.length === 2) return [v[0], v[1]];
    if (v.length === 3) return [v[1], v[2]]; // timm input_size is [C, H, W]
  }
  return undefined;
}

/** Rows of a BEiT relative position bias table for a token grid: every relative offset, plus cls→token, token→cls, cls→cls. */
export function relTableRows(grid: [number, number]): number {
  return (2 * grid[0] - 1) * (2 * grid[1] - 1) + 3;
}

/** Every canonical key a spec implies, with its exact shape, in a stable order (Swin families: expectedSwinKeys). */
export function expectedKeys(spec: EncoderSpec): Map<string, number[]> {
  if (isHierarchical(spec.family)) return expectedSwinKeys(spec);
  const D = spec.embedDim;
  const H = Math.round(spec.mlpRatio * D);
  const tokens = spec.grid[0] * spec.grid[1] + (spec.hasClsToken ? 1 : 0) + (spec.hasDistToken ? 1 : 0);
  const rel = [relTableRows(spec.grid), spec.numHeads];
  const out = new Map<string, number[]>();
  if (spec.hasClsToken) out.set('cls_token', [1, 1, D]);
  if (spec.hasDistToken) out.set('dist_token', [1, 1, D]);
  if (spec.absPosEmbed) out.set('pos_embed', [1, tokens, D]);
  out.set('patch_embed.proj.weight', [D, spec.inChans, spec.patchSize, spec.patchSize]);
  out.set('patch_embed.proj.bias', [D]);
  if (spec.relPosBias === 'shared') out.set('rel_pos_bias.relative_position_bias_table', rel);
  const beitNames = spec.family === 'beit';
  for (let i = 0; i < spec.depth; i++) {
    const b = `blocks.${i}.`;
    out.set(`${b}norm1.weight`, [D]);
    out.set(`${b}norm1.bias`, [D]);
    out.set(`${b}attn.qkv.weight`, [3 * D, D]);
    if (spec.qkvBias === 'qkv') out.set(`${b}attn.qkv.bias`, [3 * D]);
    if (spec.qkvBias === 'qv') {
      out.set(`${b}attn.q_bias`, [D]);
      out.set(`${b}attn.v_bias`, [D]);
    }
    if (spec.relPosBias === 'per-layer') out.set(`${b}attn.relative_position_bias_table`, rel);
    out.set(`${b}attn.proj.weight`, [D, D]);
    out.set(`${b}attn.proj.bias`, [D]);
    if (spec.layerScale) out.set(beitNames ? `${b}gamma_1` : `${b}ls1.gamma`, [D]);
    out.set(`${b}norm2.weight`, [D]);
    out.set(`${b}norm2.bias`, [D]);
    out.set(`${b}mlp.fc1.weight`, [H, D]);
    out.set(`${b}mlp.fc1.bias`, [H]);
    out.set(`${b}mlp.fc2.weight`, [D, H]);
    out.set(`${b}mlp.fc2.bias`, [D]);
    if (spec.layerScale) out.set(beitNames ? `${b}gamma_2` : `${b}ls2.gamma`, [D]);
  }
  const final = spec.fcNorm ? 'fc_norm' : 'norm';
  out.set(`${final}.weight`, [D]);
  out.set(`${final}.bias`, [D]);
  return out;
}

/** Strict check: every expected key present with exactly its shape and a float dtype, and nothing else. */
export function checkStrict(state: StateDict, spec: EncoderSpec, name: string, origin: (key: string) => string): void {
  const problems: string[] = [];
  const from = (k: string): string => (origin(k) !== k ? ` (from ${origin(k)})` : '');
  const expected = expectedKeys(spec);
  for (const [key, shape] of expected) {
    const t = state.get(key);
    if (!t) problems.push(`missing ${key} (expected shape [${shape}])`);
    else if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
      problems.push(`${key}${from(key)}: expected shape [${shape}] but the checkpoint has [${t.shape}]`);
    } else if (t.dtype !== 'float32' && t.dtype !== 'float64') problems.push(`${key}${from(key)}: dtype ${t.dtype}, expected float32`);
  }
  for (const key of state.keys()) {
    if (!expected.has(key)) problems.push(`unexpected ${key}${from(key)} for a ${spec.family} encoder (${describe(spec)})`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 20).join('; ');
    throw new Error(`${name}: ${problems.length} problem(s) against the expected keys: ${shown}${problems.length > 20 ? `; … and ${problems.length - 20} more` : ''}`);
  }
}

function describe(s: EncoderSpec): string {
  return `D ${s.embedDim}, depth ${s.depth}, qkv bias ${s.qkvBias}, layer scale ${s.layerScale}, rel pos ${s.relPosBias}, ${s.fcNorm ? 'fc_norm' : 'norm'}`;
}
