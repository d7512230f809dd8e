// Picks the tfjs backend for training: WebGPU, else WebGL, else the plain-JS cpu backend, and describes the
// adapter (name, limits) so the UI can say what the work runs on. Runs inside a worker or in Node.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export type BackendName = 'webgpu' | 'webgl' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** Adapter description, e.g. 'Google SwiftShader' or 'NVIDIA H100'; 'JavaScript (CPU)' for cpu. */
  adapter: string;
  /** True when the adapter is a software rasteriser (SwiftShader, llvmpipe/lavapipe): expect it to be slow. */
  software: boolean;
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** Why earlier choices were skipped, e.g. 'webgpu: no adapter (navigator.gpu missing)'. */
  fallbacks: string[];
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  isFallbackAdapter?: boolean;
}

const navigatorGpu = () => (globalThis.navigator as unknown as { gpu?: GPU } | undefined)?.gpu;

async function webgpuAdapter(): Promise<GpuAdapterLike | null> {
  const gpu = navigatorGpu();
  if (!gpu) return null;
  return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as unknown as GpuAdapterLike | null;
}

/**
 * Registers tfjs's WebGPU backend with a factory of our own when the package did not (it registers only if
 * navigator.gpu existed when it was imported: Node, where Dawn is installed later) or after a lost device, so that
 * the next setBackend('webgpu') gets a new device. The device asks for the adapter's full buffer limits so that
 * large models fit.
 */
function registerWebgpu(replace: boolean) {
  if (replace && tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  if (tf.findBackendFactory('webgpu') && !replace) return;
  tf.registerBackend('webgpu', async () => {
    const adapter = await navigatorGpu()!.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter');
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, adapter.info);
  }, 3);
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/** Why the WebGPU device was lost ('destroyed: …', 'unknown: …'), once it has been; null while it is alive. */
let lostReason: string | null = null;
export const gpuDeviceLost = (): string | null => lostReason;

/** The first WebGPU error nobody caught since the last `takeGpuError` (kind: the error's class name). */
let uncaptured: { kind: string; message: string } | null = null;
export function takeGpuError(): { kind: string; message: string } | null {
  const e = uncaptured;
  uncaptured = null;
  return e;
}

interface DeviceLike extends EventTarget { lost?: Promise<{ reason?: string; message?: string }> }

/**
 * Watches the tfjs WebGPU backend's device. WebGPU reports failures asynchronously: a buffer over the device's limit
 * or out of memory is an 'uncapturederror' event, a lost device settles `lost`; in both cases the later read fails
 * with an empty message, so these are what explain it.
 */
function watchDevice() {
  const device = (tf.backend() as unknown as { device?: DeviceLike }).device;
  lostReason = null;
  uncaptured = null;
  void device?.lost?.then((i) => { lostReason = [i.reason ?? 'unknown', i.message].filter(Boolean).join(': '); });
  device?.addEventListener?.('uncapturederror', (ev) => {
    const err = (ev as unknown as { error?: { constructor?: { name?: string }; message?: string } }).error;
    uncaptured ??= { kind: err?.constructor?.name ?? 'GPUError', message: err?.message ?? '' };
  });
}

/** Tries the backends in order (or only `prefer` when given) and returns what was chosen. */
export async function chooseBackend(prefer?: BackendName): Promise<BackendInfo> {
  const order: BackendName[] = prefer ? [prefer] : ['webgpu', 'webgl', 'cpu'];
  const fallbacks: string[] = [];
  for (const name of order) {
    try {
      if (name === 'webgpu') {
        const adapter = await webgpuAdapter();
        if (!adapter) { fallbacks.push('webgpu: no adapter (navigator.gpu missing or no GPU; Chromium needs WebGPU enabled)'); continue; }
        registerWebgpu(lostReason !== null);
        if (!(await tf.setBackend('webgpu'))) { fallbacks.push('webgpu: the tfjs backend did not initialise'); continue; }
        await tf.ready();
        watchDevice();
        const i = adapter.info ?? {};
        const desc = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'WebGPU adapter';
        return { name, adapter: desc, software: SOFTWARE.test(desc) || !!adapter.isFallbackAdapter, limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }, fallbacks };
      }
      if (name === 'webgl') {
        if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') { fallbacks.push('webgl: no canvas here'); continue; }
        if (!(await tf.setBackend('webgl'))) { fallbacks.push('webgl: not available'); continue; }
        await tf.ready();
        const gl = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
        const ctx = gl.gpgpu?.gl;
        const ext = ctx?.getExtension('WEBGL_debug_renderer_info');
        const desc = ext && ctx ? String(ctx.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'WebGL';
        return { name, adapter: desc, software: SOFTWARE.test(desc), fallbacks };
      }
      await tf.setBackend('cpu');
      await tf.ready();
      return { name: 'cpu', adapter: 'JavaScript (CPU)', software: true, fallbacks };
    } catch (err) {
      fallbacks.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no tfjs backend could start: ${fallbacks.join('; ')}`);
}
