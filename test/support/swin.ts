// Micro Swin / Video Swin models for tests: a spec with a chosen window, its config, and seeded weights far from
// timm's init (selfcheck's microEncoderState: every path of the forward moves the output).
import { makeConfig, type DecoderKind, type ModelConfig } from '../../src/model/index.ts';
import { microEncoderState } from '../../src/train/selfcheck.ts';
import type { EncoderSpec, StateDict } from '../../src/weights/types.ts';

export interface SwinCase {
  family: 'swin' | 'videoswin';
  window: number[];
  imgSize: number;
  T: number;
  inChans?: number;
  decoder?: DecoderKind;
  embedDim?: number;
  depths?: number[];
  heads?: number[];
  numClasses?: number;
  decoderWidth?: number;
}

/** An inflated micro (Video) Swin spec: embed 8, depths 2-2-2-2, heads 1-2-2-4 unless given. */
export function swinSpecFor(c: SwinCase): EncoderSpec {
  const depths = c.depths ?? [2, 2, 2, 2];
  const heads = c.heads ?? [1, 2, 2, 4];
  const video = c.family === 'videoswin';
  return {
    family: c.family, layout: 'timm', embedDim: c.embedDim ?? 8, depth: depths.reduce((a, b) => a + b, 0), numHeads: heads[0], mlpRatio: 4,
    patchSize: 4, inChans: c.inChans ?? 2, grid: [c.imgSize / 4, c.imgSize / 4], hasClsToken: false, hasDistToken: false,
    qkvBias: 'qkv', layerScale: false, absPosEmbed: false, relPosBias: 'per-layer', normEps: 1e-5, fcNorm: false, T: c.T, inflation: 'center',
    swin: { depths, heads, window: c.window, patchDepth: video ? 2 : 1 },
  };
}

export function swinConfig(c: SwinCase): ModelConfig {
  return makeConfig({
    encoder: swinSpecFor(c), numClasses: c.numClasses ?? 3, T: c.T, inChans: c.inChans ?? 2, imgSize: c.imgSize,
    decoder: c.decoder ?? 'unetr', decoderWidth: c.decoderWidth ?? 8,
  });
}

/** Seeded encoder state of a config (with stage norms). */
export const swinState = (config: ModelConfig, seed = 1): StateDict => microEncoderState(config, seed);

/** Deterministic window values in 0…1 for n entries. */
export const swinInput = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + 0.1 * Math.cos(i * 0.013)) * 0.5 + 0.5);
