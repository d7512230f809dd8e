// Training is the centre of the screen (issue 12): during a short micro run on the ITK sample the main viewer shows
// ground truth | the model's live prediction of the slice in view (different drawings), a new prediction arrives
// for another slice when the user moves, the loss / learning-rate / Dice charts are in the viewport without
// scrolling at 1400×900 and 1920×1080, the settings fold away (and reopen from the keyboard); after Evaluate the
// viewer shows the whole-volume prediction. Screenshots at both sizes, during the run and after Evaluate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, clickAndWait, openApp, pixelDiff, screenshotPixels, startHarness, type Harness } from './harness.ts';
import { setUpMicroRun, startRun } from './flows.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

const SIZES = [{ width: 1400, height: 900 }, { width: 1920, height: 1080 }] as const;

/** Every chart and the run status lie inside the viewport (nothing scrolled), each chart at least 300 × 140 px. */
async function expectRunInView(page: Page, size: { width: number; height: number }) {
  expect(await page.evaluate(() => [document.scrollingElement!.scrollTop, document.scrollingElement!.scrollHeight - innerHeight])).toEqual([0, 0]);
  for (const id of ['chart-loss', 'chart-lr', 'chart-dice', 'run-status', 'latest-dice', 'live-prediction']) {
    const b = (await page.getByTestId(id).boundingBox())!;
    expect(b, id).not.toBeNull();
    expect(b.x, id).toBeGreaterThanOrEqual(0);
    expect(b.y, id).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width, id).toBeLessThanOrEqual(size.width);
    expect(b.y + b.height, id).toBeLessThanOrEqual(size.height);
    if (id.startsWith('chart-')) {
      expect(b.width, id).toBeGreaterThanOrEqual(300);
      expect(b.height, id).toBeGreaterThanOrEqual(140);
    }
  }
}

describe('live view of a run', () => {
  it('shows the live prediction of the slice in view, follows the slice, keeps the curves in view; Evaluate fills the viewer', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.setViewportSize(SIZES[0]);
    await page.getByTestId('legend').waitFor();
    await setUpMicroRun(page, { T: 3, size: 32, steps: 40, batch: 2, valEvery: 10, lr: 0.003 });
    expect(await page.getByTestId('live-prediction').count()).toBe(0); // no run yet: the viewer shows the data alone
    await startRun(page);

    // --- the settings fold away; the live prediction arrives beside the ground truth --------------------------------
    for (const id of ['dataset', 'model', 'training']) expect(await page.getByTestId(`section-${id}`).getAttribute('open'), id).toBeNull();
    const pane = page.getByTestId('live-prediction');
    await expect.poll(() => pane.getAttribute('data-state'), { timeout: 60_000 }).toBe('shown');
    expect(await page.getByTestId('prediction-view').getAttribute('data-value')).toBe('side-by-side');
    await expect.poll(() => page.getByTestId('latest-dice').count(), { timeout: 120_000 }).toBe(1);
    await page.getByTestId('chart-dice').waitFor();
    // After a validation the page asks again: the prediction's step moves on.
    const firstStep = Number(await pane.getAttribute('data-step'));
    await expect.poll(async () => Number(await pane.getAttribute('data-step')), { timeout: 120_000 }).toBeGreaterThan(firstStep);
    expect(await page.getByTestId('slice-canvas-prediction-caption').textContent()).toMatch(/^Prediction · step \d+ · (held-out|training) slice$/);
    const truth = await screenshotPixels(page, '[data-testid=slice-canvas]');
    const pred = await screenshotPixels(page, '[data-testid=slice-canvas-prediction]');
    expect(pixelDiff(truth, pred)).toBeGreaterThan(0.01);
    await expectRunInView(page, SIZES[0]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-view-1400x900-run.png') });

    // --- another slice: a prediction of that slice arrives (pause first, so the step cannot explain the change) -----
    await page.getByTestId('train-pause').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('paused');
    const before = Number(await pane.getAttribute('data-slice'));
    await page.getByTestId('slice-canvas').focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    const now = Number(await page.getByTestId('slice-value').textContent()) - 1;
    expect(now).toBe(before - 5);
    await expect.poll(() => pane.getAttribute('data-slice'), { timeout: 30_000 }).toBe(String(now));
    expect(await pane.getAttribute('data-state')).toBe('shown');
    // Another axis: the plane is cut from the whole predicted volume.
    await page.getByTestId('axis-coronal').click();
    await expect.poll(() => pane.getAttribute('data-axis'), { timeout: 30_000 }).toBe('coronal');
    await expect.poll(() => pane.getAttribute('data-state'), { timeout: 60_000 }).toBe('shown');
    await page.getByTestId('axis-axial').click();

    // --- the folded settings reopen from the keyboard ---------------------------------------------------------------
    await page.locator('summary[data-section=training]').focus();
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('section-training').getAttribute('open')).toBe('');
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('section-training').getAttribute('open')).toBeNull();

    await page.getByTestId('train-resume').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-state'), { timeout: 180_000 }).toBe('done');
    await expect.poll(() => pane.getAttribute('data-step'), { timeout: 30_000 }).toBe('40');
    await page.setViewportSize(SIZES[1]);
    await expectRunInView(page, SIZES[1]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-view-1920x1080-done.png') });

    // --- Evaluate: the whole-volume prediction in the viewer, side by side ------------------------------------------
    await clickAndWait(page, page.getByTestId('train-evaluate'), page.getByTestId('evaluation'), 180_000);
    await expect.poll(() => page.getByTestId('slice-canvas-prediction-caption').textContent()).toMatch(/^Prediction · Dice \d\.\d\d$/);
    expect(await page.getByTestId('live-prediction').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-view-1920x1080-evaluated.png') });
    await page.setViewportSize(SIZES[0]);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-view-1400x900-evaluated.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
