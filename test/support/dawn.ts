// WebGPU in Node for tests: Dawn from the `webgpu` package over a Vulkan driver (Chromium's SwiftShader ICD by
// default, or VK_ICD_FILENAMES). `haveVulkan` says whether a driver and the loader are present.
import { existsSync } from 'node:fs';

export const ICD = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
export const haveVulkan = existsSync(ICD) && LOADER;

/** Installs navigator.gpu (Dawn) and registers tfjs's WebGPU backend, which registers only if navigator.gpu exists. */
export async function installDawn(): Promise<void> {
  process.env.VK_ICD_FILENAMES = ICD;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  (globalThis as unknown as { navigator: unknown }).navigator = { gpu: create([]) };
  await import('@tensorflow/tfjs-backend-webgpu');
}
