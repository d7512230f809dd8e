// The first run, exactly as a new user makes it and with the app's own defaults: open the page (the default sample,
// Colin27 2 mm with 7 lobes, loads by itself), click *Micro ViT (quick try)*, click *Train*, touch no setting. The
// run must visibly learn: validation mean Dice rises from the first validation and ends well above it (seeded, so the
// curve repeats; a learning assertion, not a timing). Mid-run the user jumps to a held-out slice and sees its
// prediction there. Screenshots at 1400×900 mid-run and at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, openApp, startHarness, type Harness } from './harness.ts';
import { firstRun } from './flows.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('first run with the defaults', () => {
  it('learns the lobes of the default sample: Dice rises from the first validation to ≥ 0.45', async () => {
    const { page, errors } = await openApp(h);
    await page.setViewportSize({ width: 1400, height: 900 });
    let shot = false, jumped = false;
    const r = await firstRun(page, {
      onTick: async (v) => {
        // Mid-run, as a curious user: jump to a slice the model never trains on and see its prediction there.
        if (!jumped && v.length >= 3) {
          jumped = true;
          expect(await page.getByTestId('held-out').textContent()).toMatch(/Held out from training: slices 15–20, 40–45, 64–69\./);
          await page.getByTestId('goto-held-out').click();
          const pane = page.getByTestId('live-prediction');
          await expect.poll(async () => `${await pane.getAttribute('data-state')} ${await page.getByTestId('slice-canvas-prediction-caption').textContent()}`, { timeout: 60_000 })
            .toMatch(/^shown Prediction · step \d+ · held-out slice$/);
        }
        if (!shot && v.length >= 5) { shot = true; await page.screenshot({ path: path.join(ARTIFACTS, 'first-run-1400x900-mid.png') }); }
      },
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'first-run-1400x900-end.png') });
    writeFileSync(path.join(ARTIFACTS, 'first-run.json'), JSON.stringify(r, null, 1));
    expect(r.state, await page.getByTestId('run-status').textContent() ?? '').toBe('done');
    expect(jumped).toBe(true);
    expect(await page.getByTestId('train-defaults').textContent()).toBe('Defaults for micro ViT, random init: lr 1e-3, 1,500 steps, 64 px (slices of 91×109 voxels).');
    // The defaults of the quick try: 1,500 steps, a validation every 100.
    expect(r.validations.map((v) => v.step)).toEqual(Array.from({ length: 15 }, (_, i) => 100 * (i + 1)));
    const first = r.validations[0].meanDice, last = r.validations[r.validations.length - 1].meanDice;
    expect(first).toBeGreaterThan(0.1);
    expect(last).toBeGreaterThanOrEqual(0.45);
    expect(last - first).toBeGreaterThan(0.2);
    expect(Math.min(...r.validations.slice(-5).map((v) => v.meanDice))).toBeGreaterThan(0.4);
    expect(errors).toEqual([]);
  }, 600_000);
});
