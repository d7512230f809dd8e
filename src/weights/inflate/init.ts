// Seeded random initialisation for the 'scratch' baseline: a counter-based PRNG, truncated normals, and timm's
// per-parameter init rules by canonical name. Deterministic for a seed; each key draws from its own stream.
import type { HostTensor } from '../../core/types.ts';
import type { Family, StateDict } from '../types.ts';

/** A seeded source of uniforms in [0, 1) and standard normals. */
export interface Rng {
  uniform(): number;
  normal(): number;
}

/** 32-bit string hash (FNV-1a), to give every parameter name its own stream. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * splitmix32 (counter-based: state += golden gamma, then a mixing finaliser) with Box–Muller normals.
 * Two 32-bit draws make one 53-bit uniform, so u = 0 (log 0) is avoided by using 1 − u.
 */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  const next32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const uniform = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  return { uniform, normal };
}

export interface TruncNormalOptions {
  std?: number;
  mean?: number;
  /** Lower bound in absolute units; default mean − 2·std. */
  a?: number;
  /** Upper bound in absolute units; default mean + 2·std. */
  b?: number;
}

/**
 * N(mean, std²) restricted to [a, b] by rejection (a fresh normal until it falls inside).
 * NOTE: the defaults truncate at ±2σ (timm's trunc_normal_tf_ convention); the resulting std is ≈ 0.8796·σ.
 * timm's trunc_normal_(std=.02) truncates at absolute ±2, i.e. not at all in practice — pass a = −2, b = 2 for that.
 */
export function truncNormal(shape: number[], rng: Rng, options: TruncNormalOptions = {}): HostTensor {
  const std = options.std ?? 0.02;
  const mean = options.mean ?? 0;
  const a = options.a ?? mean - 2 * std;
  const b = options.b ?? mean + 2 * std;
  if (!(std > 0) || !(a < b) || b < mean - 8 * std || a > mean + 8 * std) {
    throw new Error(`init: truncNormal needs std > 0 and a < b overlapping the bulk of the normal, found std ${std}, [${a}, ${b}]`);
  }
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = mean + std * rng.normal();
    while (v < a || v > b);
    data[i] = v;
  }
  return { dtype: 'float32', shape: [...shape], data };
}

function filled(shape: number[], value: number): HostTensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return { dtype: 'float32', shape: [...shape], data: new Float32Array(n).fill(value) };
}

function uniformTensor(shape: number[], rng: Rng, bound: number): HostTensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * rng.uniform() - 1) * bound;
  return { dtype: 'float32', shape: [...shape], data };
}

/** timm's trunc_normal_(std) with its absolute ±2 bounds. */
const timmTrunc = (shape: number[], rng: Rng, std: number): HostTensor => truncNormal(shape, rng, { std, a: -2, b: 2 });

/**
 * One freshly initialised tensor for a canonical parameter name, following timm's defaults per family:
 * - Linear weights (attn.qkv, attn.proj, mlp.fc1, mlp.fc2): trunc-normal(0.02); their biases and BEiT q_bias/v_bias: 0.
 *   NOTE: BEiT additionally divides attn.proj and mlp.fc2 weights of block i by √(2(i + 1)) (its fix_init_weight).
 * - LayerNorm (norm1, norm2, norm, fc_norm): weight 1, bias 0.
 * - pos_embed and dist_token: trunc-normal(0.02). cls_token: normal(1e-6) for ViT/DINO (timm VisionTransformer),
 *   trunc-normal(0.02) for DeiT and BEiT (their own init).
 * - patch_embed.proj: NOTE: timm's default ('') init leaves the conv to PyTorch's reset_parameters, i.e.
 *   kaiming_uniform(a = √5) = U(−1/√fan_in, 1/√fan_in) for the weight and the same bound for the bias,
 *   fan_in = C_in·T·P·P. (timm's 'jax' mode would use lecun-normal instead.)
 * - Layer scale: NOTE: the pre-trained init value is not in the checkpoint; ls1/ls2 (ViT) start at 1e-5,
 *   gamma_1/gamma_2 (BEiT) at 0.1 (timm beit_base_patch16_224's init_values).
 * - relative_position_bias_table: zeros (timm BEiT); trunc-normal(0.02) for Swin and Video Swin.
 * - Swin: patch_embed.norm, layers.{s}.downsample.norm and stage_norms.{s} as LayerNorms (1, 0);
 *   layers.{s}.downsample.reduction.weight (Linear, no bias) trunc-normal(0.02); block leaves as ViT's.
 * Throws for a name it does not know.
 */
