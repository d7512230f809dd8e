// Bad inputs: each must reject with a NiftiError whose message names the file and the problem.
import { describe, expect, it } from 'vitest';
import { mat4 } from './affine.ts';
import { gzip, NiftiError, readNifti, writeNifti } from './index.ts';
import { setGzipCodec } from './gzip.ts';
import { fixtureBytes } from './testutil.ts';

/** A valid little-endian 4×3×2 int16 .nii (352 + 48 bytes) to break in various ways. */
async function validNii(): Promise<Uint8Array> {
  const data = new Int16Array(24).map((_, i) => i * 100 - 1000);
  return writeNifti({ dims: [4, 3, 2], channels: 1, data, affine: mat4([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) }, { gzip: false });
}

function patched(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

async function rejection(bytes: Uint8Array, name: string): Promise<NiftiError> {
  try {
    await readNifti(bytes, name);
  } catch (e) {
    expect(e).toBeInstanceOf(NiftiError);
    const err = e as NiftiError;
    expect(err.file).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    return err;
  }
  throw new Error(`${name} was read without error`);
}

const dim = (i: number, d: number) => (v: DataView) => v.setInt16(40 + 2 * i, d, true);

describe('readNifti rejects bad input', () => {
  it('a PNG', async () => {
    const png = new Uint8Array(400);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const e = await rejection(png, 'photo.png');
    expect(e.message).toBe("photo.png: not a NIfTI-1/NIfTI-2 file (no 'n+1'/'ni1'/'n+2' magic)");
  });

  it('random bytes, and a file shorter than a header', async () => {
    const rnd = new Uint8Array(1000).map((_, i) => (i * 7919 + 13) & 0xff);
    expect((await rejection(rnd, 'noise.bin')).message).toMatch(/not a NIfTI-1\/NIfTI-2 file/);
    expect((await rejection(new Uint8Array(10), 'tiny.nii')).message).toMatch(/tiny\.nii: not a NIfTI.*only 10 bytes/);
  });

  it('a header-only .hdr (magic ni1)', async () => {
    const hdr = patched(await validNii(), (v) => v.setUint8(345, 'i'.charCodeAt(0)));
    expect((await rejection(hdr, 'brain.hdr')).message).toMatch(/brain\.hdr: is a header-only NIfTI \(magic 'ni1'/);
  });

  it('a truncated .nii', async () => {
    const cut = (await validNii()).subarray(0, 380);
    const e = await rejection(cut, 'brain.nii');
    expect(e.message).toBe('brain.nii: header claims 4×3×2 int16 voxels (48 bytes) from offset 352 but the file holds 380 bytes — truncated?');
  });

  it('a truncated .nii.gz', async () => {
    const gz = await gzip(await validNii());
    const e = await rejection(gz.subarray(0, gz.length - 20), 'brain.nii.gz');
    expect(e.message).toMatch(/^brain\.nii\.gz: gzip data is corrupt or truncated/);
  });

  it('a .nii.gz whose content is a truncated .nii', async () => {
    const gz = await gzip((await validNii()).subarray(0, 370));
    expect((await rejection(gz, 'cut.nii.gz')).message).toMatch(/cut\.nii\.gz: header claims 4×3×2 int16 voxels \(48 bytes\).*holds 370 bytes — truncated\?/);
  });

  it('corrupt gzip (bytes flipped inside the deflate stream)', async () => {
    const gz = fixtureBytes('dtype_float32_be.nii.gz');
    for (const at of [20, 60, Math.floor(gz.length / 2), gz.length - 12]) {
      const bad = gz.slice();
      for (let i = at; i < at + 4; i++) bad[i] ^= 0xa5;
      expect((await rejection(bad, 'corrupt.nii.gz')).message).toMatch(/^corrupt\.nii\.gz: gzip data is corrupt or truncated \(.+\); expected a complete \.nii\.gz file$/);
    }
  });

  it('a header claiming more voxels than the file holds', async () => {
    const big = patched(await validNii(), dim(3, 200));
    expect((await rejection(big, 'big.nii')).message).toBe(
      'big.nii: header claims 4×3×200 int16 voxels (4,800 bytes) from offset 352 but the file holds 400 bytes — truncated?',
    );
  });

  it('zero and negative dims', async () => {
    const zero = patched(await validNii(), dim(2, 0));
    expect((await rejection(zero, 'zero.nii')).message).toMatch(/zero\.nii: dim\[2\] = 0 in dims 4×0×2; every dimension must be a positive integer/);
    const neg = patched(await validNii(), dim(1, -4));
    expect((await rejection(neg, 'neg.nii')).message).toMatch(/neg\.nii: dim\[1\] = -4 in dims -4×3×2/);
    const nd = patched(await validNii(), dim(0, 0));
    expect((await rejection(nd, 'nd0.nii')).message).toMatch(/nd0\.nii: dim\[0\] = 0 but a volume needs 2 to 7 dimensions/);
  });

  it('absurd dims (NIfTI-2, 100000³)', async () => {
    const n2 = fixtureBytes('nifti2_le.nii');
    const bad = patched(n2, (v) => [1, 2, 3].forEach((i) => v.setBigInt64(16 + 8 * i, 100000n, true)));
    expect((await rejection(bad, 'huge.nii')).message).toMatch(/huge\.nii: dim\[1\] = 100,000 in dims 100000×100000×100000 exceeds the 65,535 voxels per axis/);
    const many = patched(n2, (v) => [1, 2, 3].forEach((i) => v.setBigInt64(16 + 8 * i, 60000n, true)));
    expect((await rejection(many, 'many.nii')).message).toMatch(/many\.nii: header claims 60000×60000×60000 float32 voxels: 216\.0 T voxels \(785\.8 TiB\) is over the 1\.5 GB limit of a browser tab and of this reader \(864,000,000,000,000 bytes\); crop or downsample it first/);
  });

  it('a 4 MB .nii.gz whose header says 2048×2048×1024 uint8 (4 GiB of zeros) is refused from its header, before inflating', async () => {
    // A valid multi-member gzip: the header + 1 MiB of zeros, then 4,095 members of 1 MiB of zeros (4 GiB in all).
    const hdr = patched(await validNii(), (v) => { v.setInt16(42, 2048, true); v.setInt16(44, 2048, true); v.setInt16(46, 1024, true); v.setInt16(70, 2, true); v.setInt16(72, 8, true); });
    const first = await gzip(new Uint8Array([...hdr.subarray(0, 352), ...new Uint8Array(1 << 20)]), 9);
    const zeros = await gzip(new Uint8Array(1 << 20), 9);
    const file = new Uint8Array(first.length + 4095 * zeros.length);
    file.set(first);
    for (let i = 0; i < 4095; i++) file.set(zeros, first.length + i * zeros.length);
    expect(file.length).toBeLessThan(5e6);
    let inflated = false;
    setGzipCodec({ gunzip: async () => { inflated = true; throw new Error('the whole file was inflated'); } });
    try {
      const t0 = performance.now();
      const err = await rejection(file, 'zeros.nii.gz');
      expect(err.message).toBe('zeros.nii.gz: header claims 2048×2048×1024 uint8 voxels: 4.3 G voxels (4.0 GiB) is over the 1.5 GB limit of a browser tab '
        + 'and of this reader (4,294,967,296 bytes); crop or downsample it first');
      expect(inflated).toBe(false);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      setGzipCodec(null);
    }
  });

  it('unsupported datatypes', async () => {
    const rgb = patched(await validNii(), (v) => { v.setInt16(70, 128, true); v.setInt16(72, 24, true); });
    expect((await rejection(rgb, 'rgb.nii')).message).toMatch(/^rgb\.nii: unsupported datatype 128 \(RGB24\); supported: uint8 \(2\), int16 \(4\), int32 \(8\), float32 \(16\), float64 \(64\), int8 \(256\), uint16 \(512\), uint32 \(768\)$/);
    const bin = patched(await validNii(), (v) => v.setInt16(70, 1, true));
    expect((await rejection(bin, 'mask.nii')).message).toMatch(/mask\.nii: unsupported datatype 1 \(binary\)/);
    const odd = patched(await validNii(), (v) => v.setInt16(70, 3, true));
    expect((await rejection(odd, 'odd.nii')).message).toMatch(/odd\.nii: unsupported datatype 3 \(not a NIfTI datatype code\)/);
  });

  it('dim[5] > 1', async () => {
    const five = patched(await validNii(), (v) => { dim(0, 5)(v); dim(4, 1)(v); dim(5, 2)(v); });
    expect((await rejection(five, 'five.nii')).message).toMatch(/five\.nii: dims 4×3×2×1×2 have dim\[5\] = 2; only 3D volumes and 4D volumes \(channels\)/);
  });

  it('vox_offset beyond the file', async () => {
    const off = patched(await validNii(), (v) => v.setFloat32(108, 1e6, true));
    expect((await rejection(off, 'off.nii')).message).toMatch(/off\.nii: vox_offset 1000000 lies beyond the end of the file \(400 bytes\)/);
  });

  it('a finite slope with a non-finite intercept, and a NaN sform', async () => {
    const inter = patched(await validNii(), (v) => { v.setFloat32(112, 2, true); v.setFloat32(116, NaN, true); });
    expect((await rejection(inter, 'inter.nii')).message).toMatch(/inter\.nii: scl_slope is 2 but scl_inter is NaN/);
    const sform = patched(await validNii(), (v) => v.setFloat32(280, NaN, true));
    expect((await rejection(sform, 'sform.nii')).message).toMatch(/sform\.nii: the sform affine has non-finite entries/);
  });
});

describe('readNifti accepts unusual but valid input', () => {
  it('2D (dim[0] = 2) as nz = 1', async () => {
    const flat = patched(await validNii(), (v) => { dim(0, 2)(v); dim(3, 1)(v); });
    const vol = await readNifti(flat, 'slice.nii');
    expect(vol.dims).toEqual([4, 3, 1]);
    expect(vol.channels).toBe(1);
    expect(Array.from(vol.data.subarray(0, 3))).toEqual([-1000, -900, -800]);
  });

  it('4D with one channel, and dim[5..7] = 1', async () => {
    const four = patched(await validNii(), (v) => { dim(0, 6)(v); dim(4, 1)(v); dim(5, 1)(v); dim(6, 1)(v); });
    const vol = await readNifti(four, 'four.nii');
    expect([vol.dims, vol.channels]).toEqual([[4, 3, 2], 1]);
  });

  it('scl_slope 0 or NaN means unscaled (native type kept); vox_offset 0 means right after the header', async () => {
    for (const slope of [0, NaN]) {
      const f = patched(await validNii(), (v) => { v.setFloat32(112, slope, true); v.setFloat32(116, 5, true); v.setFloat32(108, 0, true); });
      const vol = await readNifti(f, 's.nii');
      expect(vol.data).toBeInstanceOf(Int16Array);
      expect(vol.data[1]).toBe(-900);
    }
  });
});
