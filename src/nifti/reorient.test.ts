// toCanonical's fast paths (row/plane copies, native reversals, blocked transposes, in-place flips) on all 48 signed
// axis permutations of odd-sized volumes, checked voxel by voxel against world positions (an independent reference).
import { describe, expect, it } from 'vitest';
import { allocVoxels, type Dtype, type Vec3, type VoxelArray } from '../core/types.ts';
import { mat4 } from './affine.ts';
import { axcodesFromAffine, toCanonical } from './orient.ts';
import type { Volume } from './types.ts';
import { fromCanonical } from './uncanonical.ts';

/** The 48 signed permutations: voxel axis j points along world axis perm[j], negated when bit j of `signs` is set. */
const CASES = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].flatMap((perm) =>
  Array.from({ length: 8 }, (_, signs) => ({ perm, signs })));

function affineOf(perm: number[], signs: number): Float64Array {
  const zooms = [0.9, 1.7, 2.5];
  const m = [[0, 0, 0, 11], [0, 0, 0, -23], [0, 0, 0, 5.5]];
  perm.forEach((w, j) => { m[w][j] = (signs >> j) & 1 ? -zooms[j] : zooms[j]; });
  return mat4(m);
}

/** Distinct values per voxel (within the dtype's range), so any misplaced voxel shows. */
function volume(dims: Vec3, channels: number, dtype: Dtype, affine: Float64Array): Volume {
  const n = dims[0] * dims[1] * dims[2] * channels;
  const data = allocVoxels(dtype, n);
  const mod = dtype === 'uint8' ? 251 : dtype === 'int16' ? 32749 : 1e6;
  for (let i = 0; i < n; i++) data[i] = dtype === 'float32' || dtype === 'float64' ? ((i * 7919) % mod) + 0.25 : (i * 7919) % mod;
  return {
    name: 'gen.nii', dims, channels, data, datatypeCode: 0, affine, affineSource: 'sform', spacing: [0, 0, 0],
    nonFinite: 0, axcodes: axcodesFromAffine(affine), description: '',
  };
}

/** Solves the 3×3 part of a row-major affine for world − translation (Cramer's rule). */
function toVoxel(a: Float64Array, w: number[]): number[] {
  const m = [0, 1, 2].map((r) => [a[4 * r], a[4 * r + 1], a[4 * r + 2]]);
  const b = [0, 1, 2].map((r) => w[r] - a[4 * r + 3]);
  const det = (x: number[][]) => x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1]) - x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0]) + x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0]);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((v, k) => (k === c ? b[r] : v)))) / d);
}

/**
 * Reference: every stored voxel (i, j, k) of every channel must sit, in the canonical volume, at the voxel whose
 * world position is the same — found by inverting the canonical affine, not from the code's index arithmetic.
 */
function expectSameWorld(stored: Volume, storedData: VoxelArray, can: Volume): void {
  const [nx, ny, nz] = stored.dims;
  const [cx, cy] = can.dims;
  const a = stored.affine;
  let bad = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const w = [0, 1, 2].map((r) => a[4 * r] * i + a[4 * r + 1] * j + a[4 * r + 2] * k + a[4 * r + 3]);
    const [p, q, s] = toVoxel(can.affine, w).map(Math.round);
    for (let c = 0; c < stored.channels; c++) {
      const want = storedData[i + nx * (j + ny * (k + nz * c))];
      const got = can.data[p + cx * (q + cy * (s + can.dims[2] * c))];
      if (got !== want && bad++ < 5) expect(got, `stored (${i}, ${j}, ${k}, ${c}) → canonical (${p}, ${q}, ${s})`).toBe(want);
    }
  }
  expect(bad).toBe(0);
}

/** Shapes: odd sizes; rows shorter than and longer than the native-reversal threshold; tiles cut at 32. */
const SHAPES: Array<{ dims: Vec3; channels: number; dtype: Dtype }> = [
  { dims: [5, 3, 7], channels: 1, dtype: 'int16' },
  { dims: [37, 19, 3], channels: 2, dtype: 'float32' },
  { dims: [3, 35, 17], channels: 1, dtype: 'uint8' },
  { dims: [33, 1, 9], channels: 1, dtype: 'float64' },
];

describe.each(SHAPES)('toCanonical of $dims × $channels $dtype', ({ dims, channels, dtype }) => {
  it.each(CASES)('perm $perm signs $signs: copy and in place', ({ perm, signs }) => {
    const stored = volume(dims, channels, dtype, affineOf(perm, signs));
    const original = stored.data.slice();

    const can = toCanonical(stored);
    expect(can.axcodes).toBe('RAS');
    expect(can.data.constructor).toBe(original.constructor);
    expect(can.dims).toEqual(perm.map((_, w) => dims[perm.indexOf(w)]));
    expectSameWorld(stored, original, can);
    expect(stored.data).toEqual(original); // the copying path never touches its input
    if (perm.join() === '0,1,2' && signs === 0) expect(can).toBe(stored);

    const back = fromCanonical(can, stored);
    expect(back.data).toEqual(original);

    const inPlace = toCanonical(volume(dims, channels, dtype, affineOf(perm, signs)), { inPlace: true });
    expect(inPlace.dims).toEqual(can.dims);
    expect(Array.from(inPlace.affine)).toEqual(Array.from(can.affine));
    expect(inPlace.data).toEqual(can.data);
  });
});

describe('toCanonical { inPlace }', () => {
  it('flips inside the given array; a permutation leaves it untouched and returns a new one', () => {
    const flips = volume([6, 5, 4], 1, 'int16', affineOf([0, 1, 2], 0b011)); // LPS
    const data = flips.data;
    const can = toCanonical(flips, { inPlace: true });
    expect(can.data).toBe(data);
    expect(can.axcodes).toBe('RAS');

    const permuted = volume([6, 5, 4], 1, 'int16', affineOf([1, 2, 0], 0b001));
    const before = permuted.data.slice();
    const moved = toCanonical(permuted, { inPlace: true });
    expect(moved.data).not.toBe(permuted.data);
    expect(permuted.data).toEqual(before);
  });

  it('works on a view into a larger buffer (the reader\'s zero-copy voxels) without touching bytes around it', () => {
    const dims: Vec3 = [7, 5, 3];
    const n = dims[0] * dims[1] * dims[2];
    const buffer = new ArrayBuffer(352 + 2 * n + 6);
    const bytes = new Uint8Array(buffer).fill(0xee);
    const data = new Int16Array(buffer, 352, n).map((_, i) => i);
    const vol = { ...volume(dims, 1, 'int16', affineOf([0, 1, 2], 0b111)), data };
    const can = toCanonical(vol, { inPlace: true });
    for (let i = 0; i < n; i++) expect(can.data[i]).toBe(n - 1 - i); // LPI → RAS: the whole volume reversed
    expect(bytes.subarray(0, 352).every((b) => b === 0xee)).toBe(true);
    expect(bytes.subarray(352 + 2 * n).every((b) => b === 0xee)).toBe(true);
  });
});