export function initTensor(key: string, shape: number[], family: Family, rng: Rng, patchFanIn?: number): HostTensor {
  // Swin blocks are layers.{s}.blocks.{b}.…; ViT blocks are blocks.{i}.…
  const block = /^(?:layers\.\d+\.)?blocks\.(\d+)\./.exec(key);
  const leaf = block ? key.slice(block[0].length) : key;
  const swinNorm = /^(patch_embed\.norm|layers\.\d+\.downsample\.norm|stage_norms\.\d+)\.(weight|bias)$/.exec(key);
  if (swinNorm) return filled(shape, swinNorm[2] === 'weight' ? 1 : 0);
  if (/^layers\.\d+\.downsample\.reduction\.weight$/.test(key)) return timmTrunc(shape, rng, 0.02);
  if (/^(norm1|norm2)\.weight$/.test(leaf) || /^(norm|fc_norm)\.weight$/.test(key)) return filled(shape, 1);
  if (/^(norm1|norm2)\.bias$/.test(leaf) || /^(norm|fc_norm)\.bias$/.test(key)) return filled(shape, 0);
  if (/^(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.bias$/.test(leaf) || /^attn\.[qv]_bias$/.test(leaf)) return filled(shape, 0);
  if (/^(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.weight$/.test(leaf) && block) {
    const t = timmTrunc(shape, rng, 0.02);
    if (family === 'beit' && /^(attn\.proj|mlp\.fc2)\.weight$/.test(leaf)) {
      const s = 1 / Math.sqrt(2 * (Number(block[1]) + 1));
      for (let i = 0; i < t.data.length; i++) t.data[i] *= s;
    }
    return t;
  }
  if (/^ls[12]\.gamma$/.test(leaf)) return filled(shape, 1e-5);
  if (/^gamma_[12]$/.test(leaf)) return filled(shape, 0.1);
  // Swin / Video Swin: trunc-normal(0.02) window tables (timm swin_transformer.py, the Video Swin release).
  if (leaf === 'attn.relative_position_bias_table' && (family === 'swin' || family === 'videoswin')) return timmTrunc(shape, rng, 0.02);
  if (leaf === 'attn.relative_position_bias_table' || key === 'rel_pos_bias.relative_position_bias_table') return filled(shape, 0);
  if (key === 'pos_embed' || key === 'dist_token') return timmTrunc(shape, rng, 0.02);
  if (key === 'cls_token') {
    if (family === 'deit' || family === 'beit') return timmTrunc(shape, rng, 0.02);
    const t = filled(shape, 0);
    for (let i = 0; i < t.data.length; i++) t.data[i] = 1e-6 * rng.normal();
    return t;
  }
  if (key === 'patch_embed.proj.weight') return uniformTensor(shape, rng, 1 / Math.sqrt(shape.slice(1).reduce((p, d) => p * d, 1)));
  if (key === 'patch_embed.proj.bias') {
    if (!(patchFanIn && patchFanIn > 0)) throw new Error(`init: '${key}' needs the patch kernel's fan-in (C_in·T·P·P)`);
    return uniformTensor(shape, rng, 1 / Math.sqrt(patchFanIn));
  }
  throw new Error(`init: no initialisation rule for '${key}' (shape [${shape.join(', ')}])`);
}

/**
 * A state with the same keys and shapes as `like`, every tensor freshly initialised (the 'scratch' baseline).
 * Each key draws from its own stream seeded by hash(key, seed): deterministic, independent of key order.
 */
export function initState(like: StateDict, family: Family, seed: number): StateDict {
  const kernel = like.get('patch_embed.proj.weight');
  const patchFanIn = kernel ? kernel.shape.slice(1).reduce((p, d) => p * d, 1) : undefined;
  const out: StateDict = new Map();
  for (const [key, t] of like) {
    out.set(key, initTensor(key, t.shape, family, makeRng(hash32(key, seed)), patchFanIn));
  }
  return out;
}
