// The playground's views in Chromium (the automatic backend — WebAssembly over SwiftShader here —, micro model): train 4 steps on the ITK sample → Evaluate → the
// viewer shows ground truth | prediction side by side (the two drawings differ), 'overlay' and 'off' change what
// is drawn, the readout names the predicted label; the loss curve downloads as CSV (parsed) and the Dice chart
// as a PNG (signature, size, decoded pixels).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, clickAndWait, distinctColours, dropFiles, openApp, pixelDiff, pixelStats, screenshotPixels, startHarness, watchFrameGaps, type Harness, type Pixels } from './harness.ts';
import { runToDone, setUpMicroRun, startRun } from './flows.ts';

const TRUTH = '[data-testid=slice-canvas]';
const PRED = '[data-testid=slice-canvas-prediction]';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

/** Decodes PNG bytes in the browser. */
async function decodePng(page: Page, png: Uint8Array): Promise<Pixels> {
  const d = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const px = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let s = '';
    for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode(...px.subarray(i, i + 0x8000));
    return { width: bmp.width, height: bmp.height, b64: btoa(s) };
  }, Buffer.from(png).toString('base64'));
  return { width: d.width, height: d.height, data: new Uint8ClampedArray(Buffer.from(d.b64, 'base64')) };
}

/** Dismisses the notices (fixed at the bottom right, they can cover part of a canvas). */
async function dismissNotices(page: Page) {
  const close = page.locator('.notice').getByRole('button', { name: 'Dismiss' });
  while (await close.count()) await close.first().click();
}

/**
 * The same checkpoint with a long made-up history (`n` steps, a validation every 50) in its metadata: a way to put
 * thousands of points in the charts. Safetensors: u64 LE header length, JSON header, data (offsets are relative to
 * the data, so the header may change length).
 */
function withLongHistory(bytes: Uint8Array, n: number): Uint8Array {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  const md = header.__metadata__;
  const steps = Array.from({ length: n }, (_, i) => ({
    step: i + 1, loss: 2 * Math.exp(-i / 1500) + 0.1 * Math.sin(i / 7) ** 2, lr: 1e-4 * Math.min(1, (i + 1) / 200), ms: 50, samplesPerSec: 20, numTensors: 100, numBytes: 1e6,
  }));
  steps[2345].loss = 5; // a spike the decimated drawing must keep
  const validations = Array.from({ length: n / 50 }, (_, i) => {
    const dice = Array.from({ length: 7 }, (_, c) => (c === 0 ? 0.99 : Math.min(1, (i / 100) * (0.5 + c / 14))));
    return { step: (i + 1) * 50, dice, meanDice: dice.slice(1).reduce((a, b) => a + b) / 6 };
  });
  header.__metadata__ = { ...md, step: JSON.stringify(n), history: JSON.stringify({ steps, validations }) };
  delete header.__metadata__.optim_step;
  for (const k of Object.keys(header)) if (k.startsWith('optim.')) delete header[k]; // no AdamW state: nothing to resume
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + bytes.length - 8 - len);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(bytes.subarray(8 + len), 8 + head.length);
  return out;
}

async function download(page: Page, testId: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const file = path.join(ARTIFACTS, `playground-${dl.suggestedFilename()}`);
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(readFileSync(file)) };
}

