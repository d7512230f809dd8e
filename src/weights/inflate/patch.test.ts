// Patch-kernel inflation: hand-computed kernels, shapes, early returns and errors.
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import { greyToChannels, inflateKernel, inflatePatchKernel, rgbToGrey } from './patch.ts';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });

// W2 [D = 2, 3, P = 2, P = 2]: W2[o, c, i, j] = 100·o + 10·c + (2i + j) + 1, written out.
const W2 = f32([2, 3, 2, 2], [
  1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24, // o = 0: channels R, G, B
  101, 102, 103, 104, 111, 112, 113, 114, 121, 122, 123, 124, // o = 1
]);

describe('rgbToGrey', () => {
  it('sums the three channels', () => {
    const g = rgbToGrey(W2);
    expect(g.shape).toEqual([2, 1, 2, 2]);
    // o = 0: (1 + 11 + 21, 2 + 12 + 22, …) = 33, 36, 39, 42; o = 1: 333, 336, 339, 342.
    expect(Array.from(g.data)).toEqual([33, 36, 39, 42, 333, 336, 339, 342]);
  });
  it('returns a 1-channel kernel as is, and rejects other channel counts', () => {
    const g = f32([1, 1, 1, 1], [5]);
    expect(rgbToGrey(g)).toBe(g);
    expect(() => rgbToGrey(f32([1, 2, 1, 1], [1, 2]))).toThrow(/1 or 3 input channels.*found C = 2/);
    expect(() => rgbToGrey(f32([1, 3, 1], [1, 2, 3]))).toThrow(/\[D, C, P, P\]/);
  });
  it('does not mutate its input', () => {
    const before = Array.from(W2.data);
    rgbToGrey(W2);
    expect(Array.from(W2.data)).toEqual(before);
  });
});

describe('greyToChannels', () => {
  it('divides by C_in and repeats', () => {
    const w = greyToChannels(rgbToGrey(W2), 2);
    expect(w.shape).toEqual([2, 2, 2, 2]);
    expect(Array.from(w.data)).toEqual([16.5, 18, 19.5, 21, 16.5, 18, 19.5, 21, 166.5, 168, 169.5, 171, 166.5, 168, 169.5, 171]);
  });
  it('C_in = 1 is the grey kernel itself; bad C_in is refused', () => {
    const g = rgbToGrey(W2);
    expect(greyToChannels(g, 1)).toBe(g);
    expect(() => greyToChannels(g, 0)).toThrow(/C_in ≥ 1/);
    expect(() => greyToChannels(W2, 2)).toThrow(/grey kernel/);
  });
});

describe('inflateKernel (hand-computed, 2×3×2×2 → C_in = 2, T = 3)', () => {
  // W = greyToChannels(rgbToGrey(W2), 2): per channel o = 0 → [16.5, 18, 19.5, 21], o = 1 → [166.5, 168, 169.5, 171].
  const a0 = [16.5, 18, 19.5, 21];
  const a1 = [166.5, 168, 169.5, 171];
  const z = [0, 0, 0, 0];
  it("'center' puts W at depth floor(3/2) = 1, zeros elsewhere", () => {
    const w3 = inflatePatchKernel(W2, 2, 3, 'center');
    expect(w3.shape).toEqual([2, 2, 3, 2, 2]);
    // Layout [o][c][t][i][j]: for each (o, c) the three depths t = 0, 1, 2.
    expect(Array.from(w3.data)).toEqual([...z, ...a0, ...z, ...z, ...a0, ...z, ...z, ...a1, ...z, ...z, ...a1, ...z]);
  });
  it("'average' puts W / 3 at every depth", () => {
    const w3 = inflatePatchKernel(W2, 2, 3, 'average');
    const d0 = a0.map((v) => Math.fround(v / 3));
    const d1 = a1.map((v) => Math.fround(v / 3));
    expect(Array.from(w3.data)).toEqual([...d0, ...d0, ...d0, ...d0, ...d0, ...d0, ...d1, ...d1, ...d1, ...d1, ...d1, ...d1]);
  });
  it('T = 1 (the 2d baseline) is W with a depth axis of 1, for either mode', () => {
    const w = greyToChannels(rgbToGrey(W2), 2);
    for (const mode of ['center', 'average'] as const) {
      const w3 = inflateKernel(w, 1, mode);
      expect(w3.shape).toEqual([2, 2, 1, 2, 2]);
      expect(Array.from(w3.data)).toEqual(Array.from(w.data));
    }
  });
  it("even T: 'center' uses d = floor(T/2) as METHOD.md says", () => {
    const w3 = inflateKernel(f32([1, 1, 1, 1], [7]), 4, 'center');
    expect(Array.from(w3.data)).toEqual([0, 0, 7, 0]);
  });
  it('rejects a bad T or mode', () => {
    expect(() => inflateKernel(W2, 0, 'center')).toThrow(/T ≥ 1/);
    expect(() => inflateKernel(W2, 2.5, 'average')).toThrow(/T ≥ 1/);
    expect(() => inflateKernel(W2, 3, 'nope' as 'center')).toThrow(/mode/);
  });
  it('refuses integer kernels', () => {
    const w: HostTensor = { dtype: 'int32', shape: [1, 1, 1, 1], data: new Int32Array([1]) };
    expect(() => inflateKernel(w, 3, 'center')).toThrow(/float32 or float64, found int32/);
  });
});
