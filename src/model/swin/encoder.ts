// The functional Swin / Video Swin encoder over a parameter map (timm ≥ 0.9 Swin names, src/weights/types.ts):
// patch embedding over the window (patchify + one matMul, as the ViT's), patch norm, stages of (shifted-)window
// attention blocks with relative position bias, in-plane patch merging at the start of stages 1–3, and the
// segmentation taps: each stage's output through its own LayerNorm (stage_norms.{s}), centre temporal token.
// Window / shift / padding / mask rule: geometry.ts. Only kernels with gradients everywhere: reshape, transpose
// (rank ≤ 6), slice, concat, pad, gather, matMul, softmax (no Einsum, StridedSlice, Conv3D).
import * as tf from '@tensorflow/tfjs';
import type { SwinSpec } from '../../weights/types.ts';
import type { ModelConfig } from '../config.ts';
import { checkInput } from '../encoder.ts';
import { gelu, layerNorm, linear } from '../ops.ts';
import { need, type ParamMap } from '../types.ts';
import { blockGeometry, centreToken, fullWindow, kernelDepth, shiftMask, temporalTokens, windowRelIndex, type BlockGeometry } from './geometry.ts';

/** The Swin spec of a hierarchical config, or an error. */
export function swinSpec(config: ModelConfig): SwinSpec {
  const s = config.encoder.swin;
  if (!s) throw new Error(`swin: encoder family '${config.encoder.family}' has no swin spec`);
  return s;
}

/**
 * LayerNorm over the last axis of x of any rank, run on the [rows, C] view.
 * NOTE: tfjs-backend-webgpu 4.22 fails to compile a rank-5 binary op broadcasting a 1-D operand ('cannot index type
 * vec5' in its shared-memory path): every broadcasting op here runs on rank ≤ 4.
 */
function norm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const C = x.shape[x.rank - 1];
  return layerNorm(x.reshape([-1, C]), w, b, eps).reshape(x.shape);
}

/** Stage widths C·2^s. */
export const stageDims = (config: ModelConfig): number[] => swinSpec(config).depths.map((_, s) => config.encoder.embedDim * 2 ** s);

/**
 * Patch embedding + patch norm → tokens [B, D', g, g, C], g = imgSize / 4. The kernel [C, C_in, kd, P, P] (kd = T for
 * Swin, 2 for Video Swin) is a Conv3d with stride (kd, P, P); the window is zero-padded at its end to D'·kd slices.
 */
