// Shared types of the weights core: state dicts under canonical (timm) names, the detected encoder, inflation options.
// Pure: typed arrays only, no tfjs, no DOM.
import type { HostTensor } from '../core/types.ts';

/**
 * A state dict: canonical parameter name → tensor (row-major, PyTorch layout).
 * Canonical names are timm's (see models/CANONICAL_KEYS.md), e.g.
 *   cls_token [1,1,D] · dist_token [1,1,D] · pos_embed [1,prefix+H·W,D]
 *   patch_embed.proj.weight [D,3,P,P] (2D) or [D,C_in,T,P,P] (inflated, PyTorch Conv3d layout) · patch_embed.proj.bias [D]
 *   blocks.{i}.norm1.{weight,bias} · blocks.{i}.attn.qkv.{weight [3D,D], bias [3D]} · blocks.{i}.attn.proj.{weight,bias}
 *   blocks.{i}.norm2.{weight,bias} · blocks.{i}.mlp.fc1.{weight,bias} · blocks.{i}.mlp.fc2.{weight,bias}
 *   blocks.{i}.ls1.gamma, blocks.{i}.ls2.gamma (ViT layer scale)
 *   BEiT (timm beit.py names): blocks.{i}.attn.q_bias, blocks.{i}.attn.v_bias, blocks.{i}.gamma_1, blocks.{i}.gamma_2,
 *   blocks.{i}.attn.relative_position_bias_table [(2Wh−1)(2Ww−1)+3, heads], rel_pos_bias.relative_position_bias_table (shared)
 *   norm.{weight,bias} · fc_norm.{weight,bias} · head.{weight,bias} · head_dist.{weight,bias}
 */
export type StateDict = Map<string, HostTensor>;

export type Family = 'vit' | 'deit' | 'dino' | 'beit' | 'swin' | 'videoswin';

/** The hierarchical families (Swin, Video Swin): stages of windowed attention with patch merging between them. */
export const isHierarchical = (f: Family): f is 'swin' | 'videoswin' => f === 'swin' || f === 'videoswin';

/**
 * Swin / Video Swin hyper-parameters beyond the ViT fields. For these families EncoderSpec.embedDim is the stage-0
 * width (96 for Swin-T, 128 for Swin-B; stage s has embedDim·2^s channels), depth = the sum of `depths`,
 * numHeads = heads[0], patchSize = the in-plane patch (4), grid = the pre-training stage-0 token grid (56×56 at
 * 224 px), hasClsToken/hasDistToken false, absPosEmbed false, relPosBias 'per-layer' (one window table per block).
 *
 * Canonical keys (timm ≥ 0.9 Swin names; Video Swin uses the same names with 3D shapes):
 *   patch_embed.proj.{weight [C,3,P,P] (2D) | [C,3,2,P,P] (Video Swin) | [C,C_in,T,P,P] (inflated), bias}
 *   patch_embed.norm.{weight,bias}
 *   layers.{s}.downsample.norm.{weight,bias} [4·C_{s−1}] · layers.{s}.downsample.reduction.weight [C_s, 4·C_{s−1}]
 *     (C_s = embedDim·2^s, the width of stage s; so 4·C_{s−1} = 2·C_s: e.g. Swin-T layers.1: norm [384], reduction [192, 384])
 *     (s = 1…3: the merging that STARTS stage s, timm ≥ 0.9; the original releases put it at the end of stage s−1;
 *     the 4 concatenated neighbours are (row 0, col 0), (1, 0), (0, 1), (1, 1))
 *   layers.{s}.blocks.{b}.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.{weight,bias}
 *   layers.{s}.blocks.{b}.attn.relative_position_bias_table [(2Wh−1)(2Ww−1) | (2Wd−1)(2Wh−1)(2Ww−1), heads]
 *   norm.{weight,bias}  (the classifier's final norm after stage 3)
 *   stage_norms.{s}.{weight,bias} (s = 0…3: the segmentation taps' own LayerNorms, not in classification
 *     checkpoints; created by the model)
 */
export interface SwinSpec {
  /** Blocks per stage, e.g. [2, 2, 6, 2] (Swin-T) or [2, 2, 18, 2] (Swin-B). */
  depths: number[];
  /** Attention heads per stage, e.g. [3, 6, 12, 24] (Swin-T) or [4, 8, 16, 32] (Swin-B). */
  heads: number[];
  /** The pre-trained attention window: [Wh, Ww] (Swin, 7×7) or [Wd, Wh, Ww] (Video Swin, 8×7×7). */
  window: number[];
  /** Patch depth along the slice axis: 1 for Swin (after inflation the kernel spans the whole window T), 2 for Video Swin. */
  patchDepth: number;
}

/** What a checkpoint is, detected from its keys and shapes (and a config when one came with it). */
export interface EncoderSpec {
  family: Family;
  /** The layout the file was in, e.g. 'timm', 'dino-original', 'beit-original', 'hf-vit', 'hf-deit'. */
  layout: string;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** MLP hidden size / embedDim. */
  mlpRatio: number;
  patchSize: number;
  /** Input channels of the stored patch kernel (3 for RGB checkpoints). */
  inChans: number;
  /** Pre-training token grid [rows, cols] (e.g. [14, 14] at 224 px with P = 16). */
  grid: [number, number];
  hasClsToken: boolean;
  hasDistToken: boolean;
  /** 'qkv': one bias over q, k, v; 'qv': BEiT's q_bias + v_bias (k has none); 'none'. */
  qkvBias: 'qkv' | 'qv' | 'none';
  layerScale: boolean;
  absPosEmbed: boolean;
  /** BEiT relative position bias: one table per layer, one shared table, or none. */
  relPosBias: 'none' | 'shared' | 'per-layer';
  /** LayerNorm epsilon (1e-6 for timm ViT/DeiT/DINO/BEiT, 1e-12 for Hugging Face ViT). */
  normEps: number;
  /** BEiT-style mean pooling with fc_norm instead of a final norm on the class token. */
  fcNorm: boolean;
  /** Depth of the patch kernel [D, C_in, T, P, P] after inflation (slices per window); absent for a 2D checkpoint. */
  T?: number;
  /** How the patch kernel was made 3D (set by weights/inflate); absent for a 2D checkpoint. */
  inflation?: InflationStrategy;
  /** Present exactly for the hierarchical families (swin, videoswin). */
  swin?: SwinSpec;
}

export type InflationStrategy = 'center' | 'average' | '2d' | 'scratch';

export interface InflateOptions {
  strategy: InflationStrategy;
  /** Slices per window (depth of the 3D patch kernel); forced to 1 by '2d'. */
  T: number;
  /** Input channels (modalities) of the 3D model. */
  inChans: number;
  /** In-plane input size in pixels (square); the token grid becomes size / P. */
  imgSize: number;
  /** Seed of the random initialisation ('scratch'). */
  seed?: number;
}
