// Tests for slice windows: geometry per axis, edge clamping, [T, H, W, C] layout, normalisation, labels,
// foreground counts — on generated volumes and the bundled Colin27 sample.
import { describe, expect, it } from 'vitest';
import { computeRange } from '../intensity.ts';
import { colin27, makeVolume } from './testutil.ts';
import {
  channelRanges, checkSameGrid, foregroundCounts, labelSlice, planeOf, sliceWindow, windowIndices, type SliceAxis,
} from './window.ts';

const code = (i: number, j: number, k: number, c: number) => i + 10 * j + 100 * k + 1000 * c;

describe('planeOf', () => {
  it('puts W on the lower and H on the higher remaining axis', () => {
    expect(planeOf([4, 5, 6], 2)).toEqual({ axis: 2, hAxis: 1, wAxis: 0, H: 5, W: 4, depth: 6 });
    expect(planeOf([4, 5, 6], 1)).toEqual({ axis: 1, hAxis: 2, wAxis: 0, H: 6, W: 4, depth: 5 });
    expect(planeOf([4, 5, 6], 0)).toEqual({ axis: 0, hAxis: 2, wAxis: 1, H: 6, W: 5, depth: 4 });
    expect(() => planeOf([4, 5, 6], 3 as SliceAxis)).toThrow(/axis 3/);
  });
});

describe('windowIndices', () => {
  it('clamps at both ends', () => {
    expect(windowIndices(0, 5, 10)).toEqual([0, 0, 0, 1, 2]);
    expect(windowIndices(1, 5, 10)).toEqual([0, 0, 1, 2, 3]);
    expect(windowIndices(5, 5, 10)).toEqual([3, 4, 5, 6, 7]);
    expect(windowIndices(9, 5, 10)).toEqual([7, 8, 9, 9, 9]);
    expect(windowIndices(0, 5, 1)).toEqual([0, 0, 0, 0, 0]);
    expect(windowIndices(3, 1, 10)).toEqual([3]);
    expect(windowIndices(1, 7, 3)).toEqual([0, 0, 0, 1, 2, 2, 2]);
  });

  it('refuses even T and slices outside the volume', () => {
    expect(() => windowIndices(0, 4, 10)).toThrow(/odd/);
    expect(() => windowIndices(10, 5, 10)).toThrow(/outside 0…9/);
    expect(() => windowIndices(-1, 5, 10)).toThrow(/outside/);
  });
});

describe('sliceWindow', () => {
  const dims: [number, number, number] = [3, 4, 6];
  const vol = makeVolume(dims, code, { channels: 2 });
  const range = { low: 0, high: 10000 };

  for (const axis of [0, 1, 2] as SliceAxis[]) {
    it(`lays out [T, H, W, C] across axis ${axis}, edge-clamped`, () => {
      const p = planeOf(dims, axis);
      for (const index of [0, 1, p.depth - 1]) {
        const T = 5;
        const w = sliceWindow(vol, axis, index, T, { ranges: range });
        expect(w.length).toBe(T * p.H * p.W * 2);
        const idx = windowIndices(index, T, p.depth);
        for (let t = 0; t < T; t++) {
          for (let y = 0; y < p.H; y++) {
            for (let x = 0; x < p.W; x++) {
              for (let c = 0; c < 2; c++) {
                const v = [0, 0, 0];
                v[axis] = idx[t]; v[p.hAxis] = y; v[p.wAxis] = x;
                expect(w[((t * p.H + y) * p.W + x) * 2 + c]).toBeCloseTo(code(v[0], v[1], v[2], c) / 10000, 7);
              }
            }
          }
        }
      }
    });
  }

  it('applies one range per channel, clips to [0, 1] and writes into a given buffer', () => {
    const ranges = [{ low: 100, high: 200 }, { low: 1000, high: 1100 }];
    const out = new Float32Array(1 * 4 * 3 * 2);
    const w = sliceWindow(vol, 2, 1, 1, { ranges, out });
    expect(w).toBe(out);
    // k = 1: channel 0 holds 100 + i + 10j → (i + 10j)/100; channel 1 holds 1100 + … → 1 (clipped).
    expect(w[0]).toBeCloseTo(0, 7);
    expect(w[(1 * 3 + 2) * 2]).toBeCloseTo(0.12, 6);
    expect(w[(1 * 3 + 2) * 2 + 1]).toBe(1);
    expect(() => sliceWindow(vol, 2, 1, 1, { ranges: [range] })).toThrow(/2 channel\(s\) but 1 range/);
    expect(() => sliceWindow(vol, 2, 1, 1, { ranges, out: new Float32Array(3) })).toThrow(/expected T·H·W·C = 24/);
  });

  it('reads integer voxel types', () => {
    const v16 = makeVolume([2, 2, 2], (i, j, k) => -100 + 50 * (i + 2 * j + 4 * k), { array: (n) => new Int16Array(n) });
    const w = sliceWindow(v16, 2, 0, 1, { ranges: { low: -100, high: 250 } });
    expect(Array.from(w)).toEqual([0, 50, 100, 150].map((v) => Math.fround(v / 350)));
  });
});

