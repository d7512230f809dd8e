// The UPerNet-style head of the paper (BEiT segmentation): a multi-scale neck (×4, ×2, ×1, ×½), a pyramid pooling
// module on the coarsest map, an FPN, a fused 3×3 bottleneck and a 1×1 classifier; BatchNorm → channel LayerNorm.
// Swin / Video Swin: the 4 stage maps already are at strides 4, 8, 16, 32 (widths C, 2C, 4C, 8C), so there is no neck.
import * as tf from '@tensorflow/tfjs';
import { featureDims, type ModelConfig } from './config.ts';
import { isHierarchical } from '../weights/types.ts';
import { applyConv, applyConvT, classify, declareClassifier, declareConv, declareConvT } from './head.ts';
import { adaptiveAvgPool, gelu, layerNorm, maxPool2, resizeBilinear } from './ops.ts';
import { need, type ParamMap, type ParamSpec } from './types.ts';

/** Pyramid pooling scales (mmseg's UPerHead default). */
const POOL_SCALES = [1, 2, 3, 6];
/** LayerNorm eps of the channel norms (PyTorch's default). */
const NORM_EPS = 1e-5;

/** mmseg ConvModule `name` without bias: conv + norm (weight ones, bias zeros) + ReLU. */
function declareConvModule(specs: Map<string, ParamSpec>, name: string, out: number, inDim: number, k: number): void {
  declareConv(specs, `${name}.conv`, out, inDim, k, false);
  specs.set(`${name}.norm.weight`, { shape: [out], init: { kind: 'ones' } });
  specs.set(`${name}.norm.bias`, { shape: [out], init: { kind: 'zeros' } });
}

/**
 * Names under decode_head.:
 *   fpn1.{0,2} ConvTranspose2d D → D twice (GELU between; NOTE: the BatchNorm of the reference neck is dropped),
 *   fpn2.0 ConvTranspose2d D → D; fpn3 identity; fpn4 max pool 2×2 (no parameters); none of them for Swin;
 *   (below, D is the width of the map concerned: D for a ViT, C·2^i for Swin's map i)
 *   psp_modules.{s}.1 (ConvModule 1×1 D → W after adaptive pooling to POOL_SCALES[s]), bottleneck (3×3, D + 4W → W),
 *   lateral_convs.{0,1,2} (1×1 D → W), fpn_convs.{0,1,2} (3×3 W → W), fpn_bottleneck (3×3 4W → W), conv_seg.
 * NOTE: ConvModule's BatchNorm is replaced by a LayerNorm over channels (small batches in a browser).
 */
export function uperSpecs(config: ModelConfig, specs: Map<string, ParamSpec>): void {
  const dims = featureDims(config);
  const W = config.decoderWidth;
  if (!isHierarchical(config.encoder.family)) {
    const D = dims[0];
    declareConvT(specs, 'decode_head.fpn1.0', D, D);
    declareConvT(specs, 'decode_head.fpn1.2', D, D);
    declareConvT(specs, 'decode_head.fpn2.0', D, D);
  }
  POOL_SCALES.forEach((_, s) => declareConvModule(specs, `decode_head.psp_modules.${s}.1`, W, dims[3], 1));
  declareConvModule(specs, 'decode_head.bottleneck', W, dims[3] + POOL_SCALES.length * W, 3);
  for (let i = 0; i < 3; i++) declareConvModule(specs, `decode_head.lateral_convs.${i}`, W, dims[i], 1);
  for (let i = 0; i < 3; i++) declareConvModule(specs, `decode_head.fpn_convs.${i}`, W, W, 3);
  declareConvModule(specs, 'decode_head.fpn_bottleneck', W, 4 * W, 3);
  declareClassifier(specs, config.numClasses, W);
}

function convModule(params: ParamMap, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const y = applyConv(params, `${name}.conv`, x, false);
  return tf.relu(layerNorm(y, need(params, `${name}.norm.weight`), need(params, `${name}.norm.bias`), NORM_EPS)) as tf.Tensor4D;
}

const resizeTo = (x: tf.Tensor4D, ref: tf.Tensor4D): tf.Tensor4D => resizeBilinear(x, ref.shape[1], ref.shape[2]);

export function uperForward(params: ParamMap, config: ModelConfig, maps: tf.Tensor4D[]): tf.Tensor4D {
  // Neck: strides 4, 8, 16, 32 for P = 16 (Swin: the stage maps as they are).
  const f = isHierarchical(config.encoder.family) ? maps : [
    applyConvT(params, 'decode_head.fpn1.2', gelu(applyConvT(params, 'decode_head.fpn1.0', maps[0])) as tf.Tensor4D),
    applyConvT(params, 'decode_head.fpn2.0', maps[1]),
    maps[2],
    maxPool2(maps[3]),
  ];
  // Pyramid pooling on the coarsest map, then the bottleneck.
  const top = f[3];
  const ppm = POOL_SCALES.map((s, i) => resizeTo(convModule(params, `decode_head.psp_modules.${i}.1`, adaptiveAvgPool(top, s)), top));
  const lat = [0, 1, 2].map((i) => convModule(params, `decode_head.lateral_convs.${i}`, f[i]));
  lat.push(convModule(params, 'decode_head.bottleneck', tf.concat([top, ...ppm], 3)));
  // FPN top-down.
  for (let i = 3; i > 0; i--) lat[i - 1] = lat[i - 1].add(resizeTo(lat[i], lat[i - 1]));
  const outs = [0, 1, 2].map((i) => convModule(params, `decode_head.fpn_convs.${i}`, lat[i]));
  outs.push(lat[3]);
  const fused = tf.concat(outs.map((o) => resizeTo(o, outs[0])), 3);
  return classify(params, config, convModule(params, 'decode_head.fpn_bottleneck', fused));
}
