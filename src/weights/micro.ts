// The built-in micro ViT (and micro Swin): a tiny timm-layout encoder with timm's random initialisation, made on the spot, so that a
// user (or a test) can try the whole flow in seconds with nothing to download. It is NOT pre-trained.
import { hash32, initState, makeRng, truncNormal } from './inflate/init.ts';
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

/** How the built-in micro Swin is named in the app and in checkpoints. */
export const MICRO_SWIN_NAME = 'micro-swin (random init)';

/**
 * The micro Swin: embed 16, depths 2-2-2-2 (every stage has a shifted block), heads 1-2-4-8, window 4, patch 4,
 * native 64 px (stage grids 16, 8, 4, 2: windowed + shifted in stages 0–1, window clipped to the grid in 2–3);
 * 0.57 M encoder parameters (half of them in stage 3), 7.3 M MACs per 64 px window (flops.ts): small enough for
 * SwiftShader in the e2e tests.
 */
export const MICRO_SWIN: EncoderSpec = {
  family: 'swin', layout: 'timm', embedDim: 16, depth: 8, numHeads: 1, mlpRatio: 4, patchSize: 4, inChans: 3, grid: [16, 16],
  hasClsToken: false, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: false, relPosBias: 'per-layer',
  normEps: 1e-5, fcNorm: false, swin: { depths: [2, 2, 2, 2], heads: [1, 2, 4, 8], window: [4, 4], patchDepth: 1 },
};

/**
 * Canonical 2D state (timm ≥ 0.9 Swin names, RGB kernel [C, 3, 4, 4]) of a Swin spec, initialised as timm's Swin:
 * Linear weights (qkv, proj, fc1, fc2, downsample.reduction) and the bias tables trunc-normal(0.02) (absolute ±2),
 * Linear biases 0, LayerNorms 1 / 0, the patch conv PyTorch's default U(±1/√fan_in) for weight and bias; each key
 * from its own stream of `seed`. Video Swin (patchDepth 2): the kernel is [C, 3, 2, 4, 4] and the tables 3D.
 * No stage_norms: like a classification checkpoint, the model adds them.
 */
export function microSwinState(spec: EncoderSpec = MICRO_SWIN, seed = 0): StateDict {
  const sw = spec.swin;
  if (!sw) throw new Error(`micro: spec of family '${spec.family}' has no swin fields`);
  const C0 = spec.embedDim;
  const P = spec.patchSize;
  const W = sw.window.length === 2 ? [1, ...sw.window] : sw.window;
  const rows = (2 * W[0] - 1) * (2 * W[1] - 1) * (2 * W[2] - 1);
  const out: StateDict = new Map();
  const rngFor = (key: string) => makeRng(hash32(key, seed));
  const fill = (key: string, shape: number[], v: number): void => {
    out.set(key, { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  };
  const trunc = (key: string, shape: number[]): void => { out.set(key, truncNormal(shape, rngFor(key), { std: 0.02, a: -2, b: 2 })); };
  const norm = (key: string, n: number): void => { fill(`${key}.weight`, [n], 1); fill(`${key}.bias`, [n], 0); };
  const kernel = sw.patchDepth === 1 ? [C0, 3, P, P] : [C0, 3, sw.patchDepth, P, P];
  const bound = 1 / Math.sqrt(kernel.slice(1).reduce((a, b) => a * b, 1));
  for (const [key, shape] of [['patch_embed.proj.weight', kernel], ['patch_embed.proj.bias', [C0]]] as const) {
    const r = rngFor(key);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * r.uniform() - 1) * bound;
    out.set(key, { dtype: 'float32', shape: [...shape], data });
  }
  norm('patch_embed.norm', C0);
  sw.depths.forEach((depth, s) => {
    const C = C0 * 2 ** s;
    const H = Math.round(spec.mlpRatio * C);
    if (s > 0) {
      norm(`layers.${s}.downsample.norm`, 2 * C);
      trunc(`layers.${s}.downsample.reduction.weight`, [C, 2 * C]);
    }
    for (let b = 0; b < depth; b++) {
      const p = `layers.${s}.blocks.${b}.`;
      norm(`${p}norm1`, C);
      trunc(`${p}attn.qkv.weight`, [3 * C, C]);
      fill(`${p}attn.qkv.bias`, [3 * C], 0);
      trunc(`${p}attn.relative_position_bias_table`, [rows, sw.heads[s]]);
      trunc(`${p}attn.proj.weight`, [C, C]);
      fill(`${p}attn.proj.bias`, [C], 0);
      norm(`${p}norm2`, C);
      trunc(`${p}mlp.fc1.weight`, [H, C]);
      fill(`${p}mlp.fc1.bias`, [H], 0);
      trunc(`${p}mlp.fc2.weight`, [C, H]);
      fill(`${p}mlp.fc2.bias`, [C], 0);
    }
  });
  norm('norm', C0 * 2 ** (sw.depths.length - 1));
  return out;
}
