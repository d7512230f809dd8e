// Hub downloads against a local Hub-shaped server: file resolution, progress, resume after a cut connection, cache, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, downloadRepoWeights, hubUrl, validateRepoId, type HubCache } from './hub.ts';
import { startHubServer, type HubServer } from '../../test/support/hubServer.ts';

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const weights = bytes(300_000);
let hub: HubServer;

beforeAll(async () => {
  hub = await startHubServer({
    'timm/vit_micro/model.safetensors': weights,
    'timm/vit_micro/config.json': new TextEncoder().encode('{"architecture": "vit_micro"}'),
    'acme/sharded/model.safetensors.index.json': new TextEncoder().encode(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } })),
    'acme/sharded/model-00001-of-00002.safetensors': bytes(1000, 2),
    'acme/sharded/model-00002-of-00002.safetensors': bytes(2000, 3),
    'google/vit-micro/pytorch_model.bin': bytes(5000, 4),
  });
});
afterAll(() => hub.close());

const memoryCache = (): HubCache & { store: Map<string, Blob> } => {
  const store = new Map<string, Blob>();
  return {
    store,
    match: async (u) => (store.has(u) ? new Response(store.get(u)!) : undefined),
    put: async (u, r) => { store.set(u, await r.blob()); },
  };
};

describe('hub', () => {
  it('builds Hub URLs and validates repo ids', () => {
    expect(hubUrl('timm/vit_small_patch16_224.dino', 'model.safetensors')).toBe('https://huggingface.co/timm/vit_small_patch16_224.dino/resolve/main/model.safetensors');
    expect(hubUrl('a/b', 'x y.bin', 'http://h/', 'v1.0')).toBe('http://h/a/b/resolve/v1.0/x%20y.bin');
    expect(validateRepoId('timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k')).toBeNull();
    expect(validateRepoId('not a repo')).toMatch(/not a Hugging Face repo id/);
  });

  it('downloads with monotonic progress that ends at the size, and caches the file', async () => {
    const seen: number[] = [];
    const cache = memoryCache();
    const f = await downloadFile('timm/vit_micro', 'model.safetensors', { baseUrl: hub.url, cache, onProgress: (d, t) => { seen.push(d); expect(t).toBe(weights.length); } });
    expect(new Uint8Array(await f.blob.arrayBuffer())).toEqual(weights);
    expect(seen.at(-1)).toBe(weights.length);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
    const before = hub.requests.length;
    const again = await downloadFile('timm/vit_micro', 'model.safetensors', { baseUrl: hub.url, cache });
    expect(again.fromCache).toBe(true);
    expect(hub.requests.length).toBe(before); // no network on the second visit
  });

  it('resumes with a Range request after the connection drops mid-file', async () => {
    hub.failOnce('/timm/vit_micro/resolve/main/model.safetensors', 100_000);
    const start = hub.requests.length;
    const f = await downloadFile('timm/vit_micro', 'model.safetensors', { baseUrl: hub.url, backoffMs: () => 0 });
    expect(new Uint8Array(await f.blob.arrayBuffer())).toEqual(weights);
    const reqs = hub.requests.slice(start);
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(reqs[1].range!)![1])).toBeGreaterThan(0);
  });

  it('gives up after the retries with a message naming the repo, the file and the bytes received', async () => {
    const failing: typeof fetch = async () => { throw new TypeError('Failed to fetch'); };
    await expect(downloadFile('timm/vit_micro', 'model.safetensors', { baseUrl: hub.url, fetch: failing, retries: 2, backoffMs: () => 0 }))
      .rejects.toThrow(/timm\/vit_micro: downloading model\.safetensors failed after 3 attempts \(0 of \? bytes\): Failed to fetch/);
  });

  it('resolves single files, shards and pytorch_model.bin, with config.json when present', async () => {
    const single = await downloadRepoWeights('timm/vit_micro', { baseUrl: hub.url });
    expect(single.files.map((f) => f.path)).toEqual(['model.safetensors']);
    expect(single.config).toEqual({ architecture: 'vit_micro' });
    const sharded = await downloadRepoWeights('acme/sharded', { baseUrl: hub.url });
    expect(sharded.files.map((f) => f.path)).toEqual(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const bin = await downloadRepoWeights('google/vit-micro', { baseUrl: hub.url });
    expect(bin.files.map((f) => f.path)).toEqual(['pytorch_model.bin']);
    expect(bin.config).toBeUndefined();
    await expect(downloadRepoWeights('nobody/nothing', { baseUrl: hub.url })).rejects.toThrow(/nobody\/nothing: no weights found/);
  });
});
