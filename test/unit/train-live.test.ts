// The live slice prediction of a run (TrainingRun.predictSlice, what the worker's predictSlice request serves): the
// slice on the case's own plane, labels in range, tf.memory flat; across another axis; while the run is going; and
// from a model loaded from a checkpoint (no cases) with the image given, the same labels as the run that wrote it.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingRun, imageVolume } from '../../src/train/run.ts';
import { planeOf } from '../../src/data/windows/index.ts';
import { MICRO_LABELS, microConfig, microSetup } from '../support/microRun.ts';
import type { CaseData, EncoderData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';

const LABELS = MICRO_LABELS;
let encoder: EncoderData;
let cases: CaseData[];
const cfg: TrainConfig = microConfig({ steps: 4, warmupSteps: 1, valEvery: 2 });

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ encoder, cases } = await microSetup());
});

describe('TrainingRun.predictSlice (cpu backend)', () => {
  it('predicts one slice on the case plane, labels in range, tf.memory flat; across other axes; mid-run; after a checkpoint load', async () => {
    const events: TrainEvent[] = [];
    const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, cfg, LABELS, (e) => events.push(e));
    const image = imageVolume(cases[0]);
    const axial = planeOf(image.dims, 2);
    const mid = Math.floor(axial.depth / 2);

    // --- while the run is going: served between steps, the run still finishes ---------------------------------------
    const going = run.run();
    await new Promise((r) => setTimeout(r, 0));
    const during = await run.predictSlice(image, 2, mid);
    expect(during.pred).toHaveLength(axial.H * axial.W);
    await going;
    expect(events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['running', 'done']);

    // --- after done: shape, range, memory flat ------------------------------------------------------------------------
    await run.predictSlice(image, 2, mid); // warm (kernels, lazily made constants)
    const before = tf.memory().numTensors;
    const r = await run.predictSlice(image, 2, mid);
    expect(tf.memory().numTensors).toBe(before);
    expect([r.H, r.W, r.step]).toEqual([axial.H, axial.W, 4]);
    expect(r.pred).toHaveLength(axial.H * axial.W);
    expect(Math.max(...r.pred)).toBeLessThan(7);
    expect(new Set(r.pred).size).toBeGreaterThan(1); // 4 steps from a seeded start: not one constant label

    // --- across another axis (coronal): cut from the whole predicted volume, on that plane ----------------------------
    const coronal = planeOf(image.dims, 1);
    const c = await run.predictSlice(image, 1, Math.floor(coronal.depth / 2));
    expect([c.H, c.W]).toEqual([coronal.H, coronal.W]);
    expect(c.pred).toHaveLength(coronal.H * coronal.W);
    expect(Math.max(...c.pred)).toBeLessThan(7);
    // The axial slice `mid` is row `mid` of every coronal plane (H runs along k): the two paths agree there.
    const row = c.pred.subarray(mid * coronal.W, (mid + 1) * coronal.W);
    const jMid = Math.floor(coronal.depth / 2);
    expect([...row]).toEqual([...r.pred.subarray(jMid * axial.W, (jMid + 1) * axial.W)]);
    const before2 = tf.memory().numTensors;
    await run.predictSlice(image, 1, 3);
    expect(tf.memory().numTensors).toBe(before2);
    await expect(run.predictSlice(image, 2, axial.depth)).rejects.toThrow(/outside/);

    // --- a model loaded from a checkpoint (no cases): the image given, the same prediction ----------------------------
    const ckpt = await run.checkpoint(false);
    const loaded = new TrainingRun({ kind: 'model', checkpoint: ckpt }, [], 7, ckpt.meta.train, LABELS, () => undefined);
    const again = await loaded.predictSlice(imageVolume({ ...cases[0], image: cases[0].image.slice() }), 2, mid);
    expect(again.step).toBe(4);
    expect([...again.pred]).toEqual([...r.pred]);
    loaded.dispose();
    run.dispose();
  }, 120_000);
});
