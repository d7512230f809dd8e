// Model checkpoints end to end in Node (cpu backend, and WebGPU through Dawn for the lost-device case): a trained
// micro model written as .safetensors and read back predicts bit-identically; a run resumed from a checkpoint with
// its AdamW state reproduces the uninterrupted run exactly; a failed step (NaN, lost device) hands back the last
// good weights as a checkpoint that training continues from.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TrainingRun, caseVolume, explainFailure } from '../../src/train/run.ts';
import { evaluateVolume } from '../../src/train/evaluate.ts';
import { decodeModelCheckpoint, encodeModelCheckpoint, isModelCheckpointFile, MODEL_FORMAT, type ModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';
import { microSetup } from '../support/microRun.ts';
import type { CaseData, EncoderData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';
import type { StateDict } from '../../src/weights/types.ts';
import { haveVulkan, installDawn } from '../support/dawn.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LABELS = { classNames: ['background', 'csf', 'grey matter', 'white matter', 'c4', 'c5', 'c6'], source: 'timm_vit.safetensors', appVersion: 'test' };
const baseCfg: TrainConfig = {
  steps: 6, batch: 2, lr: 2e-3, weightDecay: 0.05, warmupSteps: 2, schedule: 'linear', loss: 'dice-focal', ignoreBackground: false,
  augment: 'paper', seed: 3, valEvery: 3, axis: 2, clip: 1, layerDecay: 1,
};

const base = baseCfg;
let encoder: EncoderData;
let cases: CaseData[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ encoder, cases } = await microSetup());
});

function collect(): { events: TrainEvent[]; emit: (e: TrainEvent) => void } {
  const events: TrainEvent[] = [];
  return { events, emit: (e) => events.push(e) };
}

/** Slices z0…z1−1 (axis 2) of a case, as a case of its own. */
function slab(c: CaseData, z0: number, z1: number): CaseData {
  const plane = c.dims[0] * c.dims[1];
  return { ...c, id: `${c.id}[${z0}:${z1}]`, dims: [c.dims[0], c.dims[1], z1 - z0], image: c.image.slice(z0 * plane, z1 * plane), label: c.label.slice(z0 * plane, z1 * plane) };
}

const fromEncoder = () => ({ kind: 'encoder' as const, encoder });
const fromCheckpoint = (checkpoint: ModelCheckpoint) => ({ kind: 'model' as const, checkpoint });

