// The weights worker's job on Swin and Video Swin files as the app receives them (dropped files, a config.json beside
// the Hugging Face weights, a Hub repo on a local Hub-shaped server): detected family and layout, the inflated kernel,
// and the notes the encoder card shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { startHubServer, type HubServer } from '../support/hubServer.ts';
import type { InflateOptions } from '../../src/weights/types.ts';

const DIR = path.resolve(import.meta.dirname, '../fixtures/weights/layouts');
const file = (name: string, as = name) => ({ name: as, blob: new Blob([readFileSync(path.join(DIR, name))]) });
const opts: InflateOptions = { strategy: 'center', T: 5, inChans: 1, imgSize: 32, seed: 0 };
const REPO = 'timm/swin_tiny_patch4_window7_224.ms_in1k';

let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({
    [`${REPO}/model.safetensors`]: new Uint8Array(readFileSync(path.join(DIR, 'swin_timm.safetensors'))),
    [`${REPO}/config.json`]: new Uint8Array(readFileSync(path.join(DIR, 'swin_timm.config.json'))),
  });
});
afterAll(() => hub.close());

describe('convertEncoder with Swin checkpoints', () => {
  const cases: Array<[string[], string, string, number[]]> = [
    [['swin_timm.safetensors'], 'swin', 'timm', [4, 1, 5, 4, 4]],
    [['swin_micro_patch4_window2_32.pth'], 'swin', 'swin-original', [4, 1, 5, 4, 4]],
    [['hf_swin.pytorch_model.bin', 'hf_swin.config.json'], 'swin', 'hf-swin', [4, 1, 5, 4, 4]],
    [['swin_micro_patch244_window222_kinetics.pth'], 'videoswin', 'videoswin-original', [4, 1, 2, 4, 4]],
    [['torchvision_swin3d.pth'], 'videoswin', 'torchvision-swin3d', [4, 1, 2, 4, 4]],
  ];
  for (const [names, family, layout, kernel] of cases) {
    it(`${names.join(' + ')} → ${family}/${layout}, kernel [${kernel}]`, async () => {
      const files = names.map((n) => (n.endsWith('config.json') ? file(n, 'config.json') : file(n)));
      const r = await convertEncoder({ kind: 'files', files }, opts, undefined, undefined);
      expect(r.spec).toMatchObject({ family, layout, T: 5, grid: [8, 8], inflation: 'center' });
      expect(r.spec2d.swin!.depths).toEqual([2, 2, 1, 1]);
      expect(r.tensors.find((t) => t.name === 'patch_embed.proj.weight')!.shape).toEqual(kernel);
      expect(r.tensors.some((t) => t.name.startsWith('head') || t.name.endsWith('relative_position_index'))).toBe(false);
      expect(r.report.dropped.length).toBeGreaterThan(0);
      if (family === 'videoswin') expect(r.notes.join('\n')).toMatch(/temporal taps kept as pre-trained \(center = the same kernel for Video Swin\), T = 5 slices/);
    });
  }

  it('the Swin-T preset from a Hub-shaped server (timm layout with its config.json), with the preset family as the hint', async () => {
    const r = await convertEncoder({ kind: 'hub', repo: REPO, baseUrl: hub.url }, { ...opts, strategy: '2d' }, { family: 'swin' }, undefined);
    expect(r.spec).toMatchObject({ family: 'swin', layout: 'timm', T: 1, inflation: '2d' });
    expect(r.tensors.find((t) => t.name === 'patch_embed.proj.weight')!.shape).toEqual([4, 1, 1, 4, 4]);
    expect(hub.requests.map((q) => q.path)).toEqual(expect.arrayContaining([`/${REPO}/resolve/main/model.safetensors`]));
    await expect(convertEncoder({ kind: 'hub', repo: REPO, baseUrl: hub.url }, opts, { family: 'videoswin' }, undefined)).rejects.toThrow(/the preset says videoswin, but the checkpoint is a Swin/);
  });

  it('automatic size for a Swin is a multiple of 32 (patch 4, three mergings): slices of 100×90 → 96 px', async () => {
    const r = await convertEncoder({ kind: 'files', files: [file('swin_timm.safetensors')] }, { ...opts, autoSize: { plane: [100, 90] } }, undefined, undefined);
    expect(r.options.imgSize).toBe(96);
    expect(r.spec.grid).toEqual([24, 24]);
  });
});
