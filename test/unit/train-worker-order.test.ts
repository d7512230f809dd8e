// The training worker in Node with a slow-starting stand-in for WebGPU: the backend probe and a checkpoint load sent
// at once (what Resume right after a reload does) both end on that backend, and the loaded model evaluates. When the
// worker handled them concurrently, the probe's tf.setBackend('webgpu') was made stale by the load's, the probe fell
// back to another backend and tfjs was left half on each (src/workers/train.worker.ts).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrainingRun } from '../../src/train/run.ts';
import { encodeModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { microSetup } from '../support/microRun.ts';
import type { CaseData, TrainEvent, TrainRequest } from '../../src/workers/train.protocol.ts';

const LABELS = { classNames: ['background', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'], source: 'timm_vit.safetensors', appVersion: 'test' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The stand-in: tfjs's cpu backend under the name 'webgpu', whose start takes a while (as a GPU device's does). */
class SlowStartBackend extends tf.MathBackendCPU {}

const events: TrainEvent[] = [];
let bytes: Uint8Array;
let slab: CaseData;
const saved = { self: Object.getOwnPropertyDescriptor(globalThis, 'self'), navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator') };

beforeAll(async () => {
  await tf.setBackend('cpu');
  const { encoder, cases } = await microSetup();
  const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, {
    steps: 1, batch: 1, lr: 1e-3, weightDecay: 0.05, warmupSteps: 0, schedule: 'linear', loss: 'dice-focal', ignoreBackground: false,
    augment: 'off', seed: 0, valEvery: 0, axis: 2, clip: 1, layerDecay: 1,
  }, LABELS, () => {});
  bytes = encodeModelCheckpoint(await run.checkpoint(true));
  run.dispose();
  const c = cases[0];
  const plane = c.dims[0] * c.dims[1];
  const z = Math.floor(c.dims[2] / 2);
  slab = { ...c, id: 'head[mid]', dims: [c.dims[0], c.dims[1], 4], image: c.image.slice(z * plane, (z + 4) * plane), label: c.label.slice(z * plane, (z + 4) * plane) };

  // A worker scope, then the worker (tfjs-backend-webgpu registers nothing: there is no navigator.gpu yet).
  Object.defineProperty(globalThis, 'self', { value: { postMessage: (e: TrainEvent) => events.push(e) }, configurable: true, writable: true });
  await import('../../src/workers/train.worker.ts');
  // NOTE: tfjs-backend-webgpu registered its kernels on import (src/train/backend.ts imports it): the cpu ones replace them.
  for (const k of tf.getKernelsForBackend('webgpu')) tf.unregisterKernel(k.kernelName, 'webgpu');
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'webgpu' });
  tf.registerBackend('webgpu', async () => { await sleep(300); return new SlowStartBackend(); });
  const adapter = { info: { vendor: 'test', description: 'slow-start stand-in' }, limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 } };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => adapter } }, configurable: true, writable: true });
});

afterAll(() => {
  for (const [k, d] of Object.entries(saved)) {
    if (d) Object.defineProperty(globalThis, k, d);
    else delete (globalThis as Record<string, unknown>)[k];
  }
});

const send = (msg: TrainRequest) => (globalThis as unknown as { self: { onmessage: (ev: { data: TrainRequest }) => void } }).self.onmessage({ data: msg });

async function until<T extends TrainEvent['type']>(type: T, timeout = 60_000): Promise<Extract<TrainEvent, { type: T }>> {
  const t0 = Date.now();
  for (;;) {
    const e = events.find((x) => x.type === type || x.type === 'error');
    if (e?.type === 'error') throw new Error(`the worker answered with an error: ${e.message}`);
    if (e) return e as Extract<TrainEvent, { type: T }>;
    if (Date.now() - t0 > timeout) throw new Error(`no '${type}' event within ${timeout} ms; events: ${events.map((x) => x.type).join(', ')}`);
    await sleep(20);
  }
}

it('a probe and a load sent together both get the slow-starting backend, and the model evaluates on it', async () => {
  send({ type: 'probe' });
  send({ type: 'load', file: 'micro_step0.safetensors', bytes: bytes.slice() });
  await until('loaded');
  const backends = events.flatMap((e) => (e.type === 'backend' ? [e.info] : []));
  expect(backends.length).toBeGreaterThanOrEqual(1);
  for (const b of backends) expect({ name: b.name, fallbacks: b.fallbacks }).toEqual({ name: 'webgpu', fallbacks: [] });
  expect(tf.getBackend()).toBe('webgpu');
  expect(tf.backend()).toBeInstanceOf(SlowStartBackend);

  send({ type: 'evaluate', cases: [slab] });
  const { results } = await until('evaluated');
  expect(results.map((r) => r.caseId)).toEqual(['head[mid]']);
  expect(results[0].prediction.length).toBe(slab.dims[0] * slab.dims[1] * 4);
  expect(results[0].meanDice).toBeGreaterThanOrEqual(0);
  expect(results[0].meanDice).toBeLessThanOrEqual(1);
}, 120_000);
