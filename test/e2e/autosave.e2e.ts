// Autosave in Chromium: a micro run (validation every 2 steps) keeps its latest checkpoint in OPFS; the page is
// reloaded mid-run; the offer names the step; Resume brings the curves back and Evaluate works; without the data
// the offer names the files to drop; Discard deletes it. Without OPFS writes, IndexedDB keeps it instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ARTIFACTS, clickAndWait, errorNotices, openApp, startHarness, type Harness } from './harness.ts';
import { backendBadge, setUpMicroRun, startRun } from './flows.ts';
import path from 'node:path';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

interface Stored { record: { step: number; name: string; file: string; cases: Array<{ imageFiles: string[]; labelFile?: string }> }; files: string[] }

/** The autosave as the page's OPFS holds it (record.json and the folder's files), or null. */
const opfsAutosave = (page: Page): Promise<Stored | null> => page.evaluate(async () => {
  try {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('inflateseg-autosave');
    const files: string[] = [];
    for await (const k of (d as unknown as { keys(): AsyncIterable<string> }).keys()) files.push(k);
    const text = await (await (await d.getFileHandle('record.json')).getFile()).text();
    return { record: JSON.parse(text), files: files.sort() };
  } catch {
    return null;
  }
});

/** The autosave as IndexedDB holds it (the fallback), or null. */
const idbAutosave = (page: Page): Promise<{ step: number; size: number } | null> => page.evaluate(() => new Promise((resolve) => {
  const req = indexedDB.open('inflateseg-autosave');
  req.onerror = () => resolve(null);
  req.onsuccess = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('slot')) { db.close(); resolve(null); return; }
    const get = db.transaction('slot').objectStore('slot').get('current');
    get.onsuccess = () => { const v = get.result; db.close(); resolve(v ? { step: v.record.step, size: v.blob.size } : null); };
    get.onerror = () => { db.close(); resolve(null); };
  };
}));

const micro = { T: 3, size: 32, batch: 1, valEvery: 2, lr: 0.002 };

describe('autosave', () => {
  // Resume comes soon after the reload, so the worker can get the badge's backend probe and the checkpoint load at
  // the same moment: handled concurrently, they once left tfjs half on WebGL, half on WebGPU, and every Evaluate
  // failed (the worker now takes one request at a time: src/workers/train.worker.ts, test/unit/train-worker-order).
  // On WebGPU (SwiftShader here), where that happened: ?backend=webgpu, as the automatic choice takes wasm there.
  it('keeps the run in OPFS; after a reload mid-run, Resume brings curves and model back; Discard deletes it', { timeout: 420_000 }, async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans&backend=webgpu');
    await page.getByTestId('legend').waitFor();
    await setUpMicroRun(page, { ...micro, steps: 6 });
    await startRun(page);

    // The first validation (step 2) writes the checkpoint and its record; reload while the run goes on.
    await expect.poll(async () => (await opfsAutosave(page))?.record.step ?? 0, { timeout: 120_000, interval: 500 }).toBeGreaterThanOrEqual(2);
    const stateAtReload = await page.getByTestId('run-status').getAttribute('data-state');
    await page.reload();
    const stored = (await opfsAutosave(page))!;
    const step = stored.record.step;
    expect(step % 2 === 0 || step === 6).toBe(true);
    expect(stored.files).toEqual([stored.record.file, 'record.json'].sort()); // only the latest checkpoint is kept
    expect(stored.record.name).toBe(`timm_vit_center_T3_step${step}.safetensors`);
    expect(stored.record.cases).toEqual([{ id: 'itk_kmeans_t1', split: 'train', imageFiles: ['itk_kmeans_t1.nii.gz'], labelFile: 'itk_kmeans_t1_seg.nii.gz' }]);

    const offer = page.getByTestId('autosave-offer');
    await offer.waitFor();
    expect(await offer.textContent()).toMatch(new RegExp(`A run was saved at step ${step} \\(.+\\)`));
    expect(await offer.textContent()).toContain('timm_vit.safetensors');
    await page.getByTestId('legend').waitFor(); // the sample is loaded again: no files to drop
    expect(await page.getByTestId('autosave-missing').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'autosave-offer.png') });

    // Resume: the model and its curves come back (a loss point per step, a Dice point per validation).
    await page.getByTestId('autosave-resume').click();
    await expect.poll(() => page.getByTestId('loaded-model').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`step ${step}\\b`));
    expect(await offer.count()).toBe(0);
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe(String(step));
    expect(await page.getByTestId('chart-dice').getAttribute('data-points')).toBe(String(step / 2));
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('train-evaluate');
    const badge = page.getByTestId('backend');
    await backendBadge(page);
    expect(await badge.getAttribute('data-backend')).toBe('webgpu');
    // An evaluation that fails says so in a notice: stop waiting then, and show it.
    const table = page.getByTestId('evaluation');
    await clickAndWait(page, page.getByTestId('train-evaluate'), table, 240_000);
    expect(await errorNotices(page)).toEqual([]);
    expect(await badge.getAttribute('data-backend')).toBe('webgpu');
    const dice = Number((await table.locator('td.num').allTextContents())[0]);
    expect(dice).toBeGreaterThanOrEqual(0);
    expect(dice).toBeLessThanOrEqual(1);

    // The autosave stays (a resumed run survives another reload); without the data, the offer names the files.
    await page.goto(`${h.url}?sample=none`);
    await offer.waitFor();
    await expect.poll(() => page.getByTestId('autosave-missing').textContent()).toMatch(/drop itk_kmeans_t1\.nii\.gz, itk_kmeans_t1_seg\.nii\.gz on the page/);

    // Discard deletes it: nothing is offered after the next reload.
    await page.getByTestId('autosave-discard').click();
    expect(await offer.count()).toBe(0);
    await expect.poll(() => opfsAutosave(page)).toBeNull();
    await page.reload();
    await page.getByTestId('no-encoder').waitFor();
    await page.waitForTimeout(1000);
    expect(await offer.count()).toBe(0);
    expect(stateAtReload).toMatch(/^(running|done)$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to IndexedDB where OPFS files cannot be written from the page', async () => {
    const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
    // A browser without createWritable (Safari's OPFS, for instance).
    await ctx.addInitScript(() => { delete (FileSystemFileHandle.prototype as { createWritable?: unknown }).createWritable; });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.url}?sample=itk_kmeans`);
    await page.getByTestId('legend').waitFor();
    await setUpMicroRun(page, { ...micro, steps: 2 });
    await startRun(page);
    await expect.poll(() => idbAutosave(page), { timeout: 120_000, interval: 500 }).toMatchObject({ step: 2 });
    expect((await idbAutosave(page))!.size).toBeGreaterThan(10_000);
    expect(await opfsAutosave(page)).toBeNull();
    await page.reload();
    await expect.poll(() => page.getByTestId('autosave-offer').getAttribute('data-step'), { timeout: 30_000 }).toBe('2');
    expect(errors).toEqual([]);
    await ctx.close();
  }, 180_000);
});
