// How readNifti takes the voxels out of the file: a zero-copy view of gunzip's output when little-endian and aligned,
// else a (byte-swapped) copy; the same values either way, for every dtype, byte order and vox_offset alignment.
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { gunzipSizeHint, setGzipCodec } from './gzip.ts';
import { sniffNifti } from './header.ts';
import { gzip, readNifti } from './index.ts';
import { fixtureBytes } from './testutil.ts';

/** Fixtures written by nibabel (scripts/make-nifti-fixtures.py) and checked against it in fixtures.test.ts. */
const DTYPES = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];
const FILES = [...DTYPES.flatMap((d) => [`dtype_${d}_le.nii`, `dtype_${d}_be.nii`]), 'float_nonfinite.nii', 'scaled_int16.nii', 'nifti2_le.nii'];

/**
 * The same NIfTI-1 file with `extra` bytes between the header and the voxels and vox_offset moved by as much; with
 * `extension`, the first 16 of them are a real header extension (flag byte 348 set, esize 16, ecode 6 'comment').
 */
function shifted(nii: Uint8Array, extra: number, extension = false): Uint8Array {
  const le = sniffNifti(nii)!.littleEndian;
  const v = new DataView(nii.buffer, nii.byteOffset, nii.byteLength);
  const off = v.getFloat32(108, le);
  const out = new Uint8Array(nii.length + extra);
  out.set(nii.subarray(0, off));
  out.set(nii.subarray(off), off + extra);
  const o = new DataView(out.buffer);
  o.setFloat32(108, off + extra, le);
  if (extension) {
    out[348] = 1;
    o.setInt32(352, 16, le);
    o.setInt32(356, 6, le);
    out.set(new TextEncoder().encode('hello!'), 360);
  }
  return out;
}

/** True when the voxel array is a view into a larger buffer (the decompressed file), not a copy of its own. */
function isView(data: ArrayBufferView): boolean {
  return data.byteOffset > 0;
}

afterEach(() => setGzipCodec(null));

describe.each(FILES)('%s', (name) => {
  it('gives the same voxels from .nii, .nii.gz, unaligned and extended vox_offset, and through zlib', async () => {
    const nii = fixtureBytes(name);
    const ref = await readNifti(nii, name); // the copying path, checked against nibabel in fixtures.test.ts
    if (name.endsWith('_be.nii')) {
      // nibabel wrote the same values in both byte orders: the swapped copy equals the little-endian file's view.
      const twin = name.replace('_be.nii', '_le.nii');
      expect(ref.data).toEqual((await readNifti(await gzip(fixtureBytes(twin)), twin)).data);
    }
    const le = sniffNifti(nii)!.littleEndian;
    const bytesPer = ref.data.BYTES_PER_ELEMENT;
    const scaled = name.startsWith('scaled');
    const variants: Array<[string, Uint8Array]> = name.startsWith('nifti2')
      ? [['gz', await gzip(nii)]]
      : [
        ['gz', await gzip(nii)],
        ['353', shifted(nii, 1)],
        ['353 gz', await gzip(shifted(nii, 1))],
        ['369 with an extension, gz', await gzip(shifted(nii, 17, true))],
        ['360 gz', await gzip(shifted(nii, 8))],
      ];
    for (const [label, bytes] of variants) {
      const vol = await readNifti(bytes, name);
      expect(vol.data.constructor, label).toBe(ref.data.constructor);
      expect(vol.data, label).toEqual(ref.data);
      expect(vol.nonFinite, label).toBe(ref.nonFinite);
      const offset = label.startsWith('gz') ? (name.startsWith('nifti2') ? 544 : 352) : Number(label.slice(0, 3));
      const canView = label.includes('gz') && !scaled && (le || bytesPer === 1) && offset % bytesPer === 0;
      expect(isView(vol.data), `${label}: view expected ${canView}`).toBe(canView);
    }

    // The CLI's codec: Node's zlib with one output chunk of the trailer's size.
    setGzipCodec({ gunzip: async (b) => new Uint8Array(gunzipSync(b, { chunkSize: Math.max(1 << 16, gunzipSizeHint(b) + 1) })) });
    const viaZlib = await readNifti(await gzip(nii), name);
    expect(viaZlib.data).toEqual(ref.data);
  });
});

describe('voxel ownership', () => {
  it('never aliases the caller\'s .nii bytes, even when cleaning non-finite values', async () => {
    for (const name of ['dtype_int16_le.nii', 'float_nonfinite.nii']) {
      const nii = fixtureBytes(name);
      const before = nii.slice();
      const vol = await readNifti(nii, name);
      expect(nii).toEqual(before);
      const values = vol.data.slice();
      nii.fill(0);
      expect(vol.data).toEqual(values);
    }
  });

  it('copies instead of viewing when the file holds much more than the voxels (a large extension)', async () => {
    const nii = fixtureBytes('dtype_int16_le.nii');
    const ref = await readNifti(nii, 'x');
    const padded = shifted(nii, 200_000);
    const vol = await readNifti(await gzip(padded), 'padded.nii.gz');
    expect(vol.data).toEqual(ref.data);
    expect(isView(vol.data)).toBe(false);
    expect(vol.data.buffer.byteLength).toBe(vol.data.byteLength);
  });
});

describe('gunzipSizeHint', () => {
  it('is the trailer\'s size, and 0 for a trailer no deflate stream could produce', async () => {
    const data = new Uint8Array(100_000).map((_, i) => i % 7);
    const gz = await gzip(data);
    expect(gunzipSizeHint(gz)).toBe(100_000);
    const bad = gz.slice();
    bad.set([0xff, 0xff, 0xff, 0x7f], bad.length - 4); // claims 2 GiB from a few hundred bytes
    expect(gunzipSizeHint(bad)).toBe(0);
    expect(gunzipSizeHint(gz.subarray(0, 10))).toBe(0);
  });
});
