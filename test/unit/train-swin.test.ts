// Training the micro Swin (src/weights/micro.ts MICRO_SWIN, 'center' at T 3, one channel, 32 px) on the bundled ITK
// head: on cpu and on wasm (our SIMD product and custom gradients, src/train/wasm) a TrainingRun's loss falls and
// tf.memory() stays flat from step to step; one seeded step of Swin and of Video Swin agrees between wasm and cpu
// (logits, loss, every gradient, the AdamW update: the self-check's comparison). The WebGPU path (Dawn over
// SwiftShader) runs the same step comparison where a Vulkan driver is found. `inflateseg export-torch` refuses the
// trained Swin checkpoint with a clear message (python/inflateseg_torch has no Swin).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParams, disposeParams, forward, makeConfig } from '../../src/model/index.ts';
import { chooseBackend } from '../../src/train/backend.ts';
import { TrainingRun } from '../../src/train/run.ts';
import { compareSteps, microEncoderState, runStep, type SelfCheckModel } from '../../src/train/selfcheck.ts';
import { decodeModelCheckpoint, encodeModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { inflate } from '../../src/weights/inflate/index.ts';
import { MICRO_SWIN, microSwinState } from '../../src/weights/micro.ts';
import type { EncoderSpec } from '../../src/weights/types.ts';
import type { CaseData, EncoderData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';
import { haveVulkan, installDawn } from '../support/dawn.ts';
import { MICRO_LABELS, microConfig, microSetup } from '../support/microRun.ts';
import { CLI, run, SAMPLE } from '../support/torchTwin.ts';

const SIZE = 32;
let cases: CaseData[];
let encoder: EncoderData;

beforeAll(async () => {
  ({ cases } = await microSetup(SIZE, 3));
  const { state, spec } = inflate(microSwinState(MICRO_SWIN, 0), MICRO_SWIN, { strategy: 'center', T: 3, inChans: 1, imgSize: SIZE });
  encoder = { spec, options: { strategy: 'center', T: 3, inChans: 1, imgSize: SIZE }, tensors: [...state].map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data) })) };
});
afterAll(async () => { await tf.setBackend('cpu'); });

type Step = Extract<TrainEvent, { type: 'step' }>;

let saved: Uint8Array | null = null;

async function train(backend: 'cpu' | 'wasm', steps: number, decoder: 'unetr' | 'uper'): Promise<Step[]> {
  await tf.setBackend(backend);
  const cfg: TrainConfig = { ...microConfig({ steps, warmupSteps: 1, valEvery: 0 }), lr: 3e-3, weightDecay: 0, decoder, backend };
  const events: TrainEvent[] = [];
  const run = new TrainingRun({ kind: 'encoder', encoder }, cases, 7, cfg, MICRO_LABELS, (e) => events.push(e));
  expect(run.config.featureBlocks).toEqual([2, 4, 6, 8]); // the stage ends of depths 2-2-2-2
  await run.run();
  expect(tf.getBackend()).toBe(backend);
  const ckpt = await run.checkpoint(false);
  expect(ckpt.weights.has('stage_norms.2.weight')).toBe(true);
  saved = encodeModelCheckpoint(ckpt);
  run.dispose();
  if (backend === 'cpu') {
    // The checkpoint reads back to the same model: config (featureBlocks = stage ends) and logits.
    const back = await decodeModelCheckpoint(saved, 'swin.safetensors');
    expect(back.meta.config).toEqual(ckpt.meta.config);
    const logits = (w: typeof ckpt.weights): Float32Array => {
      const config = makeConfig(back.meta.config);
      const params = createParams(config, w, 0);
      const x = tf.tidy(() => tf.randomUniform([1, 3, SIZE, SIZE, 1], 0, 1, 'float32', 3));
      const out = tf.tidy(() => Float32Array.from(forward(params, config, x).dataSync()));
      x.dispose();
      disposeParams(params);
      return out;
    };
    expect(logits(back.weights)).toEqual(logits(ckpt.weights));
  }
  return events.filter((e) => e.type === 'step') as Step[];
}