function embed(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor {
  checkInput(config, x);
  const [B, T, H, W, C] = x.shape;
  const spec = swinSpec(config);
  const P = config.encoder.patchSize;
  const kd = kernelDepth(spec.patchDepth, T);
  const Dt = temporalTokens(spec.patchDepth, T);
  const g = H / P;
  const w = need(params, 'patch_embed.proj.weight');
  const E = w.shape[0];
  const K = C * kd * P * P;
  if (w.size !== E * K) throw new Error(`swin: patch_embed.proj.weight [${w.shape.join(', ')}] does not fit [C, ${C}, ${kd}, ${P}, ${P}]`);
  const padded = padAxis(x, 1, Dt * kd - T);
  // Rank ≤ 6 transposes: (b, d') first, channels before the kernel's depth, then the patch axes inward.
  const patches = padded
    .reshape([B * Dt, kd, H * W, C])
    .transpose([0, 3, 1, 2]) // [B·D', C, kd, H·W]
    .reshape([B * Dt, C * kd, g, P, g, P])
    .transpose([0, 2, 4, 1, 3, 5]) // [B·D', g, g, C·kd, P, P]
    .reshape([B * Dt * g * g, K]);
  const tokens = linear(patches, w.reshape([E, K]), need(params, 'patch_embed.proj.bias'));
  const normed = layerNorm(tokens, need(params, 'patch_embed.norm.weight'), need(params, 'patch_embed.norm.bias'), config.encoder.normEps);
  return normed.reshape([B, Dt, g, W / P, E]);
}

/**
 * x viewed as [before, n, after] around `axis` (rank 3).
 * NOTE: tfjs-backend-webgpu 4.22 gave wrong, run-to-run different gradients through rank-5 slices / concats (their
 * backward: rank-5 pads); every slice, concat and pad here runs on this rank-3 view.
 */
function around(x: tf.Tensor, axis: number): { view: tf.Tensor3D; before: number; after: number } {
  const before = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { view: x.reshape([before, x.shape[axis], after]) as tf.Tensor3D, before, after };
}

/** x[…, begin : begin + size, …] along `axis`. */
function sliceAxis(x: tf.Tensor, axis: number, begin: number, size: number): tf.Tensor {
  const { view, before, after } = around(x, axis);
  const shape = [...x.shape];
  shape[axis] = size;
  return tf.slice(view, [0, begin, 0], [before, size, after]).reshape(shape);
}

/** x zero-padded at the end of `axis` by `extra`. */
function padAxis(x: tf.Tensor, axis: number, extra: number): tf.Tensor {
  if (extra === 0) return x;
  const { view } = around(x, axis);
  const shape = [...x.shape];
  shape[axis] += extra;
  return tf.pad(view, [[0, 0], [0, extra], [0, 0]]).reshape(shape);
}

/** Cyclic shift of x along `axis` by −s (torch.roll(x, −s)): concat(x[s:], x[:s]); `back` rolls by +s. */
function roll(x: tf.Tensor, axis: number, s: number, back = false): tf.Tensor {
  if (s === 0) return x;
  const n = x.shape[axis];
  const cut = back ? n - s : s;
  const { view, before, after } = around(x, axis);
  const head = tf.slice(view, [0, 0, 0], [before, cut, after]);
  const tail = tf.slice(view, [0, cut, 0], [before, n - cut, after]);
  return tf.concat([tail, head], 1).reshape(x.shape);
}

/**
 * [B, Dp, Hp, Wp, C] → windows [B·nW, N, C] (windows raster over (d, h, w), tokens raster within).
 * NOTE: as rank-4 transposes swapping two middle axes (one for 2D Swin, two with windows in depth): the wasm
 * backend transposes rank ≤ 4 in fast kernels but rank 5–6 in a generic loop (a third of a Swin-T step on wasm).
 */
function partition(x: tf.Tensor, win: readonly number[]): tf.Tensor3D {
  const [B, Dp, Hp, Wp, C] = x.shape;
  const [wd, wh, ww] = win;
  const [nd, nh, nw] = [Dp / wd, Hp / wh, Wp / ww];
  let t = x;
  if (wd > 1 && nh > 1) t = t.reshape([B * nd, wd, nh, wh * Wp * C]).transpose([0, 2, 1, 3]); // [B·nd, nh, wd, wh·Wp·C]
  if (nw > 1) t = t.reshape([B * nd * nh, wd * wh, nw, ww * C]).transpose([0, 2, 1, 3]); // [B·nd·nh, nw, wd·wh, ww·C]
  return t.reshape([B * nd * nh * nw, wd * wh * ww, C]) as tf.Tensor3D;
}

/** The inverse of partition: windows [B·nW, N, C] → [B, Dp, Hp, Wp, C]. */
function unpartition(x: tf.Tensor, B: number, padded: readonly number[], win: readonly number[]): tf.Tensor {
  const [Dp, Hp, Wp] = padded;
  const [wd, wh, ww] = win;
  const [nd, nh, nw] = [Dp / wd, Hp / wh, Wp / ww];
  const C = x.shape[2] as number;
  let t = x;
  if (nw > 1) t = t.reshape([B * nd * nh, nw, wd * wh, ww * C]).transpose([0, 2, 1, 3]); // [B·nd·nh, wd·wh, nw, ww·C]
  if (wd > 1 && nh > 1) t = t.reshape([B * nd, nh, wd, wh * Wp * C]).transpose([0, 2, 1, 3]); // [B·nd, wd, nh, wh·Wp·C]
  return t.reshape([B, Dp, Hp, Wp, C]);
}

/** Relative position bias [heads, N, N] of a window, gathered from the full table by offset (geometry.ts). */
function windowBias(table: tf.Tensor, win: readonly number[], full: readonly number[]): tf.Tensor3D {
  const heads = table.shape[1] as number;
  const rows = (2 * full[0] - 1) * (2 * full[1] - 1) * (2 * full[2] - 1);
  if (table.shape[0] !== rows) throw new Error(`swin: relative_position_bias_table [${table.shape.join(', ')}] does not fit window ${full.join('×')} (needs ${rows} rows)`);
  const N = win[0] * win[1] * win[2];
  return tf.gather(table, tf.tensor1d(windowRelIndex(win, full), 'int32')).transpose([1, 0]).reshape([heads, N, N]) as tf.Tensor3D;
}

/** Window attention of block p on normed tokens h [B, D, H, W, C] with the block's geometry; → [B, D, H, W, C]. */
function windowAttention(params: ParamMap, p: string, h: tf.Tensor, heads: number, geo: BlockGeometry, full: readonly number[]): tf.Tensor {
  const [B, D, H, W, C] = h.shape;
  const [Dp, Hp, Wp] = geo.padded;
  let y = padAxis(padAxis(padAxis(h, 1, Dp - D), 2, Hp - H), 3, Wp - W);
  for (let a = 0; a < 3; a++) y = roll(y, a + 1, geo.shift[a]);
  const win = partition(y, geo.window); // [B·nW, N, C]
  const [BW, N] = win.shape;
  const nW = BW / B;
  const hd = C / heads;
  // q, k, v as three products with row blocks of attn.qkv (cheap slices of the weight, not of the activations),
  // each [B·nW·N, C] → [B·nW, heads, N, hd] by a rank-4 transpose (see partition).
  const rows = win.reshape([BW * N, C]);
  const wqkv = need(params, `${p}attn.qkv.weight`);
  const bqkv = need(params, `${p}attn.qkv.bias`);
  const [q, k, v] = [0, 1, 2].map((j) =>
    linear(rows, tf.slice(wqkv, [j * C, 0], [C, C]), tf.slice(bqkv, [j * C], [C])).reshape([BW, N, heads, hd]).transpose([0, 2, 1, 3]).reshape([BW * heads, N, hd]) as tf.Tensor3D);
  let scores: tf.Tensor = tf.matMul(q.mul(1 / Math.sqrt(hd)), k, false, true).reshape([BW, heads, N, N]);
  scores = scores.add(windowBias(need(params, `${p}attn.relative_position_bias_table`), geo.window, full));
  if (geo.shift.some((s) => s > 0)) {
    // Rank 4 (see norm): [B, nW, heads, N·N] + mask [nW, 1, N·N].
    scores = scores.reshape([B, nW, heads, N * N]).add(tf.tensor(shiftMask(geo), [nW, 1, N * N])).reshape([BW, heads, N, N]);
  }
  const o = tf.matMul(tf.softmax(scores.reshape([BW * heads, N, N])) as tf.Tensor3D, v) // [B·nW·heads, N, hd]
    .reshape([BW, heads, N, hd])
    .transpose([0, 2, 1, 3])
    .reshape([BW * N, C]);
  const out = linear(o, need(params, `${p}attn.proj.weight`), need(params, `${p}attn.proj.bias`)).reshape([BW, N, C]);
  let z = unpartition(out, B, geo.padded, geo.window);
  for (let a = 0; a < 3; a++) z = roll(z, a + 1, geo.shift[a], true);
  if (Dp > D) z = sliceAxis(z, 1, 0, D);
  if (Hp > H) z = sliceAxis(z, 2, 0, H);
  return Wp > W ? sliceAxis(z, 3, 0, W) : z;
}

/** One Swin block: x += W-MSA(LN1(x)) (shifted on odd blocks); x += MLP(LN2(x)). x [B, D, H, W, C]. */
function block(params: ParamMap, config: ModelConfig, s: number, b: number, x: tf.Tensor): tf.Tensor {
  const spec = swinSpec(config);
  const p = `layers.${s}.blocks.${b}.`;
  const eps = config.encoder.normEps;
  const [, D, H, W] = x.shape;
  const geo = blockGeometry([D, H, W], spec.window, b);
  const h1 = norm(x, need(params, `${p}norm1.weight`), need(params, `${p}norm1.bias`), eps);
  x = x.add(windowAttention(params, p, h1, spec.heads[s], geo, fullWindow(spec.window)));
  const C = x.shape[x.rank - 1];
  const h2 = layerNorm(x.reshape([-1, C]), need(params, `${p}norm2.weight`), need(params, `${p}norm2.bias`), eps); // 2-D (see norm)
  const f = linear(gelu(linear(h2, need(params, `${p}mlp.fc1.weight`), need(params, `${p}mlp.fc1.bias`))), need(params, `${p}mlp.fc2.weight`), need(params, `${p}mlp.fc2.bias`));
  return x.add(f.reshape(x.shape));
}

/**
 * Patch merging at the start of stage s (in-plane only): the 2×2 neighbours concatenated along channels in the order
 * (row 0, col 0), (row 1, col 0), (row 0, col 1), (row 1, col 1), LayerNorm(4C), Linear(4C → 2C, no bias).
 */
function merge(params: ParamMap, config: ModelConfig, s: number, x: tf.Tensor): tf.Tensor {
  const [B, D, H, W, C] = x.shape;
  if (H % 2 || W % 2) throw new Error(`swin: stage ${s} cannot merge an odd grid ${H}×${W} (imgSize must be a multiple of 32)`);
  const cat = x
    .reshape([B * D, H / 2, 2, W / 2, 2, C])
    .transpose([0, 1, 3, 4, 2, 5]) // [B·D, H/2, W/2, col, row, C]
    .reshape([B, D, H / 2, W / 2, 4 * C]);
  const p = `layers.${s}.downsample.`;
  const n = norm(cat, need(params, `${p}norm.weight`), need(params, `${p}norm.bias`), config.encoder.normEps);
  return linear(n, need(params, `${p}reduction.weight`), null);
}

/**
 * Raw stage outputs (before the stage norms), each [B, D', H/4·2^−s, W/4·2^−s, C·2^s], all temporal tokens: what
 * the PyTorch reference (test/reference/swin_torch.py) returns as stages.
 */
export function swinStages(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor[] {
  const spec = swinSpec(config);
  let t = embed(params, config, x);
  const outs: tf.Tensor[] = [];
  spec.depths.forEach((depth, s) => {
    if (s > 0) t = merge(params, config, s, t);
    for (let b = 0; b < depth; b++) t = block(params, config, s, b, t);
    outs.push(t);
  });
  return outs;
}

/**
 * The decoder's 4 feature maps: each stage's output through stage_norms.{s}, at the centre temporal token
 * (geometry.centreToken) → [B, H/4·2^−s, W/4·2^−s, C·2^s] (strides 4, 8, 16, 32).
 */
export function swinFeatureMaps(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor4D[] {
  const c = centreToken(swinSpec(config).patchDepth, config.T);
  return swinStages(params, config, x).map((t, s) => {
    const [B, Dt, H, W, C] = t.shape;
    const mid = Dt > 1 ? sliceAxis(t, 1, c, 1) : t;
    return layerNorm(mid.reshape([B, H, W, C]), need(params, `stage_norms.${s}.weight`), need(params, `stage_norms.${s}.bias`), config.encoder.normEps) as tf.Tensor4D;
  });
}
