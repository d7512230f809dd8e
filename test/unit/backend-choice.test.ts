// The automatic backend order (src/train/backend.ts chooseBackend): a hardware WebGPU adapter, else WebAssembly,
// else WebGL, else cpu; a software adapter (SwiftShader, llvmpipe, the fallback adapter) is skipped for wasm with the
// reason; a forced backend is used even when software, and either throws or falls back (saying so) when it cannot
// start. navigator.gpu is a stub whose adapter reports the info under test (no GPU needed); where a Vulkan driver
// is present, Dawn's real SwiftShader adapter dressed up as a hardware one shows WebGPU being picked end to end.
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chooseBackend, describeAdapter, type GpuAdapterLike } from '../../src/train/backend.ts';
import { parseBackend } from '../../src/core/backends.ts';
import { selfCheck } from '../../src/train/selfcheck.ts';
import { ICD, haveVulkan } from '../support/dawn.ts';

const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 };

interface Calls { requestAdapter: number; requestDevice: number }

/** navigator.gpu whose adapter says `info`; its requestDevice fails (nothing real behind it), so a device is never made. */
function stubGpu(info: GpuAdapterLike['info'], isFallbackAdapter = false): Calls {
  const calls: Calls = { requestAdapter: 0, requestDevice: 0 };
  const adapter = {
    info, isFallbackAdapter, limits: LIMITS, features: new Set<string>(),
    requestDevice: async () => { calls.requestDevice++; throw new Error('stub adapter: no device'); },
  };
  setNavigatorGpu({ requestAdapter: async () => { calls.requestAdapter++; return adapter; } });
  return calls;
}

function setNavigatorGpu(gpu: unknown) {
  Object.defineProperty(globalThis, 'navigator', { value: gpu === undefined ? undefined : { gpu }, configurable: true, writable: true });
}

const SWIFTSHADER = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'Google SwiftShader' };
const HARDWARE = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080' };

afterEach(() => setNavigatorGpu(undefined));
afterAll(async () => { await tf.setBackend('cpu'); });

describe('describeAdapter', () => {
  it('software rasterisers and the fallback adapter are software; a GPU is not', () => {
    expect(describeAdapter({ info: SWIFTSHADER, limits: LIMITS })).toEqual({ desc: 'google swiftshader Google SwiftShader', software: true });
    expect(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, limits: LIMITS }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'mesa', description: 'lavapipe' }, limits: LIMITS }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'intel' }, limits: LIMITS, isFallbackAdapter: true }).software).toBe(true);
    expect(describeAdapter({ info: HARDWARE, limits: LIMITS })).toEqual({ desc: 'nvidia ampere NVIDIA GeForce RTX 3080', software: false });
    expect(describeAdapter({ limits: LIMITS }).desc).toBe('WebGPU adapter');
  });
});

