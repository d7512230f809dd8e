// Learning, not just running: a micro ViT (timm-layout fixture, centre-inflated, T = 3, 32 px) trained for 100 steps
// on the bundled Colin27 2 mm sample (single case: validation = the most varied slab of 18 sagittal slices that
// leaves every lobe to training). Seeded on the cpu backend, so the numbers repeat: mean validation Dice 0.013 before
// → 0.384 after (measured).
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { loadVolume } from '../../src/workers/nifti.job.ts';
import { TrainingRun } from '../../src/train/run.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const blob = (p: string) => new Blob([readFileSync(path.join(ROOT, p))]);

it('raises the validation mean Dice clearly within 100 steps', async () => {
  await tf.setBackend('cpu');
  const e = await convertEncoder({ kind: 'files', files: [{ name: 'timm_vit.safetensors', blob: blob('test/fixtures/weights/layouts/timm_vit.safetensors') }] },
    { strategy: 'center', T: 3, inChans: 1, imgSize: 32, seed: 0 }, { numHeads: 2 }, undefined);
  const img = await loadVolume(blob('public/samples/colin27_2mm_t1.nii.gz'), 'colin27_2mm_t1.nii.gz', 'image');
  const seg = await loadVolume(blob('public/samples/colin27_2mm_t1_seg.nii.gz'), 'colin27_2mm_t1_seg.nii.gz', 'label');
  const run = new TrainingRun(
    { kind: 'encoder', encoder: { spec: e.spec, options: e.options, tensors: e.tensors } },
    [{ id: 'brain', split: 'train', dims: img.volume.dims, channels: 1, spacing: img.volume.spacing, affine: img.volume.affine, image: img.volume.data, label: seg.volume.data }],
    8,
    { steps: 100, batch: 2, lr: 3e-3, weightDecay: 0.05, warmupSteps: 10, schedule: 'linear', loss: 'dice-ce', ignoreBackground: false, augment: false, seed: 1, valEvery: 0, axis: 0, clip: 1, layerDecay: 1 },
    { classNames: [], source: 'timm_vit.safetensors', appVersion: 'test' },
    () => {},
  );
  const before = await run.validate();
  await run.run();
  const after = await run.validate();
  mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'test-results/learning.json'), JSON.stringify({ before, after }, null, 1));
  expect(before.meanDice).toBeLessThan(0.1);
  expect(after.meanDice).toBeGreaterThan(0.25);
  expect(after.meanDice - before.meanDice).toBeGreaterThan(0.2);
  run.dispose();
}, 400_000);
