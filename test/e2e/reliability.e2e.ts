// Resource limits and storage faults in Chromium (issue 15), with the page kept usable after each:
// - a 4 MB .nii.gz whose header claims 2048×2048×1024 uint8 (4 GiB of zeros): refused from its header, the notice
//   names the file and the limit, the loaded sample stays and still draws, and a valid file still loads after it;
// - autosave when the browser refuses the write for lack of room (QuotaExceededError from OPFS, simulated by an init
//   script since no flag shrinks a real quota): one warning that says what is lost and what to do, the run trains on
//   to the end, and Evaluate works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, ROOT, clickAndWait, dropFiles, openApp, pixelStats, screenshotPixels, startHarness, type Harness } from './harness.ts';
import { runToDone, setUpMicroRun, startRun } from './flows.ts';
import { gzip, writeNifti } from '../../src/nifti/index.ts';
import { mat4 } from '../../src/nifti/affine.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

/** A valid multi-member .nii.gz of 4 GiB of zeros whose header says 2048×2048×1024 uint8: about 4 MB on disk. */
async function zerosNiiGz(): Promise<Uint8Array> {
  const nii = await writeNifti({ dims: [4, 3, 2], channels: 1, data: new Uint8Array(24), affine: mat4([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) }, { gzip: false });
  const v = new DataView(nii.buffer, nii.byteOffset);
  v.setInt16(42, 2048, true); v.setInt16(44, 2048, true); v.setInt16(46, 1024, true);
  const first = await gzip(new Uint8Array([...nii.subarray(0, 352), ...new Uint8Array(1 << 20)]), 9);
  const zeros = await gzip(new Uint8Array(1 << 20), 9);
  const file = new Uint8Array(first.length + 4095 * zeros.length);
  file.set(first);
  for (let i = 0; i < 4095; i++) file.set(zeros, first.length + i * zeros.length);
  return file;
}

describe('resource limits and storage faults', () => {
  it('refuses a volume over the memory limit from its header and keeps everything loaded', async () => {
    const { page, errors } = await openApp(h);
    await page.getByTestId('legend').waitFor({ timeout: 60_000 });
    const before = pixelStats(await screenshotPixels(page, '[data-testid=slice-canvas]'));
    const t0 = Date.now();
    await dropFiles(page, [{ name: 'zeros.nii.gz', bytes: await zerosNiiGz() }]);
    const notice = page.getByTestId('notice-error').filter({ hasText: 'zeros.nii.gz' });
    await notice.waitFor({ timeout: 30_000 });
    const seconds = (Date.now() - t0) / 1000;
    expect(await notice.textContent()).toMatch(/zeros\.nii\.gz: header claims 2048×2048×1024 uint8 voxels: 4\.3 G voxels \(4\.0 GiB\) is over the 1\.5 GB limit of a browser tab .*crop or downsample it first/);
    expect(seconds).toBeLessThan(20); // refused from the header, not after inflating 4 GiB
    await page.screenshot({ path: path.join(ARTIFACTS, 'reliability-over-limit.png') });
    // Nothing lost: the sample is still the one case and still draws; a valid file still loads.
    expect(await page.getByTestId('case-item').count()).toBe(1);
    const after = pixelStats(await screenshotPixels(page, '[data-testid=slice-canvas]'));
    expect(after.colored).toBeCloseTo(before.colored, 2);
    await dropFiles(page, [{ name: 'itk_kmeans_t1.nii.gz', bytes: new Uint8Array(readFileSync(path.join(ROOT, 'public/samples/itk_kmeans_t1.nii.gz'))) }]);
    await expect.poll(() => page.getByTestId('case-item').count(), { timeout: 30_000 }).toBe(2);
    expect(errors).toEqual([]);
  }, 120_000);

  it('goes on training when autosave finds no room, says so once, and evaluates', async () => {
    const page = await h.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The browser's refusal: every OPFS write fails as a full quota does.
    await page.addInitScript(() => {
      const proto = (globalThis as unknown as { FileSystemWritableFileStream?: { prototype: { write: unknown } } }).FileSystemWritableFileStream?.prototype;
      if (proto) proto.write = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    });
    await page.goto(`${h.url}?sample=itk_kmeans`);
    await page.getByTestId('legend').waitFor({ timeout: 60_000 });
    await setUpMicroRun(page, { T: 3, size: 32, steps: 6, batch: 1, valEvery: 2, lr: 0.002 });
    await startRun(page);
    expect(await runToDone(page)).toBe(6);
    const warnings = await page.getByTestId('notice-warning').allTextContents();
    const room = warnings.filter((w) => /Autosave: the browser has no room for the checkpoint/.test(w));
    expect(room, warnings.join(' | ')).toHaveLength(1); // once, not at every validation
    expect(room[0]).toMatch(/Training goes on, but this run will not be offered back after a reload: export a checkpoint to keep it/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'reliability-quota.png') });
    await clickAndWait(page, page.getByTestId('train-evaluate'), page.getByTestId('evaluation'), 120_000);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