describe('chooseBackend: the automatic order', () => {
  it('a SwiftShader adapter is skipped for WebAssembly, with the reason; no device is requested', async () => {
    const calls = stubGpu(SWIFTSHADER);
    const info = await chooseBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.software).toBe(false);
    expect(info.requested).toBeUndefined();
    expect(info.fallbacks).toEqual(['webgpu: software adapter (google swiftshader Google SwiftShader); WebAssembly is faster here']);
    expect(calls).toEqual({ requestAdapter: 1, requestDevice: 0 });
  });

  it('llvmpipe and the fallback adapter are skipped the same way', async () => {
    stubGpu({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' });
    expect((await chooseBackend()).fallbacks[0]).toMatch(/^webgpu: software adapter \(mesa llvmpipe .*\); WebAssembly is faster here$/);
    const calls = stubGpu({ vendor: 'intel', architecture: 'gen-12lp' }, true);
    const info = await chooseBackend();
    expect(info.name).toBe('wasm');
    expect(info.fallbacks[0]).toMatch(/^webgpu: software adapter \(intel gen-12lp\)/);
    expect(calls.requestDevice).toBe(0);
  });

  it('a hardware adapter is tried first (its device is requested); when it fails, WebAssembly, saying why', async () => {
    const calls = stubGpu(HARDWARE);
    const info = await chooseBackend();
    expect(calls.requestDevice).toBe(1); // WebGPU was attempted before wasm
    expect(info.name).toBe('wasm');
    expect(info.fallbacks).toHaveLength(1);
    expect(info.fallbacks[0]).toMatch(/^webgpu: /);
    expect(info.fallbacks[0]).not.toMatch(/software/);
  });

  it('no navigator.gpu: WebAssembly, the reason recorded; a backend known to be unavailable is not probed', async () => {
    const none = await chooseBackend();
    expect(none.name).toBe('wasm');
    expect(none.fallbacks).toEqual(['webgpu: no adapter (navigator.gpu missing or no GPU; Chromium needs WebGPU enabled)']);
    const calls = stubGpu(HARDWARE);
    const known = await chooseBackend(undefined, { unavailable: { webgpu: 'no Vulkan driver found' } });
    expect(known.name).toBe('wasm');
    expect(known.fallbacks).toEqual(['webgpu: no Vulkan driver found']);
    expect(calls.requestAdapter).toBe(0);
  });
});

describe('chooseBackend: a forced backend', () => {
  it('forced WebGPU on a software adapter is attempted (not skipped); it throws when it cannot start', async () => {
    const calls = stubGpu(SWIFTSHADER);
    await expect(chooseBackend('webgpu')).rejects.toThrow(/no tfjs backend could start \(asked for webgpu\): webgpu: /);
    expect(calls.requestDevice).toBe(1);
  });

  it('with fallback, a forced backend that cannot start gives way to the automatic order, and says which was asked for', async () => {
    stubGpu(SWIFTSHADER);
    const gpu = await chooseBackend('webgpu', { fallback: true });
    expect(gpu).toMatchObject({ name: 'wasm', requested: 'webgpu' });
    expect(gpu.fallbacks[0]).toMatch(/^webgpu: /);
    expect(gpu.fallbacks[0]).not.toMatch(/software adapter/); // forced: it was tried, not skipped
    const gl = await chooseBackend('webgl', { fallback: true }); // Node has no canvas
    expect(gl).toMatchObject({ name: 'wasm', requested: 'webgl' });
    expect(gl.fallbacks).toEqual(['webgl: no canvas here', 'webgpu: software adapter (google swiftshader Google SwiftShader); WebAssembly is faster here']);
  });

  it('forced cpu and wasm start as asked, nothing skipped', async () => {
    stubGpu(HARDWARE);
    expect(await chooseBackend('cpu')).toMatchObject({ name: 'cpu', requested: 'cpu', fallbacks: [] });
    expect(await chooseBackend('wasm', { fallback: true })).toMatchObject({ name: 'wasm', requested: 'wasm', fallbacks: [] });
  });
});

describe.runIf(haveVulkan)('chooseBackend over Dawn (SwiftShader Vulkan)', () => {
  /** Dawn's navigator.gpu; with `disguise`, its adapter reports that info instead of SwiftShader's. */
  async function dawnGpu(disguise?: GpuAdapterLike['info']) {
    process.env.VK_ICD_FILENAMES = ICD;
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const real = create([]);
    if (!disguise) return setNavigatorGpu(real);
    setNavigatorGpu({
      requestAdapter: async (o?: GPURequestAdapterOptions) => {
        const a = await real.requestAdapter(o);
        return a && { info: disguise, limits: a.limits, features: a.features, isFallbackAdapter: false, requestDevice: (d?: GPUDeviceDescriptor) => a.requestDevice(d) };
      },
    });
  }

  it('an adapter that reports a hardware GPU is picked: training runs on WebGPU', async () => {
    await dawnGpu(HARDWARE);
    const info = await chooseBackend();
    expect(info).toMatchObject({ name: 'webgpu', software: false, fallbacks: [] });
    expect(tf.getBackend()).toBe('webgpu');
    expect(Array.from(await tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).data())).toEqual([11]);
  });

  it('the real SwiftShader adapter: skipped automatically, used when forced', async () => {
    await dawnGpu();
    const auto = await chooseBackend();
    expect(auto.name).toBe('wasm');
    expect(auto.fallbacks[0]).toMatch(/^webgpu: software adapter \(.*swiftshader.*\); WebAssembly is faster here$/i);
    const forced = await chooseBackend('webgpu');
    expect(forced).toMatchObject({ name: 'webgpu', software: true, requested: 'webgpu' });
  });
});

describe('the self-check and the URL value accept wasm', () => {
  it('selfCheck on wasm against cpu passes, and leaves wasm active', async () => {
    await chooseBackend('wasm');
    const r = await selfCheck();
    expect(r.backend).toBe('wasm');
    expect(r.failures).toEqual([]);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('parseBackend: names and auto, case-insensitive; anything else names the value', () => {
    expect(parseBackend('WASM')).toBe('wasm');
    expect(parseBackend('auto')).toBeNull();
    expect(parseBackend(null)).toBeNull();
    expect(() => parseBackend('gpu', '?backend=')).toThrow('?backend= "gpu": expected auto, webgpu, wasm, webgl, cpu');
  });
});
