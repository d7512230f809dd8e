// Swin encoders in Chromium: the micro Video Swin release (.pth) and the micro Swin fixture (timm layout, 15 k
// parameters) dropped on the page are converted in the weights worker (the card shows what was detected: family,
// layout, stages, heads, window, the inflated kernel, what the inflation choices mean); the Swin trains a few steps
// on the bundled sample and shows its live prediction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, ROOT, dropFiles, openApp, startHarness, type Harness } from './harness.ts';

const fixture = (n: string) => new Uint8Array(readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts', n)));

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('Swin in Chromium', () => {
  it('drops a micro Video Swin and a micro Swin checkpoint, shows what was detected, trains the Swin 4 steps and shows a prediction', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.getByTestId('legend').waitFor();
    await page.getByTestId('opt-T').fill('3');
    await page.getByTestId('opt-size').fill('32');
    // The Video Swin release's .pth first: detected, its 3D kernel kept (depth 2, one channel), the note says centre = average.
    await dropFiles(page, [{ name: 'swin_micro_patch244_window222_kinetics.pth', bytes: fixture('swin_micro_patch244_window222_kinetics.pth') }]);
    await page.getByTestId('encoder-card').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('encoder-family').textContent()).toBe('Video Swin · videoswin-original');
    expect(await page.getByTestId('encoder-stages').textContent()).toBe('C 4–32 · stages 2-2-1-1 · heads 1-1-2-2 · window 2×2×2 · patch 2×4×4');
    expect(await page.getByTestId('encoder-kernel').textContent()).toBe('[4, 1, 2, 4, 4]');
    expect(await page.getByTestId('swin-inflation-note').textContent()).toMatch(/^Video Swin: .*centre and average give the same weights/);
    await dropFiles(page, [{ name: 'swin_timm.safetensors', bytes: fixture('swin_timm.safetensors') }]);
    await expect.poll(() => page.getByTestId('encoder-family').textContent(), { timeout: 60_000 }).toBe('Swin · timm');
    expect(await page.getByTestId('encoder-family').textContent()).toBe('Swin · timm');
    expect(await page.getByTestId('encoder-stages').textContent()).toBe('C 4–32 · stages 2-2-1-1 · heads 1-1-2-2 · window 2×2 · patch 4×4');
    expect(await page.getByTestId('encoder-kernel').textContent()).toBe('[4, 1, 3, 4, 4]');
    expect(await page.getByTestId('encoder-compute').textContent()).toMatch(/MFLOPs \/ window/); // flops.ts counts the Swin stages
    expect(await page.getByTestId('swin-inflation-note').textContent()).toMatch(/^Swin: the 4×4 patch kernel is inflated as for ViT/);
    await page.getByTestId('cfg-steps').fill('4');
    await page.getByTestId('cfg-batch').fill('1');
    await page.getByTestId('cfg-val').fill('0');
    await page.getByTestId('cfg-lr').fill('0.002');
    await page.getByTestId('train-start').click();
    const status = page.getByTestId('run-status');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 180_000 }).toMatch(/^(done|failed)$/);
    expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('4');
    await expect.poll(() => page.getByTestId('live-prediction').getAttribute('data-step'), { timeout: 60_000 }).toBe('4');
    await page.locator('.workspace').screenshot({ path: path.join(ARTIFACTS, 'swin-run.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
