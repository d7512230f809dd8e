// A training run in Node on the cpu backend: a micro ViT (real timm-layout fixture, inflated) on the bundled ITK
// head with its k-means labels. Memory stays flat over 20 steps; pause/stop; validation Dice rises with training.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingRun } from '../../src/train/run.ts';
import { MICRO_LABELS, microConfig, microSetup } from '../support/microRun.ts';
import type { CaseData, EncoderData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';


const LABELS = MICRO_LABELS;
let encoder: EncoderData;
let cases: CaseData[];
const base: TrainConfig = microConfig({ steps: 20, warmupSteps: 5, valEvery: 0 });

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ encoder, cases } = await microSetup());
});

describe('TrainingRun (cpu backend)', () => {
  it('keeps tf.memory() flat over 20 steps and reports each step', async () => {
    const events: TrainEvent[] = [];
    const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, base, LABELS, (e) => events.push(e));
    await run.run();
    const steps = events.filter((e) => e.type === 'step') as Extract<TrainEvent, { type: 'step' }>[];
    expect(steps).toHaveLength(20);
    expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
    // After the first steps have created the optimizer state, nothing grows.
    expect(new Set(steps.slice(2).map((s) => s.numTensors)).size).toBe(1);
    expect(new Set(steps.slice(2).map((s) => s.numBytes)).size).toBe(1);
    expect(events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['running', 'done']);
    const val = events.find((e) => e.type === 'validation') as Extract<TrainEvent, { type: 'validation' }>;
    expect(val.dice).toHaveLength(7);
    expect(run.notes.join(' ')).toMatch(/slab/i);
    run.dispose();
  });

  it('pauses, resumes and stops between steps', async () => {
    const events: TrainEvent[] = [];
    const waiters: Array<[(e: TrainEvent) => boolean, () => void]> = [];
    const when = (pred: (e: TrainEvent) => boolean) => new Promise<void>((r) => waiters.push([pred, r]));
    const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, { ...base, steps: 50 }, LABELS, (e) => {
      events.push(e);
      if (e.type === 'step' && e.step === 3) run.pause();
      for (const [p, r] of waiters) if (p(e)) r();
    });
    const paused = when((e) => e.type === 'state' && e.state === 'paused');
    const done = run.run();
    await paused;
    await new Promise((r) => setTimeout(r, 200));
    expect(run.step).toBe(3); // nothing runs while paused
    const fifth = when((e) => e.type === 'step' && e.step === 5);
    run.resume();
    await fifth;
    run.stop();
    await done;
    expect(run.step).toBeGreaterThanOrEqual(5);
    expect(run.step).toBeLessThanOrEqual(6); // stop takes effect within one step
    expect(events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['running', 'paused', 'running', 'stopped']);
    run.dispose();
  });
});
