// Tests for the sampler: splits (by case, by slab), foreground-favouring draws, batch layout and contents,
// determinism, errors — on generated cases and the Colin27 2 mm sample.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../core/types.ts';
import { resizeArea, resizeBilinear, resizeNearest } from './resize.ts';
import { makeSampler, type SamplerCase } from './sampler.ts';
import { colin27, makeVolume } from './testutil.ts';
import { labelSlice, sliceWindow } from './window.ts';

/** A case whose label is 1 on the slices along k listed in `fg` (one voxel each), else 0. */
function synth(id: string, split: 'train' | 'val', dims: Vec3 = [6, 5, 20], fg: number[] = [3, 4], channels = 1): SamplerCase {
  return {
    id, split,
    volume: makeVolume(dims, (i, j, k, c) => i + 2 * j + 3 * k + 50 * c, { channels, name: `${id}.nii.gz` }),
    label: makeVolume(dims, (i, j, k) => (i === 1 && j === 2 && fg.includes(k) ? 1 : 0), { name: `${id}_seg.nii.gz` }),
    ranges: Array.from({ length: channels }, () => ({ low: 0, high: 200 })),
  };
}

const base = { axis: 2 as const, T: 3, size: 8, batch: 4, seed: 1 };

describe('makeSampler splits', () => {
  it('splits by case and yields validation windows in order, the last batch smaller', () => {
    const s = makeSampler([synth('a', 'train'), synth('b', 'train', [6, 5, 7]), synth('v', 'val', [6, 5, 9])], base);
    expect(s.train.length).toBe(27);
    expect(s.val.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.notes.join('\n')).toMatch(/Split by case: 2 training, 1 validation/);
    const batches = [...s.validation()];
    expect(batches.map((b) => b.shape[0])).toEqual([4, 4, 1]);
    expect(batches.flatMap((b) => b.ids)).toEqual(s.val.map((r) => `v:${r.index}`));
    expect([...s.validation(9)].length).toBe(1);
  });

  it('holds out one slab, with a gap of T slices, when asked to (valSlabs 1)', () => {
    const s = makeSampler([synth('only', 'train', [6, 5, 30])], { ...base, T: 5, valSlabs: 1 });
    expect(s.val.map((r) => r.index)).toEqual([24, 25, 26, 27, 28, 29]);
    expect(s.train.map((r) => r.index)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    // No window of a training slice reaches a slice that a validation window reads.
    expect(Math.max(...s.train.map((r) => r.index)) + 2).toBeLessThan(Math.min(...s.val.map((r) => r.index)) - 2);
    expect(s.notes[0]).toMatch(/only labelled case: validation is the slab of slices 24…29 along axis 2 \(6 of 30, holding 1 of the 2 label values\), training the other slices but 5 on each side/);
    expect(() => makeSampler([synth('thin', 'train', [6, 5, 6])], { ...base, T: 5, valSlabs: 1 })).toThrow(/thin has 6 slices along axis 2, too few/);
  });

  it('holds out the most varied slab that leaves every class to training (not an all-background edge)', () => {
    // Foreground on slices 3, 4, 15 and 16: the edge slab 24…29 is all background. Slabs over 3/4 or over 15/16
    // both hold class 1 and leave some of it to training; the later one wins the tie.
    const s = makeSampler([synth('mid', 'train', [6, 5, 30], [3, 4, 15, 16])], { ...base, T: 5, valSlabs: 1 });
    expect(s.val.map((r) => r.index)).toEqual([16, 17, 18, 19, 20, 21]);
    expect(s.train.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 27, 28, 29]);
    expect(s.notes[0]).toMatch(/holding 2 of the 2 label values/);
    // Class 1 only on slices 3 and 4: holding them out would leave training without it, so the slab stays clear.
    const t = makeSampler([synth('rare', 'train', [6, 5, 30], [3, 4])], { ...base, T: 5, valSlabs: 1 });
    expect(t.val.map((r) => r.index)).toEqual([24, 25, 26, 27, 28, 29]);
  });

  it('spreads the held-out slices of a single case over 3 slabs of its labelled extent, ⌊T/2⌋ slices apart from training', () => {
    // Foreground on slices 10…49 of 60 (extent 40): slab centres at 10 + 40·(j + ½)/3 = 16.7, 30, 43.3; 12 held out
    // (20 % of 60) as 3 slabs of 4: 15…18, 28…31, 41…44; T 5 leaves a gap of 2 on each side of each.
    const s = makeSampler([synth('spread', 'train', [6, 5, 60], Array.from({ length: 40 }, (_, i) => 10 + i))], { ...base, T: 5 });
    expect(s.val.map((r) => r.index)).toEqual([15, 16, 17, 18, 28, 29, 30, 31, 41, 42, 43, 44]);
    const gaps = [13, 14, 19, 20, 26, 27, 32, 33, 39, 40, 45, 46];
    expect(s.train.map((r) => r.index)).toEqual(Array.from({ length: 60 }, (_, i) => i).filter((i) => !gaps.includes(i) && !s.val.some((r) => r.index === i)));
    // No training window (centre ± 2) reads a validation slice.
    for (const t of s.train) for (const v of s.val) expect(Math.abs(t.index - v.index)).toBeGreaterThan(2);
    expect(s.notes[0]).toMatch(/validation is 3 slabs spread through the labelled slices \(15…18, 28…31, 41…44\) along axis 2 \(12 of 60, holding 2 of the 2 label values\), training the other slices but 2 on each side of each slab/);
  });

  it('falls back to one slab when spread slabs would not fit apart or would leave training without a class', () => {
    // 20 slices, T 5: 3 slabs of 2 need 3·(2 + 4) = 18 slices around a 2-slice foreground extent: they collide.
    const s = makeSampler([synth('short', 'train', [6, 5, 20], [9, 10])], { ...base, T: 5 });
    expect(s.notes[0]).toMatch(/validation is the slab of slices/);
    // Class 1 only on slices 20 and 40 of 60, both inside spread slabs (centres 20, 30, 40 of the extent 20…40).
    const t = makeSampler([synth('rare', 'train', [6, 5, 60], [20, 40])], { ...base, T: 5 });
    expect(t.notes[0]).toMatch(/validation is the slab of slices/);
    expect(t.train.some((r) => r.index === 20 || r.index === 40)).toBe(true);
  });

  it('holds nothing out when several cases are all for training', () => {
    const s = makeSampler([synth('a', 'train'), synth('b', 'train')], base);
    expect(s.val).toEqual([]);
    expect([...s.validation()]).toEqual([]);
    expect(s.notes.join('\n')).toMatch(/No validation case among 2/);
  });

  it('refuses bad input with the name of what is wrong', () => {
    expect(() => makeSampler([], base)).toThrow(/no cases/);
    expect(() => makeSampler([synth('a', 'val')], base)).toThrow(/no training case/);
    expect(() => makeSampler([synth('a', 'train'), synth('a', 'val')], base)).toThrow(/'a' appears twice/);
    expect(() => makeSampler([synth('a', 'train'), synth('b', 'val', [6, 5, 20], [], 2)], base)).toThrow(/b.nii.gz has 2 channel/);
    const bad = { ...synth('g', 'train'), label: makeVolume([6, 5, 19], () => 0, { name: 'g_seg' }) };
    expect(() => makeSampler([bad], base)).toThrow(/g_seg: label grid 6×5×19 differs/);
    expect(() => makeSampler([synth('a', 'train')], { ...base, T: 4 })).toThrow(/odd/);
    expect(() => makeSampler([synth('a', 'train')], { ...base, foregroundFraction: 2 })).toThrow(/foregroundFraction/);
  });
});

