// writeNifti: header fields, and read → write → read round trips for every datatype and both containers.
import { describe, expect, it } from 'vitest';
import { allocVoxels, type Dtype } from '../core/types.ts';
import { mat4 } from './affine.ts';
import { isGzip, readNifti, writeNifti } from './index.ts';
import { fixtureBytes, rows } from './testutil.ts';

const DTYPES: Dtype[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];
const CODE: Record<Dtype, number> = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768 };

/**
 * Affines agree to 1e-6 relative (the sform is stored as float32). A qform-only affine gets `tol` 1e-5:
 * quatern_a = sqrt(1 − b² − c² − d²) is rebuilt from float32 b, c, d, which loses digits when a is small.
 */
function expectAffineClose(a: Float64Array, b: Float64Array, tol = 1e-6) {
  for (let i = 0; i < 16; i++) {
    expect(Math.abs(a[i] - b[i]), `${JSON.stringify(rows(a))} vs ${JSON.stringify(rows(b))}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
  }
}

/** rot_x(20°) · rot_z(30°) · diag(−1, 1.2, 2) with an offset: oblique and improper (qfac −1). */
const OBLIQUE = (() => {
  const [cz, sz, cx, sx] = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6), Math.cos(Math.PI / 9), Math.sin(Math.PI / 9)];
  const rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]];
  const rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]];
  const scale = [-1, 1.2, 2];
  const m = rx.map((row) => [0, 1, 2].map((j) => (row[0] * rz[0][j] + row[1] * rz[1][j] + row[2] * rz[2][j]) * scale[j]));
  return mat4([[...m[0], 12], [...m[1], -34], [...m[2], 56]]);
})();

describe('writeNifti', () => {
  it.each(DTYPES)('round trips %s data losslessly with an oblique, improper affine', async (dtype) => {
    const dims: [number, number, number] = [4, 3, 2];
    const data = allocVoxels(dtype, 24 * 2);
    for (let i = 0; i < data.length; i++) data[i] = dtype.startsWith('float') ? (i - 20) * 1.375 : (i * 37) % 120;
    data[5] = { uint8: 255, int8: -128, int16: -32768, uint16: 65535, int32: -2147483648, uint32: 4294967295, float32: 3.4e38, float64: -1e300 }[dtype];
    const bytes = await writeNifti({ dims, channels: 2, data, affine: OBLIQUE, description: `round trip ${dtype}` });
    expect(isGzip(bytes)).toBe(true);
    const back = await readNifti(bytes, `rt_${dtype}.nii.gz`);
    expect(back.dims).toEqual(dims);
    expect(back.channels).toBe(2);
    expect(back.datatypeCode).toBe(CODE[dtype]);
    expect(back.data.constructor).toBe(data.constructor);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expectAffineClose(back.affine, OBLIQUE);
    expect(back.description).toBe(`round trip ${dtype}`);
    expect(back.axcodes).toBe('LAS');
  });

  it.each(['dtype_int16_be.nii', 'orient_oblique_be.nii.gz', 'qform_only.nii', 'nifti2_be.nii.gz', 'four_d_3ch.nii.gz', 'scaled_int16.nii', 'no_form.nii'])(
    'read → write → read of %s keeps data and affine',
    async (name) => {
      const a = await readNifti(fixtureBytes(name), name);
      const bytes = await writeNifti(a, { gzip: false });
      expect(bytes.length).toBe(352 + a.data.byteLength);
      const b = await readNifti(bytes, 'again.nii');
      expect(b.dims).toEqual(a.dims);
      expect(b.channels).toBe(a.channels);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      expectAffineClose(b.affine, a.affine);
      expect(b.affineSource).toBe('sform');
    },
  );

  it('writes a header other readers can use: magic, offset, codes, units, qform matching the sform', async () => {
    const data = new Float32Array(24).map((_, i) => i - 3);
    const bytes = await writeNifti({ dims: [4, 3, 2], channels: 1, data, affine: OBLIQUE }, { gzip: false });
    const v = new DataView(bytes.buffer);
    expect(v.getInt32(0, true)).toBe(348);
    expect(String.fromCharCode(...bytes.subarray(344, 347))).toBe('n+1');
    expect(v.getFloat32(108, true)).toBe(352);
    expect(v.getInt16(40, true)).toBe(3);
    expect(v.getInt16(70, true)).toBe(16);
    expect(v.getInt16(72, true)).toBe(32);
    expect(v.getInt16(252, true)).toBe(2);
    expect(v.getInt16(254, true)).toBe(2);
    expect(bytes[123]).toBe(2);
    expect(v.getFloat32(112, true)).toBe(1);
    expect(v.getFloat32(116, true)).toBe(0);
    expect(v.getFloat32(124, true)).toBe(20); // cal_max
    expect(v.getFloat32(128, true)).toBe(-3); // cal_min
    expect(v.getFloat32(76, true)).toBe(-1); // qfac: the affine is improper
    // Blank the sform code so the reader must use the qform: same affine (this one has no shear).
    v.setInt16(254, 0, true);
    const q = await readNifti(bytes, 'qform.nii');
    expect(q.affineSource).toBe('qform');
    expectAffineClose(q.affine, OBLIQUE, 1e-5);
  });

  it('qform survives proper rotations and axis permutations too', async () => {
    for (const aff of [
      [[0, 0, 2, -5], [-1, 0, 0, 7], [0, 3, 0, 9]],
      [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]],
      [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0]],
      [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0]],
    ]) {
      const a = mat4(aff);
      const bytes = await writeNifti({ dims: [2, 2, 2], channels: 1, data: new Uint8Array(8), affine: a }, { gzip: false });
      new DataView(bytes.buffer).setInt16(254, 0, true);
      expectAffineClose((await readNifti(bytes, 'q.nii')).affine, a, 1e-5);
    }
  });

  it('refuses data that does not fit the dims', async () => {
    await expect(writeNifti({ dims: [2, 2, 2], channels: 1, data: new Uint8Array(7), affine: mat4([]) })).rejects.toThrow(/output\.nii: cannot write dims 2×2×2 × 1 channels with 7 voxels/);
  });
});
