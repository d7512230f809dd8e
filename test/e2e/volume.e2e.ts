// The volume-based model in Chromium (issue 16): on the ITK sample, Model → Volume-based (3D UNETR, from scratch) at
// the micro size, a few steps validated at the end → the loss and Dice curves, and the live prediction of the slice
// in view from the sliding-window output; the run is named for the model; Compare strategies trains the volume row
// ('compare: unetr3d') without an encoder. Micro config and few steps: the page's
// automatic backend (WebAssembly where WebGPU is a software adapter).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ARTIFACTS, openApp, startHarness, type Harness } from './harness.ts';
import { runToDone, startRun } from './flows.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('volume model (3D UNETR)', () => {
  it('trains the micro 3D UNETR from scratch, draws its Dice curve and its live prediction', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.getByTestId('legend').waitFor();
    await page.getByTestId('model-kind-unetr3d').check();
    await page.getByTestId('volume-preset').selectOption('micro');
    expect(await page.getByTestId('train-defaults').textContent()).toMatch(/volume model \(micro\): Dice \+ CE, AdamW lr 3e-3, weight decay 1e-5/);
    expect(await page.getByTestId('section-model').locator('summary').first().textContent()).toMatch(/3D UNETR \(micro, from scratch\)/);
    // No encoder needed: the run bar offers Train, not the quick-try encoder.
    expect(await page.getByTestId('runbar-micro').count()).toBe(0);
    await page.getByTestId('cfg-steps').fill('3');
    await page.getByTestId('cfg-batch').fill('1');
    await page.getByTestId('cfg-val').fill('0');
    await startRun(page, 90_000);
    expect(await runToDone(page, 150_000)).toBeGreaterThanOrEqual(1);

    // The Dice curve (one validation, at the end) and the latest Dice of the held-out slab.
    await page.getByTestId('chart-dice').waitFor();
    const latest = page.getByTestId('latest-dice');
    await latest.waitFor();
    expect(Number(await latest.getAttribute('data-step'))).toBe(3);
    const dice = Number(await latest.getAttribute('data-mean-dice'));
    expect(dice).toBeGreaterThanOrEqual(0);
    expect(dice).toBeLessThanOrEqual(1);
    expect((await page.locator('.notes').first().textContent()) ?? '').toMatch(/validation is the slab of axial slices/);

    // The live prediction of the slice in view, from the sliding-window output at the last step.
    const pane = page.getByTestId('live-prediction');
    await expect.poll(() => pane.getAttribute('data-state'), { timeout: 90_000 }).toBe('shown');
    await expect.poll(async () => Number(await pane.getAttribute('data-step')), { timeout: 90_000 }).toBe(3);
    await page.screenshot({ path: path.join(ARTIFACTS, 'volume-unetr3d-run.png') });
    expect(await page.getByTestId('run-label').allTextContents()).toEqual(['UNETR 3D 32³ · 3 steps']);

    // Compare strategies with the volume row alone: no encoder asked for, the same settings, kept as 'compare: unetr3d'.
    for (const s of ['center', '2d', 'scratch']) await page.getByTestId(`compare-pick-${s}`).uncheck();
    await page.getByTestId('compare-pick-unetr3d').check();
    expect(await page.getByTestId('compare-blocker').count()).toBe(0);
    await page.getByTestId('compare-strategies').click();
    const progress = page.getByTestId('compare-progress');
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 150_000 }).toMatch(/^(done|stopped|failed)$/);
    expect(await progress.textContent()).toBe('1 / 1 done');
    expect(await page.getByTestId('run-label').allTextContents()).toEqual(['UNETR 3D 32³ · 3 steps', 'compare: unetr3d']);
    expect(await page.getByTestId('compare-table').locator('tbody tr').getAttribute('data-strategy')).toBe('unetr3d');
    expect(await page.getByTestId('model-kind-unetr3d').isChecked()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
