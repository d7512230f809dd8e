// The model family the next run trains: the window model (an inflated 2D encoder, the Encoder section) or the
// volume-based baseline (3D UNETR from scratch, issue 16) at a preset size. Its own small store, as Compare's.
import { create } from 'zustand';
import type { VolumePresetName } from '../train/volumeDefaults.ts';

export interface ModelChoice {
  kind: 'window' | 'unetr3d';
  /** The volume model's size: browser (default), monai-btcv (the full recipe) or micro (quick tries, tests). */
  preset: VolumePresetName;
}

export const useModelChoice = create<ModelChoice>()(() => ({ kind: 'window', preset: 'browser' }));

/** Whether the user has picked the volume preset (until then it follows the backend: src/train/volumeDefaults.ts). */
export const volumePresetPicked = { value: false };