describe('labelSlice and foregroundCounts', () => {
  const lab = makeVolume([3, 4, 5], (i, j, k) => ((i + j + k) % 3 === 0 ? 0 : ((i * j + k) % 4) + 0.2));

  it('labelSlice follows the window layout and rounds', () => {
    for (const axis of [0, 1, 2] as SliceAxis[]) {
      const p = planeOf(lab.dims, axis);
      const s = labelSlice(lab, axis, p.depth - 1);
      expect(s).toBeInstanceOf(Int32Array);
      for (let y = 0; y < p.H; y++) {
        for (let x = 0; x < p.W; x++) {
          const v = [0, 0, 0];
          v[axis] = p.depth - 1; v[p.hAxis] = y; v[p.wAxis] = x;
          expect(s[y * p.W + x]).toBe(Math.round(lab.data[v[0] + 3 * (v[1] + 4 * v[2])]));
        }
      }
    }
    expect(() => labelSlice(lab, 2, 5)).toThrow(/outside 0…4/);
    expect(() => labelSlice(makeVolume([2, 2, 2], () => 0, { channels: 2 }), 2, 0)).toThrow(/2 channels, expected 1/);
  });

  it('foregroundCounts equals counting the label slices', () => {
    for (const axis of [0, 1, 2] as SliceAxis[]) {
      const counts = foregroundCounts(lab, axis);
      const p = planeOf(lab.dims, axis);
      expect(counts.length).toBe(p.depth);
      for (let s = 0; s < p.depth; s++) expect(counts[s]).toBe(labelSlice(lab, axis, s).filter((v) => v > 0).length);
    }
  });

  it('checkSameGrid names both files', () => {
    expect(() => checkSameGrid(makeVolume([2, 2, 2], () => 0, { name: 'a' }), makeVolume([2, 2, 3], () => 0, { name: 'b' })))
      .toThrow(/b: label grid 2×2×3 differs from image a grid 2×2×2/);
  });
});

describe('on the Colin27 2 mm sample', () => {
  it('windows the MRI and its labels consistently on every axis', async () => {
    const { image, label } = await colin27();
    expect(image.dims).toEqual([91, 109, 91]);
    checkSameGrid(image, label);
    const ranges = channelRanges(image, 'mri-percentile');
    expect(ranges[0]).toEqual(computeRange('mri-percentile', image.data));
    let total = 0;
    for (let q = 0; q < label.data.length; q++) if (label.data[q] > 0) total++;
    expect(total).toBeGreaterThan(10000);
    for (const axis of [0, 1, 2] as SliceAxis[]) {
      const p = planeOf(image.dims, axis);
      const counts = foregroundCounts(label, axis);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(counts[0]).toBe(0); // the brain does not touch the first slice
      const mid = counts.indexOf(Math.max(...counts));
      const w = sliceWindow(image, axis, mid, 5, { ranges });
      const n = p.H * p.W;
      expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...w)).toBeLessThanOrEqual(1);
      // Labelled pixels are brain: their mean intensity is well above that of the unlabelled ones.
      const centre = w.subarray(2 * n, 3 * n), lab = labelSlice(label, axis, mid);
      let inS = 0, inN = 0, outS = 0, outN = 0;
      for (let q = 0; q < n; q++) if (lab[q] > 0) { inS += centre[q]; inN++; } else { outS += centre[q]; outN++; }
      expect(inN).toBe(counts[mid]);
      expect(inS / inN).toBeGreaterThan(3 * (outS / outN));
      // At the first slice the window repeats slice 0 three times.
      const edge = sliceWindow(image, axis, 0, 5, { ranges });
      expect(edge.subarray(0, n)).toEqual(edge.subarray(2 * n, 3 * n));
      expect(edge.subarray(n, 2 * n)).toEqual(edge.subarray(2 * n, 3 * n));
    }
  });
});