describe('playground view in Chromium (automatic backend)', () => {
  it('shows the evaluated prediction beside the ground truth, switches views, exports curves as CSV and PNG', async () => {
    const t0 = Date.now();
    const { page, errors } = await openApp(h, '?sample=itk_kmeans');
    await page.getByTestId('legend').waitFor();
    expect(await page.getByTestId('prediction-view').count()).toBe(0); // nothing evaluated yet
    await dismissNotices(page);
    const beforeRun = await screenshotPixels(page, TRUTH, 'playground-before-run.png');

    await setUpMicroRun(page, { T: 3, size: 32, steps: 4, batch: 1, valEvery: 2, lr: 0.002 });
    await startRun(page);
    const steps = await runToDone(page);
    expect(steps).toBe(4);
    const tRun = Date.now();
    const table = page.getByTestId('evaluation');
    await clickAndWait(page, page.getByTestId('train-evaluate'), table, 120_000);
    const meanDice = Number((await table.locator('td.num').allTextContents())[0]);
    const tTrained = Date.now();

    // Side by side (the default): two canvases, labelled, same size; the prediction draws something else.
    await dismissNotices(page);
    await page.getByTestId('prediction-view').waitFor();
    expect(await page.getByTestId('prediction-view').getAttribute('data-value')).toBe('side-by-side');
    expect(await page.locator('canvas.slice-canvas').count()).toBe(2);
    expect(await page.getByTestId('slice-canvas-caption').textContent()).toBe('Ground truth');
    const caption = (await page.getByTestId('slice-canvas-prediction-caption').textContent()) ?? '';
    expect(caption).toMatch(/^Prediction · Dice \d\.\d\d$/);
    expect(Math.abs(Number(caption.split('Dice ')[1]) - meanDice)).toBeLessThanOrEqual(0.0051);
    const truth = await screenshotPixels(page, TRUTH, 'playground-side-truth.png');
    const pred = await screenshotPixels(page, PRED, 'playground-side-prediction.png');
    expect([pred.width, pred.height]).toEqual([truth.width, truth.height]);
    expect(pixelStats(truth).colored).toBeGreaterThan(0.02); // the ground truth's classes
    // The same image under the prediction: a 4-step model may paint every pixel one class (ITK's air, with the light
    // default augmentation), so look for the image's texture through the overlay, not for uncovered grey pixels.
    expect(distinctColours(pred)).toBeGreaterThan(64);
    expect(pixelDiff(truth, pred)).toBeGreaterThan(0.01);
    expect(await page.locator(PRED).getAttribute('data-overlay')).toBe('prediction');
    const renderMs = await Promise.all([TRUTH, PRED].map(async (sel) => Number(await page.locator(sel).getAttribute('data-render-ms'))));
    for (const ms of renderMs) expect(ms).toBeLessThan(100);
    // The legend adds the predicted volume and the Dice per class.
    expect(await page.getByTestId('legend').textContent()).toMatch(/pred\. mL.*Dice/);

    // The readout names the ground-truth and the predicted label under the pointer (on either canvas).
    const box = (await page.locator(PRED).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId('readout').textContent()).toMatch(/label.*predicted \d/);
    expect(await page.locator('.twin-cursor').count()).toBe(1); // the same place marked on the ground truth
    await page.locator('.viewer-panel').screenshot({ path: path.join(ARTIFACTS, 'playground-side-by-side.png') });
    // Changing the slice redraws both panes alike: they stay different drawings of the same slice.
    await page.getByTestId('slice-slider').focus();
    await page.keyboard.press('ArrowLeft');
    const truth2 = await screenshotPixels(page, TRUTH);
    expect(pixelDiff(truth2, truth)).toBeGreaterThan(0.001);
    await page.keyboard.press('ArrowRight');

    // Overlay: one canvas, the prediction instead of the ground truth.
    await page.getByTestId('prediction-view-overlay').click();
    await expect.poll(() => page.locator('canvas.slice-canvas').count()).toBe(1);
    expect(await page.locator(TRUTH).getAttribute('data-overlay')).toBe('prediction');
    const overlay = await screenshotPixels(page, TRUTH, 'playground-overlay.png');

    // Off: as before the evaluation (the ground truth's overlay).
    await page.getByTestId('prediction-view-off').click();
    await expect.poll(() => page.locator(TRUTH).getAttribute('data-overlay')).toBe('truth');
    const off = await screenshotPixels(page, TRUTH, 'playground-off.png');
    expect(pixelDiff(overlay, off)).toBeGreaterThan(0.01);
    // The same drawing as before the run, at the size the viewer has now (the run bar and the curves took room).
    expect(await page.locator(TRUTH).getAttribute('data-overlay')).toBe('truth');
    const colouredShare = (px: Pixels) => { const st = pixelStats(px); return st.colored / (1 - st.black); };
    expect(Math.abs(colouredShare(off) - colouredShare(beforeRun))).toBeLessThan(0.02);
    await page.getByTestId('prediction-view-side-by-side').click();
    await expect.poll(() => page.locator('canvas.slice-canvas').count()).toBe(2);

    // The loss curve as CSV: header, one row per step, the numbers the chart shows.
    const csv = await download(page, 'chart-loss-csv');
    expect(csv.name).toBe('loss.csv');
    const lines = new TextDecoder().decode(csv.bytes).split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('step,loss');
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows).toHaveLength(Number(await page.getByTestId('chart-loss').getAttribute('data-points')));
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4]);
    for (const r of rows) expect(Number.isFinite(r[1]) && r[1] > 0).toBe(true);
    const legend = (await page.locator('.chart-wrap', { has: page.getByTestId('chart-loss') }).locator('.chart-legend span').first().textContent()) ?? '';
    expect(legend).toBe(`loss ${rows[3][1].toPrecision(3)} @ 4`);

    // The Dice chart as PNG: 2× the chart, not blank.
    const png = await download(page, 'chart-dice-png');
    expect(png.name).toBe('dice.png');
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.bytes.buffer, png.bytes.byteOffset);
    const ihdr = { width: view.getUint32(16), height: view.getUint32(20) };
    const chartBox = (await page.getByTestId('chart-dice').boundingBox())!;
    expect(ihdr.width).toBe(2 * (Math.round(chartBox.width) + 54));
    expect(ihdr.height).toBeGreaterThan(2 * chartBox.height);
    expect(png.bytes.length).toBeGreaterThan(2000);
    const img = await decodePng(page, png.bytes);
    expect([img.width, img.height]).toEqual([ihdr.width, ihdr.height]);
    const colours = new Set<number>();
    for (let i = 0; i < img.data.length; i += 4) colours.add((img.data[i] << 16) | (img.data[i + 1] << 8) | img.data[i + 2]);
    expect(colours.size).toBeGreaterThan(20); // background, plot, text and coloured class lines (antialiased)
    expect(pixelStats(img).colored).toBeGreaterThan(0.001);

    // Thousands of points: the model again, with a 5000-step history. Drawn decimated, hovered smoothly, exported whole.
    await page.getByTestId('export-optim').uncheck();
    const ck = await download(page, 'export-checkpoint');
    await dropFiles(page, [{ name: 'long_history.safetensors', bytes: withLongHistory(ck.bytes, 5000) }]);
    const loss = page.getByTestId('chart-loss');
    await expect.poll(() => loss.getAttribute('data-points'), { timeout: 60_000 }).toBe('5000');
    expect(Number(await loss.getAttribute('data-drawn'))).toBeLessThanOrEqual(1200);
    // A new model: its evaluation is gone; the viewer asks for its live prediction of the slice in view.
    await expect.poll(() => page.getByTestId('live-prediction').getAttribute('data-state'), { timeout: 60_000 }).toBe('shown');
    const lossBox = (await loss.boundingBox())!;
    const lossLegend = page.locator('.chart-wrap', { has: loss }).locator('.chart-legend span').first();
    const gaps = await watchFrameGaps(page);
    const tHover = Date.now();
    const MOVES = 60;
    for (let i = 0; i <= MOVES; i++) await page.mouse.move(lossBox.x + (lossBox.width * i) / MOVES, lossBox.y + lossBox.height / 2);
    const hoverMs = (Date.now() - tHover) / (MOVES + 1);
    const maxGap = await gaps();
    await expect.poll(() => lossLegend.textContent()).toMatch(/@ (49\d\d|5000)$/); // the pointer at the right end
    await page.mouse.move(lossBox.x + lossBox.width * 0.469, lossBox.y + lossBox.height / 2);
    await expect.poll(() => lossLegend.textContent()).toMatch(/@ 23\d\d$/);
    await page.locator('.chart-wrap', { has: loss }).screenshot({ path: path.join(ARTIFACTS, 'playground-loss-5000.png') });
    expect(maxGap).toBeLessThan(500);
    const longCsv = new TextDecoder().decode((await download(page, 'chart-loss-csv')).bytes).split('\r\n');
    expect(longCsv).toHaveLength(5002); // header, 5000 rows, the final CRLF
    expect(longCsv[2346]).toBe('2346,5');
    const diceCsv = new TextDecoder().decode((await download(page, 'chart-dice-csv')).bytes).split('\r\n');
    expect(diceCsv[0]).toBe('step,mean Dice,nonbrain_dark,nonbrain_mid,nonbrain_bright,brain_dark,brain_mid,brain_bright');
    expect(diceCsv).toHaveLength(102);
    console.log(`playground-view: 5000-point loss chart: ${hoverMs.toFixed(1)} ms per pointer move (incl. Playwright), longest frame gap ${maxGap.toFixed(0)} ms`);

    console.log(`playground-view: set up + trained in ${((tRun - t0) / 1000).toFixed(1)} s, evaluated in ${((tTrained - tRun) / 1000).toFixed(1)} s, views and exports in ${((Date.now() - tTrained) / 1000).toFixed(1)} s; side-by-side render ${renderMs.join(' / ')} ms`);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
