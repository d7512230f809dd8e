// A full-size volume (512×512×300 int16, ~157 MB): .nii.gz made with our gzip, read, reoriented to RAS+.
// Correctness only — no timing asserts (the bench owns timings).
import { describe, expect, it } from 'vitest';
import { mat4 } from './affine.ts';
import { gzip, readNifti, toCanonical, writeNifti } from './index.ts';
import { voxel } from './testutil.ts';

describe('large volume', () => {
  it('512×512×300 int16 LPS .nii.gz → readNifti → toCanonical', { timeout: 180_000 }, async () => {
    const dims: [number, number, number] = [512, 512, 300];
    const n = dims[0] * dims[1] * dims[2];
    const data = new Int16Array(n);
    // value encodes its position (mod 2^16) so flips and permutations are visible everywhere
    for (let k = 0, at = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[at++] = (i + 3 * j + 7 * k) & 0x7fff;
    const affine = mat4([[-0.7, 0, 0, 180], [0, -0.7, 0, 200], [0, 0, 1.25, -150]]);
    const nii = await writeNifti({ dims, channels: 1, data, affine }, { gzip: false });
    const gz = await gzip(nii);
    expect(gz.length).toBeLessThan(nii.length);
    const vol = await readNifti(gz, 'big.nii.gz');
    expect(vol.dims).toEqual(dims);
    expect(vol.axcodes).toBe('LPS');
    expect(voxel(vol, [511, 2, 299])).toBe(data[511 + 512 * (2 + 512 * 299)]);

    const can = toCanonical(vol);
    expect(can.dims).toEqual(dims);
    expect(can.axcodes).toBe('RAS');
    expect(can.affine[0]).toBeCloseTo(0.7, 6);
    expect(can.affine[3]).toBeCloseTo(180 - 511 * 0.7, 4);
    for (const [i, j, k] of [[0, 0, 0], [511, 511, 299], [10, 400, 150], [300, 7, 1]]) {
      expect(voxel(can, [i, j, k])).toBe(((511 - i) + 3 * (511 - j) + 7 * k) & 0x7fff);
    }
  });
});
