// Every fixture in test/fixtures/weights/formats read by readCheckpoint / readShardedSafetensors and compared with
// what PyTorch reported for the same file (expected.json, written by scripts/make-format-fixtures.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StateDict } from '../types.ts';
import { readCheckpoint, readSafetensors, readShardedSafetensors, readTorchCheckpoint } from './index.ts';
import { FIXTURES, fixtureBlob, fixtureBytes, sum } from './testutil.ts';

interface Summary { shape: number[]; dtype: string; sum: number; values: number[] }
interface Expected { format: string; nested: string; extras: string[]; tensors: Record<string, Summary>; metadata: Record<string, string> }

const all = JSON.parse(readFileSync(FIXTURES + 'expected.json', 'utf8')) as { files: Record<string, Expected> };
const single = Object.keys(all.files).filter((n) => n !== 'edge16.safetensors' && !n.endsWith('.index.json'));

function compare(tensors: StateDict, want: Expected): void {
  expect([...tensors.keys()]).toEqual(Object.keys(want.tensors));
  for (const [key, w] of Object.entries(want.tensors)) {
    const t = tensors.get(key)!;
    expect(t.shape, key).toEqual(w.shape);
    expect(t.dtype, key).toBe(w.dtype);
    expect(t.data.length, key).toBe(w.shape.reduce((a, b) => a * b, 1));
    expect(sum(t.data), key).toBeCloseTo(w.sum, 4);
    expect([...t.data.subarray(0, 6)], key).toEqual(w.values);
  }
}

const openShard = (shard: string) => Promise.resolve(fixtureBlob(`sharded/${shard}`));

describe('fixtures match PyTorch', () => {
  it('has every kind of fixture', () => {
    expect(single.length).toBeGreaterThanOrEqual(8);
  });

  it.each(single)('%s (Blob)', async (name) => {
    const want = all.files[name];
    const r = await readCheckpoint(fixtureBlob(name), name);
    expect(r.format).toBe(want.format);
    expect(r.metadata).toEqual(want.metadata);
    compare(r.tensors, want);
  });

  it.each(single)('%s (Uint8Array)', async (name) => {
    const want = all.files[name];
    const bytes = fixtureBytes(name);
    if (want.format === 'safetensors') {
      compare((await readSafetensors(bytes, name)).tensors, want);
    } else {
      const r = await readTorchCheckpoint(bytes, name);
      expect(r.nested).toBe(want.nested);
      expect([...r.extras].sort()).toEqual(want.extras);
      compare(r.tensors, want);
    }
  });

  it('sharded model with its index', async () => {
    const name = 'sharded/model.safetensors.index.json';
    const index = JSON.parse(readFileSync(FIXTURES + name, 'utf8'));
    const r = await readShardedSafetensors(index, openShard, 'model.safetensors.index.json');
    compare(r.tensors, all.files[name]);
    expect(r.metadata).toEqual(all.files[name].metadata);
  });
});
