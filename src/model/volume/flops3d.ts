// Counting the volume model's compute (UNETR over 3D crops): multiply–accumulates of one forward pass
// per crop, as src/weights/flops.ts counts the window model — learned products only (linear layers, attention
// products, convolutions, transposed convolutions); norms, activations, softmax, adds and biases left out.
// FLOPs = 2 × MACs; a training step ≈ 3 forwards. Pure arithmetic.
import type { VolumeModelConfig } from './config.ts';

export interface Unetr3dCost {
  /** Tokens the ViT sees ((D/P)·(H/P)·(W/P)). */
  tokens: number;
  vitMacs: number;
  /** The convolutional encoder paths and decoder (encoder1…4, decoder5…2, the output 1×1×1 conv). */
  convMacs: number;
  /** Of convMacs, the part at full crop resolution (encoder1, decoder2's res block, the output conv). */
  fullResMacs: number;
  totalMacs: number;
}

export function unetr3dCost(c: Pick<VolumeModelConfig, 'crop' | 'patch' | 'inChans' | 'numClasses' | 'hiddenSize' | 'depth' | 'mlpDim' | 'featureSize'>): Unetr3dCost {
  const h = c.hiddenSize, F = c.featureSize, P = c.patch;
  const V0 = c.crop[0] * c.crop[1] * c.crop[2];
  const V = [V0, V0 / 8, V0 / 64, V0 / 512, V0 / 4096]; // voxels at 1, 1/2, 1/4, 1/8 and 1/16 (tokens, P = 16) of the crop
  const N = V0 / P ** 3;
  const vitMacs = N * h * P ** 3 * c.inChans + c.depth * (N * h * 3 * h + 2 * N * N * h + N * h * h + 2 * N * h * c.mlpDim);
  /** Res block i → o on v voxels: two 3×3×3 convs and, when widths differ, a 1×1×1 on the residual. */
  const res = (i: number, o: number, v: number): number => v * 27 * i * o + v * 27 * o * o + (i !== o ? v * i * o : 0);
  /** 2×2×2 stride-2 transposed conv i → o from v input voxels. */
  const up = (i: number, o: number, v: number): number => v * 8 * i * o;
  const full = res(c.inChans, F, V[0]) + res(2 * F, F, V[0]) + V[0] * F * c.numClasses;
  const enc2 = up(h, 2 * F, V[4]) + up(2 * F, 2 * F, V[3]) + res(2 * F, 2 * F, V[2]) + up(2 * F, 2 * F, V[2]) + res(2 * F, 2 * F, V[1]);
  const enc3 = up(h, 4 * F, V[4]) + up(4 * F, 4 * F, V[3]) + res(4 * F, 4 * F, V[2]);
  const enc4 = up(h, 8 * F, V[4]);
  const dec = up(h, 8 * F, V[4]) + res(16 * F, 8 * F, V[3]) + up(8 * F, 4 * F, V[3]) + res(8 * F, 4 * F, V[2])
    + up(4 * F, 2 * F, V[2]) + res(4 * F, 2 * F, V[1]) + up(2 * F, F, V[1]);
  const convMacs = full + enc2 + enc3 + enc4 + dec;
  return { tokens: N, vitMacs, convMacs, fullResMacs: full, totalMacs: vitMacs + convMacs };
}
