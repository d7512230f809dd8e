// The functional ViT encoder over a parameter map (timm names): 3D patch embedding (a Conv3d with kernel = stride
// = (T, P, P) written as patchify + matMul), prefix tokens, position embedding, pre-norm blocks, final norm.
import * as tf from '@tensorflow/tfjs';
import { relativePositionIndex } from '../weights/inflate/index.ts';
import { gridSide, type ModelConfig } from './config.ts';
import { gelu, layerNorm, linear, matMul2d, matMulBT, splitSmallProducts } from './ops.ts';
import { need, type ParamMap } from './types.ts';

/**
 * INPUT LAYOUT: x is [B, T, H, W, C_in] float32 — batch, the T slices of the window (centre slice at floor(T/2)),
 * rows, columns, channels (modalities) last. T, H = W = imgSize and C_in must equal the config's.
 */
export function checkInput(config: ModelConfig, x: tf.Tensor): void {
  const [, T, H, W, C] = x.shape;
  if (x.rank !== 5 || T !== config.T || H !== config.imgSize || W !== config.imgSize || C !== config.inChans) {
    throw new Error(
      `encoder: input must be [B, T=${config.T}, H=${config.imgSize}, W=${config.imgSize}, C=${config.inChans}], found [${x.shape.join(', ')}]`,
    );
  }
}

/** Number of prefix tokens (cls, then dist) present in the parameter map. */
export const prefixTokens = (params: ParamMap): number => (params.has('cls_token') ? 1 : 0) + (params.has('dist_token') ? 1 : 0);

/**
 * Patch embedding → [B, gh·gw, D]. Patches are flattened in the element order of the PyTorch Conv3d kernel
 * [D, C_in, T, P, P] flattened to [D, C_in·T·P·P] (c, then t, then row, then column), so that the product with the
 * kernel is exactly the Conv3d with kernel = stride = (T, P, P): one token per in-plane patch, row-major.
 */
export function patchEmbed(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor3D {
  checkInput(config, x);
  const [B, T, H, W, C] = x.shape;
  const P = config.encoder.patchSize;
  const g = gridSide(config);
  const w = need(params, 'patch_embed.proj.weight');
  const D = w.shape[0];
  const K = C * T * P * P;
  if (w.size !== D * K) throw new Error(`encoder: patch_embed.proj.weight [${w.shape.join(', ')}] does not fit [D, ${C}, ${T}, ${P}, ${P}]`);
  // Two transposes of rank ≤ 6 (some backends cap transpose rank at 6): channels first, then the patch axes inward.
  const chFirst = x.reshape([B, T, H * W, C]).transpose([0, 3, 1, 2]); // [B, C, T, H·W]
  const patches = chFirst
    .reshape([B, C * T, g, P, g, P])
    .transpose([0, 2, 4, 1, 3, 5]) // [B, gh, gw, C·T, P, P]
    .reshape([B * g * g, K]);
  const tokens = linear(patches, w.reshape([D, K]), need(params, 'patch_embed.proj.bias'));
  return tokens.reshape([B, g * g, D]);
}

/** [cls?, dist?, patches] + pos_embed (when present) → [B, N, D]. */
function embed(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor3D {
  const patches = patchEmbed(params, config, x);
  const [B, , D] = patches.shape;
  const parts: tf.Tensor3D[] = [];
  for (const key of ['cls_token', 'dist_token']) {
    const t = params.get(key);
    if (t) parts.push(tf.broadcastTo(t, [B, 1, D]) as tf.Tensor3D);
  }
  parts.push(patches);
  let tokens = parts.length > 1 ? tf.concat(parts, 1) : patches;
  const pe = params.get('pos_embed');
  if (pe) {
    if (pe.shape[1] !== tokens.shape[1]) throw new Error(`encoder: pos_embed [${pe.shape.join(', ')}] does not fit ${tokens.shape[1]} tokens`);
    tokens = tokens.add(pe);
  }
  return tokens;
}

const indexCache = new Map<number, Int32Array>();
function relIndex(g: number): Int32Array {
  let idx = indexCache.get(g);
  if (!idx) indexCache.set(g, (idx = relativePositionIndex(g, g)));
  return idx;
}

/** BEiT relative bias [heads, N, N] gathered from a table [(2g−1)² + 3, heads] by BEiT's index (class token first). */
function relativeBias(table: tf.Tensor, g: number, n: number): tf.Tensor3D {
  const heads = table.shape[1] as number;
  if (n !== g * g + 1) throw new Error(`encoder: relative position bias needs exactly one prefix (class) token, found ${n - g * g}`);
  const rows = (2 * g - 1) * (2 * g - 1) + 3;
  if (table.shape[0] !== rows) throw new Error(`encoder: relative_position_bias_table [${table.shape.join(', ')}] does not fit grid ${g}×${g} (needs ${rows} rows)`);
  return tf.gather(table, tf.tensor1d(relIndex(g), 'int32')).transpose([1, 0]).reshape([heads, n, n]);
}

/** Multi-head self-attention of block p on h [B, N, D] (qkv bias, or BEiT q_bias/0/v_bias), optional bias [heads, N, N]. */
function attention(params: ParamMap, p: string, h: tf.Tensor3D, heads: number, rel: tf.Tensor3D | null): tf.Tensor3D {
  const [B, N, D] = h.shape;
  const hd = D / heads;
  let bias: tf.Tensor | null = params.get(`${p}attn.qkv.bias`) ?? null;
  const qb = params.get(`${p}attn.q_bias`);
  if (!bias && qb) bias = tf.concat([qb, tf.zeros([D]), need(params, `${p}attn.v_bias`)]); // k has no bias
  const qkv = linear(h.reshape([B * N, D]), need(params, `${p}attn.qkv.weight`), bias); // [B·N, 3D]: columns (q|k|v, head, hd)
  const o = splitSmallProducts() ? attendPerHead(qkv, B, N, heads, hd, rel) : attendBatched(qkv, B, N, heads, hd, rel);
  return linear(o, need(params, `${p}attn.proj.weight`), need(params, `${p}attn.proj.bias`)).reshape([B, N, D]) as tf.Tensor3D;
}

/** softmax(q·kᵀ/√hd + rel)·v with every (batch, head) in one batched matMul; qkv [B·N, 3D] → [B·N, D]. */
export function attendBatched(qkv: tf.Tensor, B: number, N: number, heads: number, hd: number, rel: tf.Tensor3D | null): tf.Tensor {
  const t = qkv.reshape([B, N, 3, heads, hd]).transpose([2, 0, 3, 1, 4]); // [3, B, heads, N, hd]
  const [q, k, v] = tf.split(t, 3, 0).map((x) => x.reshape([B * heads, N, hd]) as tf.Tensor3D);
  let scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)); // [B·heads, N, N]
  if (rel) scores = scores.reshape([B, heads, N, N]).add(rel).reshape([B * heads, N, N]);
  return tf.matMul(tf.softmax(scores) as tf.Tensor3D, v) // [B·heads, N, hd]
    .reshape([B, heads, N, hd])
    .transpose([0, 2, 1, 3])
    .reshape([B * N, heads * hd]);
}

