// Presets of the volume model (UNETR over 3D crops) and the config check. Pure: no tfjs.
//   'monai-btcv': MONAI's UNETR as in its BTCV recipe — 96³ crops, 16³ patches, ViT-Base (768, 12 blocks, 12 heads,
//                 MLP 3072), feature size 16, skips after blocks 4, 7, 10 (0-based 3, 6, 9).
//   'browser':    the default sized for a laptop GPU (why: bench/RESULTS.md "3D UNETR", and the note on BROWSER below).
//   UNETR3D_MICRO: a tiny config for tests and the SwiftShader browser tests (not a user preset).
import type { VolumeModelConfig } from './config.ts';

export type Unetr3dPreset = 'browser' | 'monai-btcv';

type Shape = Omit<VolumeModelConfig, 'inChans' | 'numClasses' | 'preset'>;

/** MONAI's UNETR fixes the patch at 16 (four ×2 up-samplings from the token grid back to the crop). */
export const UNETR3D_PATCH = 16;

const MONAI_BTCV: Shape = {
  model: 'unetr3d', crop: [96, 96, 96], patch: 16, hiddenSize: 768, depth: 12, numHeads: 12, mlpDim: 3072, featureSize: 16, skipBlocks: [3, 6, 9],
};

/**
 * The browser default: 64³ crops (4³ = 64 tokens), a ViT-Small-wide encoder of 8 blocks (384, 6 heads, MLP 1536),
 * MONAI's feature size 16, skips after blocks 2, 4, 6 (0-based 1, 3, 5; the last block feeds the bottleneck as in
 * MONAI). NOTE: the convolutions, not the ViT, dominate (94 % of the forward's 16.8 G MACs, 45 % at full crop
 * resolution: flops3d.ts), so the crop sets the cost: 64³ is 0.30× the voxels of 96³, and the step is 0.23× MONAI's
 * (101 vs 439 GFLOP) with about a third of its activation memory. bench/RESULTS.md "3D UNETR" has the measured steps.
 */
const BROWSER: Shape = {
  model: 'unetr3d', crop: [64, 64, 64], patch: 16, hiddenSize: 384, depth: 8, numHeads: 6, mlpDim: 1536, featureSize: 16, skipBlocks: [1, 3, 5],
};

export const UNETR3D_PRESETS: Readonly<Record<Unetr3dPreset, Readonly<Shape>>> = { 'monai-btcv': MONAI_BTCV, browser: BROWSER };

/** A micro config for tests (32³ crop, 2³ tokens, width 32, 3 blocks, feature size 4): preset 'custom'. */
export const UNETR3D_MICRO: Readonly<Omit<VolumeModelConfig, 'inChans' | 'numClasses'>> = {
  model: 'unetr3d', crop: [32, 32, 32], patch: 16, hiddenSize: 32, depth: 3, numHeads: 2, mlpDim: 64, featureSize: 4, skipBlocks: [0, 1, 2], preset: 'custom',
};

/** The config of a preset for the data's channels and classes; `crop` overrides the preset's (the preset name is kept). */
export function volumeConfig(preset: Unetr3dPreset, o: { inChans: number; numClasses: number; crop?: [number, number, number] }): VolumeModelConfig {
  const base = UNETR3D_PRESETS[preset];
  if (!base) throw new Error(`unetr3d: unknown preset '${String(preset)}' (known: ${Object.keys(UNETR3D_PRESETS).join(', ')})`);
  const cfg: VolumeModelConfig = { ...base, crop: [...(o.crop ?? base.crop)] as [number, number, number], skipBlocks: [...base.skipBlocks] as [number, number, number], inChans: o.inChans, numClasses: o.numClasses, preset };
  validateVolumeConfig(cfg);
  return cfg;
}

/** Throws, naming the field, where a config cannot build the model. */
export function validateVolumeConfig(c: VolumeModelConfig): void {
  const bad = (msg: string): never => { throw new Error(`unetr3d config: ${msg}`); };
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  if (c.model !== 'unetr3d') bad(`model must be 'unetr3d', found '${String(c.model)}'`);
  if (c.patch !== UNETR3D_PATCH) bad(`patch must be ${UNETR3D_PATCH} (UNETR's decoder up-samples the token grid 4 times by 2), found ${c.patch}`);
  if (!Array.isArray(c.crop) || c.crop.length !== 3 || !c.crop.every((s) => posInt(s) && s % c.patch === 0)) bad(`crop must be 3 positive multiples of the patch ${c.patch}, found [${String(c.crop)}]`);
  for (const k of ['inChans', 'numClasses', 'hiddenSize', 'depth', 'numHeads', 'mlpDim', 'featureSize'] as const) if (!posInt(c[k])) bad(`${k} must be a positive integer, found ${String(c[k])}`);
  if (c.numClasses < 2) bad(`numClasses must be at least 2 (background and one class), found ${c.numClasses}`);
  if (c.hiddenSize % c.numHeads) bad(`hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`);
  if (!Array.isArray(c.skipBlocks) || c.skipBlocks.length !== 3 || !c.skipBlocks.every((b) => Number.isInteger(b) && b >= 0 && b < c.depth)) {
    bad(`skipBlocks must be 3 block indices in 0…${c.depth - 1}, found [${String(c.skipBlocks)}]`);
  }
}

/** Token grid [D/P, H/P, W/P]. */
export const tokenGrid = (c: VolumeModelConfig): [number, number, number] => [c.crop[0] / c.patch, c.crop[1] / c.patch, c.crop[2] / c.patch];
