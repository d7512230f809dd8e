// The 2D segmentation heads over 4 encoder feature maps: the default UNETR-style head, the parameter list and the
// dispatch between heads (the UPerNet head lives in uper.ts, shared pieces in head.ts).
import type * as tf from '@tensorflow/tfjs';
import { featureDims, type ModelConfig } from './config.ts';
import { isHierarchical } from '../weights/types.ts';
import { applyConv as conv, applyConvT as convT, classify, declareClassifier, declareConv, declareConvT, tokensToMap } from './head.ts';
import { gelu, maxPool2, resizeBilinear } from './ops.ts';
import type { ParamMap, ParamSpec } from './types.ts';
import { uperForward, uperSpecs } from './uper.ts';

/**
 * UNETR-style head (names under decode_head.):
 *   lateral.{i}  1×1 conv D → W on every feature map i = 0…3 (shallow → deep)
 *   up.0.{0,1}   two learned ×2 upsamplings of map 0 (ConvTranspose2d k2 s2, GELU between) → 4× the token grid
 *   up.1.0       one learned ×2 upsampling of map 1 → 2×; map 2 stays at the grid; map 3 is max-pooled ×½
 *   fuse.{j}     top-down, j = 2, 1, 0: x = GELU(conv3×3(resize(x → size of map j) + map j))
 *   conv_seg     1×1 classifier, then bilinear upsampling to H×W.
 * Swin / Video Swin: lateral.i maps C·2^i → W; the stage maps already are at strides 4, 8, 16, 32, so no up.* and
 * no pooling.
 */
function unetrSpecs(config: ModelConfig, specs: Map<string, ParamSpec>): void {
  const dims = featureDims(config);
  const W = config.decoderWidth;
  for (let i = 0; i < 4; i++) declareConv(specs, `decode_head.lateral.${i}`, W, dims[i], 1);
  if (!isHierarchical(config.encoder.family)) {
    declareConvT(specs, 'decode_head.up.0.0', W, W);
    declareConvT(specs, 'decode_head.up.0.1', W, W);
    declareConvT(specs, 'decode_head.up.1.0', W, W);
  }
  for (let j = 0; j < 3; j++) declareConv(specs, `decode_head.fuse.${j}`, W, W, 3);
  declareClassifier(specs, config.numClasses, W);
}

function unetrForward(params: ParamMap, config: ModelConfig, maps: tf.Tensor4D[]): tf.Tensor4D {
  const lat = maps.map((m, i) => conv(params, `decode_head.lateral.${i}`, m));
  const levels = isHierarchical(config.encoder.family) ? lat : [
    convT(params, 'decode_head.up.0.1', gelu(convT(params, 'decode_head.up.0.0', lat[0])) as tf.Tensor4D),
    convT(params, 'decode_head.up.1.0', lat[1]),
    lat[2],
    maxPool2(lat[3]),
  ];
  let x = levels[3];
  for (let j = 2; j >= 0; j--) {
    const [, h, w] = levels[j].shape;
    x = gelu(conv(params, `decode_head.fuse.${j}`, resizeBilinear(x, h, w).add(levels[j]) as tf.Tensor4D)) as tf.Tensor4D;
  }
  return classify(params, config, x);
}

/** Every decoder parameter (name → shape and init) of the configured head, PyTorch layouts. */
export function decoderParamSpecs(config: ModelConfig): Map<string, ParamSpec> {
  const specs = new Map<string, ParamSpec>();
  if (config.decoder === 'uper') uperSpecs(config, specs);
  else unetrSpecs(config, specs);
  return specs;
}

/** Feature tokens of the 4 tapped blocks (each [B, prefix + g², D]) → logits [B, H, W, classes] of the centre slice. */
export function decode(params: ParamMap, config: ModelConfig, features: tf.Tensor3D[], prefix: number): tf.Tensor4D {
  if (features.length !== 4) throw new Error(`decoder: needs 4 feature maps, found ${features.length}`);
  const g = config.imgSize / config.encoder.patchSize;
  return decodeMaps(params, config, features.map((t) => tokensToMap(t, prefix, g)));
}

/** 4 feature maps [B, h_i, w_i, C_i] (ViT: all at the token grid; Swin: strides 4…32) → logits [B, H, W, classes]. */
export function decodeMaps(params: ParamMap, config: ModelConfig, maps: tf.Tensor4D[]): tf.Tensor4D {
  if (maps.length !== 4) throw new Error(`decoder: needs 4 feature maps, found ${maps.length}`);
  return config.decoder === 'uper' ? uperForward(params, config, maps) : unetrForward(params, config, maps);
}
