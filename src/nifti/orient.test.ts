// Hand-computed orientation cases: ioOrientation, axcodes and toCanonical on small synthetic volumes.
import { describe, expect, it } from 'vitest';
import { mat4 } from './affine.ts';
import { axcodesFromAffine, ioOrientation, polar3, toCanonical } from './orient.ts';
import { voxel } from './testutil.ts';
import type { Volume } from './types.ts';

function volume(dims: [number, number, number], affine: number[][], channels = 1): Volume {
  const n = dims[0] * dims[1] * dims[2] * channels;
  const data = new Int16Array(n).map((_, i) => i);
  return {
    name: 'hand.nii', dims, channels, data, datatypeCode: 4, affine: mat4(affine), affineSource: 'sform',
    spacing: [0, 0, 0], nonFinite: 0, axcodes: axcodesFromAffine(mat4(affine)), description: '',
  };
}

/** World position of voxel (i, j, k) under a row-major affine. */
function world(a: Float64Array, [i, j, k]: number[]): number[] {
  return [0, 1, 2].map((r) => a[4 * r] * i + a[4 * r + 1] * j + a[4 * r + 2] * k + a[4 * r + 3]);
}

describe('ioOrientation / axcodes', () => {
  it('diag(−2, 3, 4) is LAS: i flips onto x', () => {
    const a = mat4([[-2, 0, 0, 10], [0, 3, 0, -20], [0, 0, 4, 30]]);
    expect(ioOrientation(a)).toEqual([[0, -1], [1, 1], [2, 1]]);
    expect(axcodesFromAffine(a)).toBe('LAS');
  });

  it('permutation i→S, j→R, k→A', () => {
    const a = mat4([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]]);
    expect(ioOrientation(a)).toEqual([[2, 1], [0, 1], [1, 1]]);
    expect(axcodesFromAffine(a)).toBe('SRA');
  });

  it('ignores voxel size and shear-free rotation below 45°', () => {
    const t = (30 * Math.PI) / 180;
    const a = mat4([[5 * Math.cos(t), -0.1 * Math.sin(t), 0, 0], [5 * Math.sin(t), 0.1 * Math.cos(t), 0, 0], [0, 0, -7, 0]]);
    expect(axcodesFromAffine(a)).toBe('RAI');
  });

  it('marks an axis with no direction', () => {
    const a = mat4([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]);
    expect(axcodesFromAffine(a)).toBe('RA?');
  });

  it('polar3 of a rotation times a symmetric positive matrix is the rotation', () => {
    const c = Math.cos(0.4);
    const s = Math.sin(0.4);
    const r = [[c, -s, 0], [s, c, 0], [0, 0, 1]];
    const p = [[2, 0.3, 0], [0.3, 1, 0.1], [0, 0.1, 3]];
    const m = r.map((row) => [0, 1, 2].map((j) => row[0] * p[0][j] + row[1] * p[1][j] + row[2] * p[2][j]));
    const q = polar3(m);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(q[i][j]).toBeCloseTo(r[i][j], 12);
  });
});

describe('toCanonical', () => {
  it('returns the same object when already RAS+', () => {
    const v = volume([3, 4, 5], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
    expect(toCanonical(v)).toBe(v);
  });

  it('diag(−2, 3, 4): flips i; column 0 becomes +2 and the origin moves to the old last voxel', () => {
    const nx = 4;
    const v = volume([nx, 3, 2], [[-2, 0, 0, 10], [0, 3, 0, -20], [0, 0, 4, 30]]);
    const c = toCanonical(v);
    expect(c.dims).toEqual([4, 3, 2]);
    expect(c.affine[0]).toBe(2);
    expect(c.affine[3]).toBe(10 + (nx - 1) * -2);
    expect(c.affine[7]).toBe(-20);
    expect(c.affine[11]).toBe(30);
    expect(voxel(c, [0, 1, 1])).toBe(voxel(v, [3, 1, 1]));
    expect(voxel(c, [3, 2, 0])).toBe(voxel(v, [0, 2, 0]));
    expect(c.axcodes).toBe('RAS');
    expect(c.spacing).toEqual([2, 3, 4]);
    expect(v.data[0]).toBe(0); // input untouched
  });

  it('permutation i→S, j→R, k→A: canonical axes are old (j, k, i)', () => {
    // world x = j, y = k, z = i  ⇒ canonical axis 0 is old j, 1 is old k, 2 is old i.
    const v = volume([2, 3, 4], [[0, 1, 0, 5], [0, 0, 1, 6], [1, 0, 0, 7]]);
    const c = toCanonical(v);
    expect(c.dims).toEqual([3, 4, 2]);
    expect(Array.from(c.affine)).toEqual([1, 0, 0, 5, 0, 1, 0, 6, 0, 0, 1, 7, 0, 0, 0, 1]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
      expect(voxel(c, [j, k, i])).toBe(voxel(v, [i, j, k]));
    }
  });

  it('LPS with 2 channels: every voxel keeps its world position in every channel', () => {
    const v = volume([3, 4, 2], [[-1.5, 0, 0, 60], [0, -2, 0, 80], [0, 0, 2.5, -40]], 2);
    const c = toCanonical(v);
    expect(c.channels).toBe(2);
    for (let ch = 0; ch < 2; ch++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 2; k++) {
      const w = world(v.affine, [i, j, k]);
      const p = [2 - i, 3 - j, k];
      expect(world(c.affine, p)).toEqual(w);
      expect(voxel(c, [...p, ch])).toBe(voxel(v, [i, j, k, ch]));
    }
  });

  it('oblique PIR (flips and a permutation): world positions preserved', () => {
    const v = volume([5, 3, 4], [[0.1, 0, 2, -5], [-1, 0.05, 0, 7], [0, -3, 0.2, 9]]);
    const c = toCanonical(v);
    expect(v.axcodes).toBe('PIR');
    expect(c.dims).toEqual([4, 5, 3]);
    // canonical p = (k, 4 − i, 2 − j)
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
      const p = [k, 4 - i, 2 - j];
      const a = world(c.affine, p);
      const b = world(v.affine, [i, j, k]);
      for (let d = 0; d < 3; d++) expect(a[d]).toBeCloseTo(b[d], 12);
      expect(voxel(c, p)).toBe(voxel(v, [i, j, k]));
    }
  });

  it('refuses an affine with a degenerate axis', () => {
    const v = volume([2, 2, 2], [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
    expect(() => toCanonical(v)).toThrow(/hand\.nii: affine has a voxel axis with no world direction/);
  });
});
