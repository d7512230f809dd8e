// The wasm backend (tfjs-backend-wasm with our SIMD matrix product, src/train/wasm/matmul.ts) against the cpu backend:
// one seeded micro training step (logits, loss, every gradient, the AdamW update) through the self-check's step and
// comparison, with our product and with tfjs's own (XNNPACK), and a short TrainingRun on wasm with flat memory. The
// model's products are 2-D matMuls with custom gradients (src/model/ops.ts).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend, type BackendName } from '../../src/train/backend.ts';
import { wasmGemm } from '../../src/train/wasm/matmul.ts';
import { TrainingRun } from '../../src/train/run.ts';
import { makeConfig } from '../../src/model/index.ts';
import { MICRO_SPEC, compareSteps, microCheckModel, microEncoderState, runStep, type SelfCheckModel } from '../../src/train/selfcheck.ts';
import { microSetup } from '../support/microRun.ts';
import type { TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';

const WASM: BackendName = 'wasm';

beforeAll(async () => {
  const info = await chooseBackend('wasm');
  expect(info.name).toBe('wasm');
  expect(info.adapter).toMatch(/^CPU, (no )?SIMD, \d+ threads?$/);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm backend vs cpu', () => {
  it('one micro training step: logits, loss, every gradient and the AdamW update agree', async () => {
    const before = tf.memory().numTensors;
    const model = microCheckModel();
    const ref = await runStep('cpu', model);
    const calls = wasmGemm.calls;
    const got = await runStep(WASM, model, ref.grads);
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmGemm.calls - calls).toBeGreaterThan(100); // the step's products ran on our kernel
    const v = compareSteps(ref, got);
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(got.grads.size).toBe(ref.grads.size);
    // Own gradients too (not only the shared-gradient update): the same parameters, none all-zero by accident.
    expect([...got.grads.values()].filter((g) => g.some((x) => x !== 0)).length).toBeGreaterThan(got.grads.size - 2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with tfjs\'s own product (XNNPACK, explicit transposes: where wasm has no SIMD) the same step agrees too', async () => {
    const model = microCheckModel();
    const ref = await runStep('cpu', model);
    wasmGemm.enabled = false;
    try {
      const calls = wasmGemm.calls;
      const got = await runStep(WASM, model, ref.grads);
      expect(wasmGemm.calls).toBe(calls);
      const v = compareSteps(ref, got);
      expect(v.failures).toEqual([]);
    } finally {
      wasmGemm.enabled = true;
    }
  });

  it('BEiT (relative position bias: Gather, whose gradient wasm lacked) with the UPerNet head: the same step agrees', async () => {
    const before = tf.memory().numTensors;
    const base = microCheckModel();
    const encoder = { ...MICRO_SPEC, family: 'beit' as const, absPosEmbed: false, relPosBias: 'per-layer' as const, qkvBias: 'qv' as const, layerScale: true };
    const config = makeConfig({ encoder, numClasses: 5, T: 3, inChans: 1, imgSize: 32, decoderWidth: 16, decoder: 'uper' });
    const model: SelfCheckModel = { ...base, config, state: microEncoderState(config, 3) };
    const ref = await runStep('cpu', model);
    const got = await runStep(WASM, model, ref.grads);
    expect(compareSteps(ref, got).failures).toEqual([]);
    expect(got.grads.has('blocks.0.attn.relative_position_bias_table')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('chooseBackend: wasm ahead of WebGL and cpu (here: no WebGPU adapter in Node)', async () => {
    const gpu = (globalThis.navigator as { gpu?: unknown } | undefined)?.gpu;
    const info = await chooseBackend();
    expect(info.name).toBe(gpu ? 'webgpu' : 'wasm');
    if (!gpu) expect(info.fallbacks.join(' ')).toMatch(/webgpu: no adapter/);
    await tf.setBackend('wasm');
  });

  it('a float32 one-hot is 1/0 (tfjs-backend-wasm 4.22 wrote int32 bits; fixed in registerWasm)', async () => {
    await tf.setBackend('wasm');
    const oh = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3, 1, 0, 'float32');
    expect(Array.from(await oh.data())).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
    oh.dispose();
  });

  it('a 3-step TrainingRun on wasm: finite losses, memory flat', async () => {
    await tf.setBackend('wasm');
    const { encoder, cases } = await microSetup();
    const config: TrainConfig = {
      steps: 3, batch: 2, lr: 2e-3, weightDecay: 0.05, warmupSteps: 1, schedule: 'linear', loss: 'dice-focal', ignoreBackground: false,
      augment: 'off', seed: 1, valEvery: 0, axis: 2, clip: 1, layerDecay: 1, backend: 'wasm',
    };
    const labels = { classNames: ['background', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'], source: 'timm_vit.safetensors', appVersion: 'test' };
    const events: TrainEvent[] = [];
    const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, config, labels, (e) => events.push(e));
    await run.run();
    expect(tf.getBackend()).toBe('wasm');
    const steps = events.filter((e) => e.type === 'step') as Extract<TrainEvent, { type: 'step' }>[];
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
    expect(new Set(steps.slice(1).map((s) => s.numTensors)).size).toBe(1);
    expect(new Set(steps.slice(1).map((s) => s.numBytes)).size).toBe(1);
    run.dispose();
  });
});
