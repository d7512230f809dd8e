// Picks the tfjs backend for training: WebGPU, else WebGL, else the plain-JS cpu backend, and describes the
// adapter (name, limits) so the UI can say what the work runs on. Runs inside a worker or in Node.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

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

async function webgpuAdapter(): Promise<GpuAdapterLike | null> {
  const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return null;
  return gpu.requestAdapter();
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/** Tries the backends in order (or only `prefer` when given) and returns what was chosen. */
export async function chooseBackend(prefer?: BackendName): Promise<BackendInfo> {
  const order: BackendName[] = prefer ? [prefer] : ['webgpu', 'webgl', 'cpu'];
  const fallbacks: string[] = [];
  for (const name of order) {
    try {
      if (name === 'webgpu') {
        const adapter = await webgpuAdapter();
        if (!adapter) { fallbacks.push('webgpu: no adapter (navigator.gpu missing or no GPU; Chromium needs WebGPU enabled)'); continue; }
        if (!(await tf.setBackend('webgpu'))) { fallbacks.push('webgpu: the tfjs backend did not initialise'); continue; }
        await tf.ready();
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
