// The foundation, as a user meets it in real Chromium: first start shows the sample, dropped files are shown
// with their overlay, axis and slice change what is drawn, a corrupt file is reported and nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ARTIFACTS, ROOT, dropFiles, openApp, pixelDiff, pixelStats, screenshotPixels, startHarness, type Harness } from './harness.ts';

const sample = (name: string) => new Uint8Array(readFileSync(path.join(ROOT, 'public/samples', name)));
const CANVAS = '[data-testid=slice-canvas]';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('viewer in Chromium', () => {
  it('first start shows the bundled Colin27 sample with its label overlay', async () => {
    const { page, errors } = await openApp(h);
    await page.getByTestId('legend').waitFor();
    await expect.poll(() => page.getByTestId('viewer-title').textContent()).toContain('colin27');
    const px = await screenshotPixels(page, CANVAS, 'first-start-canvas.png');
    const st = pixelStats(px);
    expect(st.grey).toBeGreaterThan(0.05); // brain tissue in grey
    expect(st.colored).toBeGreaterThan(0.02); // lobes in colour
    // The legend lists the merged AAL classes by name, with voxel counts.
    const legend = await page.getByTestId('legend').textContent();
    expect(legend).toMatch(/frontal/i);
    expect(legend).toMatch(/cerebell/i);
    // The training worker chose WebAssembly over Chromium's software WebGPU adapter (SwiftShader here: no GPU on CI
    // machines; with a GPU it would say WebGPU).
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toMatch(/^WebAssembly \(CPU, /);
    await page.screenshot({ path: path.join(ARTIFACTS, 'first-start.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('drop an image + label pair, change axis and slice, then a corrupt file: error shown, case kept', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    await page.getByText('Drop a NIfTI volume here').waitFor();
    const blank = await screenshotPixels(page, '.viewer-panel');

    await dropFiles(page, [
      { name: 'head.nii.gz', bytes: sample('itk_kmeans_t1.nii.gz') },
      { name: 'head_seg.nii.gz', bytes: sample('itk_kmeans_t1_seg.nii.gz') },
    ]);
    await page.getByTestId('legend').waitFor();
    expect(await page.getByTestId('case-item').count()).toBe(1);
    await expect.poll(() => page.getByTestId('viewer-title').textContent()).toBe('head');
    const axial = await screenshotPixels(page, CANVAS, 'drop-axial.png');
    expect(pixelStats(axial).colored).toBeGreaterThan(0.02);
    expect(pixelDiff(axial, blank)).toBeGreaterThan(0.1);

    // Overlay off → no coloured pixels; on again → back.
    await page.getByTestId('show-label').uncheck();
    const noOverlay = await screenshotPixels(page, CANVAS);
    expect(pixelStats(noOverlay).colored).toBeLessThan(0.001);
    await page.getByTestId('show-label').check();

    // Another axis draws another picture; so does another slice.
    await page.getByTestId('axis-sagittal').click();
    const sagittal = await screenshotPixels(page, CANVAS, 'drop-sagittal.png');
    expect(pixelDiff(sagittal, axial)).toBeGreaterThan(0.05);
    const before = await page.getByTestId('slice-value').textContent();
    await page.locator(CANVAS).hover();
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 120);
    await expect.poll(() => page.getByTestId('slice-value').textContent()).not.toBe(before);
    const moved = await screenshotPixels(page, CANVAS);
    expect(pixelDiff(moved, sagittal)).toBeGreaterThan(0.01);

    // The cursor readout names the voxel, the intensity and the label under the pointer.
    const box = (await page.locator(CANVAS).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId('readout').textContent()).toMatch(/voxel.*mm.*value/);

    // A corrupt file: a clear message naming it; the earlier case stays loaded and drawn.
    const corrupt = gzipSync(Buffer.from(sample('itk_kmeans_t1.nii.gz'))).subarray(0, 4000);
    await dropFiles(page, [{ name: 'broken.nii.gz', bytes: corrupt }]);
    const err = page.getByTestId('notice-error');
    await err.first().waitFor();
    expect(await err.first().textContent()).toContain('broken.nii.gz');
    expect(await page.getByTestId('case-item').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'after-corrupt-drop.png') });
    await err.first().getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => err.count()).toBe(0);
    const after = await screenshotPixels(page, CANVAS);
    expect(pixelDiff(after, moved)).toBeLessThan(0.01);
    expect(errors).toEqual([]);
    await page.close();
  });
});
