// ModelConfig: the typed description of one segmentation model (encoder spec, window, input, decoder), its
// defaults and its validation. Pure: no tfjs.
import { isHierarchical, type EncoderSpec } from '../weights/types.ts';

export type DecoderKind = 'uper' | 'unetr';

export interface ModelConfig {
  /** The encoder as detected and inflated (src/weights); embedDim, depth, heads, patch size, eps, tokens. */
  encoder: EncoderSpec;
  /**
   * Slices per window = depth of the 3D patch kernel (default: encoder.T, else 1 = the '2d' baseline).
   * Video Swin: the window's slices, patched 2 at a time (kernel depth 2, the window zero-padded to an even count).
   */
  T: number;
  /** Input channels (modalities) of the window (default: encoder.inChans). */
  inChans: number;
  /** In-plane input size in pixels, square, a multiple of the patch size (default: encoder.grid[0] · patchSize). */
  imgSize: number;
  /** Output classes including background (no default: the dataset decides). */
  numClasses: number;
  /** Head: 'unetr' (default: a light FPN-style 2D head, browser-friendly) or 'uper' (UPerNet as in the paper). */
  decoder: DecoderKind;
  /** Channels of the decoder (default 64: right for micro/tiny models; use 256 for real ones as in the paper). */
  decoderWidth: number;
  /**
   * 1-based indices of the 4 encoder blocks whose outputs feed the decoder, shallow to deep (default: the blocks
   * at 1/3, 1/2, 2/3 and the end of the depth, i.e. 4, 6, 8, 12 for depth 12 as in the paper).
   * Swin / Video Swin: not a choice. The decoder taps the 4 stage outputs, so this holds the last block of each
   * stage (the cumulative depths, e.g. 2, 4, 22, 24 for Swin-B), and validation requires exactly that.
   */
  featureBlocks: [number, number, number, number];
}

export type ModelConfigInput = Pick<ModelConfig, 'encoder' | 'numClasses'> & Partial<Omit<ModelConfig, 'encoder' | 'numClasses'>>;

/** The paper's feature taps for any depth: round(depth·f) for f = 1/3, 1/2, 2/3, 1, at least 1. */
export function defaultFeatureBlocks(depth: number): [number, number, number, number] {
  const at = (f: number): number => Math.max(1, Math.round(depth * f));
  return [at(1 / 3), at(1 / 2), at(2 / 3), depth];
}

/** Swin / Video Swin: the 1-based last block of each stage (cumulative depths), the blocks whose outputs are tapped. */
export function stageEndBlocks(depths: readonly number[]): [number, number, number, number] {
  let sum = 0;
  return depths.map((d) => (sum += d)) as [number, number, number, number];
}

/** Channels of the 4 feature maps the decoder gets: D each for a ViT, the stage widths C·2^s for Swin. */
export function featureDims(c: ModelConfig): [number, number, number, number] {
  const D = c.encoder.embedDim;
  return isHierarchical(c.encoder.family) ? [D, 2 * D, 4 * D, 8 * D] : [D, D, D, D];
}

/** A full config from the required fields plus any overrides; validated. */
export function makeConfig(input: ModelConfigInput): ModelConfig {
  const enc = input.encoder;
  const config: ModelConfig = {
    encoder: enc,
    T: input.T ?? enc.T ?? 1,
    inChans: input.inChans ?? enc.inChans,
    imgSize: input.imgSize ?? enc.grid[0] * enc.patchSize,
    numClasses: input.numClasses,
    decoder: input.decoder ?? 'unetr',
    decoderWidth: input.decoderWidth ?? 64,
    featureBlocks: input.featureBlocks ?? (enc.swin ? stageEndBlocks(enc.swin.depths) : defaultFeatureBlocks(enc.depth)),
  };
  validateConfig(config);
  return config;
}

const isPosInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** Throws with the field, the value and what was expected. */
export function validateConfig(c: ModelConfig): void {
  const e = c.encoder;
  const fail = (msg: string): never => {
    throw new Error(`model config: ${msg}`);
  };
  for (const [k, v] of [['T', c.T], ['inChans', c.inChans], ['numClasses', c.numClasses], ['decoderWidth', c.decoderWidth]] as const) {
    if (!isPosInt(v)) fail(`${k} must be an integer ≥ 1, found ${v}`);
  }
  if (c.numClasses < 2) fail(`numClasses must be ≥ 2 (background + 1), found ${c.numClasses}`);
  if (!isPosInt(c.imgSize) || c.imgSize % e.patchSize !== 0) fail(`imgSize must be a positive multiple of the patch size ${e.patchSize}, found ${c.imgSize}`);
  if (e.embedDim % e.numHeads !== 0) fail(`embedDim ${e.embedDim} is not divisible by numHeads ${e.numHeads}`);
  if (c.decoder !== 'uper' && c.decoder !== 'unetr') fail(`decoder must be 'uper' or 'unetr', found '${String(c.decoder)}'`);
  if (isHierarchical(e.family)) {
    validateSwin(c, fail);
    return;
  }
  if (c.featureBlocks.length !== 4) fail(`featureBlocks must list 4 blocks, found ${c.featureBlocks.length}`);
  for (const b of c.featureBlocks) if (!Number.isInteger(b) || b < 1 || b > e.depth) fail(`featureBlocks entries must be 1…${e.depth} (1-based), found ${b}`);
  if (e.relPosBias !== 'none' && (!e.hasClsToken || e.hasDistToken)) fail('relative position bias needs exactly one class token (BEiT index)');
}

/** Swin / Video Swin: 4 stages, heads dividing every stage width, imgSize a multiple of P·8 (three 2×2 mergings). */
function validateSwin(c: ModelConfig, fail: (msg: string) => never): void {
  const e = c.encoder;
  const s = e.swin;
  if (!s) return fail(`encoder family '${e.family}' needs its swin spec (depths, heads, window, patchDepth)`);
  if (s.depths.length !== 4 || s.heads.length !== 4) fail(`swin: 4 stages expected (the decoder taps 4 maps), found depths [${s.depths.join(', ')}], heads [${s.heads.join(', ')}]`);
  if (!s.depths.every(isPosInt) || !s.heads.every(isPosInt)) fail(`swin: depths and heads must be integers ≥ 1, found [${s.depths.join(', ')}], [${s.heads.join(', ')}]`);
  s.heads.forEach((h, i) => {
    if ((e.embedDim * 2 ** i) % h !== 0) fail(`swin: stage ${i} width ${e.embedDim * 2 ** i} is not divisible by its ${h} heads`);
  });
  const win = e.family === 'videoswin' ? 3 : 2;
  if (s.window.length !== win || !s.window.every(isPosInt)) fail(`swin: ${e.family} needs a window of ${win} positive sizes, found [${s.window.join(', ')}]`);
  // Video Swin: 2 as pre-trained, 1 after '2d' inflation (its two temporal taps summed, T = 1).
  const depths = e.family === 'videoswin' ? [1, 2] : [1];
  if (!depths.includes(s.patchDepth)) fail(`swin: patchDepth must be ${depths.join(' or ')} for ${e.family}, found ${s.patchDepth}`);
  const unit = e.patchSize * 8;
  if (c.imgSize % unit !== 0) fail(`imgSize must be a multiple of ${unit} for ${e.family} (patch ${e.patchSize}, then three 2×2 patch mergings), found ${c.imgSize}`);
  const ends = stageEndBlocks(s.depths);
  if (c.featureBlocks.join() !== ends.join()) fail(`featureBlocks of a ${e.family} encoder are its stage ends [${ends.join(', ')}] (the decoder taps the 4 stages), found [${c.featureBlocks.join(', ')}]`);
}

/** The in-plane token grid side (imgSize / patch size). */
export const gridSide = (c: ModelConfig): number => c.imgSize / c.encoder.patchSize;
