// Backend parity in Node: the app's self-check (src/train/selfcheck.ts) on tfjs's WebGPU backend (Dawn from the
// `webgpu` package, over a software Vulkan driver when there is no GPU) against cpu — logits, loss, gradients, and
// the parameters after one AdamW step agree. Skipped, with the reason, where no Vulkan driver is found.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { makeConfig } from '../../src/model/index.ts';
import { chooseBackend } from '../../src/train/backend.ts';
import { microCheckModel, selfCheck, type SelfCheckModel, type SelfCheckResult } from '../../src/train/selfcheck.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ICD = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
const haveVulkan = existsSync(ICD) && LOADER;

/** Every quantity within its tolerance; on failure the message carries the self-check's own failure lines. */
function expectParity(r: SelfCheckResult) {
  expect(r.backend).toBe('webgpu');
  expect(r.failures, `worst gradient: ${r.worst}`).toEqual([]);
  expect(r.ok).toBe(true);
  for (const k of ['logits', 'loss', 'grads', 'params'] as const) expect(r.diffs[k], k).toBeLessThanOrEqual(r.tolerances[k]);
}

describe.skipIf(!haveVulkan)(`WebGPU (Dawn, ${path.basename(ICD)}) vs cpu`, () => {
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = ICD;
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    (globalThis as unknown as { navigator: unknown }).navigator = { gpu: create([]) };
    // NOTE: the package registers 'webgpu' only if navigator.gpu existed when it was first imported, and
    // src/train/backend.ts imports it earlier; the app's chooseBackend registers it with its own factory.
    const info = await chooseBackend('webgpu');
    if (info.name !== 'webgpu' || tf.getBackend() !== 'webgpu') throw new Error('webgpu-parity: the tfjs webgpu backend did not initialise over Dawn');
  });
  afterAll(async () => { await tf.setBackend('cpu'); });

  it('the app\'s self-check on the active backend: every quantity agrees, webgpu stays active, nothing leaks', async () => {
    const before = tf.memory().numTensors;
    const r = await selfCheck();
    expectParity(r);
    expect(tf.getBackend()).toBe('webgpu');
    expect(tf.memory().numTensors).toBe(before);
  }, 300_000);

  it('a WebGPU matmul kernel off by 1% fails the check: logits, loss and gradients differ, the update does not', async () => {
    const orig = tf.getKernel('BatchMatMul', 'webgpu');
    if (!orig) throw new Error('webgpu-parity: no BatchMatMul kernel registered for webgpu');
    const multiply = tf.getKernel('Multiply', 'webgpu')!;
    tf.unregisterKernel('BatchMatMul', 'webgpu');
    tf.registerKernel({
      ...orig,
      kernelFunc: (args) => {
        const be = args.backend as { makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo; disposeData(id: object): void };
        const out = orig.kernelFunc(args) as tf.TensorInfo;
        const k = be.makeTensorInfo([], 'float32', Float32Array.of(1.01));
        const scaled = multiply.kernelFunc({ inputs: { a: out, b: k }, backend: args.backend, attrs: {} }) as tf.TensorInfo;
        be.disposeData(out.dataId);
        be.disposeData(k.dataId);
        return scaled;
      },
    });
    let r: SelfCheckResult;
    try {
      r = await selfCheck();
    } finally {
      tf.unregisterKernel('BatchMatMul', 'webgpu');
      tf.registerKernel(orig);
    }
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => f.split(/[ :]/)[0])).toEqual(['logits', 'loss', 'grads']);
    expect(r.diffs.params).toBe(0);
  }, 300_000);

  it('the same step with an encoder converted from a timm checkpoint (weights job, centre inflation)', async () => {
    const micro = microCheckModel();
    const { T, imgSize: S } = micro.config;
    const e = await convertEncoder({ kind: 'files', files: [{ name: 'timm_vit.safetensors', blob: new Blob([readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts/timm_vit.safetensors'))]) }] },
      { strategy: 'center', T, inChans: 1, imgSize: S, seed: 0 }, { numHeads: 2 }, undefined);
    const model: SelfCheckModel = {
      ...micro,
      state: new Map(e.tensors.map((t) => [t.name, { dtype: 'float32', shape: t.shape, data: t.data }])),
      config: makeConfig({ encoder: e.spec, numClasses: 5, T, inChans: 1, imgSize: S, decoderWidth: 16 }),
    };
    expectParity(await selfCheck({ backend: 'webgpu', model }));
  }, 300_000);
});
