// VolumeModelConfig: the volume-based baseline (UNETR, Hatamizadeh et al. 2022, as in MONAI's BTCV recipe) —
// a ViT over 3D patches of a 3D crop with a 3D convolutional decoder, predicting every voxel of the crop.
// This is the typed contract between the model (src/model/volume) and training / evaluation / checkpoints.
// Pure: no tfjs.

/** The model family a checkpoint's `config.model` names; absent in older checkpoints = 'window'. */
export type ModelKind = 'window' | 'unetr3d';

export interface VolumeModelConfig {
  model: 'unetr3d';
  /** Crop size [D, H, W] in voxels (MONAI BTCV: 96³); each a multiple of patch. */
  crop: [number, number, number];
  /** Cubic patch side of the 3D patch embedding (MONAI: 16). */
  patch: number;
  /** Input channels (modalities). */
  inChans: number;
  /** Output classes including background. */
  numClasses: number;
  /** ViT width (MONAI: 768), depth (12), heads (12), MLP hidden (3072). */
  hiddenSize: number;
  depth: number;
  numHeads: number;
  mlpDim: number;
  /** Decoder base width ("feature size", MONAI: 16). */
  featureSize: number;
  /** 0-based indices of the blocks whose outputs feed the decoder's three skip paths (MONAI: 3, 6, 9 of 12). */
  skipBlocks: [number, number, number];
  /** Which preset the config came from: 'browser' (the default sized for a laptop GPU) or 'monai-btcv' (the full recipe). */
  preset: 'browser' | 'monai-btcv' | 'custom';
}
