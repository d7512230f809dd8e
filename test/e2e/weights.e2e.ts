// Encoders in Chromium: a Hub download (from a local Hub-shaped server) resumed after a dropped connection,
// inflated in the worker; export and re-import; a non-ViT checkpoint refused while the encoder stays; cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, dropFiles, openApp, startHarness, watchFrameGaps, type Harness } from './harness.ts';
import { microHubFiles, startHubServer, type HubServer } from '../support/hubServer.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';

const DIR = path.resolve(import.meta.dirname, '../fixtures/weights/layouts');
const fixture = (n: string) => new Uint8Array(readFileSync(path.join(DIR, n)));

let h: Harness;
let hub: HubServer;
beforeAll(async () => {
  h = await startHarness();
  // A micro ViT in timm layout at a Hub path, with the head count in config.json (timm repos ship one).
  hub = await startHubServer({
    ...microHubFiles({ num_classes: 5 }),
    'timm/slow_vit/model.safetensors': fixture('beit_timm.safetensors'),
  });
  hub.throttle('/timm/slow_vit/resolve/main/model.safetensors', 1024, 50);
});
afterAll(async () => { await hub?.close(); await h?.close(); });

describe('encoder conversion in Chromium', () => {
  it('downloads from the Hub (resuming after a dropped connection), inflates, exports and re-imports', async () => {
    hub.failOnce('/timm/vit_micro_patch4_16/resolve/main/model.safetensors', 20_000);
    const { page, errors } = await openApp(h, `?sample=none&hub=${encodeURIComponent(hub.url)}`);
    await page.getByTestId('opt-size').fill('32');
    await page.getByTestId('hub-id').fill('timm/vit_micro_patch4_16');
    await page.getByTestId('hub-load').click();
    const card = page.getByTestId('encoder-card');
    await card.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('encoder-family').textContent()).toContain('ViT · timm');
    expect(await page.getByTestId('encoder-kernel').textContent()).toBe('[24, 1, 5, 4, 4]');
    const reqs = hub.requests.filter((r) => r.path.endsWith('model.safetensors'));
    expect(reqs.length).toBe(2);
    expect(reqs[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    await page.locator('.model-panel').screenshot({ path: path.join(ARTIFACTS, 'encoder-panel.png') });

    // Export: the downloaded file is a safetensors with timm names, a Conv3d kernel and the config in metadata.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('encoder-export').click()]);
    const saved = path.join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toBe('vit_micro_patch4_16_inflated_center_T5.safetensors');
    const exported = await readSafetensors(new Uint8Array(readFileSync(saved)), 'export');
    expect(exported.metadata.format).toBe('inflateseg-encoder/1');
    expect(JSON.parse(exported.metadata.options)).toMatchObject({ strategy: 'center', T: 5, inChans: 1, imgSize: 32 });
    expect(exported.tensors.get('patch_embed.proj.weight')!.shape).toEqual([24, 1, 5, 4, 4]);
    expect(exported.tensors.get('pos_embed')!.shape).toEqual([1, 1 + 8 * 8, 24]);
    expect(exported.tensors.has('head.weight')).toBe(false);

    // Re-import by drop: the same encoder, loaded as it is.
    await dropFiles(page, [{ name: 'reimported.safetensors', bytes: new Uint8Array(readFileSync(saved)) }]);
    await expect.poll(() => card.locator('.encoder-title').textContent()).toBe('reimported.safetensors');
    expect(await card.textContent()).toContain('exported from timm/vit_micro_patch4_16');
    expect(await page.getByTestId('encoder-kernel').textContent()).toBe('[24, 1, 5, 4, 4]');

    // A second visit (same browser profile) takes the weights from Cache Storage: no new download.
    const before = hub.requests.filter((r) => r.path.endsWith('model.safetensors')).length;
    await page.reload();
    await page.getByTestId('hub-id').fill('timm/vit_micro_patch4_16');
    await page.getByTestId('hub-load').click();
    await expect.poll(() => card.locator('.encoder-title').textContent()).toBe('timm/vit_micro_patch4_16');
    expect(hub.requests.filter((r) => r.path.endsWith('model.safetensors')).length).toBe(before);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses a ResNet checkpoint with a clear message and keeps the encoder in use', async () => {
    const { page, errors } = await openApp(h, '?sample=none');
    await dropFiles(page, [{ name: 'timm_vit.safetensors', bytes: fixture('timm_vit.safetensors') }, { name: 'config.json', bytes: new TextEncoder().encode('{"num_heads": 2}') }]);
    await page.getByTestId('encoder-card').waitFor();
    const before = await page.getByTestId('encoder-card').textContent();
    await dropFiles(page, [{ name: 'resnet50.pth', bytes: fixture('resnet_like.pth') }]);
    const err = page.getByTestId('notice-error').first();
    await err.waitFor();
    const msg = (await err.textContent())!;
    expect(msg).toMatch(/resnet50\.pth/);
    expect(msg).toMatch(/not a ViT checkpoint/);
    expect(msg).toMatch(/previous encoder \(timm_vit\.safetensors \+ config\.json\) is still in use/);
    expect(await page.getByTestId('encoder-card').textContent()).toBe(before);
    writeFileSync(path.join(ARTIFACTS, 'resnet-error.txt'), msg);

    // Cancel a slow download: the conversion stops, the encoder in use stays.
    await page.getByTestId('hub-base').evaluate((el) => ((el.closest('details') as HTMLDetailsElement).open = true));
    await page.getByTestId('hub-base').fill(hub.url);
    await page.getByTestId('hub-id').fill('timm/slow_vit');
    await page.getByTestId('hub-load').click();
    await expect.poll(() => page.getByTestId('conversion-progress').textContent()).toMatch(/download.*\d+ %/);
    await page.getByTestId('conversion-cancel').click();
    await expect.poll(() => page.getByTestId('conversion-progress').count()).toBe(0);
    await expect.poll(() => page.locator('.notices').textContent()).toMatch(/timm\/slow_vit: conversion cancelled\. The previous encoder .* is still in use/);
    expect(await page.getByTestId('encoder-card').textContent()).toBe(before);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('a full-size checkpoint', () => {
  it('converts a ViT-S/16-sized checkpoint (88 MB) in the worker while the page keeps drawing frames', async () => {
    const { writeSafetensors } = await import('../../src/weights/formats/index.ts');
    const { vitState } = await import('../support/vitCheckpoint.ts');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'inflateseg-vits-')), 'vit_small_like.safetensors');
    writeFileSync(file, writeSafetensors(vitState(384, 12)));
    const { page, errors } = await openApp(h, '?sample=none');
    await page.getByTestId('opt-size').fill('128');
    const maxFrameGap = await watchFrameGaps(page);
    await page.getByTestId('checkpoint-input').setInputFiles(file);
    await page.getByTestId('encoder-card').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('encoder-kernel').textContent()).toBe('[384, 1, 5, 16, 16]');
    expect(await page.getByTestId('encoder-family').textContent()).toContain('ViT · timm');
    const maxGap = await maxFrameGap();
    writeFileSync(path.join(ARTIFACTS, 'vits-max-frame-gap-ms.txt'), `${maxGap.toFixed(0)}\n`);
    expect(maxGap).toBeLessThan(1000);
    expect(errors).toEqual([]);
    await page.close();
  });
});
