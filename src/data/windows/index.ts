// Public API of the slice-window package: windows, resizing, augmentation, seeded sampling of batches.
export { channelRanges, checkSameGrid, classCountsPerSlice, foregroundCounts, labelSlice, planeOf, sliceWindow, windowIndices } from './window.ts';
export type { Plane, SliceAxis, WindowOptions } from './window.ts';
export { nearestTaps, resizeArea, resizeBilinear, resizeNearest, type StackShape } from './resize.ts';
export { applyAugment, augment, augmentFor, AUGMENT_LEVELS, DEFAULT_AUGMENT, drawAugment, LIGHT_AUGMENT, NO_AUGMENT } from './augment.ts';
export type { AugmentDraw, AugmentLevel, AugmentOptions, WindowShape } from './augment.ts';
export { makeSampler, type Batch, type Sampler, type SamplerCase, type SamplerOptions, type SliceRef } from './sampler.ts';
export { makeRng, mixSeed, type Rng } from './rng.ts';
