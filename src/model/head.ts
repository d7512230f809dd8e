// Shared pieces of the 2D segmentation heads: tokens → maps, declaring conv parameters (PyTorch layouts, init),
// applying them by name, and the classifier with the final upsampling.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.ts';
import { conv2d, convTranspose2x2, resizeBilinear } from './ops.ts';
import { need, type ParamMap, type ParamSpec } from './types.ts';

/** Token maps [B, prefix + g², D] → [B, g, g, D] (prefix tokens dropped, patches row-major). */
export function tokensToMap(tokens: tf.Tensor3D, prefix: number, g: number): tf.Tensor4D {
  const [B, N, D] = tokens.shape;
  if (N !== prefix + g * g) throw new Error(`decoder: ${N} tokens do not fit ${prefix} prefix + ${g}×${g} patches`);
  const patches = prefix > 0 ? tf.slice(tokens, [0, prefix, 0], [B, g * g, D]) : tokens;
  return patches.reshape([B, g, g, D]);
}

/** Declares nn.Conv2d `name` (weight [out, in, k, k], He init; bias [out] zeros unless bias = false). */
export function declareConv(specs: Map<string, ParamSpec>, name: string, out: number, inDim: number, k: number, bias = true): void {
  specs.set(`${name}.weight`, { shape: [out, inDim, k, k], init: { kind: 'he', fanIn: inDim * k * k } });
  if (bias) specs.set(`${name}.bias`, { shape: [out], init: { kind: 'zeros' } });
}

/**
 * Declares nn.ConvTranspose2d(in, out, 2, stride 2) `name` (weight [in, out, 2, 2], bias [out]).
 * NOTE: He init over fanIn = in: with kernel = stride every output pixel sees exactly `in` inputs.
 */
export function declareConvT(specs: Map<string, ParamSpec>, name: string, inDim: number, out: number): void {
  specs.set(`${name}.weight`, { shape: [inDim, out, 2, 2], init: { kind: 'he', fanIn: inDim } });
  specs.set(`${name}.bias`, { shape: [out], init: { kind: 'zeros' } });
}

/** Declares the classifier `decode_head.conv_seg` (1×1, W → classes). NOTE: normal std 0.01 as mmseg's decode heads. */
export function declareClassifier(specs: Map<string, ParamSpec>, classes: number, width: number): void {
  specs.set('decode_head.conv_seg.weight', { shape: [classes, width, 1, 1], init: { kind: 'normal', std: 0.01 } });
  specs.set('decode_head.conv_seg.bias', { shape: [classes], init: { kind: 'zeros' } });
}

export const applyConv = (params: ParamMap, name: string, x: tf.Tensor4D, bias = true): tf.Tensor4D =>
  conv2d(x, need(params, `${name}.weight`), bias ? need(params, `${name}.bias`) : null);
export const applyConvT = (params: ParamMap, name: string, x: tf.Tensor4D): tf.Tensor4D =>
  convTranspose2x2(x, need(params, `${name}.weight`), need(params, `${name}.bias`));

/** The classifier then bilinear upsampling to the input size: logits [B, H, W, classes]. */
export function classify(params: ParamMap, config: ModelConfig, x: tf.Tensor4D): tf.Tensor4D {
  return resizeBilinear(applyConv(params, 'decode_head.conv_seg', x), config.imgSize, config.imgSize);
}
