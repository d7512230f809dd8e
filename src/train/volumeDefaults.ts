// The volume-based model's choices for a run (issue 16): which config a preset name gives for the data's channels
// and classes, and the training settings that go with it. Pure: no tfjs (the page and the CLI use it to describe a
// run before the worker builds it).
import type { VolumeModelConfig } from '../model/volume/config.ts';
import { UNETR3D_MICRO, volumeConfig } from '../model/volume/presets.ts';
import type { TrainConfig } from '../workers/train.protocol.ts';

/** 'browser' (the default sized for a laptop GPU), 'monai-btcv' (MONAI's recipe as published), 'micro' (tests, quick tries). */
export type VolumePresetName = 'browser' | 'monai-btcv' | 'micro';
export const VOLUME_PRESET_NAMES: readonly VolumePresetName[] = ['browser', 'monai-btcv', 'micro'];

export const isVolumePreset = (s: unknown): s is VolumePresetName => typeof s === 'string' && (VOLUME_PRESET_NAMES as readonly string[]).includes(s);

/**
 * The preset the app offers first on a backend: 'browser' on a GPU through WebGPU, 'micro' on the CPU (wasm, cpu) and
 * on a software WebGPU adapter. NOTE: a browser-preset step takes ~21 s on 2 wasm cores (bench/RESULTS.md "3D UNETR
 * training step"), so a first run of a few minutes would be ~10 steps, too few to learn anything; the micro preset
 * learns the ITK head's tissue classes in ~3 minutes there (bench/RESULTS.md "3D UNETR training").
 */
export function defaultVolumePreset(backend: { name: string; software: boolean } | null): VolumePresetName {
  return backend && backend.name === 'webgpu' && !backend.software ? 'browser' : 'micro';
}

/** The model config of a preset for data with `inChans` channels and `numClasses` classes (background included). */
export function volumeModelConfig(preset: VolumePresetName, inChans: number, numClasses: number): VolumeModelConfig {
  if (preset === 'micro') return { ...UNETR3D_MICRO, crop: [...UNETR3D_MICRO.crop], skipBlocks: [...UNETR3D_MICRO.skipBlocks], inChans, numClasses };
  return volumeConfig(preset, { inChans, numClasses });
}

/** One line describing a volume config (log, page). */
export function describeVolumeConfig(c: VolumeModelConfig): string {
  return `3D UNETR (${c.preset === 'custom' ? 'micro' : c.preset}): ${c.crop.join('×')} crops, ${c.patch}³ patches, ViT ${c.hiddenSize} × ${c.depth} blocks (${c.numHeads} heads, MLP ${c.mlpDim}), feature size ${c.featureSize}, ${c.numClasses} classes`;
}

/**
 * The training settings of a volume run (every other field keeps the caller's): MONAI's BTCV recipe — Dice + CE
 * (include background), AdamW lr 1e-4 with weight decay 1e-5, no gradient clipping, no warm-up, four crops a step
 * (batch 1 × num_samples 4 in MONAI: the same four crops per optimiser step), its augmentations ('paper': flips and
 * quarter turns p 0.1, intensity shift p 0.5), validation by sliding window.
 * NOTE: MONAI keeps the learning rate constant; the app's schedule decays it linearly to 0 at the last step.
 * The browser and micro presets start from the same recipe with 'light' augmentation (shift only) and 2 crops a step
 * (a step must fit a laptop GPU's memory), and a learning rate for runs of hundreds, not 25,000, steps: MONAI's 1e-4
 * barely moves the micro model in 300 steps (held-out Dice of the tissue classes 0.04 → 0.06), 1e-3 and 3e-3 learn
 * them (bench/RESULTS.md, "3D UNETR training"): micro 3e-3; browser 1e-3, the window model's from-scratch rate, as its
 * ViT is 12× wider and 2.7× deeper (NOTE: not measured on the browser preset: no GPU was lent to this work).
 */
export function volumeTrainDefaults(preset: VolumePresetName): Pick<TrainConfig, 'steps' | 'batch' | 'lr' | 'weightDecay' | 'warmupSteps' | 'loss' | 'clip' | 'layerDecay' | 'valEvery' | 'augment' | 'axis' | 'ignoreBackground'> {
  const recipe = { lr: 1e-4, weightDecay: 1e-5, warmupSteps: 0, loss: 'dice-ce' as const, clip: 0, layerDecay: 1, axis: 2 as const, ignoreBackground: false };
  if (preset === 'monai-btcv') return { ...recipe, steps: 25000, batch: 4, valEvery: 500, augment: 'paper' };
  if (preset === 'browser') return { ...recipe, lr: 1e-3, steps: 2000, batch: 2, valEvery: 100, augment: 'light' };
  return { ...recipe, lr: 3e-3, steps: 300, batch: 2, valEvery: 50, augment: 'light' };
}
