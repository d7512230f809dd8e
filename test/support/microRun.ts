// The shared setup of the Node training tests: the timm-layout micro fixture inflated (center, T 3, 32 px, one
// channel) and the bundled ITK head with its k-means labels as a single training case.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { loadVolume } from '../../src/workers/nifti.job.ts';
import type { CaseData, EncoderData, TrainConfig } from '../../src/workers/train.protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const blob = (p: string) => new Blob([readFileSync(path.join(ROOT, p))]);

/** The micro encoder and the ITK case (7 label values: 0…6). */
export async function microSetup(imgSize = 32, T = 3): Promise<{ encoder: EncoderData; cases: CaseData[] }> {
  const e = await convertEncoder({ kind: 'files', files: [{ name: 'timm_vit.safetensors', blob: blob('test/fixtures/weights/layouts/timm_vit.safetensors') }] },
    { strategy: 'center', T, inChans: 1, imgSize, seed: 0 }, { numHeads: 2 }, undefined);
  const img = await loadVolume(blob('public/samples/itk_kmeans_t1.nii.gz'), 'itk_kmeans_t1.nii.gz', 'image');
  const seg = await loadVolume(blob('public/samples/itk_kmeans_t1_seg.nii.gz'), 'itk_kmeans_t1_seg.nii.gz', 'label');
  return {
    encoder: { spec: e.spec, options: e.options, tensors: e.tensors },
    cases: [{ id: 'head', split: 'train', dims: img.volume.dims, channels: 1, spacing: img.volume.spacing, affine: img.volume.affine, image: img.volume.data, label: seg.volume.data }],
  };
}

/** The run labels of the ITK case's 7 label values. */
export const MICRO_LABELS = { classNames: ['background', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'], source: 'timm_vit.safetensors', appVersion: 'test' };

/** A short test run's settings (batch 2, lr 2e-3, Dice + CE, no augmentation, seed 1, axial) with `patch` applied. */
export function microConfig(patch: Partial<TrainConfig> & Pick<TrainConfig, 'steps' | 'warmupSteps' | 'valEvery'>): TrainConfig {
  return {
    batch: 2, lr: 2e-3, weightDecay: 0.05, schedule: 'linear', loss: 'dice-ce', ignoreBackground: false,
    augment: 'off', seed: 1, axis: 2, clip: 1, layerDecay: 1, ...patch,
  };
}
