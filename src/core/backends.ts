// The names of the tfjs backends InflateSeg trains on, their labels, and reading one from a URL or a flag. Pure (no
// tfjs): the page's store and UI use it without loading tfjs; src/train/backend.ts starts them.

/** Every backend training runs on: WebGPU, tfjs's WebAssembly backend (with our SIMD matrix product), WebGL, plain-JS cpu. */
export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';

/** In the automatic order (src/train/backend.ts AUTO_ORDER). */
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'webgl', 'cpu'];

/** What the UI calls each backend. */
export const BACKEND_LABEL: Readonly<Record<BackendName, string>> = { webgpu: 'WebGPU', wasm: 'WebAssembly', webgl: 'WebGL', cpu: 'CPU' };

export const isBackendName = (v: unknown): v is BackendName => typeof v === 'string' && (BACKEND_NAMES as readonly string[]).includes(v);

/**
 * A backend named by a user (URL `?backend=`, case-insensitive); null when absent or 'auto'. Throws naming the value
 * and the accepted ones otherwise.
 */
export function parseBackend(value: string | null | undefined, where = 'backend'): BackendName | null {
  if (value == null || value === '' || value.toLowerCase() === 'auto') return null;
  const v = value.toLowerCase();
  if (isBackendName(v)) return v;
  throw new Error(`${where} "${value}": expected auto, ${BACKEND_NAMES.join(', ')}`);
}
