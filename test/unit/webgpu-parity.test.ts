// Backend parity: the same seeded micro model and batch on tfjs's WebGPU backend (Dawn from the `webgpu` package,
// over a software Vulkan driver when there is no GPU) and on the cpu backend — logits, loss, gradients, and the
// parameters after one AdamW step agree. Skipped, with the reason, where no Vulkan driver is found.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { createParams, forward, makeConfig, segLoss, trainableVars, type ModelConfig } from '../../src/model/index.ts';
import { makeAdamW } from '../../src/train/optim/adamw.ts';
import type { StateDict } from '../../src/weights/types.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ICD = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
const haveVulkan = existsSync(ICD) && LOADER;

let config: ModelConfig;
let state: StateDict;
const B = 2, T = 3, S = 32;
const x = Float32Array.from({ length: B * T * S * S }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
const y = Int32Array.from({ length: B * S * S }, (_, i) => ((i >> 5) + (i & 31)) % 5);

interface Outcome { logits: Float32Array; loss: number; grads: Map<string, Float32Array>; after: Map<string, Float32Array> }

async function oneStep(backend: string): Promise<Outcome> {
  await tf.setBackend(backend);
  const params = createParams(config, state, 7);
  const vars = trainableVars(params);
  const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
  const xt = tf.tensor5d(x, [B, T, S, S, 1]);
  const yt = tf.tensor3d(y, [B, S, S], 'int32');
  const logits = await tf.tidy(() => forward(params, config, xt)).data() as Float32Array;
  const { value, grads } = tf.variableGrads(() => segLoss(forward(params, config, xt), yt, { kind: 'dice-focal' }), vars);
  const named = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g]));
  const gradData = new Map<string, Float32Array>();
  for (const [k, g] of named) gradData.set(k, (await g.data()) as Float32Array);
  const opt = makeAdamW({ weightDecay: 0.05 });
  opt.step(params, named, 1e-3);
  const after = new Map<string, Float32Array>();
  for (const [k, v] of params) after.set(k, (await v.data()) as Float32Array);
  const out = { logits, loss: (await value.data())[0], grads: gradData, after };
  tf.dispose([xt, yt, value, ...named.values()]);
  opt.dispose();
  for (const v of params.values()) v.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe.skipIf(!haveVulkan)(`WebGPU (Dawn, ${path.basename(ICD)}) vs cpu`, () => {
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = ICD;
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    (globalThis as unknown as { navigator: unknown }).navigator = { gpu: create([]) };
    // The backend registers itself only when navigator.gpu exists at import time.
    await import('@tensorflow/tfjs-backend-webgpu');
    const e = await convertEncoder({ kind: 'files', files: [{ name: 'timm_vit.safetensors', blob: new Blob([readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts/timm_vit.safetensors'))]) }] },
      { strategy: 'center', T, inChans: 1, imgSize: S, seed: 0 }, { numHeads: 2 }, undefined);
    state = new Map(e.tensors.map((t) => [t.name, { dtype: 'float32', shape: t.shape, data: t.data }]));
    config = makeConfig({ encoder: e.spec, numClasses: 5, T, inChans: 1, imgSize: S, decoderWidth: 16 });
  });
  afterAll(async () => { await tf.setBackend('cpu'); });

  it('logits, loss, every gradient and the parameters after one AdamW step agree', async () => {
    const cpu = await oneStep('cpu');
    const gpu = await oneStep('webgpu');
    expect(maxDiff(gpu.logits, cpu.logits)).toBeLessThan(1e-3 * Math.max(1, maxAbs(cpu.logits)));
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
    expect([...gpu.grads.keys()].sort()).toEqual([...cpu.grads.keys()].sort());
    for (const [k, g] of cpu.grads) expect(maxDiff(gpu.grads.get(k)!, g), k).toBeLessThan(1e-3 * Math.max(1e-3, maxAbs(g)) + 1e-6);
    for (const [k, p] of cpu.after) expect(maxDiff(gpu.after.get(k)!, p), k).toBeLessThan(1e-5 + 1e-4 * maxAbs(p));
  }, 300_000);
});
