// Backends in real Chromium: the header's self-check (one seeded micro training step in the training worker, on
// its backend and on cpu, compared) passes on WebGPU (SwiftShader here); without --enable-unsafe-webgpu the app
// says WebGPU is not available, falls back to WebGL (ANGLE over SwiftShader Vulkan: headless Chromium gives a worker's
// OffscreenCanvas WebGL 2 with float render targets, no extra flags), checks WebGL against cpu and trains on it;
// with no GPU process either, it says so and runs on cpu. NOTE: --disable-3d-apis leaves a worker's WebGL on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, openApp, startHarness, type Harness } from './harness.ts';
import { backendBadge, runBackendCheck, runToDone, setUpMicroRun, startRun, type CheckOutcome } from './flows.ts';

/** The verdict and its details as a text artefact beside the screenshots. */
function record(name: string, badge: string, c: CheckOutcome) {
  writeFileSync(path.join(ARTIFACTS, name), `${badge}\n${c.text}\n${c.details}\ncheck took ${c.ms} ms (click to verdict)\n`);
}

describe('WebGPU in Chromium', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.close(); });

  it('the backend self-check: WebGPU matches cpu on one micro training step', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebGPU · .*swiftshader/i);
    const c = await runBackendCheck(page);
    record('backend-check-webgpu.txt', badge.text, c);
    await page.locator('.app-header').screenshot({ path: path.join(ARTIFACTS, 'backend-check-webgpu.png') });
    expect(c.status, c.text).toBe('done');
    expect(c.ok, c.text).toBe(true);
    expect(c.text).toMatch(/^✓ WebGPU matches cpu \(max rel\. diff /);
    expect(c.maxRelDiff).toBeLessThan(1e-4);
    expect(c.details).toMatch(/grads: .* \(tolerance 1e-3\)/);
    // Checking again gives the same verdict (the worker restored its backend and freed the check's tensors).
    const again = await runBackendCheck(page);
    expect(again.ok, again.text).toBe(true);
    expect(await page.getByTestId('backend').textContent()).toBe(badge.text);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('without WebGPU (flag off): the WebGL fallback', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ removeArgs: ['--enable-unsafe-webgpu'] }); });
  afterAll(async () => { await h?.close(); });

  it('says WebGPU is not available, runs on WebGL, and WebGL matches cpu', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebGL \(WebGPU not available\) · /);
    expect(badge.title).toMatch(/webgpu: no adapter/); // why, in the tooltip
    const c = await runBackendCheck(page);
    record('backend-check-webgl.txt', `${badge.text}\n${badge.title}`, c);
    await page.locator('.app-header').screenshot({ path: path.join(ARTIFACTS, 'backend-check-webgl.png') });
    expect(c.status, c.text).toBe('done');
    expect(c.ok, `${c.text}\n${c.details}`).toBe(true);
    expect(c.text).toMatch(/^✓ WebGL matches cpu \(max rel\. diff /);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains 2 steps of a micro model on WebGL; Check waits for the run, then passes beside the trained model', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.getByTestId('legend').waitFor();
    expect((await backendBadge(page)).text).toMatch(/^WebGL/);
    await setUpMicroRun(page, { T: 3, size: 32, steps: 2, batch: 1, valEvery: 0, lr: 0.002 });
    const t0 = Date.now();
    await startRun(page);
    expect(await page.getByTestId('backend-check').isDisabled()).toBe(true); // the worker is busy training
    expect(await runToDone(page)).toBe(2);
    writeFileSync(path.join(ARTIFACTS, 'webgl-train-ms.txt'), `${Date.now() - t0}\n`);
    expect(await page.getByTestId('backend').textContent()).toMatch(/^WebGL/);
    await page.locator('.training-panel').screenshot({ path: path.join(ARTIFACTS, 'training-panel-webgl.png') });
    const c = await runBackendCheck(page);
    expect(c.ok, `${c.text}\n${c.details}`).toBe(true);
    expect(c.text).toMatch(/^✓ WebGL matches cpu/);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('without WebGPU and WebGL (no GPU process, no software rasteriser): the cpu fallback', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ removeArgs: ['--enable-unsafe-webgpu'], addArgs: ['--disable-gpu', '--disable-software-rasterizer'] }); });
  afterAll(async () => { await h?.close(); });

  it('says no GPU backend is available, with both reasons, and cpu vs cpu gives diffs 0', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^CPU \(no GPU backend available\) · JavaScript/);
    expect(badge.title).toMatch(/webgpu: no adapter/);
    expect(badge.title).toMatch(/webgl: /);
    const c = await runBackendCheck(page);
    record('backend-check-cpu.txt', `${badge.text}\n${badge.title}`, c);
    expect(c.ok, c.text).toBe(true);
    expect(c.text).toBe('✓ CPU matches cpu (max rel. diff 0)');
    expect(errors).toEqual([]);
    await page.close();
  });
});
