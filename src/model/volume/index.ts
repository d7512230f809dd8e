// The volume model's public surface (UNETR over 3D crops): config and presets, parameters, forward and predict, ops.
export type { ModelKind, VolumeModelConfig } from './config.ts';
export { UNETR3D_MICRO, UNETR3D_PATCH, UNETR3D_PRESETS, tokenGrid, validateVolumeConfig, volumeConfig, type Unetr3dPreset } from './presets.ts';
export { createUnetr3dParams, loadUnetr3dParams, unetr3dParamCount, unetr3dParamSpecs } from './params3d.ts';
export { checkVolumeInput, unetr3dForward, unetr3dPredict } from './unetr3d.ts';
export { volumeLoss } from './losses3d.ts';
export { conv3d, convTranspose2x2x2, instanceNorm3d, leakyRelu, patchify3d } from './ops3d.ts';
