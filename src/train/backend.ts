// Picks the tfjs backend for training — a hardware WebGPU adapter, else WebAssembly (SIMD), else WebGL, else the
// plain-JS cpu backend; a software WebGPU adapter is passed over for WebAssembly — and describes what it runs on
// (adapter, limits, why earlier choices were skipped) so the UI and the CLI can say so. Runs inside a worker or in Node.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BACKEND_NAMES, type BackendName } from '../core/backends.ts';
import { installWasmMatMul } from './wasm/matmul.ts';
import { installWasmSlice } from './wasm/slice.ts';
import { replaceWasmKernel, wasmInternals } from './wasm/kernels.ts';

export { BACKEND_NAMES, isBackendName, type BackendName } from '../core/backends.ts';

/**
 * The order tried when nothing is forced: a hardware WebGPU adapter, WebAssembly, WebGL, cpu.
 * NOTE: a software WebGPU adapter (SwiftShader ~0.3–0.7, lavapipe ~2.6 GFLOP/s) is skipped for wasm (SIMD, our own
 * matrix product at 34–40 GFLOP/s on one thread, src/train/wasm/matmul.ts). Measured in Chromium (bench/RESULTS.md,
 * `npm run bench:browser`), a ViT-Tiny 128 px step: wasm 0.35 s, WebGL 3.1 s, cpu 11.7 s, SwiftShader WebGPU 22.6 s.
 * WebGL comes after wasm: with no GPU it is ANGLE over SwiftShader; a hardware GPU that has WebGL but no WebGPU was
 * not measured against wasm (the ?backend=webgl / Backend setting forces it).
 */
export const AUTO_ORDER: readonly BackendName[] = BACKEND_NAMES;

export interface BackendInfo {
  /** The backend started. */
  name: BackendName;
  /** Adapter description, e.g. 'Google SwiftShader' or 'NVIDIA H100'; 'CPU, SIMD, 1 thread' for wasm; 'JavaScript (CPU)' for cpu. */
  adapter: string;
  /** True when the adapter is a software rasteriser (SwiftShader, llvmpipe/lavapipe): expect it to be slow. */
  software: boolean;
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** Why earlier choices were skipped, e.g. 'webgpu: no adapter (navigator.gpu missing)'. */
  fallbacks: string[];
  /** The backend asked for, when one was (forced); absent for the automatic choice. Differs from `name` after a fallback. */
  requested?: BackendName;
}

export interface ChooseOptions {
  /**
   * When the forced backend cannot start, go on in the automatic order (the reason first in `fallbacks`) instead of
   * throwing. The app does (it says so in a notice); the CLI's --backend and the benchmarks do not.
   */
  fallback?: boolean;
  /** Backends known not to be available here, with the reason (the CLI: Dawn found no Vulkan driver). */
  unavailable?: Partial<Record<BackendName, string>>;
}

export interface GpuAdapterLike {
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

/** An adapter's description ('google swiftshader …') and whether it is a software rasteriser (or the fallback adapter). */
export function describeAdapter(adapter: GpuAdapterLike): { desc: string; software: boolean } {
  const i = adapter.info ?? {};
  const desc = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'WebGPU adapter';
  return { desc, software: SOFTWARE.test(desc) || !!adapter.isFallbackAdapter };
}

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

let wasmReady: Promise<typeof import('@tensorflow/tfjs-backend-wasm')> | null = null;

/** True in Node (wasm binaries load from node_modules there), false in a page or worker. */
const inNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Loads tfjs's wasm backend once (it registers itself as 'wasm') and replaces some of its kernels: OneHot (wrong for
 * float32), UnsortedSegmentSum (missing), BatchMatMul (ours, faster), Slice (whole runs copied in the heap: wasm/slice.ts)
 * and Identity (shares instead of copying). In a page or worker
 * the three .wasm files are served by Vite (`?url` imports); Node reads them from node_modules.
 * NOTE: imported on demand, not at the top: the package registers 'wasm' at priority 2 on import, which would make
 * it Node's default backend ahead of cpu for every caller that never chose one.
 */
