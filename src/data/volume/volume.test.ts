// Tests for the volume model's data: crop placement (shift inside, symmetric padding), crop contents and intensity
// mapping, positive/negative centre balance, the single-case slab split, determinism; the sliding-window plan and
// the constant-weight assembly — all against hand-computed values.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../core/types.ts';
import { makeVolume } from '../windows/testutil.ts';
import { cropImage, cropLabel, cropStart, heldOutSlab, makeVolumeSampler, VOLUME_AUGMENT, type VolumeCase } from './crops.ts';
import { validationSlab } from '../windows/sampler.ts';
import { planWindows, windowStarts, WindowAssembler } from './sliding.ts';

const ramp = (dims: Vec3, name = 'ramp.nii.gz') => makeVolume(dims, (i, j, k) => i + 10 * j + 100 * k, { name });

describe('cropStart', () => {
  it('centres the crop (centre voxel at start + ⌊crop/2⌋) and shifts it inside the volume', () => {
    expect(cropStart(5, 4, 10)).toBe(3);
    expect(cropStart(0, 4, 10)).toBe(0);
    expect(cropStart(9, 4, 10)).toBe(6);
    expect(cropStart(4, 5, 10)).toBe(2);
    expect(cropStart(3, 10, 10)).toBe(0);
  });
  it('pads a short axis symmetrically, the smaller half before', () => {
    expect(cropStart(1, 6, 3)).toBe(-1);
    expect(cropStart(0, 5, 2)).toBe(-1);
    expect(cropStart(0, 4, 1)).toBe(-1);
  });
});

describe('cropImage / cropLabel', () => {
  it('copies a sub-block as [D, H, W, C] with D along k and W along i, mapped by the range', () => {
    const v = ramp([4, 3, 5]);
    const x = cropImage(v, [{ low: 0, high: 1000 }], [1, 0, 2], [2, 2, 2]);
    // (d, h, w) ← (k = 1 + d, j = h, i = 2 + w); value (i + 10j + 100k) / 1000.
    expect(Array.from(x, (t) => Math.round(t * 1000))).toEqual([102, 103, 112, 113, 202, 203, 212, 213]);
  });
  it('reads zeros outside the volume and outside the slices given, clips to the range', () => {
    const v = ramp([2, 1, 3]);
    const x = cropImage(v, [{ low: 100, high: 200 }], [-1, 0, -1], [3, 1, 3], [0, 2]);
    // k = −1 padded; k = 0 → values 0, 1 clip to 0; k = 1 → 100, 101 → 0, 0.01; i = 2 padded.
    expect(Array.from(x, (t) => Math.round(t * 100) / 100)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0.01]);
    const lab = makeVolume([2, 1, 3], (i, _j, k) => (k === 2 ? 3 : i), { name: 'lab.nii.gz' });
    expect(Array.from(cropLabel(lab, [0, 0, 0], [3, 1, 2], [0, 2]))).toEqual([0, 1, 0, 1, 0, 0]);
  });
  it('interleaves channels last', () => {
    const v = makeVolume([2, 1, 1], (i, _j, _k, c) => i + 10 * c, { channels: 2 });
    const x = cropImage(v, [{ low: 0, high: 10 }, { low: 0, high: 20 }], [0, 0, 0], [1, 1, 2]);
    expect(Array.from(x)).toEqual([0, 0.5, Math.fround(0.1), Math.fround(0.55)]);
  });
});

/** A cube with one foreground voxel at its centre; ranges given so no preset is computed. */
function oneVoxelCase(id = 'c', split: 'train' | 'val' = 'train', dims: Vec3 = [9, 9, 9]): VolumeCase {
  const [cx, cy, cz] = dims.map((d) => Math.floor(d / 2));
  return {
    id, split, volume: ramp(dims, `${id}.nii.gz`), ranges: [{ low: 0, high: 1000 }],
    label: makeVolume(dims, (i, j, k) => (i === cx && j === cy && k === cz ? 1 : 0), { name: `${id}_seg.nii.gz` }),
  };
}

