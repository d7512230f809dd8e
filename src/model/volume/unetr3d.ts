// UNETR (Hatamizadeh et al., WACV 2022) over 3D crops, as MONAI's UNETR with its BTCV settings, on a parameter map
// under MONAI's names (params3d.ts). x [B, D, H, W, C_in] channels last → logits [B, D, H, W, K].
//   ViT: "perceptron" patch embedding (Linear over P³·C patches) + learned position embedding; pre-norm blocks
//        (x += MSA(LN1(x)), qkv without bias; x += MLP(LN2(x)), exact GELU); final LayerNorm (eps 1e-5).
//   Skips: the raw outputs of blocks skipBlocks[0..2] (MONAI: hidden_states_out[3, 6, 9]) and the normed final
//        tokens, each reshaped to the token grid [B, D/P, H/P, W/P, hidden].
//   enc1 = ResBlock(x); enc2 = PrUp(z3; 3 ×2 ups), enc3 = PrUp(z6; 2 ups), enc4 = PrUp(z9; 1 up);
//   d = Up5(zL, enc4) → Up4(·, enc3) → Up3(·, enc2) → Up2(·, enc1) → 1×1×1 conv (with bias).
//   ResBlock: LReLU(IN(conv2(LReLU(IN(conv1 x)))) + r), r = IN(conv3 x) when widths differ, else x.
//   Up: ResBlock(concat[ConvT(x), skip]) (channels: the up-sampled map first; run as convolutions of the two parts).
import * as tf from '@tensorflow/tfjs';
import { attendBatched, attendPerHead } from '../encoder.ts';
import { gelu, layerNorm, linear, splitSmallProducts } from '../ops.ts';
import { need, type ParamMap } from '../types.ts';
import type { VolumeModelConfig } from './config.ts';
import { conv3d, convTranspose2x2x2, instanceNorm3d, leakyRelu, NORM_EPS, patchify3d } from './ops3d.ts';
import { tokenGrid } from './presets.ts';

/** Throws, naming the expected layout, unless x is [B, crop…, inChans]. */
export function checkVolumeInput(cfg: VolumeModelConfig, x: tf.Tensor): void {
  const [, D, H, W, C] = x.shape;
  if (x.rank !== 5 || D !== cfg.crop[0] || H !== cfg.crop[1] || W !== cfg.crop[2] || C !== cfg.inChans) {
    throw new Error(`unetr3d: input must be [B, D=${cfg.crop[0]}, H=${cfg.crop[1]}, W=${cfg.crop[2]}, C=${cfg.inChans}], found [${x.shape.join(', ')}]`);
  }
}

/** Patch embedding + position embedding: [B, tokens, hidden]. */
export function vitEmbed(params: ParamMap, cfg: VolumeModelConfig, x: tf.Tensor5D): tf.Tensor3D {
  const B = x.shape[0];
  const [g0, g1, g2] = tokenGrid(cfg);
  const pre = 'vit.patch_embedding.';
  const tokens = linear(patchify3d(x, cfg.patch), need(params, `${pre}patch_embeddings.1.weight`), need(params, `${pre}patch_embeddings.1.bias`));
  return tokens.reshape([B, g0 * g1 * g2, cfg.hiddenSize]).add(need(params, `${pre}position_embeddings`)) as tf.Tensor3D;
}

/** One ViT block i (MONAI TransformerBlock) on [B, N, hidden]. */
export function vitBlock(params: ParamMap, cfg: VolumeModelConfig, i: number, x: tf.Tensor3D): tf.Tensor3D {
  const p = `vit.blocks.${i}.`;
  const [B, N, D] = x.shape;
  const heads = cfg.numHeads;
  const h1 = layerNorm(x, need(params, `${p}norm1.weight`), need(params, `${p}norm1.bias`), NORM_EPS);
  const qkv = linear(h1.reshape([B * N, D]), need(params, `${p}attn.qkv.weight`), null); // columns (q|k|v, head, d)
  const o = splitSmallProducts() ? attendPerHead(qkv, B, N, heads, D / heads, null) : attendBatched(qkv, B, N, heads, D / heads, null);
  x = x.add(linear(o, need(params, `${p}attn.out_proj.weight`), need(params, `${p}attn.out_proj.bias`)).reshape([B, N, D]));
  const h2 = layerNorm(x, need(params, `${p}norm2.weight`), need(params, `${p}norm2.bias`), NORM_EPS);
  const m = linear(gelu(linear(h2, need(params, `${p}mlp.linear1.weight`), need(params, `${p}mlp.linear1.bias`))), need(params, `${p}mlp.linear2.weight`), need(params, `${p}mlp.linear2.bias`));
  return x.add(m) as tf.Tensor3D;
}

/** The ViT: the raw outputs of the three skip blocks and the normed last tokens, each [B, N, hidden]. */
export function vitForward(params: ParamMap, cfg: VolumeModelConfig, x: tf.Tensor5D): { skips: tf.Tensor3D[]; last: tf.Tensor3D } {
  let t = vitEmbed(params, cfg, x);
  const outs: tf.Tensor3D[] = [];
  for (let i = 0; i < cfg.depth; i++) {
    t = vitBlock(params, cfg, i, t);
    outs.push(t);
  }
  const last = layerNorm(t, need(params, 'vit.norm.weight'), need(params, 'vit.norm.bias'), NORM_EPS) as tf.Tensor3D;
  return { skips: cfg.skipBlocks.map((b) => outs[b]), last };
}

