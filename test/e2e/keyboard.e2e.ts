// The main flow from the keyboard alone (Tab / Shift+Tab / Enter / Space / arrows, no clicks, no drops): the bundled
// sample loads by itself; model options with the arrows; the Hub address typed into its disclosure and a micro
// encoder loaded by id from a local Hub-shaped server; run settings; Train; Space pauses and resumes; Evaluate;
// export the checkpoint and the prediction; the slice canvas with the arrows; after a reload, the autosave offer's
// Resume. Every element that takes focus on the way must show it (an outline in its computed style).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, clickAndWait, openApp, startHarness, type Harness } from './harness.ts';
import { microHubFiles, startHubServer, type HubServer } from '../support/hubServer.ts';


let h: Harness;
let hub: HubServer;
beforeAll(async () => {
  h = await startHarness();
  hub = await startHubServer(microHubFiles());
});
afterAll(async () => { await hub?.close(); await h?.close(); });

interface Focused { selector: boolean; desc: string; outline: boolean; body: boolean }

/** What has focus: whether it matches `selector`, a short description, and whether its focus ring is drawn. */
const focused = (page: Page, selector: string): Promise<Focused> => page.evaluate((sel) => {
  const e = document.activeElement as HTMLElement | null;
  if (!e || e === document.body) return { selector: false, desc: 'body', outline: false, body: true };
  const cs = getComputedStyle(e);
  const label = e.dataset.testid ?? e.getAttribute('aria-label') ?? e.textContent?.trim().slice(0, 30) ?? '';
  return {
    selector: e.matches(sel),
    desc: `<${e.tagName.toLowerCase()}${e.getAttribute('type') ? ` type=${e.getAttribute('type')}` : ''}> ${label}`,
    outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 && !/rgba\(.*, 0\)$/.test(cs.outlineColor),
    body: false,
  };
}, selector);

/** Focus problems seen on the way (an element focused without a visible ring). */
const noRing = new Set<string>();

