// Counting the encoder's compute: multiply–accumulates (MACs) of a ViT or (Video) Swin forward per input window,
// and the share the inflated 3D patch embedding adds. FLOPs = 2 × MACs. Pure arithmetic.
import type { EncoderSpec, SwinSpec } from './types.ts';

export interface EncoderCost {
  /** Tokens the transformer sees (prefix + grid). */
  tokens: number;
  patchEmbedMacs: number;
  blocksMacs: number;
  totalMacs: number;
}

/** What the encoder's compute depends on: the ViT fields, and the stages of a (Video) Swin. */
export type CostSpec = Pick<EncoderSpec, 'embedDim' | 'depth' | 'mlpRatio' | 'patchSize' | 'hasClsToken' | 'hasDistToken'> & { swin?: SwinSpec };

/**
 * MACs of one forward pass: patch embedding (a Conv with kernel = stride, so one dot product of length
 * C_in·T·P² per patch and output channel) and `depth` blocks (qkv, attention scores and weighted sum,
 * projection, MLP). Norms, softmax, GELU and biases are left out, as the usual counters (fvcore, timm) do.
 * A spec with `swin` is counted by swinEncoderCost.
 */
export function encoderCost(spec: CostSpec, imgSize: number, inChans: number, T: number): EncoderCost {
  if (spec.swin) return swinEncoderCost({ ...spec, swin: spec.swin }, imgSize, inChans, T);
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

/**
 * MACs of a (Video) Swin forward (src/model/swin, the window rule of its geometry.ts), counted as the Swin paper's
 * own per-module count (its `flops()`), without norms, softmax and biases:
 *  - patch embedding: D'·g² tokens × C × C_in·kd·P² (g = imgSize / P; kd = T for Swin, 2 for Video Swin; D' = ⌈T/kd⌉);
 *  - patch merging into stage s: n_s tokens × 4C_{s−1} × C_s;
 *  - each block on a grid of n tokens, padded to n' (a multiple of the window, N tokens per window), width C:
 *    qkv n'·C·3C, scores and weighted sum 2·n'·N·C, projection n'·C·C (all on the padded grid, as run), MLP 2·n·C·rC.
 * The taps' stage norms and the classifier's head are not counted (the published figures include the 1000-class
 * head: 0.8 M MACs for Swin-T, 1 M for Swin-B, < 0.03 % of them).
 */
export function swinEncoderCost(spec: Omit<CostSpec, 'swin'> & { swin: SwinSpec }, imgSize: number, inChans: number, T: number): EncoderCost {
  const sw = spec.swin;
  const kd = sw.patchDepth === 1 ? T : sw.patchDepth;
  const Dt = Math.ceil(T / kd);
  const P = spec.patchSize;
  const g = Math.floor(imgSize / P);
  const W = sw.window.length === 2 ? [1, ...sw.window] : sw.window;
  const patchEmbedMacs = Dt * g * g * spec.embedDim * inChans * kd * P * P;
  let blocksMacs = 0;
  sw.depths.forEach((depth, s) => {
    const C = spec.embedDim * 2 ** s;
    const side = g / 2 ** s;
    const grid = [Dt, side, side];
    const n = Dt * side * side;
    if (s > 0) blocksMacs += n * 4 * (C / 2) * C;
    const win = grid.map((v, a) => Math.min(W[a], v));
    const padded = grid.reduce((p, v, a) => p * Math.ceil(v / win[a]) * win[a], 1);
    const N = win[0] * win[1] * win[2];
    const hidden = Math.round(C * spec.mlpRatio);
    blocksMacs += depth * (padded * C * 3 * C + 2 * padded * N * C + padded * C * C + 2 * n * C * hidden);
  });
  return { tokens: Dt * g * g, patchEmbedMacs, blocksMacs, totalMacs: patchEmbedMacs + blocksMacs };
}

/** Extra compute of a T-slice window over the single-slice ('2d') model, as a fraction of the 2D model's. */
export function inflationOverhead(spec: CostSpec, imgSize: number, inChans: number, T: number): number {
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
  /** Swin / Video Swin: the 4 maps are at strides P, 2P, 4P, 8P with widths D, 2D, 4D, 8D, and there is no neck. */
  hierarchical?: boolean;
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
  if (d.hierarchical) {
    const side = [0, 1, 2, 3].map((i) => Math.floor(g / 2 ** i));
    const dims = [D, 2 * D, 4 * D, 8 * D];
    if (d.kind === 'unetr') {
      const laterals = side.reduce((a, s, i) => a + convMacs(s, 1, dims[i], W), 0);
      const fuse = convMacs(side[2], 3, W, W) + convMacs(side[1], 3, W, W) + convMacs(side[0], 3, W, W);
      return laterals + fuse + convMacs(side[0], 1, W, K);
    }
    const ppm = POOL_SCALES.reduce((a, p) => a + convMacs(p, 1, dims[3], W), 0) + convMacs(side[3], 3, dims[3] + POOL_SCALES.length * W, W);
    const laterals = [0, 1, 2].reduce((a, i) => a + convMacs(side[i], 1, dims[i], W), 0);
    const fpn = [0, 1, 2].reduce((a, i) => a + convMacs(side[i], 3, W, W), 0) + convMacs(side[0], 3, 4 * W, W);
    return ppm + laterals + fpn + convMacs(side[0], 1, W, K);
  }
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
 * counted. Checked against the product kernels tfjs runs (test/unit/flops-kernels.test.ts, cpu backend; ViT and Swin): the learned
 * products match forwardFlops and stepFlops exactly; on top of them run the resize / pooling products that
 * decoderCost leaves out, I FLOPs forward and I again backward (a fixed matrix has no gradient of its own, only its
 * input's), so the step runs stepFlops + 2·I and backward / forward as run is (2·F + I) / (F + I) < 2, F =
 * forwardFlops. On the benchmark's shapes (T 5, batch 2) 2·I adds 10.8 % to stepFlops for the micro ViT at 32 px
 * with the UNETR head, 5.1 % with UPerNet, 1.0–1.7 % for ViT-Tiny and 0.3–0.6 % for ViT-Small at 128 and 224 px.
 */
export function trainStepFlops(
  spec: CostSpec, decoder: Omit<DecoderShape, 'embedDim' | 'imgSize' | 'patchSize' | 'hierarchical'>, imgSize: number, inChans: number, T: number, batch: number,
): StepFlops {
  const encoderMacs = encoderCost(spec, imgSize, inChans, T).totalMacs;
  const decoderMacs = decoderCost({ ...decoder, embedDim: spec.embedDim, imgSize, patchSize: spec.patchSize, hierarchical: !!spec.swin });
  const forwardFlops = 2 * batch * (encoderMacs + decoderMacs);
  return { encoderMacs, decoderMacs, forwardFlops, stepFlops: 3 * forwardFlops };
}
