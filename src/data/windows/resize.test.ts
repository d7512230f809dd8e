// Tests for in-plane resizing: hand-computed cases, PyTorch interpolate numbers, round trips, errors.
import { describe, expect, it } from 'vitest';
import { nearestTaps, resizeArea, resizeBilinear, resizeNearest } from './resize.ts';
import { maxAbsDiff } from './testutil.ts';

/** The inputs of the PyTorch script below: value (y, x, c) = (((y·W + x)·C + c)·7 mod 11)/3, layout [H, W, C]. */
function grid(h: number, w: number, c: number): Float32Array {
  return Float32Array.from({ length: h * w * c }, (_, q) => ((q * 7) % 11) / 3);
}

// Produced with torch 1.13 (/usr/bin/python3):
//   t = grid(h, w, c).permute(2, 0, 1)[None]
//   F.interpolate(t, size=(oh, ow), mode='bilinear', align_corners=False)  (or mode='nearest-exact' / 'area')
//   back to [oh, ow, c], flattened, rounded to 7 decimals.
const TORCH = {
  bilinear_3x4x1_to_5x7: [0.0, 0.8333334, 2.1666667, 1.6666665, 1.166667, 2.5000002, 3.3333333, 0.8000001, 1.1095238, 1.6047618, 1.7333333, 1.861905, 2.3571429, 2.6666667, 1.9999999, 1.5238093, 0.7619048, 1.8333335, 2.9047618, 2.1428568, 1.6666665, 0.9999999, 1.3095238, 1.8047622, 1.9333334, 1.9047617, 1.1428567, 0.6666666, 0.3333333, 1.1666667, 2.5000002, 1.9999999, 1.2380952, 0.4761903, 0.0],
  bilinear_4x6x2_to_3x2: [1.388889, 3.1111109, 0.7222223, 2.4444444, 2.6666665, 1.3333333, 2.0, 0.6666666, 0.8888888, 2.6111114, 0.2222221, 1.9444447],
  bilinear_2x3x1_to_6x6: [0.0, 0.5833333, 1.75, 2.0, 1.3333333, 1.0, 0.0, 0.5833334, 1.75, 2.0, 1.3333334, 1.0, 1.1111112, 1.388889, 1.9444444, 1.8888888, 1.2222222, 0.8888889, 2.2222223, 2.1944444, 2.1388888, 1.7777777, 1.111111, 0.7777778, 3.3333333, 2.9999998, 2.3333333, 1.6666666, 1.0, 0.6666667, 3.3333333, 3.0, 2.3333333, 1.6666666, 1.0, 0.6666667],
  area_5x7x1_to_2x3: [1.5555555, 1.7407408, 1.5185186, 1.6296296, 1.8148149, 1.5925926],
  area_6x4x2_to_4x3: [0.6666667, 2.0833333, 1.6666667, 1.25, 2.6666665, 1.3333333, 1.0, 1.5000001, 2.0, 0.6666667, 2.0833333, 1.6666667, 1.6666667, 1.25, 2.6666665, 1.3333333, 1.8333333, 2.3333335, 2.0, 0.6666667, 2.0833333, 1.6666667, 1.25, 2.6666665],
  nearest_3x4x1_to_5x7: [0.0, 0.0, 2.3333333, 1.0, 1.0, 3.3333333, 3.3333333, 0.0, 0.0, 2.3333333, 1.0, 1.0, 3.3333333, 3.3333333, 2.0, 2.0, 0.6666667, 3.0, 3.0, 1.6666666, 1.6666666, 0.3333333, 0.3333333, 2.6666667, 1.3333334, 1.3333334, 0.0, 0.0, 0.3333333, 0.3333333, 2.6666667, 1.3333334, 1.3333334, 0.0, 0.0],
  nearest_5x3x2_to_2x4: [3.0, 1.6666666, 0.3333333, 2.6666667, 0.3333333, 2.6666667, 1.3333334, 0.0, 1.6666666, 0.3333333, 2.6666667, 1.3333334, 2.6666667, 1.3333334, 0.0, 2.3333333],
};