/** Presses Tab (Shift+Tab when `back`) until the focused element matches `selector`; checks each focus ring. */
async function tabTo(page: Page, selector: string, back = false, max = 120): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page, selector);
    if (!f.body && !f.outline) noRing.add(f.desc);
    if (f.selector) return;
  }
  throw new Error(`keyboard: ${selector} was not reached in ${max} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
}

const valueOf = (page: Page, testId: string) => page.getByTestId(testId).inputValue();
/** Replaces the focused field's text by typing (select all first). */
const retype = async (page: Page, text: string) => { await page.keyboard.press('ControlOrMeta+A'); await page.keyboard.type(text); };

describe('keyboard only', () => {
  it('loads an encoder, trains, pauses and resumes, evaluates and exports without a mouse', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    // NOTE: Playwright intercepts file choosers only once a listener exists (enabling it is asynchronous): listen now.
    const choosers: boolean[] = [];
    page.on('filechooser', (c) => choosers.push(c.isMultiple()));
    await page.getByTestId('legend').waitFor();
    const notes: string[] = [];
    const lostFocus = (f: Focused, what: string) => { if (f.body) notes.push(`${what}: keyboard focus falls to the page (Tab starts again from there).`); };

    // --- model options: T with the arrows (step 2), size typed over the empty (automatic) field ------------------
    await tabTo(page, '[data-testid=opt-T]');
    await page.keyboard.press('ArrowDown');
    expect(await valueOf(page, 'opt-T')).toBe('3');
    await tabTo(page, '[data-testid=opt-size]');
    expect(await valueOf(page, 'opt-size')).toBe('');
    await retype(page, '32');
    expect(await valueOf(page, 'opt-size')).toBe('32');

    // --- the Hub address (a disclosure: Enter opens it), then the model id, Enter loads it -------------------------
    await tabTo(page, 'details.advanced > summary');
    await page.keyboard.press('Enter');
    await tabTo(page, '[data-testid=hub-base]');
    await retype(page, hub.url);
    await tabTo(page, '[data-testid=hub-id]', true);
    await page.keyboard.type('timm/vit_micro_patch4_16');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.encoder-title').textContent(), { timeout: 60_000 }).toBe('timm/vit_micro_patch4_16');
    expect(hub.requests.some((r) => r.path.endsWith('/model.safetensors'))).toBe(true);

    // --- run settings --------------------------------------------------------------------------------------------
    await tabTo(page, '[data-testid=cfg-steps]');
    await retype(page, '4');
    await tabTo(page, '[data-testid=cfg-batch]');
    await retype(page, '1');
    await tabTo(page, '[data-testid=cfg-lr]');
    await retype(page, '0.002');
    await tabTo(page, '[data-testid=cfg-val]');
    await retype(page, '2');
    expect([await valueOf(page, 'cfg-steps'), await valueOf(page, 'cfg-batch'), await valueOf(page, 'cfg-val')]).toEqual(['4', '1', '2']);

    // --- Train, then Space pauses and resumes ------------------------------------------------------------------------
    await tabTo(page, '[data-testid=train-start]');
    await page.keyboard.press('Enter');
    const status = page.getByTestId('run-status');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/^(running|done)$/);
    const afterTrain = await focused(page, '[data-testid=train-pause]');
    lostFocus(afterTrain, 'Train (src/ui/RunBar.tsx, data-testid=train-start) is replaced by Pause when pressed');
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toMatch(/step [1-9]/);
    // Space pauses and resumes (the panel's toggle while focus is on the page, as it is after Train).
    await page.keyboard.press('Space');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toBe('paused');
    await page.keyboard.press('Space');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/^(running|done)$/);
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 180_000 }).toBe('done');
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('4');

    // --- Evaluate, then export the checkpoint and the prediction ------------------------------------------------------
    await tabTo(page, '[data-testid=train-evaluate]');
    await clickAndWait(page, () => page.keyboard.press('Enter'), page.getByTestId('evaluation'), 150_000);
    lostFocus(await focused(page, '[data-testid=train-evaluate]'), 'Evaluate (src/ui/RunBar.tsx, data-testid=train-evaluate) is disabled while it evaluates');
    await tabTo(page, '[data-testid=export-checkpoint]');
    const [ck] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(ck.suggestedFilename()).toBe('vit_micro_patch4_16_center_T3_step4.safetensors');
    lostFocus(await focused(page, '[data-testid=export-checkpoint]'), 'Export checkpoint (src/ui/CheckpointControls.tsx, data-testid=export-checkpoint) is disabled while it writes');
    await tabTo(page, '[data-testid=export-prediction]');
    const [pred] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(pred.suggestedFilename()).toBe('itk_kmeans_t1_pred.nii.gz');

    // --- the slice canvas takes focus and the arrows move through slices -------------------------------------------
    await tabTo(page, 'canvas[data-testid=slice-canvas]');
    const before = await page.getByTestId('slice-value').textContent();
    await page.keyboard.press('ArrowUp');
    expect(Number(await page.getByTestId('slice-value').textContent())).toBe(Number(before) + 1);

    // --- files: the run folded the Dataset section away; Enter on its summary opens it, Open files… opens the file
    // chooser from the keyboard (the dialog itself is the system's) ------------------------------------------------
    await tabTo(page, 'summary[data-section=dataset]', true);
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('section-dataset').getAttribute('open')).toBe('');
    await tabTo(page, '.dataset-panel .button-row > button:first-child');
    await page.keyboard.press('Enter');
    await expect.poll(() => choosers).toEqual([true]);

    // --- after a reload, the autosave offer: Resume from the keyboard, focus moves on to Evaluate --------------------
    await page.reload();
    await page.getByTestId('autosave-offer').waitFor();
    await tabTo(page, '[data-testid=autosave-resume]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('loaded-model').textContent(), { timeout: 60_000 }).toMatch(/step 4\b/);
    await expect.poll(async () => (await focused(page, '[data-testid=train-evaluate]')).selector).toBe(true);

    writeFileSync(path.join(ARTIFACTS, 'keyboard.txt'), [...notes, ...[...noRing].map((d) => `focused without a visible ring: ${d}`), ''].join('\n'));
    expect([...noRing]).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