export function registerWasm(): Promise<typeof import('@tensorflow/tfjs-backend-wasm')> {
  wasmReady ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!inNode()) {
      // NOTE: single-threaded even in a cross-origin isolated page. tfjs-backend-wasm 4.22 starts its threads from
      // the threaded factory's source text (Function.toString); once bundled and minified by Vite that text refers to
      // names outside it, every pthread worker fails ("ReferenceError: e is not defined", seen in Chromium with
      // COOP same-origin + COEP credentialless) and the backend never finishes starting: the probe hung.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      const [plain, simd, threaded] = await Promise.all([
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
      ]);
      wasm.setWasmPaths({ 'tfjs-backend-wasm.wasm': plain.default, 'tfjs-backend-wasm-simd.wasm': simd.default, 'tfjs-backend-wasm-threaded-simd.wasm': threaded.default });
    }
    fixWasmOneHot();
    addWasmUnsortedSegmentSum();
    installWasmMatMul();
    installWasmSlice();
    shareWasmIdentity();
    return wasm;
  })();
  return wasmReady;
}

/**
 * NOTE: tfjs-backend-wasm 4.22's OneHot writes int32 ones whatever the requested dtype, so a float32 one-hot reads
 * 1.4e-45 (the losses' one-hot, src/model/losses.ts): replaced by a plain loop over the heap, any dtype.
 */
function fixWasmOneHot(): void {
  replaceWasmKernel('OneHot', ({ inputs, attrs, backend }) => {
    const { indices } = inputs as { indices: tf.TensorInfo };
    const { depth, onValue, offValue, dtype } = attrs as unknown as { depth: number; onValue: number; offValue: number; dtype: tf.DataType };
    const be = wasmInternals(backend);
    // NOTE: makeOutput may grow the wasm memory, which detaches views taken before it: output first.
    const out = be.makeOutput([...indices.shape, depth], dtype);
    const idx = be.typedArrayFromHeap(indices);
    const o = be.typedArrayFromHeap(out);
    o.fill(offValue);
    for (let i = 0; i < idx.length; i++) {
      const k = idx[i];
      if (k >= 0 && k < depth) o[i * depth + k] = onValue;
    }
    return out;
  });
}

/**
 * NOTE: tfjs-backend-wasm 4.22's Identity copies its input. tfjs runs Identity to keep every tensor a gradient saves
 * (~1,900 copies in a ViT-Tiny training step, 6–10 % of it). Tensors are immutable and the wasm backend counts
 * references (its Reshape already shares data this way), so the copy shares the input's memory instead, as the cpu
 * backend's Identity does.
 */
function shareWasmIdentity(): void {
  if (!tf.getKernel('Identity', 'wasm')) return;
  replaceWasmKernel('Identity', (args, original) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original!(args);
    wasmInternals(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/**
 * NOTE: tfjs-backend-wasm 4.22 has no UnsortedSegmentSum, the gradient of Gather (without it: "Kernel UnsortedSegmentSum not registered"): BEiT's relative position bias
 * table (src/model/encoder.ts) could not train. A plain loop over the heap: out[ids[i], …] += x[i, …].
 */
function addWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const be = wasmInternals(backend);
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      // NOTE: makeOutput may grow the wasm memory, which detaches views taken before it: output first.
      const out = be.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const xs = be.typedArrayFromHeap(x);
      const ids = be.typedArrayFromHeap(segmentIds);
      const o = be.typedArrayFromHeap(out);
      o.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < inner; j++) o[s * inner + j] += xs[i * inner + j];
      }
      return out;
    },
  });
}

/** 'CPU, SIMD, 1 thread' and the like, from what the wasm backend settled on (threads need a cross-origin isolated page). */
function wasmDescription(threads: number): string {
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return `CPU, ${simd ? 'SIMD' : 'no SIMD'}, ${threads > 1 ? `${threads} threads` : '1 thread'}`;
}

