// Compare strategies in Chromium (WebGPU; SwiftShader on CI): the micro timm encoder, one labelled case, 3 steps per
// strategy validated at the end → center, 2d and scratch converted and trained in turn, each run kept with its
// curves, overlaid on the runs chart, the 2d run at T = 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ARTIFACTS, openApp, startHarness, type Harness } from './harness.ts';
import { setUpMicroRun } from './flows.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('compare strategies (WebGPU)', () => {
  it('trains center, 2d and scratch in turn with the same settings and keeps the three runs', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.getByTestId('legend').waitFor();
    const compare = page.getByTestId('compare-strategies');
    expect(await compare.isDisabled()).toBe(true); // no encoder yet
    expect(await page.getByTestId('compare-blocker').textContent()).toMatch(/2D encoder/);
    await setUpMicroRun(page, { T: 3, size: 32, steps: 3, batch: 1, valEvery: 0, lr: 0.002 });
    for (const s of ['center', '2d', 'scratch']) expect(await page.getByTestId(`compare-pick-${s}`).isChecked()).toBe(true);
    expect(await page.getByTestId('compare-pick-average').isChecked()).toBe(false);
    expect(await page.getByTestId('compare').textContent()).toMatch(/w\/o pre-training/);

    await compare.click();
    const progress = page.getByTestId('compare-progress');
    await expect.poll(() => progress.textContent(), { timeout: 60_000 }).toMatch(/^[1-3] \/ 3: (center|2d|scratch), (converting|step \d \/ 3)$|done$/);
    // While it runs, Compare gives way to Stop comparison.
    expect((await page.getByTestId('compare-stop').count()) === 1 || (await progress.getAttribute('data-status')) === 'done').toBe(true);
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 200_000 }).toMatch(/^(done|stopped|failed)$/);
    expect(await progress.getAttribute('data-status'), (await progress.textContent()) ?? '').toBe('done');
    expect(await progress.textContent()).toBe('3 / 3 done');

    // Three records, named, with the strategy and T they were converted with, and their curves.
    const rows = page.getByTestId('run-row');
    expect(await rows.count()).toBe(3);
    const attr = (name: string) => rows.evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);
    expect(await attr('data-strategy')).toEqual(['center', '2d', 'scratch']);
    expect(await attr('data-t')).toEqual(['3', '1', '3']); // METHOD: 2d is T = 1
    expect(await attr('data-state')).toEqual(['done', 'done', 'done']);
    expect(await attr('data-steps')).toEqual(['3', '3', '3']);
    expect(await attr('data-validations')).toEqual(['1', '1', '1']);
    expect(await page.getByTestId('run-label').allTextContents()).toEqual(['compare: center', 'compare: 2d', 'compare: scratch']);
    for (const d of await page.getByTestId('run-dice').allTextContents()) {
      expect(Number(d)).toBeGreaterThanOrEqual(0);
      expect(Number(d)).toBeLessThanOrEqual(1);
    }

    // The chart overlays one validation Dice curve per run (one point each: validated at the end only, drawn as a dot).
    const lines = page.getByTestId('runs-chart').locator('polyline');
    expect(await lines.count()).toBe(3);
    const pointCounts = await lines.evaluateAll((els) => els.map((e) => new Set((e.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean)).size));
    expect(pointCounts).toEqual([1, 1, 1]);
    expect(await page.getByTestId('compare-table').locator('tbody tr').count()).toBe(3);

    // Hiding a run takes its curve off the chart.
    await page.getByTestId('run-show').nth(1).uncheck();
    expect(await lines.count()).toBe(2);
    await page.getByTestId('run-show').nth(1).check();

    expect(await compare.isEnabled()).toBe(true);
    await page.setViewportSize({ width: 1280, height: 1600 });
    await page.locator('.runs-panel').screenshot({ path: path.join(ARTIFACTS, 'runs-panel-compare.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 280_000);
});
