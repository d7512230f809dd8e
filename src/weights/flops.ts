// Counting the encoder's compute: multiply–accumulates (MACs) of a ViT forward per input window, and the share
// the inflated 3D patch embedding adds. FLOPs = 2 × MACs. Pure arithmetic.
import type { EncoderSpec } from './types.ts';

export interface EncoderCost {
  /** Tokens the transformer sees (prefix + grid). */
  tokens: number;
  patchEmbedMacs: number;
  blocksMacs: number;
  totalMacs: number;
}

/**
 * MACs of one forward pass: patch embedding (a Conv with kernel = stride, so one dot product of length
 * C_in·T·P² per patch and output channel) and `depth` blocks (qkv, attention scores and weighted sum,
 * projection, MLP). Norms, softmax, GELU and biases are left out, as the usual counters (fvcore, timm) do.
 */
export function encoderCost(spec: Pick<EncoderSpec, 'embedDim' | 'depth' | 'mlpRatio' | 'patchSize' | 'hasClsToken' | 'hasDistToken'>, imgSize: number, inChans: number, T: number): EncoderCost {
  const D = spec.embedDim;
  const g = Math.floor(imgSize / spec.patchSize);
  const patches = g * g;
  const N = patches + (spec.hasClsToken ? 1 : 0) + (spec.hasDistToken ? 1 : 0);
  const patchEmbedMacs = patches * D * inChans * T * spec.patchSize * spec.patchSize;
  const hidden = Math.round(D * spec.mlpRatio);
  const perBlock = N * D * 3 * D + 2 * N * N * D + N * D * D + 2 * N * D * hidden;
  const blocksMacs = spec.depth * perBlock;
  return { tokens: N, patchEmbedMacs, blocksMacs, totalMacs: patchEmbedMacs + blocksMacs };
}

/** Extra compute of a T-slice window over the single-slice ('2d') model, as a fraction of the 2D model's. */
export function inflationOverhead(spec: Parameters<typeof encoderCost>[0], imgSize: number, inChans: number, T: number): number {
  const c3 = encoderCost(spec, imgSize, inChans, T).totalMacs;
  const c2 = encoderCost(spec, imgSize, inChans, 1).totalMacs;
  return (c3 - c2) / c2;
}