function expectSameState(a: StateDict, b: StateDict) {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect(u.shape, k).toEqual(t.shape);
    expect(Buffer.from((u.data as Float32Array).buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from((t.data as Float32Array).buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
  }
}

describe('model checkpoint (cpu backend)', () => {
  it('writes encoder, decoder, AdamW state and metadata; read back, it predicts bit-identically', async () => {
    const a = collect();
    const run = new TrainingRun(fromEncoder(), cases, 7, base, LABELS, a.emit);
    await run.run();
    const bytes = encodeModelCheckpoint(await run.checkpoint(true));
    expect(await isModelCheckpointFile(new Blob([bytes as Uint8Array<ArrayBuffer>]))).toBe(true);

    // The file as any safetensors reader sees it: names, layouts, metadata.
    const raw = await readSafetensors(bytes, 'model.safetensors');
    const names = [...raw.tensors.keys()];
    expect(raw.tensors.get('patch_embed.proj.weight')!.shape).toEqual([24, 1, 3, 4, 4]); // Conv3d [D, C_in, T, P, P]
    expect(names.filter((n) => n.startsWith('blocks.')).length).toBeGreaterThan(20);
    expect(names.some((n) => n.startsWith('decode_head.'))).toBe(true);
    const params = names.filter((n) => !n.startsWith('optim.'));
    for (const p of params.filter((n) => raw.tensors.get(n)!.shape.length > 0 && n !== 'fc_norm.weight' && n !== 'fc_norm.bias')) {
      if (raw.tensors.has(`optim.m.${p}`)) expect(raw.tensors.get(`optim.v.${p}`)!.shape, p).toEqual(raw.tensors.get(p)!.shape);
    }
    expect(raw.tensors.get('optim.step.patch_embed.proj.weight')!.data[0]).toBe(6);
    const md = raw.metadata;
    expect(md.format).toBe(MODEL_FORMAT);
    expect(JSON.parse(md.step)).toBe(6);
    expect(JSON.parse(md.config)).toMatchObject({ T: 3, inChans: 1, imgSize: 32, numClasses: 7, decoder: 'unetr', encoder: { family: 'vit', embedDim: 24, depth: 2, patchSize: 4 } });
    expect(JSON.parse(md.inflation)).toMatchObject({ strategy: 'center', T: 3 });
    expect(JSON.parse(md.class_names)).toEqual(LABELS.classNames);
    expect(JSON.parse(md.orientation)).toEqual({ space: 'RAS', axis: 2 });
    expect(Object.keys(JSON.parse(md.intensity))).toEqual(['head']);
    const history = JSON.parse(md.history);
    expect(history.steps.map((s: { step: number }) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.validations.map((v: { step: number }) => v.step)).toEqual([3, 6]);
    expect(md.app_version).toBe('test');

    // Read back into a new model: the prediction of a 20-slice block of the volume is the same, voxel for voxel.
    const loaded = new TrainingRun(fromCheckpoint(await decodeModelCheckpoint(bytes, 'model.safetensors')), [], 7, base, LABELS, () => {});
    const block = slab(cases[0], 50, 70);
    const image = caseVolume(block, 'image'), label = caseVolume(block, 'label');
    const p1 = await evaluateVolume(run.params, run.config, image, label, 2, 4);
    const p2 = await evaluateVolume(loaded.params, loaded.config, image, label, 2, 4);
    expect(p2.prediction).toEqual(p1.prediction);
    expect(p2.metrics!.dice).toEqual(p1.metrics!.dice);
    expect(new Set(p1.prediction).size).toBeGreaterThan(1); // not a constant map
    run.dispose();
    loaded.dispose();
  }, 120_000);

  it('a run resumed from a checkpoint with its AdamW state reproduces the uninterrupted run exactly', async () => {
    const base = { ...baseCfg, valEvery: 0 };
    const whole = new TrainingRun(fromEncoder(), cases, 7, base, LABELS, () => {});
    await whole.run();
    const end = await whole.checkpoint(true);

    const first = new TrainingRun(fromEncoder(), cases, 7, { ...base, steps: 3 }, LABELS, () => {});
    await first.run();
    const mid = await decodeModelCheckpoint(encodeModelCheckpoint(await first.checkpoint(true)), 'mid.safetensors');
    expect(mid.meta.step).toBe(3);
    const second = new TrainingRun(fromCheckpoint(mid), cases, 7, base, LABELS, () => {});
    await second.run();
    const resumed = await second.checkpoint(true);

    expectSameState(resumed.weights, end.weights);
    expect(resumed.meta.history.steps.map((s) => s.loss)).toEqual(end.meta.history.steps.map((s) => s.loss));

    // Without the optimiser state the continuation differs: the state is what makes the resume exact.
    const bare = new TrainingRun(fromCheckpoint({ ...mid, optim: null }), cases, 7, base, LABELS, () => {});
    await bare.run();
    const w = (await bare.checkpoint(false)).weights.get('blocks.0.attn.qkv.weight')!.data;
    expect(Array.from(w)).not.toEqual(Array.from(end.weights.get('blocks.0.attn.qkv.weight')!.data));
    for (const r of [whole, first, second, bare]) r.dispose();
  }, 180_000);

  it('explains a WebGPU allocation over the device limit as out of GPU memory (error text as Dawn reports it)', () => {
    // Measured with Dawn over SwiftShader: the read fails with an empty message, the device reports this error.
    const dawn = { kind: 'GPUValidationError', message: 'Buffer size (1610612736) exceeds the max buffer size limit (1073741824).\n - While calling [Device].CreateBuffer([BufferDescriptor ""]).' };
    const m = explainFailure(new Error(''), { ...base, batch: 4 }, 224, 9, null, dawn);
    expect(m).toMatch(/^Out of GPU memory during step 10 \(batch 4, 224 px\): lower the batch and continue from the last good weights/);
    expect(m).toMatch(/exceeds the max buffer size limit/);
    expect(explainFailure(new Error(''), base, 32, 0, null, { kind: 'GPUOutOfMemoryError', message: '' })).toMatch(/^Out of GPU memory during step 1/);
    expect(explainFailure(new Error(''), base, 32, 3, 'destroyed: Device was destroyed.')).toMatch(/^The GPU device was lost during step 4/);
    expect(explainFailure(new Error('boom'), base, 32, 3)).toBe('Training stopped during step 4: boom');
  });

  it('refuses files that are not model checkpoints, naming them', async () => {
    const encoderOnly = readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts/timm_vit.safetensors'));
    await expect(decodeModelCheckpoint(new Uint8Array(encoderOnly), 'timm_vit.safetensors')).rejects.toThrow(/timm_vit\.safetensors: not an InflateSeg model checkpoint/);
    expect(await isModelCheckpointFile(new Blob([encoderOnly]))).toBe(false);
    expect(await isModelCheckpointFile(new Blob([new Uint8Array(5)]))).toBe(false);
    const run = new TrainingRun(fromEncoder(), cases, 7, { ...base, steps: 1 }, LABELS, () => {});
    const good = encodeModelCheckpoint(await run.checkpoint(false));
    await expect(decodeModelCheckpoint(good.slice(0, good.length - 10), 'cut.safetensors')).rejects.toThrow(/cut\.safetensors/);
    // A model for 7 classes cannot train on labels with 4.
    const ckpt = await decodeModelCheckpoint(good, 'model.safetensors');
    expect(() => new TrainingRun(fromCheckpoint(ckpt), cases, 4, base, LABELS, () => {})).toThrow(/7 classes but the labels have 4/);
    run.dispose();
  });

  it('a NaN loss stops the run and hands back the last good weights (the last validation) as a checkpoint', async () => {
    const { events, emit } = collect();
    // A huge learning rate blows the weights up within a few steps; validation every 2 steps keeps snapshots.
    const run = new TrainingRun(fromEncoder(), cases, 7, { ...base, steps: 40, lr: 1e9, warmupSteps: 0, valEvery: 2, clip: 0 }, LABELS, emit);
    await run.run();
    const failed = events.find((e) => e.type === 'state' && e.state === 'failed') as Extract<TrainEvent, { type: 'state' }>;
    expect(failed?.message).toMatch(/The loss became (NaN|Infinity|-Infinity) at step \d+/);
    const saved = events.find((e) => e.type === 'checkpoint') as Extract<TrainEvent, { type: 'checkpoint' }>;
    expect(saved.reason).toBe('failure');
    const ckpt = await decodeModelCheckpoint(saved.bytes, saved.name);
    expect(ckpt.meta.step % 2).toBe(0);
    expect(ckpt.meta.step).toBeLessThan(run.step);
    for (const t of ckpt.weights.values()) expect(t.data.every(Number.isFinite)).toBe(true);
    // Continue from it with a sane learning rate.
    const next = new TrainingRun(fromCheckpoint(ckpt), cases, 7, { ...base, steps: ckpt.meta.step + 2 }, LABELS, () => {});
    await next.run();
    expect(next.step).toBe(ckpt.meta.step + 2);
    run.dispose();
    next.dispose();
  }, 120_000);
});

describe.skipIf(!haveVulkan)('lost GPU device (WebGPU through Dawn)', () => {
  it('a device destroyed mid-run fails the run with a clear message and the last good weights', async () => {
    await installDawn();
    await (await import('../../src/train/backend.ts')).chooseBackend('webgpu');
    const { events, emit } = collect();
    const run = new TrainingRun(fromEncoder(), cases, 7, { ...base, steps: 10, valEvery: 2 }, LABELS, (e) => {
      emit(e);
      if (e.type === 'step' && e.step === 3) (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    });
    await run.run();
    const failed = events.find((e) => e.type === 'state' && e.state === 'failed') as Extract<TrainEvent, { type: 'state' }>;
    expect(failed?.message).toMatch(/GPU device was lost during step 4.*destroyed/);
    expect(failed.message).toMatch(/last good weights are those of step 2/);
    const saved = events.find((e) => e.type === 'checkpoint') as Extract<TrainEvent, { type: 'checkpoint' }>;
    const ckpt = await decodeModelCheckpoint(saved.bytes, saved.name);
    expect(ckpt.meta.step).toBe(2);
    expect(ckpt.optim).not.toBeNull();
    // What the page does next: a fresh backend (here: cpu), load the checkpoint, continue.
    await tf.setBackend('cpu');
    const next = new TrainingRun(fromCheckpoint(ckpt), cases, 7, { ...base, steps: 4 }, LABELS, () => {});
    await next.run();
    expect(next.step).toBe(4);
    next.dispose();
  }, 180_000);

});
