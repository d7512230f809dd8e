// Micro encoders for tests: a random canonical state dict + EncoderSpec for every family variant (ViT with and
// without layer scale, DeiT with its distillation token, DINO, BEiT with per-layer and with shared tables).
import type { HostTensor } from '../../src/core/types.ts';
import type { EncoderSpec, Family, StateDict } from '../../src/weights/types.ts';
import { makeRng, truncNormal, type Rng } from '../../src/weights/inflate/init.ts';

export type Variant = 'vit' | 'vit-ls' | 'deit' | 'dino' | 'beit' | 'beit-shared';
export const VARIANTS: Variant[] = ['vit', 'vit-ls', 'deit', 'dino', 'beit', 'beit-shared'];

export interface MicroSize {
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  grid: [number, number];
}
export const MICRO: MicroSize = { embedDim: 16, depth: 2, numHeads: 2, patchSize: 4, grid: [4, 4] };

/**
 * Weights are deliberately far from timm's init (std 0.3 linears, LN weights around 1, non-zero biases, gammas
 * around 0.5, non-zero relative bias) so that every path of the forward contributes to the output.
 */
function rand(rng: Rng, shape: number[], std: number, mean = 0): HostTensor {
  return truncNormal(shape, rng, { std, mean, a: mean - 3 * std, b: mean + 3 * std });
}

export function microModel(variant: Variant, seed = 1, size: MicroSize = MICRO): { state: StateDict; spec: EncoderSpec } {
  const rng = makeRng(seed);
  const { embedDim: D, depth, numHeads, patchSize: P, grid } = size;
  const family: Family = variant.startsWith('beit') ? 'beit' : variant === 'vit-ls' ? 'vit' : (variant as Family);
  const beit = family === 'beit';
  const hasDist = variant === 'deit';
  const prefix = 1 + (hasDist ? 1 : 0);
  const hidden = 4 * D;
  const rows = (2 * grid[0] - 1) * (2 * grid[1] - 1) + 3;
  const s: StateDict = new Map();
  s.set('cls_token', rand(rng, [1, 1, D], 0.5));
  if (hasDist) s.set('dist_token', rand(rng, [1, 1, D], 0.5));
  if (!beit) s.set('pos_embed', rand(rng, [1, prefix + grid[0] * grid[1], D], 0.5));
  s.set('patch_embed.proj.weight', rand(rng, [D, 3, P, P], 0.15));
  s.set('patch_embed.proj.bias', rand(rng, [D], 0.2));
  if (variant === 'beit-shared') s.set('rel_pos_bias.relative_position_bias_table', rand(rng, [rows, numHeads], 0.5));
  for (let i = 0; i < depth; i++) {
    const p = `blocks.${i}.`;
    s.set(`${p}norm1.weight`, rand(rng, [D], 0.2, 1));
    s.set(`${p}norm1.bias`, rand(rng, [D], 0.2));
    s.set(`${p}attn.qkv.weight`, rand(rng, [3 * D, D], 0.3));
    if (beit) {
      s.set(`${p}attn.q_bias`, rand(rng, [D], 0.2));
      s.set(`${p}attn.v_bias`, rand(rng, [D], 0.2));
      if (variant === 'beit') s.set(`${p}attn.relative_position_bias_table`, rand(rng, [rows, numHeads], 0.5));
    } else {
      s.set(`${p}attn.qkv.bias`, rand(rng, [3 * D], 0.2));
    }
    s.set(`${p}attn.proj.weight`, rand(rng, [D, D], 0.3));
    s.set(`${p}attn.proj.bias`, rand(rng, [D], 0.2));
    s.set(`${p}norm2.weight`, rand(rng, [D], 0.2, 1));
    s.set(`${p}norm2.bias`, rand(rng, [D], 0.2));
    s.set(`${p}mlp.fc1.weight`, rand(rng, [hidden, D], 0.3));
    s.set(`${p}mlp.fc1.bias`, rand(rng, [hidden], 0.2));
    s.set(`${p}mlp.fc2.weight`, rand(rng, [D, hidden], 0.2));
    s.set(`${p}mlp.fc2.bias`, rand(rng, [D], 0.2));
    if (beit) {
      s.set(`${p}gamma_1`, rand(rng, [D], 0.2, 0.5));
      s.set(`${p}gamma_2`, rand(rng, [D], 0.2, 0.5));
    } else if (variant === 'vit-ls') {
      s.set(`${p}ls1.gamma`, rand(rng, [D], 0.2, 0.5));
      s.set(`${p}ls2.gamma`, rand(rng, [D], 0.2, 0.5));
    }
  }
  if (beit) {
    s.set('fc_norm.weight', rand(rng, [D], 0.2, 1));
    s.set('fc_norm.bias', rand(rng, [D], 0.2));
  } else {
    s.set('norm.weight', rand(rng, [D], 0.2, 1));
    s.set('norm.bias', rand(rng, [D], 0.2));
  }
  if (variant !== 'dino') {
    s.set('head.weight', rand(rng, [10, D], 0.3));
    s.set('head.bias', rand(rng, [10], 0.1));
  }
  if (hasDist) {
    s.set('head_dist.weight', rand(rng, [10, D], 0.3));
    s.set('head_dist.bias', rand(rng, [10], 0.1));
  }
  const spec: EncoderSpec = {
    family,
    layout: 'timm',
    embedDim: D,
    depth,
    numHeads,
    mlpRatio: 4,
    patchSize: P,
    inChans: 3,
    grid: [grid[0], grid[1]],
    hasClsToken: true,
    hasDistToken: hasDist,
    qkvBias: beit ? 'qv' : 'qkv',
    layerScale: beit || variant === 'vit-ls',
    absPosEmbed: !beit,
    relPosBias: variant === 'beit' ? 'per-layer' : variant === 'beit-shared' ? 'shared' : 'none',
    normEps: 1e-6,
    fcNorm: beit,
  };
  return { state: s, spec };
}

/** Uniform random values in [−1, 1) (a test image / window). */
export function randomInput(n: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * rng.uniform() - 1;
  return x;
}

/** Slice t of a [C, T, H, W] window for channel c, as [H·W]. */
export function sliceOf(x: Float32Array, C: number, T: number, H: number, W: number, c: number, t: number): Float32Array {
  if (c >= C || t >= T) throw new Error(`sliceOf: (${c}, ${t}) outside [${C}, ${T}]`);
  return x.slice((c * T + t) * H * W, (c * T + t + 1) * H * W);
}

/** [C, H, W] from per-channel planes. */
export function stackPlanes(planes: Float32Array[]): Float32Array {
  const out = new Float32Array(planes.length * planes[0].length);
  planes.forEach((p, i) => out.set(p, i * p.length));
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
