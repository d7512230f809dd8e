// gzip helpers: both the stream path and the fflate fallback, on good, multi-member, truncated and corrupt input.
import { gzipSync } from 'fflate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { _fallback, concatChunks, crc32, gunzip, gzip, isGzip } from './gzip.ts';
import { readNifti } from './read.ts';
import { fixtureBytes } from './testutil.ts';

const text = new TextEncoder().encode('InflateSeg '.repeat(5000));

function corrupt(gz: Uint8Array, at: number): Uint8Array {
  const bad = gz.slice();
  for (let i = at; i < at + 4; i++) bad[i] ^= 0xa5;
  return bad;
}

describe.each([
  ['streams', { gunzip, gzip }],
  ['fflate', _fallback],
])('gzip via %s', (_label, impl) => {
  it('round trips', async () => {
    const gz = await impl.gzip(text);
    expect(isGzip(gz)).toBe(true);
    expect(gz.length).toBeLessThan(text.length / 10);
    expect(await impl.gunzip(gz)).toEqual(text);
    expect(await impl.gunzip(await impl.gzip(new Uint8Array(0)))).toEqual(new Uint8Array(0));
  });

  it('reads multi-member streams (concatenated .gz files)', async () => {
    const two = concatChunks([gzipSync(text.subarray(0, 1000)), gzipSync(text.subarray(1000))]);
    expect(await impl.gunzip(two)).toEqual(text);
  });

  it('rejects truncated streams', async () => {
    const gz = gzipSync(text);
    for (const keep of [5, 12, gz.length >> 1, gz.length - 4, gz.length - 1]) {
      await expect(impl.gunzip(gz.subarray(0, keep)), `kept ${keep}`).rejects.toThrow();
    }
  });

  it('rejects corrupt deflate data and a corrupt trailer', async () => {
    const gz = gzipSync(text);
    for (const at of [15, 40, gz.length >> 1, gz.length - 8, gz.length - 4]) {
      await expect(impl.gunzip(corrupt(gz, at)), `corrupted at ${at}`).rejects.toThrow();
    }
  });
});

describe('gzip helpers', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('gunzip refuses non-gzip bytes', async () => {
    await expect(gunzip(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not a gzip stream/);
  });

  it('readNifti works without (De)CompressionStream (fflate fallback)', async () => {
    vi.stubGlobal('DecompressionStream', undefined);
    vi.stubGlobal('CompressionStream', undefined);
    const vol = await readNifti(fixtureBytes('nifti2_be.nii.gz'), 'nifti2_be.nii.gz');
    expect(vol.dims).toEqual([7, 6, 5]);
    expect(isGzip(await gzip(text))).toBe(true);
  });

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('6789'), crc32(new TextEncoder().encode('12345')))).toBe(0xcbf43926);
  });
});
