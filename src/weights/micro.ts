// The built-in micro ViT: a tiny timm-layout encoder with timm's random initialisation, made on the spot, so that a
// user (or a test) can try the whole flow in seconds with nothing to download. It is NOT pre-trained.
import { initState } from './inflate/init.ts';
import type { EncoderSpec, StateDict } from './types.ts';

export interface MicroSize {
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  /** Token grid side at the native size (native input = grid · patchSize px). */
  grid: number;
}

/** How the built-in micro encoder is named in the app and in checkpoints. */
export const MICRO_NAME = 'micro-vit (random init)';

/** D 32, depth 2, 2 heads, patch 8, 8×8 tokens (64 px): about 26 k encoder parameters. */
export const MICRO_VIT: MicroSize = { embedDim: 32, depth: 2, numHeads: 2, patchSize: 8, grid: 8 };

/** The 2D encoder's spec: a timm ViT with a class token, absolute position embeddings, qkv bias, eps 1e-6. */
export function microSpec(size: MicroSize = MICRO_VIT): EncoderSpec {
  return {
    family: 'vit', layout: 'timm', embedDim: size.embedDim, depth: size.depth, numHeads: size.numHeads, mlpRatio: 4,
    patchSize: size.patchSize, inChans: 3, grid: [size.grid, size.grid], hasClsToken: true, hasDistToken: false, qkvBias: 'qkv',
    layerScale: false, absPosEmbed: true, relPosBias: 'none', normEps: 1e-6, fcNorm: false,
  };
}

/** The micro encoder's canonical 2D state (timm names, RGB patch kernel), initialised as timm does, from `seed`. */
export function microState(size: MicroSize = MICRO_VIT, seed = 0): StateDict {
  const { embedDim: D, depth, patchSize: P, grid } = size;
  const H = 4 * D;
  const shapes: Array<[string, number[]]> = [
    ['cls_token', [1, 1, D]], ['pos_embed', [1, 1 + grid * grid, D]], ['patch_embed.proj.weight', [D, 3, P, P]], ['patch_embed.proj.bias', [D]],
  ];
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}.`;
    shapes.push(
      [`${b}norm1.weight`, [D]], [`${b}norm1.bias`, [D]], [`${b}attn.qkv.weight`, [3 * D, D]], [`${b}attn.qkv.bias`, [3 * D]],
      [`${b}attn.proj.weight`, [D, D]], [`${b}attn.proj.bias`, [D]], [`${b}norm2.weight`, [D]], [`${b}norm2.bias`, [D]],
      [`${b}mlp.fc1.weight`, [H, D]], [`${b}mlp.fc1.bias`, [H]], [`${b}mlp.fc2.weight`, [D, H]], [`${b}mlp.fc2.bias`, [D]],
    );
  }
  shapes.push(['norm.weight', [D]], ['norm.bias', [D]]);
  const like: StateDict = new Map(shapes.map(([k, shape]) => [k, { dtype: 'float32', shape, data: new Float32Array(0) }]));
  return initState(like, 'vit', seed);
}