describe('makeSampler batches', () => {
  it('has layout x [B, T, S, S, C], y [B, S, S] with the resized window and centre label', () => {
    const cases = [synth('a', 'train', [6, 5, 20], [3, 4], 2), synth('v', 'val', [6, 5, 9], [2], 2)];
    const s = makeSampler(cases, { ...base, augment: false });
    const b = s.next();
    expect(b.shape).toEqual([4, 3, 8, 8, 2]);
    expect(b.x.length).toBe(4 * 3 * 8 * 8 * 2);
    expect(b.y.length).toBe(4 * 8 * 8);
    b.refs.forEach((r, i) => {
      const c = cases[0];
      const win = resizeBilinear(sliceWindow(c.volume, 2, r.index, 3, { ranges: c.ranges! }), [3, 5, 6, 2], 8, 8);
      const lab = resizeNearest(labelSlice(c.label, 2, r.index), [1, 5, 6, 1], 8, 8);
      expect(b.x.subarray(i * win.length, (i + 1) * win.length)).toEqual(win);
      expect(b.y.subarray(i * 64, (i + 1) * 64)).toEqual(lab);
      expect(b.ids[i]).toBe(`a:${r.index}`);
    });
  });

  it('resizes images by area when asked', () => {
    const c = synth('a', 'train', [12, 10, 20], [3]);
    const s = makeSampler([c], { ...base, size: 5, augment: false, imageResize: 'area' });
    const b = s.next();
    const r = b.refs[0];
    expect(b.x.subarray(0, 3 * 25)).toEqual(resizeArea(sliceWindow(c.volume, 2, r.index, 3, { ranges: c.ranges! }), [3, 10, 12, 1], 5, 5));
  });

  it('is deterministic per seed', () => {
    const mk = (seed: number) => makeSampler([synth('a', 'train'), synth('v', 'val')], { ...base, seed });
    const a = mk(5), b = mk(5), c = mk(6);
    for (let i = 0; i < 3; i++) {
      const [ba, bb, bc] = [a.next(), b.next(), c.next()];
      expect(ba.x).toEqual(bb.x);
      expect(ba.ids).toEqual(bb.ids);
      if (i === 0) expect(bc.ids.join() + bc.x[0]).not.toEqual(ba.ids.join() + ba.x[0]);
    }
  });

  it('favours slices with foreground at the requested rate', () => {
    const rate = (foregroundFraction: number) => {
      const s = makeSampler([synth('a', 'train', [6, 5, 20], [3, 4])], { ...base, foregroundFraction, augment: false, batch: 50 });
      let fg = 0;
      for (let i = 0; i < 20; i++) for (const r of s.next().refs) if (r.index === 3 || r.index === 4) fg++;
      return fg / 1000;
    };
    // The slab split trains on slices 0…12 (2 with foreground): p = f + (1 − f)·2/13.
    expect(Math.abs(rate(0.7) - (0.7 + 0.3 * 2 / 13))).toBeLessThan(0.05);
    expect(Math.abs(rate(0) - 2 / 13)).toBeLessThan(0.04);
    expect(rate(1)).toBe(1);
  });

  it('draws uniformly when no slice has foreground, and says so', () => {
    const s = makeSampler([synth('a', 'train', [6, 5, 20], [])], base);
    expect(s.notes.join('\n')).toMatch(/0 of 13 training slices hold foreground.*uniform/);
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) for (const r of s.next().refs) seen.add(r.index);
    expect(seen.size).toBe(13);
  });
});

