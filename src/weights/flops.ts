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

/** What the decoder's compute depends on (a structural slice of the model config, so this file stays pure). */
export interface DecoderShape {
  /** 'unetr' (the light default head) or 'uper' (UPerNet as in the paper). */
  kind: 'unetr' | 'uper';
  /** Encoder width D: the channels of the 4 feature maps. */
  embedDim: number;
  /** Decoder width W. */
  width: number;
  numClasses: number;
  imgSize: number;
  patchSize: number;
}

/** Side of a map after the heads' 2×2 max pool (floor mode; a side of 1 passes through, as ops.maxPool2). */
const pooled = (s: number): number => (s >= 2 ? Math.floor(s / 2) : s);
/** MACs of a 'same' k×k convolution cin → cout on an s×s map. */
const convMacs = (s: number, k: number, cin: number, cout: number): number => s * s * k * k * cin * cout;
/** MACs of a 2×2 stride-2 transposed convolution cin → cout from an s×s map (each input pixel emits a 2×2 block). */
const convTMacs = (s: number, cin: number, cout: number): number => s * s * 4 * cin * cout;

/** UPerNet's pyramid pooling scales (src/model/uper.ts). */
const POOL_SCALES = [1, 2, 3, 6];

/**
 * MACs of one forward pass of the decoder head per input window (src/model/decoder.ts, uper.ts): its 1×1 and 3×3
 * convolutions, transposed convolutions and classifier. Left out, as in encoderCost: biases, norms, activations,
 * adds, max pooling, and the bilinear resizes and adaptive pooling (which the model runs as small products with
 * fixed interpolation matrices: data movement, not learned work).
 */
export function decoderCost(d: DecoderShape): number {
  const g = Math.floor(d.imgSize / d.patchSize);
  const { embedDim: D, width: W, numClasses: K } = d;
  const top = pooled(g);
  if (d.kind === 'unetr') {
    const laterals = 4 * convMacs(g, 1, D, W);
    const ups = convTMacs(g, W, W) + convTMacs(2 * g, W, W) + convTMacs(g, W, W); // up.0.0, up.0.1, up.1.0
    const fuse = convMacs(g, 3, W, W) + convMacs(2 * g, 3, W, W) + convMacs(4 * g, 3, W, W); // fuse.2, .1, .0
    return laterals + ups + fuse + convMacs(4 * g, 1, W, K);
  }
  const neck = convTMacs(g, D, D) + convTMacs(2 * g, D, D) + convTMacs(g, D, D); // fpn1.0, fpn1.2, fpn2.0
  const ppm = POOL_SCALES.reduce((s, p) => s + convMacs(p, 1, D, W), 0) + convMacs(top, 3, D + POOL_SCALES.length * W, W);
  const laterals = convMacs(4 * g, 1, D, W) + convMacs(2 * g, 1, D, W) + convMacs(g, 1, D, W);
  const fpn = convMacs(4 * g, 3, W, W) + convMacs(2 * g, 3, W, W) + convMacs(g, 3, W, W) + convMacs(4 * g, 3, 4 * W, W);
  return neck + ppm + laterals + fpn + convMacs(4 * g, 1, W, K);
}

export interface StepFlops {
  /** Encoder MACs of one window's forward pass (encoderCost). */
  encoderMacs: number;
  /** Decoder MACs of one window's forward pass (decoderCost). */
  decoderMacs: number;
  /** FLOPs of the batch's forward pass: 2 · batch · (encoder + decoder MACs). */
  forwardFlops: number;
  /** FLOPs of a training step (forward + backward) for the batch: 3 × forwardFlops. */
  stepFlops: number;
}

/**
 * Counted FLOPs of one training step. NOTE: backward = 2 × forward (each product needs the gradient of both of its
 * operands), the usual convention; it includes the input gradient of the patch embedding, which tfjs's custom
 * matMul gradients compute too (PyTorch skips it: ~1.3 % of a ViT-Tiny step at T = 5). The optimiser update is not
 * counted. Checked against the product kernels tfjs runs (test/unit/flops-kernels.test.ts, cpu backend): the learned
 * products match forwardFlops and stepFlops exactly; on top of them run the resize / pooling products that
 * decoderCost leaves out, I FLOPs forward and I again backward (a fixed matrix has no gradient of its own, only its
 * input's), so the step runs stepFlops + 2·I and backward / forward as run is (2·F + I) / (F + I) < 2, F =
 * forwardFlops. On the benchmark's shapes (T 5, batch 2) 2·I adds 10.8 % to stepFlops for the micro ViT at 32 px
 * with the UNETR head, 5.1 % with UPerNet, 1.0–1.7 % for ViT-Tiny and 0.3–0.6 % for ViT-Small at 128 and 224 px.
 */
export function trainStepFlops(
  spec: Parameters<typeof encoderCost>[0], decoder: Omit<DecoderShape, 'embedDim' | 'imgSize' | 'patchSize'>, imgSize: number, inChans: number, T: number, batch: number,
): StepFlops {
  const encoderMacs = encoderCost(spec, imgSize, inChans, T).totalMacs;
  const decoderMacs = decoderCost({ ...decoder, embedDim: spec.embedDim, imgSize, patchSize: spec.patchSize });
  const forwardFlops = 2 * batch * (encoderMacs + decoderMacs);
  return { encoderMacs, decoderMacs, forwardFlops, stepFlops: 3 * forwardFlops };
}
