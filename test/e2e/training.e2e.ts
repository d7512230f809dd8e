// Training in Chromium on WebGPU, forced with ?backend=webgpu (SwiftShader on CI, which the automatic choice would
// skip for WebAssembly; micro model, a few steps): encoder + labelled case → Train →
// live curves and the live slice prediction in the viewer → pause/resume → done → Evaluate gives 3D Dice and HD95 → export the model
// checkpoint (parsed here) → reload the page → import it by drop → the same evaluation and prediction → continue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, ROOT, clickAndWait, distinctColours, dropFiles, openApp, screenshotPixels, startHarness, type Harness } from './harness.ts';
import { readNifti } from '../../src/nifti/index.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';

const fixture = (n: string) => new Uint8Array(readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts', n)));

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

describe('training in Chromium (WebGPU)', () => {
  it('trains a micro model for a few steps with live curves, pauses and resumes, then evaluates', async () => {
    const { page, errors } = await openApp(h, '?sample=itk_kmeans', { backend: 'webgpu' });
    await page.getByTestId('legend').waitFor();
    await page.getByTestId('opt-T').fill('3');
    await page.getByTestId('opt-size').fill('32');
    await dropFiles(page, [{ name: 'timm_vit.safetensors', bytes: fixture('timm_vit.safetensors') }, { name: 'config.json', bytes: new TextEncoder().encode('{"num_heads": 2}') }]);
    await page.getByTestId('encoder-card').waitFor();
    await page.getByTestId('cfg-steps').fill('6');
    await page.getByTestId('cfg-batch').fill('1');
    await page.getByTestId('cfg-val').fill('3');
    await page.getByTestId('cfg-lr').fill('0.002');
    await page.getByTestId('train-start').click();
    const status = page.getByTestId('run-status');
    // Pause after the first step, check nothing moves, resume.
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toMatch(/step [1-9]/);
    await page.getByTestId('train-pause').click();
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toBe('paused');
    // A step already in flight finishes (pause takes effect within one step); after that nothing moves.
    await page.waitForTimeout(6000);
    const pausedAt = await status.textContent();
    await page.waitForTimeout(2000);
    expect(await status.textContent()).toBe(pausedAt);
    await page.keyboard.press('Space'); // space resumes
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 180_000 }).toBe('done');
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('6');
    expect(Number(await page.getByTestId('chart-dice').getAttribute('data-points'))).toBe(2);
    // The live prediction of the slice in view, at the last step.
    await expect.poll(() => page.getByTestId('live-prediction').getAttribute('data-step'), { timeout: 60_000 }).toBe('6');
    expect(await page.getByTestId('backend').textContent()).toMatch(/^WebGPU/);
    await page.locator('.workspace').screenshot({ path: path.join(ARTIFACTS, 'training-panel.png') });
    // Every panel has drawn content (text, charts, the slice): kept as artefacts and checked not to be blank. The run
    // folded Dataset and Model away: open them (Training settings reopened at the end of the run).
    for (const id of ['dataset', 'model']) await page.locator(`summary[data-section=${id}]`).click();
    for (const name of ['Dataset', 'Model', 'Training', 'Run', 'Curves', 'Viewer']) {
      const px = await screenshotPixels(page, `section[aria-label="${name}"]`, `panel-${name.toLowerCase()}.png`);
      expect(distinctColours(px), name).toBeGreaterThan(40);
    }

    const table = page.getByTestId('evaluation');
    await clickAndWait(page, page.getByTestId('train-evaluate'), table, 180_000);
    const cells = await table.locator('td.num').allTextContents();
    const dice = Number(cells[0]);
    expect(dice).toBeGreaterThanOrEqual(0);
    expect(dice).toBeLessThanOrEqual(1);

    // The predicted segmentation as .nii.gz: on the image file's grid (stored LSA, 128×128×62) with its affine.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-prediction').first().click()]);
    const saved = path.join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(saved);
    const pred = await readNifti(new Uint8Array(readFileSync(saved)), download.suggestedFilename());
    const src = await readNifti(new Uint8Array(readFileSync(path.join(ROOT, 'public/samples/itk_kmeans_t1.nii.gz'))), 'itk_kmeans_t1.nii.gz');
    expect(pred.dims).toEqual(src.dims);
    expect(pred.axcodes).toBe(src.axcodes);
    for (let i = 0; i < 16; i++) expect(pred.affine[i]).toBeCloseTo(src.affine[i], 4);
    let top = 0;
    for (let i = 0; i < pred.data.length; i++) top = Math.max(top, pred.data[i]);
    expect(top).toBeGreaterThan(0);
    expect(top).toBeLessThan(7);

    // The model as a checkpoint, with the optimiser state: parsed here as any safetensors reader would.
    const [ck] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-checkpoint').click()]);
    const ckName = ck.suggestedFilename();
    expect(ckName).toMatch(/^timm_vit_center_T3_step6\.safetensors$/);
    const ckPath = path.join(ARTIFACTS, ckName);
    await ck.saveAs(ckPath);
    const ckBytes = new Uint8Array(readFileSync(ckPath));
    const st = await readSafetensors(ckBytes, ckName);
    expect(st.tensors.get('patch_embed.proj.weight')!.shape).toEqual([24, 1, 3, 4, 4]);
    expect([...st.tensors.keys()].filter((k) => k.startsWith('decode_head.')).length).toBeGreaterThan(5);
    expect(st.tensors.get('optim.m.blocks.1.mlp.fc2.weight')!.shape).toEqual(st.tensors.get('blocks.1.mlp.fc2.weight')!.shape);
    expect(st.metadata.format).toBe('inflateseg-model/1');
    expect(JSON.parse(st.metadata.step)).toBe(6);
    expect(JSON.parse(st.metadata.config)).toMatchObject({ T: 3, imgSize: 32, numClasses: 7 });
    expect(JSON.parse(st.metadata.class_names)).toHaveLength(7);
    expect(JSON.parse(st.metadata.history).steps).toHaveLength(6);
    expect(st.metadata.app_version).toMatch(/^\d+\.\d+\.\d+/);

    // A fresh page: import the checkpoint by drop; the curves come back and evaluation gives the same numbers.
    await page.reload();
    await page.getByTestId('legend').waitFor();
    await dropFiles(page, [{ name: ckName, bytes: ckBytes }]);
    await expect.poll(() => page.getByTestId('loaded-model').textContent(), { timeout: 60_000 }).toMatch(/step 6/);
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('6');
    await page.getByTestId('train-evaluate').click();
    await table.waitFor({ timeout: 180_000 });
    expect(await table.locator('td.num').allTextContents()).toEqual(cells);
    const [again] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-prediction').first().click()]);
    const saved2 = path.join(ARTIFACTS, `reimported_${again.suggestedFilename()}`);
    await again.saveAs(saved2);
    const pred2 = await readNifti(new Uint8Array(readFileSync(saved2)), again.suggestedFilename());
    expect(pred2.data).toEqual(pred.data);

    // Continue the imported model for 2 more steps (with its AdamW state).
    await page.getByTestId('cfg-steps').fill('8');
    await page.getByTestId('train-continue').click();
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 180_000 }).toBe('done');
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('8');
    await page.locator('.workspace').screenshot({ path: path.join(ARTIFACTS, 'training-panel-continued.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);
});
