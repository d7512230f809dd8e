// The model's public surface: forward (window → centre-slice logits), predict (argmax), and re-exports of the
// config, parameters, encoder, decoder, losses and the kernel guard.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.ts';
import { decode, decodeMaps } from './decoder.ts';
import { forwardIntermediates, prefixTokens } from './encoder.ts';
import { swinFeatureMaps } from './swin/encoder.ts';
import type { ParamMap } from './types.ts';
import { isHierarchical } from '../weights/types.ts';

/** Window x [B, T, H, W, C_in] → logits [B, H, W, numClasses] of each window's centre slice. Pure: call inside tf.tidy. */
export function forward(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor4D {
  if (isHierarchical(config.encoder.family)) return decodeMaps(params, config, swinFeatureMaps(params, config, x));
  const feats = forwardIntermediates(params, config, x, config.featureBlocks);
  return decode(params, config, feats, prefixTokens(params));
}

/** Class map [B, H, W] (int32) of each window's centre slice; tidy inside, only the result survives. */
export function predict(params: ParamMap, config: ModelConfig, x: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => tf.argMax(forward(params, config, x), 3) as tf.Tensor3D);
}

export { defaultFeatureBlocks, featureDims, gridSide, stageEndBlocks, makeConfig, validateConfig, type DecoderKind, type ModelConfig, type ModelConfigInput } from './config.ts';
export { DECODER_PREFIX, createParams, decoderParams, disposeParams, encoderParams, expectedEncoderShapes, loadDecoderParams, mergeParams, toStateDict, trainableVars } from './params.ts';
export { checkInput, encode, forwardIntermediates, patchEmbed, prefixTokens } from './encoder.ts';
export { decode, decodeMaps, decoderParamSpecs } from './decoder.ts';
export { stageDims, swinFeatureMaps, swinStages } from './swin/encoder.ts';
export { blockGeometry, centreToken, temporalTokens } from './swin/geometry.ts';
export { tokensToMap } from './head.ts';
export { segLoss, type LossKind, type LossOptions } from './losses.ts';
export { FORBIDDEN_KERNELS, assertNoForbiddenKernels, recordKernels } from './guard.ts';
export type { ParamMap, ParamSpec } from './types.ts';
