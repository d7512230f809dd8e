// Slice renderer: which voxel lands on which pixel, by hand on a 3×2×2 grid, and the overlay blend.
import { describe, expect, it } from 'vitest';
import { pixelToVoxel, renderSlice, sliceGeometry, voxelToPixel, voxelToWorld, type Axis } from './slice.ts';
import type { Vec3 } from '../core/types.ts';

const dims: Vec3 = [3, 2, 2];
// value = linear index i + 3j + 6k, so a pixel's grey level tells which voxel it shows.
const image = Float32Array.from({ length: 12 }, (_, i) => i);
const grey = (rgba: Uint8ClampedArray) => Array.from({ length: rgba.length / 4 }, (_, p) => rgba[p * 4]);
const render = (axis: Axis, radiological: boolean, index: number) =>
  grey(renderSlice({ dims, spacing: [1, 2, 3], image, channel: 0, window: { low: 0, high: 255 }, opacity: 0 }, { axis, radiological }, index).rgba);

describe('renderSlice orientation (RAS+ grid)', () => {
  it('axial, neurological: i left→right, anterior (high j) at the top', () => {
    // k = 1: rows top→bottom are j = 1, 0; columns i = 0, 1, 2.
    expect(render('axial', false, 1)).toEqual([9, 10, 11, 6, 7, 8]);
  });
  it('axial, radiological: the patient’s right (high i) on the left', () => {
    expect(render('axial', true, 1)).toEqual([11, 10, 9, 8, 7, 6]);
  });
  it('coronal: superior (high k) at the top', () => {
    // j = 0: rows k = 1, 0; neurological columns i = 0..2.
    expect(render('coronal', false, 0)).toEqual([6, 7, 8, 0, 1, 2]);
  });
  it('sagittal: anterior on the left, superior at the top', () => {
    // i = 2: rows k = 1, 0; columns j = 1, 0.
    expect(render('sagittal', false, 2)).toEqual([11, 8, 5, 2]);
  });
  it('geometry carries the millimetre size of a pixel for each view', () => {
    expect(sliceGeometry(dims, [1, 2, 3], 'axial')).toEqual({ width: 3, height: 2, mmPerPixel: [1, 2] });
    expect(sliceGeometry(dims, [1, 2, 3], 'coronal')).toEqual({ width: 3, height: 2, mmPerPixel: [1, 3] });
    expect(sliceGeometry(dims, [1, 2, 3], 'sagittal')).toEqual({ width: 2, height: 2, mmPerPixel: [2, 3] });
  });
  it('pixelToVoxel and voxelToPixel are inverses on every view', () => {
    for (const axis of ['axial', 'coronal', 'sagittal'] as Axis[]) {
      for (const radiological of [true, false]) {
        const v: Vec3 = [2, 0, 1];
        const p = voxelToPixel(dims, { axis, radiological }, v);
        expect(pixelToVoxel(dims, { axis, radiological }, p.index, p.col, p.row)).toEqual(v);
      }
    }
  });
});

describe('renderSlice intensity and overlay', () => {
  it('maps the window to 0…255 with clipping, and a degenerate window to a threshold', () => {
    const img = Float32Array.from([-10, 0, 51, 255, 600, 1]);
    const d: Vec3 = [6, 1, 1];
    const out = renderSlice({ dims: d, spacing: [1, 1, 1], image: img, channel: 0, window: { low: 0, high: 510 }, opacity: 0 }, { axis: 'axial', radiological: false }, 0);
    // v·255/510 = v/2: 51 → 25.5 → 26 and 1 → 0.5 → 0 (Uint8ClampedArray rounds half to even), 255 → 127.5 → 128, 600 → clipped.
    expect(grey(out.rgba)).toEqual([0, 0, 26, 128, 255, 0]);
    const thr = renderSlice({ dims: d, spacing: [1, 1, 1], image: img, channel: 0, window: { low: 51, high: 51 }, opacity: 0 }, { axis: 'axial', radiological: false }, 0);
    expect(grey(thr.rgba)).toEqual([0, 0, 0, 255, 255, 0]);
  });
  it('blends the class colour with the grey level by the opacity; label 0 and hidden classes are not drawn', () => {
    const img = Float32Array.from([100, 100, 100]);
    // window 0…255 keeps grey = 100 exactly.
    const label = Uint8Array.from([0, 1, 2]);
    const palette = Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 0, 255]);
    const visible = Uint8Array.from([1, 1, 0]);
    const { rgba } = renderSlice(
      { dims: [3, 1, 1], spacing: [1, 1, 1], image: img, channel: 0, window: { low: 0, high: 255 }, label, palette, visible, opacity: 0.5 },
      { axis: 'axial', radiological: false },
      0,
    );
    // class 1 red at 50 %: r = 100 + (255 − 100)/2 = 177.5 → 178 (half to even), g = b = 100 − 100/2 = 50.
    expect(Array.from(rgba)).toEqual([100, 100, 100, 255, 178, 50, 50, 255, 100, 100, 100, 255]);
  });
  it('draws the chosen channel of a multi-channel volume', () => {
    const img = Float32Array.from([1, 2, 3, 10, 20, 30]);
    const { rgba } = renderSlice({ dims: [3, 1, 1], spacing: [1, 1, 1], image: img, channel: 1, window: { low: 0, high: 255 }, opacity: 0 }, { axis: 'axial', radiological: false }, 0);
    expect(grey(rgba)).toEqual([10, 20, 30]);
  });
});

describe('voxelToWorld', () => {
  it('applies a row-major affine', () => {
    const a = Float64Array.from([2, 0, 0, -90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
    expect(voxelToWorld(a, [45, 63, 36])).toEqual([0, 0, 0]);
  });
});
