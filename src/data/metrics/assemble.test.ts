// Assembly of per-slice predictions into a canonical label volume (nearest / bilinear + argmax, every axis)
// and evaluateCase's Dice and HD95 with their conventions.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../core/types.ts';
import type { Volume } from '../../nifti/types.ts';
import { labelSlice, type SliceAxis } from '../windows/window.ts';
import { assembleFromProbs, assembleVolume, evaluateCase } from './assemble.ts';
import { dice } from './dice.ts';
import { hd95 } from './hd95.ts';

const at = (dims: Vec3, i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

function labelVolume(dims: Vec3, f: (i: number, j: number, k: number) => number, spacing: Vec3 = [1, 1, 1]): Volume {
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[at(dims, i, j, k)] = f(i, j, k);
  return {
    name: 'labels.nii', dims, channels: 1, data, datatypeCode: 2, affine: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    affineSource: 'sform', spacing, nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

describe('assembleVolume', () => {
  it.each([0, 1, 2] as SliceAxis[])('inverts labelSlice when the slices are already H×W (axis %i)', (axis) => {
    const dims: Vec3 = [5, 5, 5];
    const vol = labelVolume(dims, (i, j, k) => (i * 7 + j * 3 + k * 11) % 6);
    const slices = Array.from({ length: 5 }, (_, s) => labelSlice(vol, axis, s));
    expect(assembleVolume(slices, dims, axis, 5)).toEqual(vol.data);
  });

  it('puts slice s at voxel[axis] = s, rows along the higher remaining axis, columns along the lower', () => {
    const dims: Vec3 = [2, 3, 2]; // axis 1: H = nk = 2, W = ni = 2, depth nj = 3
    const slices = [0, 1, 2].map((s) => Int32Array.from([10 * s, 10 * s + 1, 10 * s + 2, 10 * s + 3])); // [y, x]
    const out = assembleVolume(slices, dims, 1, 2);
    expect(out[at(dims, 1, 2, 0)]).toBe(21); // (y 0, x 1) of slice 2
    expect(out[at(dims, 0, 1, 1)]).toBe(12); // (y 1, x 0) of slice 1
  });

  it('nearest resize with half-pixel centres: an integer up-sampling and back is the identity', () => {
    const dims: Vec3 = [4, 4, 3];
    const vol = labelVolume(dims, (i, j, k) => (i + 2 * j + 5 * k) % 7);
    const slices = [0, 1, 2].map((k) => Uint8Array.from({ length: 64 }, (_, q) => vol.data[at(dims, (q % 8) >> 1, (q >> 3) >> 1, k)]));
    expect(assembleVolume(slices, dims, 2, 8)).toEqual(vol.data);
  });

  it('down to a non-square plane: rows ⌊(y + ½)·4/3⌋ = 0, 2, 3; columns ⌊(x + ½)·2⌋ = 1, 3', () => {
    const dims: Vec3 = [2, 3, 1]; // axis 2: H = 3, W = 2 from size 4
    const slice = Uint8Array.from({ length: 16 }, (_, q) => q); // value = 4·row + col
    const out = assembleVolume([slice], dims, 2, 4);
    expect(Array.from(out)).toEqual([0 * 4 + 1, 0 * 4 + 3, 2 * 4 + 1, 2 * 4 + 3, 3 * 4 + 1, 3 * 4 + 3]);
  });

  it('refuses a wrong slice count or length and labels outside 0…255', () => {
    const dims: Vec3 = [2, 2, 2];
    const ok = new Uint8Array(9);
    expect(() => assembleVolume([ok], dims, 2, 3)).toThrow('1 slices given, expected one per slice index along axis 2 (2)');
    expect(() => assembleVolume([ok, new Uint8Array(8)], dims, 2, 3)).toThrow('slice 1 has 8 values, expected size·size = 9');
    expect(() => assembleVolume([ok, Int32Array.from({ length: 9 }, () => 300)], dims, 2, 3)).toThrow('label 300');
    expect(() => assembleVolume([ok, ok], dims, 2, 0)).toThrow('size = 0');
  });
});

describe('assembleFromProbs', () => {
  it('one-hot scores at the same size give the same volume as the labels', () => {
    const dims: Vec3 = [4, 3, 4]; // axis 0: H = nk = 4, W = nj = 3 (a resize along W only)
    const K = 3;
    const labels = Array.from({ length: 4 }, (_, s) => Uint8Array.from({ length: 16 }, (_, q) => (q * 5 + s) % K));
    const probs = labels.map((l) => {
      const p = new Float32Array(16 * K);
      l.forEach((c, q) => { p[q * K + c] = 1; });
      return p;
    });
    const sameSize: Vec3 = [4, 4, 4];
    expect(assembleFromProbs(probs, sameSize, 0, 4, K)).toEqual(assembleVolume(labels, sameSize, 0, 4));
    expect(assembleFromProbs(probs, dims, 0, 4, K).length).toBe(48);
  });

  it('blends before argmax: half-way between class 0 and class 2 the middle class wins', () => {
    // size 2 → W 3: column taps s = (x + ½)·2/3 − ½ = −⅙ (→ 0), ½, 1⅙ (→ 1); both rows the same.
    const px0 = [0.6, 0.4, 0], px1 = [0, 0.4, 0.6];
    const slice = Float32Array.from([...px0, ...px1, ...px0, ...px1]);
    expect(Array.from(assembleFromProbs([slice], [3, 1, 1], 2, 2, 3))).toEqual([0, 1, 2]);
    expect(Array.from(assembleVolume([Uint8Array.from([0, 2, 0, 2])], [3, 1, 1], 2, 2))).toEqual([0, 2, 2]); // nearest on argmax labels
  });

  it('ties go to the lowest class', () => {
    expect(Array.from(assembleFromProbs([Float32Array.from([0.5, 0.5])], [1, 1, 1], 2, 1, 2))).toEqual([0]);
  });

  it('refuses a wrong slice length or class count', () => {
    expect(() => assembleFromProbs([new Float32Array(7)], [1, 1, 1], 2, 2, 2)).toThrow('expected size·size·numClasses = 8');
    expect(() => assembleFromProbs([new Float32Array(4)], [1, 1, 1], 2, 1, 0)).toThrow('numClasses = 0');
  });
});

describe('evaluateCase', () => {
  const dims: Vec3 = [10, 9, 8];
  const sp: Vec3 = [0.8, 1.2, 2];
  const gt = labelVolume(dims, (i, j, k) => (i >= 2 && i <= 6 && j >= 2 && j <= 6 && k >= 1 && k <= 5 ? (i < 4 ? 1 : 2) : 0), sp);
  const pred = labelVolume(dims, (i, j, k) => (i >= 3 && i <= 7 && j >= 2 && j <= 7 && k >= 1 && k <= 5 ? (i < 4 ? 1 : 2) : 0), sp);

  it('Dice and HD95 per class agree with dice() and hd95() on each class; background HD95 is not computed', () => {
    const m = evaluateCase(pred, gt, 4);
    const d = dice(pred.data, gt.data, 4);
    expect(m.dice).toEqual(d.perClass);
    expect(m.meanDice).toBe(d.mean);
    expect(m.classes).toEqual([1, 2]);
    expect(m.hd95[0]).toBeNaN();
    for (const c of [1, 2]) expect(m.hd95[c]).toBe(hd95(pred.data, gt.data, dims, sp, { label: c }));
    expect(m.hd95[3]).toBeNaN(); // class 3 absent from both
    expect(m.dice[3]).toBeNaN();
    expect(m.meanHd95).toBeCloseTo((m.hd95[1] + m.hd95[2]) / 2, 12);
    expect(m.hd95[1]).toBeGreaterThan(0);
    expect(Array.from(m.counts.gt)).toEqual([720 - 125, 50, 75, 0]);
  });

  it('uses the spacing given over the ground truth\'s', () => {
    const a = evaluateCase(pred, gt, 3, [2, 2, 2]);
    const b = evaluateCase(pred, { ...gt, spacing: [2, 2, 2] }, 3);
    expect(a.hd95).toEqual(b.hd95);
    expect(a.hd95[2]).not.toBe(evaluateCase(pred, gt, 3).hd95[2]);
  });

  it('a ground-truth class never predicted: Dice 0, HD95 Infinity, and the mean HD95 is Infinity', () => {
    const none = { dims, data: new Uint8Array(720) };
    const m = evaluateCase(none, gt, 3);
    expect(m.dice.slice(1)).toEqual([0, 0]);
    expect(m.hd95.slice(1)).toEqual([Infinity, Infinity]);
    expect(m.meanHd95).toBe(Infinity);
  });

  it('a class only predicted: Dice 0, HD95 Infinity, both outside the means', () => {
    const extra = Uint8Array.from(gt.data);
    extra[0] = 2;
    const onlyOne = labelVolume(dims, (i, j, k) => (gt.data[at(dims, i, j, k)] === 1 ? 1 : 0), sp);
    const m = evaluateCase({ dims, data: extra }, onlyOne, 3);
    expect(m.dice[2]).toBe(0);
    expect(m.hd95[2]).toBe(Infinity);
    expect(m.classes).toEqual([1]);
    expect(m.meanDice).toBe(1);
    expect(m.meanHd95).toBe(0);
  });

  it('skipHd95 leaves HD95 NaN; refuses grids that differ, multi-channel maps, no spacing', () => {
    const m = evaluateCase(pred, gt, 3, undefined, { skipHd95: true });
    expect(m.hd95.every(Number.isNaN)).toBe(true);
    expect(m.meanHd95).toBeNaN();
    expect(() => evaluateCase({ dims: [10, 9, 7], data: new Uint8Array(630) }, gt, 3)).toThrow('prediction grid 10×9×7 differs from ground truth grid 10×9×8');
    expect(() => evaluateCase(pred, { ...gt, channels: 2 }, 3)).toThrow('labels.nii has 2 channels, expected 1');
    expect(() => evaluateCase(pred, { dims, data: gt.data }, 3)).toThrow('no voxel spacing given');
  });
});