describe('makeVolumeSampler', () => {
  it('centres half the crops on foreground (pos 1 : neg 1) and is a pure function of (seed, step)', () => {
    const s = makeVolumeSampler([oneVoxelCase('a'), oneVoxelCase('v', 'val')], { crop: [3, 3, 3], batch: 4, seed: 7 });
    expect(s.train).toEqual([{ caseId: 'a', k0: 0, k1: 9 }]);
    expect(s.val).toEqual([{ caseId: 'v', k0: 0, k1: 9 }]);
    let onFg = 0, crops = 0;
    for (let step = 0; step < 100; step++) {
      const b = s.batchAt(step);
      expect(b.shape).toEqual([4, 3, 3, 3, 1]);
      for (let n = 0; n < 4; n++) {
        crops++;
        // The foreground voxel is at (4, 4, 4): a crop centred on it starts at 3 on every axis.
        if (b.starts[n].start.every((v) => v === 3)) {
          onFg++;
          expect(b.y[n * 27 + 13]).toBe(1);
        }
      }
    }
    // A background centre lands exactly on (3, 3, 3) with probability 1/728 per crop: onFg ≈ 200 ± 20.
    expect(onFg / crops).toBeGreaterThan(0.4);
    expect(onFg / crops).toBeLessThan(0.6);
    const again = makeVolumeSampler([oneVoxelCase('a'), oneVoxelCase('v', 'val')], { crop: [3, 3, 3], batch: 4, seed: 7 });
    expect(again.batchAt(42)).toEqual(s.batchAt(42));
    expect(makeVolumeSampler([oneVoxelCase('a')], { crop: [3, 3, 3], batch: 4, seed: 8 }).batchAt(42).starts).not.toEqual(s.batchAt(42).starts);
  });

  it('centres background crops on label-0 voxels above the intensity range\'s low end (not in the air)', () => {
    const dims: Vec3 = [8, 4, 4];
    const c: VolumeCase = {
      id: 'air', split: 'train', ranges: [{ low: 0, high: 1000 }],
      volume: makeVolume(dims, (i) => (i < 5 ? -5 : 500)), label: makeVolume(dims, (i, j, k) => (i === 7 && j === 0 && k === 0 ? 1 : 0)),
    };
    const s = makeVolumeSampler([c, oneVoxelCase('v', 'val')], { crop: [1, 1, 1], batch: 8, seed: 4 });
    const seen = new Set<number>();
    for (let step = 0; step < 20; step++) for (const { start } of s.batchAt(step).starts) seen.add(start[2]);
    // Centres at i = 5, 6, 7 only (the foreground voxel is at i = 7); a 1-voxel crop starts at its centre.
    expect([...seen].sort()).toEqual([5, 6, 7]);
  });

  it('draws centres uniformly over the candidate voxels of all training pieces, not a piece first (issue 16)', () => {
    // Every voxel of 'big' (3 voxels) and of 'small' (1 voxel) is foreground; all crops on foreground: 'small' holds
    // 1 of the 4 candidates, so it gets 1/4 of the crops (drawing the case first gave it 1/2). The single-case slab
    // split of the ITK head left a 9-slice piece of air that way, and half the crops were air and zero padding.
    const fgCase = (id: string, dims: Vec3): VolumeCase => ({
      id, split: 'train', ranges: [{ low: 0, high: 1000 }], volume: makeVolume(dims, () => 500, { name: `${id}.nii.gz` }),
      label: makeVolume(dims, () => 1, { name: `${id}_seg.nii.gz` }),
    });
    const s = makeVolumeSampler([fgCase('big', [3, 1, 1]), fgCase('small', [1, 1, 1])], { crop: [1, 1, 1], batch: 50, seed: 5, posFraction: 1 });
    const seen = new Map<string, number>();
    for (let step = 0; step < 40; step++) for (const { caseId, start } of s.batchAt(step).starts) seen.set(`${caseId}@${start[2]}`, (seen.get(`${caseId}@${start[2]}`) ?? 0) + 1);
    // 2,000 crops, each of the 4 voxels expected 500 times (σ ≈ 19).
    expect([...seen.keys()].sort()).toEqual(['big@0', 'big@1', 'big@2', 'small@0']);
    for (const n of seen.values()) expect(Math.abs(n - 500)).toBeLessThan(80);
  });

  it('holds out the most representative slab of a single case, not the last one with every label value (issue 16)', () => {
    // 4 × 1 × 10: slices 0…7 are [1, 2, 2, 3], slice 8 [1, 1, 2, 3], slice 9 all 1; class voxels V = 14, 17, 9.
    // Slabs of 2 (n / Z = 0.2) all hold classes 1, 2, 3; Σ_c min(v_c / V_c, 0.2): 0…7 → 2/14 + 0.2 + 0.2 = 0.543,
    // 7…8 → 0.2 + 3/17 + 0.2 = 0.576, 8…9 → 0.2 + 1/17 + 1/9 = 0.370 (what counting classes alone picks).
    const row = (k: number) => (k < 8 ? [1, 2, 2, 3] : k === 8 ? [1, 1, 2, 3] : [1, 1, 1, 1]);
    const label = makeVolume([4, 1, 10], (i, _j, k) => row(k)[i], { name: 'slab_seg.nii.gz' });
    expect(heldOutSlab(label, 2)).toEqual({ start: 7, classes: 3, total: 3 });
    expect(validationSlab(label, 2, 2, 0)?.start).toBe(8);
    const s = makeVolumeSampler([{ id: 'one', split: 'train', volume: makeVolume([4, 1, 10], () => 500), label, ranges: [{ low: 0, high: 1000 }] }], { crop: [1, 1, 1], batch: 1, seed: 0 });
    expect(s.val).toEqual([{ caseId: 'one', k0: 7, k1: 9 }]);
    expect(s.train).toEqual([{ caseId: 'one', k0: 0, k1: 7 }, { caseId: 'one', k0: 9, k1: 10 }]);
  });

  it('image and label of a crop are those of the volume at its start', () => {
    const s = makeVolumeSampler([oneVoxelCase('a', 'train', [6, 7, 8]), oneVoxelCase('v', 'val')], { crop: [4, 3, 2], batch: 2, seed: 1 });
    const b = s.batchAt(3);
    for (let n = 0; n < 2; n++) {
      const [k, j, i] = b.starts[n].start;
      // Voxel (d, h, w) = (1, 2, 1) ← (k + 1, j + 2, i + 1).
      const q = ((1 * 3 + 2) * 2 + 1);
      expect(b.x[n * 24 + q]).toBeCloseTo((i + 1 + 10 * (j + 2) + 100 * (k + 1)) / 1000, 6);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k + 4).toBeLessThanOrEqual(8);
    }
  });

  it('pads a volume smaller than the crop symmetrically', () => {
    const s = makeVolumeSampler([oneVoxelCase('a', 'train', [3, 3, 3]), oneVoxelCase('v', 'val', [3, 3, 3])], { crop: [4, 6, 5], batch: 1, seed: 0 });
    const b = s.batchAt(0);
    expect(b.starts[0].start).toEqual([0, -1, -1]);
    // The foreground voxel (1, 1, 1) lands at (d, h, w) = (1, 2, 2).
    expect(b.y.reduce((a, v) => a + v, 0)).toBe(1);
    expect(b.y[(1 * 6 + 2) * 5 + 2]).toBe(1);
  });

  it('splits a single case by an axial slab; training crops never read it', () => {
    const dims: Vec3 = [4, 4, 20];
    const c: VolumeCase = {
      id: 'only', split: 'train', volume: makeVolume(dims, () => 500), ranges: [{ low: 0, high: 1000 }],
      label: makeVolume(dims, (i, j, k) => (i === 1 && j === 1 && k % 3 === 0 ? 1 : 0)),
    };
    const s = makeVolumeSampler([c], { crop: [6, 4, 4], batch: 3, seed: 2 });
    // 20 % of 20 slices = 4; every slab holds both values; class 1 (slices 0, 3, …, 18) is best represented by slabs
    // holding two of its 7 slices (2/7 capped at 4/20), ties go to the last: 15…18.
    expect(s.val).toEqual([{ caseId: 'only', k0: 15, k1: 19 }]);
    expect(s.train).toEqual([{ caseId: 'only', k0: 0, k1: 15 }, { caseId: 'only', k0: 19, k1: 20 }]);
    expect(s.notes[0]).toMatch(/validation is the slab of axial slices 15…18 \(4 of 20/);
    for (let step = 0; step < 30; step++) {
      const b = s.batchAt(step);
      for (let n = 0; n < 3; n++) {
        const k0 = b.starts[n].start[0];
        for (let d = 0; d < 6; d++) {
          const k = k0 + d, read = k >= 0 && k < 20 && !(k >= 15 && k < 19);
          // Intensity 500 → 0.5 where read, 0 in the held-out slab (and outside the volume).
          expect(b.x[n * 96 + d * 16]).toBe(read ? 0.5 : 0);
        }
      }
    }
  });

  it('flips and shifts crops consistently with the paper level', () => {
    const s = makeVolumeSampler([oneVoxelCase('a'), oneVoxelCase('v', 'val')], { crop: [3, 3, 3], batch: 8, seed: 3, augment: VOLUME_AUGMENT.paper });
    for (let step = 0; step < 20; step++) {
      const b = s.batchAt(step);
      for (let n = 0; n < 8; n++) {
        // Wherever the foreground label went, the crop's image is that of voxel (4, 4, 4) (0.444) plus one shift.
        const y = b.y.subarray(n * 27, (n + 1) * 27), x = b.x.subarray(n * 27, (n + 1) * 27);
        const at = y.indexOf(1);
        if (at < 0) continue;
        const shift = x[at] - 0.444;
        expect(Math.abs(shift)).toBeLessThanOrEqual(0.1 + 1e-6);
      }
    }
  });

  it('refuses bad options naming them', () => {
    expect(() => makeVolumeSampler([], { crop: [2, 2, 2], batch: 1, seed: 0 })).toThrow(/no cases/);
    expect(() => makeVolumeSampler([oneVoxelCase()], { crop: [2, 0, 2], batch: 1, seed: 0 })).toThrow(/crop 2×0×2/);
    expect(() => makeVolumeSampler([oneVoxelCase('v', 'val')], { crop: [2, 2, 2], batch: 1, seed: 0 })).toThrow(/no training case/);
  });
});

