// Training defaults chosen per encoder kind and per data set: a randomly initialised encoder and a pre-trained one
// need different learning rates, warm-ups and run lengths, and the input size should follow the data's in-plane
// resolution instead of always being 224 px. Pure: no tfjs. The figures behind each choice: bench/RESULTS.md,
// "Defaults that learn".
import type { TrainConfig } from '../workers/train.protocol.ts';
import type { EncoderSpec, InflationStrategy } from '../weights/types.ts';
import { MICRO_VIT } from '../weights/micro.ts';

/** What the choice depends on: the encoder as converted (or about to be), and the data's in-plane size. */
export interface DefaultsInput {
  /** The 2D encoder's spec (embedDim, patch size, native grid). */
  spec: Pick<EncoderSpec, 'embedDim' | 'patchSize' | 'grid'>;
  /** 'scratch' means random initialisation whatever the checkpoint. */
  strategy: InflationStrategy;
  /** True for the built-in micro ViT (random init, the quick try). */
  micro: boolean;
  /** In-plane voxels of the slices the run will see (the two axes other than the slicing axis), when data is loaded. */
  plane?: [number, number];
  /** The input size already settled (the user typed one, or the encoder was converted): reported, not chosen. */
  imgSize?: number;
}

/** The settings these defaults decide; every other field keeps DEFAULT_TRAIN_CONFIG's value. */
export type SuggestedTrain = Pick<TrainConfig, 'steps' | 'lr' | 'warmupSteps' | 'valEvery' | 'augment'>;

export interface Suggested {
  /** In-plane input size in px (a multiple of the patch size). */
  imgSize: number;
  train: SuggestedTrain;
  /** One line a person can read: why these settings. */
  why: string;
}

/** True when the encoder's weights are random (the micro ViT, or any encoder converted with 'scratch'). */
export const randomInit = (i: Pick<DefaultsInput, 'micro' | 'strategy'>): boolean => i.micro || i.strategy === 'scratch';

/**
 * The input size nearest the data: the larger in-plane side rounded to the patch size, between 4 patches and the
 * encoder's native size (a pre-trained ViT gains nothing above the size it was trained at, and the cost of a step
 * grows with the square of the side). NOTE: the micro ViT stays at its native 64 px: it is the quick try, where a
 * step must take tens of milliseconds on a CPU (96 px learnt no better in the same 70 s, bench/RESULTS.md).
 */
export function suggestImgSize(i: DefaultsInput): number {
  if (i.imgSize !== undefined) return i.imgSize;
  const P = i.spec.patchSize;
  const native = i.spec.grid[0] * P;
  if (i.micro || !i.plane) return native;
  const side = Math.max(i.plane[0], i.plane[1]);
  return Math.min(native, Math.max(4 * P, Math.round(side / P) * P));
}

/**
 * The run's settings by encoder kind:
 * 1. micro ViT (the quick try): lr 1e-3 with 50 warm-up steps, 1,500 steps (about a minute on a 2-core CPU in
 *    WebAssembly), validation every 100 steps, light augmentation;
 * 2. any other randomly initialised encoder ('scratch'): the same learning rate and warm-up, 2,000 steps;
 * 3. a pre-trained encoder: lr 1e-4 (the paper's 3e-5 is for batch 16 over 25k steps; small batches and short runs
 *    need more), 20 warm-up steps as in the paper, 500 steps, validation every 50, light augmentation.
 */
export function suggestDefaults(i: DefaultsInput): Suggested {
  const imgSize = suggestImgSize(i);
  const size = `${imgSize} px${i.plane ? ` (slices of ${i.plane[0]}×${i.plane[1]} voxels)` : ''}`;
  if (i.micro) {
    return { imgSize, train: { steps: 1500, lr: 1e-3, warmupSteps: 50, valEvery: 100, augment: 'light' }, why: `micro ViT, random init: lr 1e-3, 1,500 steps, ${size}` };
  }
  if (randomInit(i)) {
    return { imgSize, train: { steps: 2000, lr: 1e-3, warmupSteps: 50, valEvery: 100, augment: 'light' }, why: `random init (scratch): lr 1e-3, 2,000 steps, ${size}` };
  }
  return { imgSize, train: { steps: 500, lr: 1e-4, warmupSteps: 20, valEvery: 50, augment: 'light' }, why: `pre-trained: lr 1e-4, 500 steps, ${size}` };
}

/** The micro ViT's spec fields the defaults need, without building its weights. */
export const MICRO_DEFAULTS_SPEC: DefaultsInput['spec'] = { embedDim: MICRO_VIT.embedDim, patchSize: MICRO_VIT.patchSize, grid: [MICRO_VIT.grid, MICRO_VIT.grid] };
