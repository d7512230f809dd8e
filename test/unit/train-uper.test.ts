// A training run with the UPerNet head (decoder: 'uper') in Node on the cpu backend: the micro ViT fixture, inflated,
// on the bundled ITK head. Losses stay finite, tf.memory() stays flat, every part of the head (neck, pyramid pooling,
// FPN) learns, and the checkpoint carries the head under its UPerNet names.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { TrainingRun } from '../../src/train/run.ts';
import { microSetup } from '../support/microRun.ts';
import type { CaseData, EncoderData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';


const STEPS = 8;
const CLASSES = 7;
const cfg: TrainConfig = {
  // NOTE: weight decay 0, so a parameter that moved did so through its gradient.
  steps: STEPS, batch: 2, lr: 2e-3, weightDecay: 0, warmupSteps: 2, schedule: 'linear', loss: 'dice-ce', ignoreBackground: false,
  augment: 'off', seed: 1, valEvery: 0, axis: 2, clip: 1, layerDecay: 1, decoder: 'uper',
};

let encoder: EncoderData;
let cases: CaseData[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ encoder, cases } = await microSetup());
});

it('trains the UPerNet head with flat memory and writes it under its own names', async () => {
  const events: TrainEvent[] = [];
  const labels = { classNames: ['background', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'], source: 'test', appVersion: 'test' };
  const run = new TrainingRun({ kind: 'encoder', encoder }, cases, CLASSES, cfg, labels, (e) => events.push(e));
  expect(run.config.decoder).toBe('uper');
  expect(run.config.decoderWidth).toBe(16); // automatic: micro encoder (D < 64)
  const before = (await run.checkpoint(false)).weights;

  await run.run();
  const steps = events.filter((e) => e.type === 'step');
  expect(steps).toHaveLength(STEPS);
  expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
  // After the first steps have created the optimiser state, nothing grows.
  expect(new Set(steps.slice(2).map((s) => s.numTensors)).size).toBe(1);
  expect(new Set(steps.slice(2).map((s) => s.numBytes)).size).toBe(1);
  expect(events.filter((e) => e.type === 'state').map((e) => e.state)).toEqual(['running', 'done']);

  const ckpt = await run.checkpoint(false);
  expect(ckpt.meta.config.decoder).toBe('uper');
  expect(ckpt.meta.step).toBe(STEPS);
  expect(ckpt.optim).toBeNull();
  const head = [...ckpt.weights.keys()].filter((k) => k.startsWith('decode_head.'));
  // The UNETR head's names are absent.
  expect(head.filter((k) => /^decode_head\.(lateral|up|fuse)\./.test(k))).toEqual([]);
  const D = encoder.spec.embedDim;
  const W = 16;
  const shapes: Record<string, number[]> = {
    'decode_head.fpn1.0.weight': [D, D, 2, 2],
    'decode_head.fpn1.2.weight': [D, D, 2, 2],
    'decode_head.fpn2.0.weight': [D, D, 2, 2],
    'decode_head.psp_modules.0.1.conv.weight': [W, D, 1, 1],
    'decode_head.psp_modules.3.1.norm.weight': [W],
    'decode_head.bottleneck.conv.weight': [W, D + 4 * W, 3, 3],
    'decode_head.lateral_convs.2.conv.weight': [W, D, 1, 1],
    'decode_head.fpn_convs.0.conv.weight': [W, W, 3, 3],
    'decode_head.fpn_bottleneck.conv.weight': [W, 4 * W, 3, 3],
    'decode_head.conv_seg.weight': [CLASSES, W, 1, 1],
  };
  for (const [k, shape] of Object.entries(shapes)) expect(ckpt.weights.get(k)?.shape, k).toEqual(shape);
  // Each part of the head learned: the neck, every pyramid pooling branch, the laterals, the FPN and the fusion.
  const moved = (k: string): boolean => {
    const a = before.get(k)!.data;
    const b = ckpt.weights.get(k)!.data;
    return a.some((v, i) => v !== b[i]);
  };
  const convs = head.filter((k) => k.endsWith('.weight') && !k.includes('.norm.'));
  expect(convs.length).toBe(3 + 4 + 1 + 3 + 3 + 1 + 1);
  expect(convs.filter((k) => !moved(k))).toEqual([]);
  run.dispose();
}, 120_000);