describe('sliding window plan', () => {
  it('steps by ⌊roi·0.75⌋ and puts the last window flush with the edge', () => {
    // 91 slices, roi 32: step 24, ⌈59/24⌉ + 1 = 4 windows, the last at 91 − 32 = 59.
    expect(windowStarts(91, 32, 0.25)).toEqual([0, 24, 48, 59]);
    // roi 96 on 100: step 72, ⌈4/72⌉ + 1 = 2.
    expect(windowStarts(100, 96, 0.25)).toEqual([0, 4]);
    expect(windowStarts(96, 96, 0.25)).toEqual([0]);
    expect(windowStarts(5, 4, 0.5)).toEqual([0, 1]);
    expect(windowStarts(13, 4, 0)).toEqual([0, 4, 8, 9]);
    // roi 1, overlap 0.5: ⌊0.5⌋ = 0 → step 1.
    expect(windowStarts(3, 1, 0.5)).toEqual([0, 1, 2]);
  });
  it('pads an axis shorter than the window', () => {
    expect(windowStarts(20, 32, 0.25)).toEqual([-6]);
  });
  it('covers the volume, k slowest, and a slab alone', () => {
    const plan = planWindows([10, 4, 6], [4, 4, 8], 0.25);
    // k: 6 slices, roi 4, step 3 → 0, 2; j: 4 → 0; i: 10, roi 8, step 6 → 0, 2.
    expect(plan).toEqual([[0, 0, 0], [0, 0, 2], [2, 0, 0], [2, 0, 2]]);
    expect(planWindows([10, 4, 20], [4, 4, 8], 0.25, [16, 20])).toEqual([[16, 0, 0], [16, 0, 2]]);
    expect(planWindows([10, 4, 20], [6, 4, 8], 0.25, [16, 20])).toEqual([[15, 0, 0], [15, 0, 2]]);
  });
});