/** Reads a failure as one line. */
const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Starts a backend: `prefer` when given (throwing when it cannot start, unless opts.fallback), else the first of
 * AUTO_ORDER that starts. Returns what was chosen and why earlier ones were skipped.
 */
export async function chooseBackend(prefer?: BackendName, opts: ChooseOptions = {}): Promise<BackendInfo> {
  const order: BackendName[] = !prefer ? [...AUTO_ORDER] : opts.fallback ? [prefer, ...AUTO_ORDER.filter((b) => b !== prefer)] : [prefer];
  const fallbacks: string[] = [];
  const requested = prefer ? { requested: prefer } : {};
  for (const name of order) {
    const forced = name === prefer;
    const known = opts.unavailable?.[name];
    if (known) { fallbacks.push(`${name}: ${known}`); continue; }
    try {
      if (name === 'webgpu') {
        const adapter = await webgpuAdapter();
        if (!adapter) { fallbacks.push('webgpu: no adapter (navigator.gpu missing or no GPU; Chromium needs WebGPU enabled)'); continue; }
        const { desc, software } = describeAdapter(adapter);
        if (software && !forced) { fallbacks.push(`webgpu: software adapter (${desc}); WebAssembly is faster here`); continue; }
        registerWebgpu(lostReason !== null);
        if (!(await tf.setBackend('webgpu'))) { fallbacks.push('webgpu: the tfjs backend did not initialise'); continue; }
        await tf.ready();
        watchDevice();
        return { name, adapter: desc, software, limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }, fallbacks, ...requested };
      }
      if (name === 'wasm') {
        const wasm = await registerWasm();
        if (!(await tf.setBackend('wasm'))) { fallbacks.push('wasm: the tfjs backend did not initialise'); continue; }
        await tf.ready();
        return { name, adapter: wasmDescription(wasm.getThreadsCount()), software: false, fallbacks, ...requested };
      }
      if (name === 'webgl') {
        if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') { fallbacks.push('webgl: no canvas here'); continue; }
        if (!(await tf.setBackend('webgl'))) { fallbacks.push('webgl: not available'); continue; }
        await tf.ready();
        const gl = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
        const ctx = gl.gpgpu?.gl;
        const ext = ctx?.getExtension('WEBGL_debug_renderer_info');
        const desc = ext && ctx ? String(ctx.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'WebGL';
        const software = SOFTWARE.test(desc);
        // NOTE: on a software renderer, unpacked textures. SwiftShader keeps only its last 1024 compiled pixel routines
        // (LRU) and tfjs builds one shader per op and shape, so a step that cycles through more shaders than that
        // recompiles every one on every draw (n distinct adds in a loop: 0.06 ms each up to n = 1000, 6.2 ms from
        // 1100). The micro UPerNet step used 1103 shaders packed (7.9 s/step), 993 unpacked (0.35–0.39 s); ViT-Tiny
        // 128 px UNETR is no slower unpacked (3.2 s), its UPerNet still over (1089: 10.2 s). WEBGL_USE_SHAPES_UNIFORMS
        // (477) fails the e2e WebGL-vs-cpu gradient check. Read when a shader is built: no kernel has run yet.
        if (software) tf.env().set('WEBGL_PACK', false);
        return { name, adapter: desc, software, fallbacks, ...requested };
      }
      await tf.setBackend('cpu');
      await tf.ready();
      return { name: 'cpu', adapter: 'JavaScript (CPU)', software: true, fallbacks, ...requested };
    } catch (err) {
      fallbacks.push(`${name}: ${reason(err)}`);
    }
  }
  throw new Error(`no tfjs backend could start${prefer && !opts.fallback ? ` (asked for ${prefer})` : ''}: ${fallbacks.join('; ')}`);
}
