// The CLI's tfjs backend: WebGPU through Dawn (the `webgpu` package) over a Vulkan driver — the system's when a GPU
// device node exists, else a software one (Chromium's SwiftShader, else Mesa lavapipe) — then the app's own
// chooseBackend (src/train/backend.ts): a hardware adapter is used, a software one is skipped for tfjs's wasm backend
// (the reason in `fallbacks`, printed as the app's badge shows it), and the cpu backend is the last resort.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend, type BackendInfo } from '../train/backend.ts';

export type CliBackend = 'webgpu' | 'wasm' | 'cpu';

/** Software Vulkan drivers, fastest-to-start first. NOTE: lavapipe before Mesa 25 lacks features Dawn requires. */
export const SOFTWARE_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json'];

/** True when the machine shows a GPU device node (DRM render node, NVIDIA's devices), so the system's Vulkan drivers may find a GPU. */
function gpuDeviceNode(): boolean {
  if (existsSync('/dev/nvidia0')) return true;
  try {
    return readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

interface DawnModule { create(options: string[]): GPU; globals: object }

/** The Vulkan driver (ICD) files to try in order; 'system' lets the Vulkan loader find the installed drivers. */
export function icdCandidates(env: NodeJS.ProcessEnv = process.env, hasGpu = gpuDeviceNode(), exists = existsSync): string[] {
  const given = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
  if (given) return [given];
  return [...(hasGpu ? ['system'] : []), ...SOFTWARE_ICDS.filter((p) => exists(p))];
}

/**
 * Installs navigator.gpu from Dawn over the first Vulkan driver that gives an adapter. Returns what it used, or
 * why WebGPU is not available (the package is missing, no driver gave an adapter).
 */
export async function installDawn(): Promise<{ icd: string } | { problem: string }> {
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    return { problem: `the 'webgpu' package (Dawn for Node) could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  // NOTE: software Vulkan drivers print 'XDG_RUNTIME_DIR is invalid' to stderr when it is unset; give them one.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const userSet = !!(process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES);
  const tried: string[] = [];
  for (const icd of icdCandidates()) {
    if (!userSet) {
      if (icd === 'system') delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = icd;
    }
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (!adapter) { tried.push(icd); continue; }
    Object.assign(globalThis, dawn.globals);
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return { icd };
  }
  return {
    problem: tried.length
      ? `no WebGPU adapter from the Vulkan driver(s) ${tried.join(', ')}`
      : 'no Vulkan driver found (install a GPU driver, Debian\'s chromium for SwiftShader, or Mesa ≥ 25 for lavapipe; or set VK_ICD_FILENAMES)',
  };
}

/**
 * Starts the backend. By default: WebGPU via Dawn on a hardware adapter; else wasm (tfjs's WebAssembly backend,
 * binaries from node_modules), which is also taken over a software Vulkan driver (SwiftShader, lavapipe: 10–100×
 * slower than wasm, bench/RESULTS.md); else cpu. Why WebGPU was passed over is in `fallbacks`. `cpu` or `wasm` start
 * only that backend; `webgpu` forces Dawn, software driver or not. Throws when the asked-for backend cannot start,
 * saying why.
 */
export async function startBackend(prefer?: CliBackend): Promise<BackendInfo & { icd?: string }> {
  // NOTE: production mode only silences tfjs's console advice (the cpu backend's 'install tfjs-node' banner).
  tf.enableProdMode();
  if (prefer === 'cpu' || prefer === 'wasm') return chooseBackend(prefer);
  const dawn = await installDawn();
  if ('problem' in dawn) {
    if (prefer === 'webgpu') throw new Error(`--backend webgpu: ${dawn.problem}`);
    return chooseBackend(undefined, { unavailable: { webgpu: dawn.problem } });
  }
  if (prefer === 'webgpu') {
    try {
      return { ...(await chooseBackend('webgpu')), icd: dawn.icd };
    } catch (err) {
      throw new Error(`--backend webgpu: ${err instanceof Error ? err.message : String(err)} (Vulkan driver ${dawn.icd})`, { cause: err });
    }
  }
  const info = await chooseBackend();
  return info.name === 'webgpu' ? { ...info, icd: dawn.icd } : info;
}

/** One line saying what the work runs on, e.g. 'webgpu — google swiftshader … (software; Vulkan driver …)'. */
export function describeBackend(info: BackendInfo & { icd?: string }): string {
  const extra = [info.software && info.name !== 'cpu' ? 'software' : '', info.icd ? `Vulkan driver ${info.icd}` : ''].filter(Boolean).join('; ');
  return `${info.name} — ${info.adapter}${extra ? ` (${extra})` : ''}`;
}