const convW = (params: ParamMap, name: string): tf.Tensor => need(params, `${name}.conv.weight`);

/**
 * conv3d of the channel concatenation of parts, without concatenating: Σ_i conv3d(part_i, W[:, c_i : c_i + C_i]).
 * NOTE: a concat's gradient is a split along channels, a strided Slice per part (SplitV: 27 ms each for a micro-sized
 * map on tfjs-wasm); slicing the small weight instead costs nothing.
 */
function convParts(parts: tf.Tensor5D[], w: tf.Tensor): tf.Tensor5D {
  if (parts.length === 1) return conv3d(parts[0], w, null);
  const [out, cin, ...k] = w.shape;
  const taps = k.reduce((a, v) => a * v, 1);
  // NOTE: sliced as [out, in, k³]: the slice's gradient is a pad, and tfjs-webgpu 4.22's Pad fails at rank 5.
  const w3 = w.reshape([out, cin, taps]);
  let c0 = 0;
  let y: tf.Tensor5D | null = null;
  for (const part of parts) {
    const c = part.shape[4];
    const term = conv3d(part, tf.slice(w3, [0, c0, 0], [out, c, taps]).reshape([out, c, ...k]), null);
    y = y ? (y.add(term) as tf.Tensor5D) : term;
    c0 += c;
  }
  if (c0 !== w.shape[1]) throw new Error(`unetr3d: parts of ${c0} channels in all do not fit weight [${w.shape.join(', ')}]`);
  return y as tf.Tensor5D;
}

/**
 * MONAI UnetResBlock (stride 1, instance norm without affine, LeakyReLU 0.01) under prefix p, on the channel
 * concatenation of `parts` (UnetrUpBlock's [up-sampled, skip]; one part elsewhere).
 */
export function resBlock(params: ParamMap, p: string, parts: tf.Tensor5D | tf.Tensor5D[]): tf.Tensor5D {
  const xs = Array.isArray(parts) ? parts : [parts];
  let y = leakyRelu(instanceNorm3d(convParts(xs, convW(params, `${p}.conv1`))));
  y = instanceNorm3d(conv3d(y, convW(params, `${p}.conv2`), null));
  let r: tf.Tensor5D;
  if (params.has(`${p}.conv3.conv.weight`)) r = instanceNorm3d(convParts(xs, convW(params, `${p}.conv3`)));
  else if (xs.length === 1) r = xs[0];
  else throw new Error(`unetr3d: ${p} has no conv3 but ${xs.length} input parts`);
  return leakyRelu(y.add(r) as tf.Tensor5D);
}

/** MONAI UnetrPrUpBlock: transp_conv_init, then `layers` × (ConvT ×2, ResBlock). */
function prUpBlock(params: ParamMap, name: string, layers: number, x: tf.Tensor5D): tf.Tensor5D {
  let y = convTranspose2x2x2(x, convW(params, `${name}.transp_conv_init`), null);
  for (let j = 0; j < layers; j++) y = resBlock(params, `${name}.blocks.${j}.1`, convTranspose2x2x2(y, convW(params, `${name}.blocks.${j}.0`), null));
  return y;
}

/** MONAI UnetrUpBlock: ResBlock(concat[ConvT(x), skip]). */
export function upBlock(params: ParamMap, name: string, x: tf.Tensor5D, skip: tf.Tensor5D): tf.Tensor5D {
  const up = convTranspose2x2x2(x, convW(params, `${name}.transp_conv`), null);
  return resBlock(params, `${name}.conv_block`, [up, skip]);
}

/** x [B, D, H, W, C_in] → logits [B, D, H, W, numClasses]. Pure: call inside tf.tidy. */
export function unetr3dForward(params: ParamMap, cfg: VolumeModelConfig, x: tf.Tensor): tf.Tensor5D {
  checkVolumeInput(cfg, x);
  const x5 = x as tf.Tensor5D;
  const B = x.shape[0];
  const grid = (t: tf.Tensor3D): tf.Tensor5D => t.reshape([B, ...tokenGrid(cfg), cfg.hiddenSize]);
  const { skips, last } = vitForward(params, cfg, x5);
  const enc1 = resBlock(params, 'encoder1.layer', x5);
  const enc2 = prUpBlock(params, 'encoder2', 2, grid(skips[0]));
  const enc3 = prUpBlock(params, 'encoder3', 1, grid(skips[1]));
  const enc4 = prUpBlock(params, 'encoder4', 0, grid(skips[2]));
  let d = upBlock(params, 'decoder5', grid(last), enc4);
  d = upBlock(params, 'decoder4', d, enc3);
  d = upBlock(params, 'decoder3', d, enc2);
  d = upBlock(params, 'decoder2', d, enc1);
  return conv3d(d, convW(params, 'out.conv'), need(params, 'out.conv.conv.bias'));
}

/** Class map [B, D, H, W] (int32); tidy inside, only the result survives. */
export function unetr3dPredict(params: ParamMap, cfg: VolumeModelConfig, x: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => tf.argMax(unetr3dForward(params, cfg, x), 4) as tf.Tensor4D);
}
