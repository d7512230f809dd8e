// Tests for the case record, the default split and the image/label grid check.
import { describe, expect, it } from 'vitest';
import type { Volume } from '../nifti/types.ts';
import { casesFromPairing, checkSameGrid, defaultSplit, gridProblem, maxAffineDifferenceMm, setSplit, stableHash } from './cases.ts';
import { pairFiles } from './pairing.ts';

const eye = () => new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

function vol(name: string, dims: Volume['dims'], opts: Partial<Volume> = {}): Volume {
  const n = dims[0] * dims[1] * dims[2] * (opts.channels ?? 1);
  return {
    name, dims, channels: 1, data: new Uint8Array(n), datatypeCode: 2, affine: eye(), affineSource: 'sform',
    spacing: [1, 1, 1], nonFinite: 0, axcodes: 'RAS', description: '', ...opts,
  };
}

describe('defaultSplit', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `case_${i}`);

  it('puts ~20 % in validation, deterministically and independent of order', () => {
    const a = defaultSplit(ids).splits;
    expect(Object.values(a).filter((s) => s === 'val')).toHaveLength(10);
    expect(defaultSplit([...ids].reverse()).splits).toEqual(a);
    expect(defaultSplit(ids).splits).toEqual(a);
  });

  it('keeps at least one training and one validation case, and notes a single case', () => {
    expect(Object.values(defaultSplit(['a', 'b']).splits).sort()).toEqual(['train', 'val']);
    expect(Object.values(defaultSplit(['a', 'b', 'c']).splits).filter((s) => s === 'train')).toHaveLength(2);
    const one = defaultSplit(['only']);
    expect(one.splits).toEqual({ only: 'train' });
    expect(one.notes[0]).toMatch(/Only one labelled case \(only\)/);
    expect(defaultSplit([])).toEqual({ splits: {}, notes: [] });
  });

  it('rejects bad input', () => {
    expect(() => defaultSplit(['a', 'a'])).toThrow(/not unique/);
    expect(() => defaultSplit(['a'], 1)).toThrow(/valFraction 1/);
  });

  it('hashes stably (FNV-1a)', () => {
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
  });
});

describe('casesFromPairing and setSplit', () => {
  it('builds case records and splits only labelled cases', () => {
    const p = pairFiles(['T/imagesTr/a_0000.nii.gz', 'T/imagesTr/a_0001.nii.gz', 'T/labelsTr/a.nii.gz',
      'T/imagesTr/b_0000.nii.gz', 'T/labelsTr/b.nii.gz', 'T/imagesTs/c_0000.nii.gz']
      .map((path) => ({ path, name: path.slice(path.lastIndexOf('/') + 1) })));
    const { cases } = casesFromPairing(p.cases);
    expect(cases[0]).toMatchObject({ id: 'a', imageNames: ['a_0000.nii.gz', 'a_0001.nii.gz'], labelName: 'a.nii.gz', labelPath: 'T/labelsTr/a.nii.gz' });
    expect(cases.filter((c) => c.labelPath).map((c) => c.split).sort()).toEqual(['train', 'val']);
    expect(cases[2]).toMatchObject({ id: 'c', split: 'train' });
    expect(cases[2]).not.toHaveProperty('labelPath');
    const moved = setSplit(cases, 'c', 'val');
    expect(moved[2].split).toBe('val');
    expect(cases[2].split).toBe('train');
    expect(() => setSplit(cases, 'zz', 'val')).toThrow(/no case with id 'zz'/);
  });
});

describe('checkSameGrid', () => {
  it('accepts a matching label', () => {
    expect(gridProblem(vol('brain.nii.gz', [4, 5, 6]), vol('brain_seg.nii.gz', [4, 5, 6]))).toBeNull();
    expect(() => checkSameGrid(vol('a', [2, 2, 2]), vol('b', [2, 2, 2]))).not.toThrow();
  });

  it('names both files and both sizes when dims differ', () => {
    expect(() => checkSameGrid(vol('brain.nii.gz', [181, 217, 181]), vol('brain_seg.nii.gz', [91, 109, 91])))
      .toThrow('label brain_seg.nii.gz is 91×109×91 but image brain.nii.gz is 181×217×181');
  });

  it('reports the largest mm difference and both axcodes when affines differ', () => {
    const flipped = eye();
    flipped[0] = -1; // i runs right → left
    flipped[3] = 9; // …starting at x = 9, so corners i = 0 and i = 9 differ by 9 mm
    const p = gridProblem(vol('ct.nii.gz', [10, 10, 10]), vol('seg.nii.gz', [10, 10, 10], { affine: flipped, axcodes: 'LAS' }));
    expect(p).toMatch(/label seg\.nii\.gz is not on the grid of image ct\.nii\.gz: voxel positions differ by up to 9\.00 mm/);
    expect(p).toMatch(/label LAS, image RAS/);
    const nudged = eye();
    nudged[3] = 5e-4;
    expect(gridProblem(vol('a', [3, 3, 3]), vol('b', [3, 3, 3], { affine: nudged }))).toBeNull();
    expect(gridProblem(vol('a', [3, 3, 3]), vol('b', [3, 3, 3], { affine: nudged }), 1e-4)).toMatch(/0\.00050 mm/);
  });

  it('rejects multi-channel, negative and fractional labels', () => {
    const img = vol('img.nii.gz', [2, 2, 1]);
    expect(gridProblem(img, vol('four.nii.gz', [2, 2, 1], { channels: 3, data: new Uint8Array(12) }))).toMatch(/four\.nii\.gz has 3 channels/);
    expect(gridProblem(img, vol('neg.nii.gz', [2, 2, 1], { data: new Int16Array([0, 1, -1, 0]) })))
      .toMatch(/neg\.nii\.gz has negative value -1 at voxel \(0, 1, 0\)/);
    expect(gridProblem(img, vol('frac.nii.gz', [2, 2, 1], { data: new Float32Array([0, 0.25, 1, 0]) })))
      .toMatch(/frac\.nii\.gz has non-integer value 0\.25 at voxel \(1, 0, 0\)/);
    expect(gridProblem(img, vol('ok.nii.gz', [2, 2, 1], { data: new Float32Array([0, 2, 1, 0]) }))).toBeNull();
  });

  it('measures affine differences at the grid corners', () => {
    const scaled = eye();
    scaled[0] = 1.01;
    expect(maxAffineDifferenceMm(eye(), scaled, [101, 1, 1])).toBeCloseTo(1, 10);
  });
});