describe('makeSampler on Colin27 2 mm', () => {
  it('splits the single case by slab, samples mostly brain slices and keeps labels in range', async () => {
    const { image, label } = await colin27();
    const s = makeSampler([{ id: 'colin27', volume: image, label, split: 'train' }], { axis: 2, T: 5, size: 48, batch: 6, seed: 7 });
    // nibabel: labelled axial slices 5…77 (extent 73); slab centres 5 + 73·(j + ½)/3 = 17.2, 41.5, 65.8; 18 held out
    // as 3 slabs of 6 (14…19, 39…44, 63…68), 2 gap slices on each side of each.
    const slabs = [14, 39, 63].flatMap((a) => Array.from({ length: 6 }, (_, i) => a + i));
    expect(s.val.map((r) => r.index)).toEqual(slabs);
    expect(s.notes.join('\n')).toMatch(/holding 8 of the 8 label values/);
    expect(s.train.length).toBe(91 - 18 - 3 * 2 * 2);
    expect(s.notes.join('\n')).toMatch(/colin27: intensities .* → 0…1 \(mri-percentile\)/);
    const counts = s.foreground.get('colin27')!;
    let fgPicks = 0, labelled = 0, lo = Infinity, hi = -Infinity, ylo = Infinity, yhi = -Infinity;
    for (let i = 0; i < 10; i++) {
      const b = s.next();
      expect(b.shape).toEqual([6, 5, 48, 48, 1]);
      for (const r of b.refs) if (counts[r.index] > 0) fgPicks++;
      for (const v of b.x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (const v of b.y) { ylo = Math.min(ylo, v); yhi = Math.max(yhi, v); if (v > 0) labelled++; }
    }
    // Normalised to 0…1, then shifted by at most ±0.1; labels are the 7 lobe classes and background.
    expect(lo).toBeGreaterThanOrEqual(-0.1 - 1e-6);
    expect(hi).toBeLessThanOrEqual(1.1 + 1e-6);
    expect(ylo).toBe(0);
    expect(yhi).toBeLessThanOrEqual(7);
    expect(fgPicks / 60).toBeGreaterThan(0.7);
    expect(labelled).toBeGreaterThan(0);
    const val = [...s.validation()];
    expect(val.map((b) => b.shape[0])).toEqual([6, 6, 6]);
    expect(val[0].refs[0]).toEqual({ caseId: 'colin27', index: 14 });
  });
});

describe('batchAt', () => {
  it('is a pure function of (seed, step): the k-th next() of a fresh sampler equals batchAt(k) of another', () => {
    const make = () => makeSampler([synth('a', 'train', [6, 5, 20], [3, 4, 5, 8, 9, 12])], { axis: 2, T: 3, size: 16, batch: 3, seed: 11 });
    const a = make(), b = make();
    const seq = [a.next(), a.next(), a.next(), a.next()];
    expect(b.batchAt(3).x).toEqual(seq[3].x);
    expect(b.batchAt(3).refs).toEqual(seq[3].refs);
    expect(b.next().refs).toEqual(make().batchAt(4).refs); // next() goes on from batchAt's step
    expect(b.batchAt(1).y).toEqual(seq[1].y);
    expect(seq[0].refs).not.toEqual(seq[1].refs);
    expect(() => b.batchAt(-1)).toThrow(/step -1/);
  });
});
