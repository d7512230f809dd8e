// The weights worker's job end to end in Node: real-layout fixture files (and a Hub-shaped server) → timm names →
// inflated encoder; export → import gives identical tensors; bad inputs fail with the file named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convertEncoder } from '../../src/workers/weights.job.ts';
import { encodeEncoder } from '../../src/weights/export.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';
import { startHubServer, type HubServer } from '../support/hubServer.ts';
import type { InflateOptions } from '../../src/weights/types.ts';

const DIR = path.resolve(import.meta.dirname, '../fixtures/weights/layouts');
const file = (name: string) => ({ name, blob: new Blob([readFileSync(path.join(DIR, name))]) });
const opts: InflateOptions = { strategy: 'center', T: 5, inChans: 1, imgSize: 16, seed: 0 };
const hint = { numHeads: 2 };

let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({ 'timm/vit_micro/model.safetensors': new Uint8Array(readFileSync(path.join(DIR, 'timm_vit.safetensors'))) });
});
afterAll(() => hub.close());

describe('convertEncoder', () => {
  const cases: Array<[string, string[], string, string]> = [
    ['timm ViT (.safetensors)', ['timm_vit.safetensors'], 'vit', 'timm'],
    ['timm ViT (.pth)', ['timm_vit.pth'], 'vit', 'timm'],
    ['timm DeiT distilled', ['timm_deit_distilled.safetensors'], 'deit', 'timm'],
    ['DINO release (.pth)', ['dino_vitmicro4_pretrain.pth'], 'dino', 'dino-original'],
    ['DINO teacher/student checkpoint', ['dino_vitmicro4_checkpoint.pth'], 'dino', 'dino-original'],
    ['BEiT timm', ['beit_timm.safetensors'], 'beit', 'timm'],
    ['BEiT original (shared table)', ['beit_original.pth'], 'beit', 'beit-original'],
    ['HF ViT (pytorch_model.bin + config.json)', ['hf_vit.pytorch_model.bin', 'hf_vit.config.json'], 'vit', 'hf-vit'],
    ['HF DeiT', ['hf_deit.pytorch_model.bin', 'hf_deit.config.json'], 'deit', 'hf-deit'],
  ];
  for (const [title, names, family, layout] of cases) {
    it(`${title} → ${family}/${layout}, Conv3d patch kernel [24, 1, 5, 4, 4]`, async () => {
      const files = names.map((n) => (n.endsWith('config.json') ? { ...file(n), name: 'config.json' } : file(n)));
      const phases = new Set<string>();
      const r = await convertEncoder({ kind: 'files', files }, opts, hint, undefined, (p) => phases.add(p));
      expect(r.spec.family).toBe(family);
      expect(r.spec.layout).toBe(layout);
      expect(r.tensors.find((t) => t.name === 'patch_embed.proj.weight')!.shape).toEqual([24, 1, 5, 4, 4]);
      expect(r.tensors.some((t) => t.name.startsWith('head.'))).toBe(false);
      expect([...phases]).toEqual(expect.arrayContaining(['read', 'map', 'inflate']));
    });
  }

  it('export → import gives identical tensors and the same config', async () => {
    const a = await convertEncoder({ kind: 'files', files: [file('beit_original.pth')] }, { ...opts, inChans: 2, imgSize: 24 }, hint, undefined);
    const bytes = encodeEncoder(a.tensors, a.spec, a.options, { source: a.source, spec2d: a.spec2d });
    // The file is a plain safetensors any PyTorch user can read: check the header with the independent reader too.
    const raw = await readSafetensors(bytes, 'export.safetensors');
    expect(raw.metadata.format).toBe('inflateseg-encoder/1');
    expect(raw.tensors.get('patch_embed.proj.weight')!.shape).toEqual([24, 2, 5, 4, 4]);
    const b = await convertEncoder({ kind: 'files', files: [{ name: 'export.safetensors', blob: new Blob([bytes as BlobPart]) }] }, opts, hint, undefined);
    expect(b.spec).toEqual(a.spec);
    expect(b.options).toEqual(a.options);
    expect(b.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name));
    for (let i = 0; i < a.tensors.length; i++) {
      expect(b.tensors[i].shape).toEqual(a.tensors[i].shape);
      expect(Buffer.from(b.tensors[i].data.buffer, b.tensors[i].data.byteOffset, b.tensors[i].data.byteLength).equals(
        Buffer.from(a.tensors[i].data.buffer, a.tensors[i].data.byteOffset, a.tensors[i].data.byteLength))).toBe(true);
    }
    expect(b.notes.join(' ')).toMatch(/loaded as it is, not inflated again/);
  });

  it('downloads from a Hub-shaped server', async () => {
    const seen: string[] = [];
    const r = await convertEncoder({ kind: 'hub', repo: 'timm/vit_micro', baseUrl: hub.url }, opts, hint, undefined, (p) => seen.push(p));
    expect(r.source).toBe('timm/vit_micro');
    expect(r.spec.family).toBe('vit');
    expect(seen[0]).toBe('download');
  });

  it('refuses a ResNet, two checkpoints at once, and a truncated file, naming the file', async () => {
    await expect(convertEncoder({ kind: 'files', files: [file('resnet_like.pth')] }, opts, hint, undefined)).rejects.toThrow(/^resnet_like\.pth: .*not a ViT checkpoint/);
    await expect(convertEncoder({ kind: 'files', files: [file('timm_vit.pth'), file('beit_timm.safetensors')] }, opts, hint, undefined)).rejects.toThrow(/2 checkpoint files/);
    const cut = readFileSync(path.join(DIR, 'timm_vit.safetensors')).subarray(0, 3000);
    await expect(convertEncoder({ kind: 'files', files: [{ name: 'cut.safetensors', blob: new Blob([cut]) }] }, opts, hint, undefined)).rejects.toThrow(/cut\.safetensors/);
  });

  it('stops when cancelled', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(convertEncoder({ kind: 'files', files: [file('timm_vit.safetensors')] }, opts, hint, ctl.signal)).rejects.toThrow();
  });
});