/**
 * The same attention as plain 2-D products, one (batch, head) at a time: rows of qkv split by sample, columns by
 * (q|k|v, head); no transposes of activations (splitSmallProducts, ops.ts).
 */
export function attendPerHead(qkv: tf.Tensor, B: number, N: number, heads: number, hd: number, rel: tf.Tensor3D | null): tf.Tensor {
  const relHeads = rel ? tf.split(rel, heads, 0).map((r) => r.reshape([N, N])) : null;
  const samples = B > 1 ? tf.split(qkv, B, 0) : [qkv];
  const outs = samples.map((r) => {
    const parts = tf.split(r, 3 * heads, 1); // q_0 … q_{h−1}, k_0 …, v_0 …, each [N, hd]
    const o: tf.Tensor[] = [];
    for (let j = 0; j < heads; j++) {
      let s = matMulBT(parts[j], parts[heads + j]).mul(1 / Math.sqrt(hd)); // [N, N]
      if (relHeads) s = s.add(relHeads[j]);
      o.push(matMul2d(tf.softmax(s), parts[2 * heads + j]));
    }
    return heads > 1 ? tf.concat(o, 1) : o[0];
  });
  return B > 1 ? tf.concat(outs, 0) : outs[0];
}

/** x + γ ⊙ y, γ = ls{k}.gamma (ViT) or gamma_{k} (BEiT) when present. */
function residual(params: ParamMap, p: string, k: 1 | 2, x: tf.Tensor3D, y: tf.Tensor): tf.Tensor3D {
  const gamma = params.get(`${p}ls${k}.gamma`) ?? params.get(`${p}gamma_${k}`);
  return x.add(gamma ? y.mul(gamma) : y);
}

/** One pre-norm block: x += γ1·attn(LN1(x)); x += γ2·MLP(LN2(x)). */
function block(params: ParamMap, config: ModelConfig, i: number, x: tf.Tensor3D, g: number): tf.Tensor3D {
  const p = `blocks.${i}.`;
  const eps = config.encoder.normEps;
  const table = params.get(`${p}attn.relative_position_bias_table`) ?? params.get('rel_pos_bias.relative_position_bias_table');
  const rel = table ? relativeBias(table, g, x.shape[1]) : null;
  const h1 = layerNorm(x, need(params, `${p}norm1.weight`), need(params, `${p}norm1.bias`), eps) as tf.Tensor3D;
  x = residual(params, p, 1, x, attention(params, p, h1, config.encoder.numHeads, rel));
  const h2 = layerNorm(x, need(params, `${p}norm2.weight`), need(params, `${p}norm2.bias`), eps);
  const f = linear(gelu(linear(h2, need(params, `${p}mlp.fc1.weight`), need(params, `${p}mlp.fc1.bias`))), need(params, `${p}mlp.fc2.weight`), need(params, `${p}mlp.fc2.bias`));
  return residual(params, p, 2, x, f);
}

/**
 * Raw outputs (no final norm, as the paper's decoder taps them) of the given 1-based blocks, each [B, N, D] with the
 * prefix tokens first; only blocks up to the deepest requested one are run.
 */
export function forwardIntermediates(params: ParamMap, config: ModelConfig, x: tf.Tensor, blocks: readonly number[]): tf.Tensor3D[] {
  const depth = config.encoder.depth;
  for (const b of blocks) if (!Number.isInteger(b) || b < 1 || b > depth) throw new Error(`encoder: block ${b} outside 1…${depth} (1-based)`);
  const last = Math.max(...blocks);
  const g = gridSide(config);
  const outs = new Map<number, tf.Tensor3D>();
  let t = embed(params, config, x);
  for (let i = 0; i < last; i++) {
    t = block(params, config, i, t, g);
    outs.set(i + 1, t);
  }
  return blocks.map((b) => outs.get(b) as tf.Tensor3D);
}

/** All tokens after every block and the final `norm` (when present): [B, N, D], the reference vitTokens' output. */
export function encode(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor3D {
  const [t] = forwardIntermediates(params, config, x, [config.encoder.depth]);
  const w = params.get('norm.weight');
  return w ? (layerNorm(t, w, need(params, 'norm.bias'), config.encoder.normEps) as tf.Tensor3D) : t;
}