function expectLearns(steps: Step[], n: number): void {
  expect(steps).toHaveLength(n);
  expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
  const mean = (xs: Step[]) => xs.reduce((a, s) => a + s.loss, 0) / xs.length;
  expect(mean(steps.slice(-3)), `losses ${steps.map((s) => s.loss.toFixed(3)).join(' ')}`).toBeLessThan(mean(steps.slice(0, 3)) - 0.05);
  // After the first steps have created the optimiser state, nothing grows.
  expect(new Set(steps.slice(2).map((s) => s.numTensors)).size).toBe(1);
  expect(new Set(steps.slice(2).map((s) => s.numBytes)).size).toBe(1);
}

/**
 * One seeded step model (32 px, batch 2, 5 classes; weights far from timm's init): Swin at T 3, or Video Swin at T 5
 * with window 2×4×4 (3 temporal tokens padded to 4, shifted in depth too).
 */
function stepModel(family: 'swin' | 'videoswin', decoder: 'unetr' | 'uper', depths = [2, 2, 2, 2]): SelfCheckModel {
  const T = family === 'swin' ? 3 : 5;
  const swin = { ...MICRO_SWIN.swin!, depths };
  const spec: EncoderSpec = family === 'swin'
    ? { ...MICRO_SWIN, inChans: 1, T, depth: depths.reduce((a, b) => a + b, 0), swin }
    : { ...MICRO_SWIN, family, inChans: 1, T, depth: depths.reduce((a, b) => a + b, 0), swin: { ...swin, window: [2, 4, 4], patchDepth: 2 } };
  const B = 2, S = SIZE, K = 5;
  const config = makeConfig({ encoder: spec, numClasses: K, T, inChans: 1, imgSize: S, decoderWidth: 16, decoder });
  const x = Float32Array.from({ length: B * T * S * S }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
  const y = Int32Array.from({ length: B * S * S }, (_, i) => (Math.floor(i / S) + (i % S)) % K);
  return { config, state: microEncoderState(config, 3), decoderSeed: 7, x, y, batch: B };
}

describe('micro Swin training', () => {
  it('cpu: 6 steps with the UPerNet head, loss falls, memory flat; the checkpoint reads back to the same logits; export-torch refuses it (the twin has no Swin)', async () => {
    expectLearns(await train('cpu', 6, 'uper'), 6);
    const dir = mkdtempSync(path.join(tmpdir(), 'inflateseg-swin-'));
    try {
      const file = path.join(dir, 'swin.safetensors');
      writeFileSync(file, saved!);
      const r = await run(process.execPath, [CLI, 'export-torch', ...SAMPLE, '--model', file, '--out', path.join(dir, 'out')]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/swin\.safetensors: a Swin model; export-torch continues ViT, DeiT, DINO and BEiT models only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('wasm: one step of Swin (uper) and Video Swin (unetr) agrees with cpu; 8 steps with the UNETR head, loss falls, memory flat', async () => {
    const info = await chooseBackend('wasm');
    expect(info.name).toBe('wasm');
    for (const m of [stepModel('swin', 'uper'), stepModel('videoswin', 'unetr')]) {
      const before = tf.memory().numTensors;
      const ref = await runStep('cpu', m);
      const got = await runStep('wasm', m, ref.grads);
      expect(compareSteps(ref, got).failures, m.config.encoder.family).toEqual([]);
      expect(got.grads.has('layers.0.blocks.1.attn.relative_position_bias_table')).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }
    expectLearns(await train('wasm', 8, 'unetr'), 8);
  }, 120_000);
});

// NOTE: this found two tfjs-backend-webgpu 4.22 faults the model now avoids (src/model/swin/encoder.ts): a rank-5
// broadcast binary op that does not compile, and wrong, run-to-run different gradients through rank-5 slices and
// concats. One small model only (SwiftShader compiles every shader): Video Swin, whose windows are 3D, with one
// shifted block (stage 0) and one block in each later stage, UPerNet.
describe.skipIf(!haveVulkan)('micro Video Swin on WebGPU (Dawn, software Vulkan)', () => {
  it('one step (temporal padding and shift, UPerNet) agrees with cpu, nothing leaks', async () => {
    await installDawn();
    const info = await chooseBackend('webgpu');
    if (info.name !== 'webgpu') throw new Error(`train-swin: the webgpu backend did not initialise (${info.fallbacks.join('; ')})`);
    const m = stepModel('videoswin', 'uper', [2, 1, 1, 1]);
    const ref = await runStep('cpu', m);
    const before = tf.memory().numTensors;
    const got = await runStep('webgpu', m, ref.grads);
    expect(compareSteps(ref, got).failures).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
