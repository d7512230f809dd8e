// Backends in real Chromium: the header's self-check (one seeded micro training step in the training worker, on
// its backend and on cpu, compared). By default Chromium's software WebGPU adapter (SwiftShader here) is skipped for
// WebAssembly, and the badge says why; ?backend=webgpu and the Backend setting force WebGPU, which passes the check
// too. Without --enable-unsafe-webgpu the default is WebAssembly as well; ?backend=webgl runs on WebGL (ANGLE over
// SwiftShader Vulkan: headless Chromium gives a worker's OffscreenCanvas WebGL 2 with float render targets, no extra
// flags), checks it against cpu and trains on it. With no GPU process either, ?backend=cpu runs on plain JS and a
// forced WebGPU gives way to WebAssembly with a notice. NOTE: --disable-3d-apis leaves a worker's WebGL on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, openApp, startHarness, type Harness } from './harness.ts';
import { backendBadge, runBackendCheck, runToDone, setUpMicroRun, startRun, type CheckOutcome } from './flows.ts';

/** The verdict and its details as a text artefact beside the screenshots. */
function record(name: string, badge: string, c: CheckOutcome) {
  writeFileSync(path.join(ARTIFACTS, name), `${badge}\n${c.text}\n${c.details}\ncheck took ${c.ms} ms (click to verdict)\n`);
}

describe('Chromium with its software WebGPU adapter (SwiftShader)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.close(); });

  it('the default: WebAssembly, not the SwiftShader adapter, saying why; WebAssembly matches cpu on one micro training step', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebAssembly \(CPU, SIMD, \d+ threads?\)$/);
    expect(badge.title).toMatch(/^Training runs on the CPU through WebAssembly/);
    expect(badge.title).toMatch(/skipped webgpu: software adapter \(.*swiftshader.*\); WebAssembly is faster here/i);
    expect(await page.getByTestId('cfg-backend').inputValue()).toBe('auto');
    const c = await runBackendCheck(page);
    record('backend-check-wasm.txt', `${badge.text}\n${badge.title}`, c);
    await page.locator('.app-header').screenshot({ path: path.join(ARTIFACTS, 'backend-check-wasm.png') });
    expect(c.status, c.text).toBe('done');
    expect(c.ok, `${c.text}\n${c.details}`).toBe(true);
    expect(c.text).toMatch(/^✓ WebAssembly matches cpu \(max rel\. diff /);
    expect(c.maxRelDiff).toBeLessThan(1e-4);
    expect(c.details).toMatch(/step: \d+ ms on wasm, \d+ ms on cpu/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('in a cross-origin isolated page (COOP + COEP, as a host may send) WebAssembly still starts, on one thread', async () => {
    const page = await h.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'credentialless' } });
    });
    await page.goto(`${h.url}?sample=none`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // tfjs-backend-wasm's threads fail once bundled (src/train/backend.ts registerWasm): it must not try them.
    expect((await backendBadge(page)).text).toMatch(/^WebAssembly \(CPU, SIMD, 1 thread\)$/);
    expect((await runBackendCheck(page)).ok).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('?backend=webgpu: the self-check, WebGPU matches cpu on one micro training step', async () => {
    const { page, errors } = await openApp(h, '?sample=none', { backend: 'webgpu' });
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebGPU · .*swiftshader.* \(software, slow\)$/i);
    expect(badge.title).toMatch(/WebGPU was chosen/);
    expect(await page.getByTestId('cfg-backend').inputValue()).toBe('webgpu');
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

  it('the Backend setting re-probes: WebGPU, then Auto again (WebAssembly); the old verdict is cleared', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    expect((await backendBadge(page)).text).toMatch(/^WebAssembly/);
    expect((await runBackendCheck(page)).ok).toBe(true);
    await page.getByTestId('more-settings').locator('summary').click();
    await page.getByTestId('cfg-backend').selectOption('webgpu');
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toMatch(/^WebGPU · /);
    expect(await page.getByTestId('backend-check-result').count()).toBe(0);
    await page.getByTestId('cfg-backend').selectOption('auto');
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toMatch(/^WebAssembly \(CPU/);
    expect(await page.getByTestId('notice-warning').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('without WebGPU (flag off): the WebGL fallback', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ removeArgs: ['--enable-unsafe-webgpu'] }); });
  afterAll(async () => { await h?.close(); });

  it('the default is WebAssembly (WebGPU: no adapter, in the tooltip)', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebAssembly \(CPU, /);
    expect(badge.title).toMatch(/skipped webgpu: no adapter/); // why, in the tooltip
    expect(errors).toEqual([]);
    await page.close();
  });

  it('?backend=webgl runs on WebGL, and WebGL matches cpu', async () => {
    const { page, errors } = await openApp(h, '?sample=none', { backend: 'webgl' });
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebGL · /);
    expect(badge.title).toMatch(/WebGL was chosen/);
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
    const { page, errors } = await openApp(h, '?sample=itk_kmeans', { backend: 'webgl' });
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

describe('without WebGPU and WebGL (no GPU process, no software rasteriser)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ removeArgs: ['--enable-unsafe-webgpu'], addArgs: ['--disable-gpu', '--disable-software-rasterizer'] }); });
  afterAll(async () => { await h?.close(); });

  it('?backend=cpu runs on plain JavaScript, and cpu vs cpu gives diffs 0', async () => {
    const { page, errors } = await openApp(h, '?sample=none', { backend: 'cpu' });
    const badge = await backendBadge(page);
    expect(badge.text).toBe('CPU · JavaScript (CPU)');
    expect(badge.title).toMatch(/plain JavaScript \(slow\)/);
    const c = await runBackendCheck(page);
    record('backend-check-cpu.txt', `${badge.text}\n${badge.title}`, c);
    expect(c.ok, c.text).toBe(true);
    expect(c.text).toBe('✓ CPU matches cpu (max rel. diff 0)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a forced backend that cannot start (?backend=webgpu, ?backend=webgl): a notice names it, why, and the fallback', async () => {
    const { page, errors } = await openApp(h, '?sample=none', { backend: 'webgpu' });
    const badge = await backendBadge(page);
    expect(badge.text).toMatch(/^WebAssembly \(CPU, /);
    expect(badge.title).toMatch(/WebGPU was asked for but could not start/);
    const notice = page.getByTestId('notice-warning');
    await expect.poll(() => notice.textContent()).toMatch(/^WebGPU could not start \(no adapter .*\); training uses WebAssembly instead\./);
    await page.goto(`${h.url}?sample=none&backend=webgl`);
    expect((await backendBadge(page)).text).toMatch(/^WebAssembly \(CPU, /);
    await expect.poll(() => page.getByTestId('notice-warning').textContent()).toMatch(/^WebGL could not start \(.+\); training uses WebAssembly instead\./);
    expect(errors).toEqual([]);
    await page.close();
  });
});
