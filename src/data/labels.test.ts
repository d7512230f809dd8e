// Tests for label statistics and the class colour map.
import { describe, expect, it } from 'vitest';
import type { Volume } from '../nifti/types.ts';
import { classColor, defaultClassName, labelStats } from './labels.ts';
import { visionCoords, worstCaseDistance } from './palette.ts';

function vol(data: Volume['data'], dims: Volume['dims'] = [data.length, 1, 1], name = 'seg.nii.gz'): Volume {
  return {
    name, dims, channels: 1, data, datatypeCode: 2, affine: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    affineSource: 'sform', spacing: [1, 1, 1], nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

describe('labelStats', () => {
  it('counts classes of every integer type, 0 included', () => {
    for (const Ctor of [Uint8Array, Int8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array]) {
      const s = labelStats(vol(new Ctor([0, 0, 2, 5, 2, 0])));
      expect(s.classes).toEqual([0, 2, 5]);
      expect(s.counts).toEqual({ 0: 3, 2: 2, 5: 1 });
      expect(s.voxels).toBe(6);
    }
  });

  it('falls back to a map for negative and large values, keeping the order', () => {
    const s = labelStats(vol(new Int32Array([-3, 70000, 1, 70000, 0])));
    expect(s.classes).toEqual([-3, 0, 1, 70000]);
    expect(s.counts[70000]).toBe(2);
    expect(labelStats(vol(new Float32Array([65535, 1e6]))).classes).toEqual([65535, 1e6]);
  });

  it('rejects fractional values, naming the file and the voxel', () => {
    expect(() => labelStats(vol(new Float32Array([0, 1, 0, 0.5]), [2, 2, 1], 'brain_seg.nii.gz')))
      .toThrow(/label brain_seg\.nii\.gz: voxel \(1, 1, 0\) has value 0\.5/);
  });

  it('counts every class of a 512×512×300 uint8 map and a 181×217×181 float32 map', () => {
    const big = new Uint8Array(512 * 512 * 300);
    for (let i = 0; i < big.length; i += 7) big[i] = i % 13;
    const s = labelStats(vol(big, [512, 512, 300]));
    expect(s.classes).toHaveLength(13);
    // Every 7th voxel is set to i % 13; since gcd(7, 13) = 1 the residues are near-uniform. Count by hand:
    const expected = new Array(13).fill(0);
    for (let i = 0; i < big.length; i += 7) expected[i % 13]++;
    expected[0] += big.length - Math.ceil(big.length / 7);
    expect(s.classes.map((c) => s.counts[c])).toEqual(expected);
    const f = new Float32Array(181 * 217 * 181);
    for (let i = 0; i < f.length; i += 2) f[i] = i % 117;
    expect(labelStats(vol(f, [181, 217, 181])).classes).toHaveLength(117);
  });
});

describe('classColor and defaultClassName', () => {
  it('names classes', () => {
    expect(defaultClassName(0)).toBe('background');
    expect(defaultClassName(7)).toBe('class 7');
  });

  it('is deterministic, in range, black for background, and rejects bad indices', () => {
    expect(classColor(0)).toEqual([0, 0, 0]);
    for (const i of [1, 5, 24, 25, 300, 65535]) {
      const c = classColor(i);
      expect(classColor(i)).toEqual(c);
      for (const x of c) expect(Number.isInteger(x) && x >= 0 && x <= 255).toBe(true);
    }
    classColor(3)[0] = -1; // callers get copies
    expect(classColor(3)[0]).toBeGreaterThanOrEqual(0);
    expect(() => classColor(-1)).toThrow(/-1/);
    expect(() => classColor(1.5)).toThrow(/1\.5/);
  });

  it('keeps the first 20 classes apart also under simulated deuteranopia and protanopia', () => {
    const v = Array.from({ length: 20 }, (_, i) => visionCoords(classColor(i + 1)));
    let min = Infinity;
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) min = Math.min(min, worstCaseDistance(v[i], v[j]));
    // OKLab distance; ~0.02 is a just-noticeable difference. The first 8 classes are far further apart.
    expect(min).toBeGreaterThan(0.045);
    const v8 = v.slice(0, 8);
    let min8 = Infinity;
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) min8 = Math.min(min8, worstCaseDistance(v8[i], v8[j]));
    expect(min8).toBeGreaterThan(0.1);
  });
});