describe('WindowAssembler', () => {
  it('averages overlapping logits with constant weights and takes the arg max', () => {
    // A 3×1×1 volume, windows of 1×1×2 (along i) at i = 0 and i = 1, 2 classes.
    const a = new WindowAssembler([3, 1, 1], [1, 1, 2], 2);
    a.add([0, 0, 0], [1, 0, 0, 2]); // i0: (1, 0), i1: (0, 2)
    a.add([0, 0, 1], [3, 0, 0, 1]); // i1: (3, 0), i2: (0, 1)
    // i1 averages to (1.5, 1) → class 0, although the first window alone said 1.
    expect(Array.from(a.averaged())).toEqual([1, 0, 1.5, 1, 0, 1]);
    expect(Array.from(a.labels())).toEqual([0, 0, 1]);
  });
  it('drops padded parts, keeps only the slab, and refuses uncovered voxels', () => {
    const a = new WindowAssembler([2, 1, 4], [2, 1, 2], 2, [2, 4]);
    // Window at k = 1 covers k = 1 (outside the slab) and k = 2; window at k = 3 covers k = 3 and k = 4 (padding).
    a.add([1, 0, 0], [9, 0, 9, 0, 0, 1, 1, 0]);
    expect(() => a.labels()).toThrow(/not covered/);
    a.add([3, 0, 0], [0, 2, 2, 0, 7, 7, 7, 7]);
    expect(Array.from(a.labels())).toEqual([1, 0, 1, 0]);
    expect(() => a.add([0, 0, 0], [1])).toThrow(/expected D·H·W·K = 8/);
  });
});

describe('one slice from the windows covering it', () => {
  it('equals that slice of the whole-volume assembly (what the live prediction of an axial slice relies on)', () => {
    const dims: Vec3 = [7, 5, 11], roi: [number, number, number] = [4, 4, 4], K = 3;
    // Logits of a window: a fixed pseudo-random function of the window start and the voxel, so windows disagree.
    const logits = (s: Vec3) => Float32Array.from({ length: 4 * 4 * 4 * K }, (_, q) => Math.sin(1.7 * q + 3.1 * s[0] + 5.3 * s[1] + 7.9 * s[2]));
    const plan = planWindows(dims, roi, 0.25);
    const whole = new WindowAssembler(dims, roi, K);
    for (const s of plan) whole.add(s, logits(s));
    const all = whole.labels();
    for (let k = 0; k < dims[2]; k++) {
      const one = new WindowAssembler(dims, roi, K, [k, k + 1]);
      for (const s of plan.filter(([k0]) => k0 <= k && k < k0 + roi[0])) one.add(s, logits(s));
      expect(Array.from(one.labels())).toEqual(Array.from(all.subarray(k * 35, (k + 1) * 35)));
    }
  });
});
