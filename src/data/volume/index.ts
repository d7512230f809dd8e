// Public API of the volume-based model's data: training crops by positive/negative label balance, and the
// sliding-window plan and assembly of whole-volume predictions.
export {
  cropImage, cropLabel, cropStart, makeVolumeSampler, VOLUME_AUGMENT,
  type Crop3, type VolumeAugment, type VolumeAugmentLevel, type VolumeBatch, type VolumeCase, type VolumePiece, type VolumeSampler, type VolumeSamplerOptions,
} from './crops.ts';
export { planWindows, windowStarts, WindowAssembler } from './sliding.ts';
