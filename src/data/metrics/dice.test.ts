// Dice: hand-counted cases, the "absent" convention, label validation and pooling over several volumes.
import { describe, expect, it } from 'vitest';
import { dice, diceCounts, DiceAccumulator, diceFromCounts, emptyCounts } from './dice.ts';

describe('dice', () => {
  // voxel:         0  1  2  3  4  5
  const pred = [0, 1, 1, 2, 2, 0];
  const gt = [0, 1, 2, 2, 0, 0];

  it('counts intersections and sizes per class in one pass', () => {
    const c = diceCounts(Uint8Array.from(pred), Int16Array.from(gt), 3);
    expect(Array.from(c.intersection)).toEqual([2, 1, 1]);
    expect(Array.from(c.pred)).toEqual([2, 2, 2]);
    expect(Array.from(c.gt)).toEqual([3, 1, 2]);
  });

  it('2|P∩G| / (|P| + |G|) per class; the mean is over foreground classes', () => {
    const r = dice(pred, gt, 3);
    expect(r.perClass[0]).toBeCloseTo(4 / 5, 15);
    expect(r.perClass[1]).toBeCloseTo(2 / 3, 15);
    expect(r.perClass[2]).toBeCloseTo(2 / 4, 15);
    expect(r.mean).toBeCloseTo((2 / 3 + 1 / 2) / 2, 15);
    expect(r.meanOver).toEqual([1, 2]);
  });

  it('a class in neither volume is absent (NaN), not 1 or 0, and is left out of the mean', () => {
    const r = dice([0, 1, 1, 0], [0, 1, 0, 0], 4);
    expect(r.perClass[2]).toBeNaN();
    expect(r.perClass[3]).toBeNaN();
    expect(r.mean).toBeCloseTo(2 / 3, 15);
    expect(r.meanOver).toEqual([1]);
  });

  it('a class predicted but not in the ground truth scores 0 and is not in the mean', () => {
    const r = dice([0, 2, 1, 1], [0, 0, 1, 1], 3);
    expect(r.perClass[2]).toBe(0);
    expect(r.perClass[1]).toBe(1);
    expect(r.mean).toBe(1);
    expect(r.meanOver).toEqual([1]);
  });

  it('a class in the ground truth that is never predicted scores 0 and counts in the mean', () => {
    const r = dice([0, 0, 1, 1], [2, 2, 1, 1], 3);
    expect(r.perClass[2]).toBe(0);
    expect(r.mean).toBe(0.5);
  });

  it('no foreground in the ground truth: the mean is NaN', () => {
    const r = dice([0, 1, 0], [0, 0, 0], 2);
    expect(r.perClass).toEqual([0.8, 0]);
    expect(r.mean).toBeNaN();
    expect(r.meanOver).toEqual([]);
  });

  it('identical label maps give 1 for every present class', () => {
    const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 5);
    const r = dice(labels, labels, 6);
    expect(r.perClass.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(r.perClass[5]).toBeNaN();
    expect(r.mean).toBe(1);
  });

  it('accepts float label arrays holding integers (as the NIfTI reader gives scaled labels)', () => {
    expect(dice(Float32Array.from(pred), Float64Array.from(gt), 3).mean).toBeCloseTo(7 / 12, 15);
  });

  it('refuses labels outside 0 … numClasses−1, non-integers, NaN, and mismatched lengths', () => {
    expect(() => dice([0, 3], [0, 1], 3)).toThrow('dice: prediction[1] = 3; expected an integer label in 0…2.');
    expect(() => dice([0, 1], [0, -1], 3)).toThrow('ground truth[1] = -1');
    expect(() => dice([0.5], [0], 3)).toThrow('prediction[0] = 0.5');
    expect(() => dice([0], [NaN], 3)).toThrow('ground truth[0] = NaN');
    expect(() => dice([0, 1], [0], 3)).toThrow('prediction has 2 voxels, ground truth 1');
    expect(() => dice([0], [0], 0)).toThrow('numClasses = 0');
  });
});

describe('DiceAccumulator (pooled)', () => {
  it('sums intersections and sizes before dividing — not the mean of per-volume Dice', () => {
    const acc = new DiceAccumulator(2);
    // Volume 1: class 1 perfect on 1 voxel (Dice 1). Volume 2: class 1 has |P|=3, |G|=1, ∩=1 (Dice 0.5).
    acc.add([1, 0, 0, 0], [1, 0, 0, 0]);
    acc.add([1, 1, 1, 0], [1, 0, 0, 0]);
    const r = acc.result();
    expect(r.perClass[1]).toBeCloseTo((2 * 2) / (4 + 2), 15); // pooled: 2·2 / (4 + 2) = 2/3, not (1 + 0.5)/2
    expect(r.mean).toBeCloseTo(2 / 3, 15);
    expect(acc.items).toBe(2);
  });

  it('pooling slices equals one pass over the stacked volume', () => {
    const n = 7 * 5;
    const pred = Uint8Array.from({ length: n * 4 }, (_, i) => (i * 13 + (i >> 3)) % 4);
    const gt = Uint8Array.from({ length: n * 4 }, (_, i) => (i * 7 + (i >> 2)) % 4);
    const acc = new DiceAccumulator(4);
    for (let s = 0; s < 4; s++) acc.add(pred.subarray(s * n, (s + 1) * n), gt.subarray(s * n, (s + 1) * n));
    expect(acc.result()).toEqual(dice(pred, gt, 4));
  });

  it('addCounts pools counts computed elsewhere; totals() is a copy; reset() starts over', () => {
    const a = new DiceAccumulator(3).add([0, 1, 2], [0, 1, 1]);
    const b = new DiceAccumulator(3).addCounts(diceCounts([0, 1, 2], [0, 1, 1], 3));
    expect(b.result()).toEqual(a.result());
    const t = a.totals();
    t.gt[1] = 99;
    expect(a.totals().gt[1]).toBe(2);
    a.reset();
    expect(a.items).toBe(0);
    expect(a.result().perClass.every(Number.isNaN)).toBe(true);
    expect(() => a.addCounts(emptyCounts(2))).toThrow('counts hold 2 classes, expected 3');
  });

  it('diceFromCounts on empty counts: every class absent, mean NaN', () => {
    const r = diceFromCounts(emptyCounts(3));
    expect(r.perClass.every(Number.isNaN)).toBe(true);
    expect(r.mean).toBeNaN();
  });
});