describe('resizeBilinear', () => {
  it('matches hand-computed half-pixel values', () => {
    // 1×2 → 1×4: s = (d + ½)/2 − ½ = −¼, ¼, ¾, 5/4 → clamp 0; taps (0,1,¼), (0,1,¾), (1,1,·).
    expect(Array.from(resizeBilinear([0, 4], [1, 1, 2, 1], 1, 4))).toEqual([0, 1, 3, 4]);
    // 2×2 → 1×1: s = ½ on both axes → the mean of the four.
    expect(Array.from(resizeBilinear([1, 2, 3, 6], [1, 2, 2, 1], 1, 1))).toEqual([3]);
    // 4 → 2: s = ½, 5/2 → means of pairs.
    expect(Array.from(resizeBilinear([0, 2, 4, 8], [1, 1, 4, 1], 1, 2))).toEqual([1, 6]);
  });

  it('is the identity at the same size and keeps constants', () => {
    const g = grid(5, 4, 3);
    expect(resizeBilinear(g, [1, 5, 4, 3], 5, 4)).toEqual(g);
    const k = new Float32Array(2 * 3 * 5).fill(0.25);
    expect(Array.from(resizeBilinear(k, [2, 3, 5, 1], 7, 2)).every((v) => v === 0.25)).toBe(true);
  });

  it('agrees with torch.nn.functional.interpolate (bilinear, align_corners=False) to 1e-6', () => {
    expect(maxAbsDiff(resizeBilinear(grid(3, 4, 1), [1, 3, 4, 1], 5, 7), TORCH.bilinear_3x4x1_to_5x7)).toBeLessThan(1e-6);
    expect(maxAbsDiff(resizeBilinear(grid(4, 6, 2), [1, 4, 6, 2], 3, 2), TORCH.bilinear_4x6x2_to_3x2)).toBeLessThan(1e-6);
    expect(maxAbsDiff(resizeBilinear(grid(2, 3, 1), [1, 2, 3, 1], 6, 6), TORCH.bilinear_2x3x1_to_6x6)).toBeLessThan(1e-6);
  });

  it('resizes every image of a stack on its own', () => {
    const a = grid(3, 4, 1), b = a.map((v) => 3 - v);
    const both = new Float32Array([...a, ...b]);
    const r = resizeBilinear(both, [2, 3, 4, 1], 5, 7);
    expect(maxAbsDiff(r.subarray(0, 35), TORCH.bilinear_3x4x1_to_5x7)).toBeLessThan(1e-6);
    expect(maxAbsDiff(r.subarray(35), TORCH.bilinear_3x4x1_to_5x7.map((v) => 3 - v))).toBeLessThan(1e-6);
  });

  it('brings probabilities back to the original grid (rows still sum to 1)', () => {
    const p = new Float32Array(8 * 8 * 3);
    for (let q = 0; q < 64; q++) { const a = (q % 5) / 5; p[3 * q] = a; p[3 * q + 1] = (1 - a) / 2; p[3 * q + 2] = (1 - a) / 2; }
    const back = resizeBilinear(p, [1, 8, 8, 3], 11, 6);
    for (let q = 0; q < 66; q++) expect(back[3 * q] + back[3 * q + 1] + back[3 * q + 2]).toBeCloseTo(1, 6);
  });

  it('names what is wrong', () => {
    expect(() => resizeBilinear(new Float32Array(5), [1, 2, 2, 1], 3, 3)).toThrow(/5 values, expected N·H·W·C = 1·2·2·1 = 4/);
    expect(() => resizeBilinear(new Float32Array(4), [1, 2, 2, 1], 0, 3)).toThrow(/outH = 0/);
    expect(() => resizeBilinear(new Float32Array(4), [1, 2, 2, 1], 3, 3, new Float32Array(2))).toThrow(/out has 2 values, expected 9/);
  });
});

describe('resizeArea', () => {
  it('averages whole blocks when the factor is an integer', () => {
    expect(Array.from(resizeArea([1, 2, 3, 6], [1, 2, 2, 1], 1, 1))).toEqual([3]);
    expect(Array.from(resizeArea([0, 2, 4, 8, 1, 1], [1, 1, 6, 1], 1, 3))).toEqual([1, 6, 1]);
  });

  it('agrees with torch interpolate(mode="area") (overlapping bins too)', () => {
    expect(maxAbsDiff(resizeArea(grid(5, 7, 1), [1, 5, 7, 1], 2, 3), TORCH.area_5x7x1_to_2x3)).toBeLessThan(1e-6);
    expect(maxAbsDiff(resizeArea(grid(6, 4, 2), [1, 6, 4, 2], 4, 3), TORCH.area_6x4x2_to_4x3)).toBeLessThan(1e-6);
    expect(() => resizeArea(new Float32Array(3), [1, 2, 2, 1], 1, 1)).toThrow(/resizeArea: data has 3 values/);
  });
});

describe('resizeNearest', () => {
  it('picks half-pixel-centred sources', () => {
    expect(Array.from(nearestTaps(3, 6))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(nearestTaps(6, 3))).toEqual([1, 3, 5]);
    expect(Array.from(nearestTaps(4, 3))).toEqual([0, 2, 3]);
  });

  it('agrees with torch interpolate(mode="nearest-exact")', () => {
    expect(maxAbsDiff(resizeNearest(grid(3, 4, 1), [1, 3, 4, 1], 5, 7), TORCH.nearest_3x4x1_to_5x7)).toBeLessThan(1e-6);
    expect(maxAbsDiff(resizeNearest(grid(5, 3, 2), [1, 5, 3, 2], 2, 4), TORCH.nearest_5x3x2_to_2x4)).toBeLessThan(1e-6);
  });

  it('keeps the label type and values; up by an integer factor and back is the identity', () => {
    const lab = Int32Array.from({ length: 5 * 7 }, (_, q) => (q * 13) % 4);
    const up = resizeNearest(lab, [1, 5, 7, 1], 15, 21);
    expect(up).toBeInstanceOf(Int32Array);
    expect(new Set(up)).toEqual(new Set(lab));
    expect(resizeNearest(up, [1, 15, 21, 1], 5, 7)).toEqual(lab);
    const u8 = resizeNearest(Uint8Array.from([1, 2, 3, 4]), [1, 2, 2, 1], 4, 4);
    expect(u8).toBeInstanceOf(Uint8Array);
    expect(Array.from(u8)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
});
