// Tests for augmentations: identity when off, determinism, hand-checked geometry, label/image alignment,
// and the draw frequencies of the reference settings.
import { describe, expect, it } from 'vitest';
import { applyAugment, augment, DEFAULT_AUGMENT, drawAugment, NO_AUGMENT, type AugmentDraw } from './augment.ts';
import { makeRng } from './rng.ts';

const NONE: AugmentDraw = { zoom: 1, zoomed: 0, offsetY: 0, offsetX: 0, flips: [false, false, false], rot90: 0, shift: 0 };

/** An asymmetric scene: a bright rectangle near the top left and a disk lower right; slice t is offset by 0.01·t. */
function scene(T: number, S: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(T * S * S), y = new Int32Array(S * S);
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      const rect = r >= S * 0.1 && r < S * 0.35 && c >= S * 0.15 && c < S * 0.6;
      const disk = (r - S * 0.65) ** 2 + (c - S * 0.7) ** 2 < (S * 0.2) ** 2;
      const v = rect || disk ? 0.9 : 0.1;
      for (let t = 0; t < T; t++) x[(t * S + r) * S + c] = v + 0.01 * t;
      y[r * S + c] = rect ? 1 : disk ? 2 : 0;
    }
  }
  return { x, y };
}

describe('applyAugment geometry', () => {
  it('rotates like numpy rot90 and flips H and W', () => {
    const x = Float32Array.from([1, 2, 3, 4]), y = Int32Array.from([1, 2, 3, 4]);
    const shape = { T: 1, size: 2, C: 1 };
    const rot = (k: 0 | 1 | 2 | 3) => Array.from(applyAugment(x, y, shape, { ...NONE, zoomed: 2, rot90: k }).x);
    expect(rot(1)).toEqual([2, 4, 1, 3]); // np.rot90([[1,2],[3,4]]) = [[2,4],[1,3]]
    expect(rot(2)).toEqual([4, 3, 2, 1]);
    expect(rot(3)).toEqual([3, 1, 4, 2]);
    const flip = (f: [boolean, boolean, boolean]) => applyAugment(x, y, shape, { ...NONE, zoomed: 2, flips: f });
    expect(Array.from(flip([false, true, false]).y)).toEqual([3, 4, 1, 2]);
    expect(Array.from(flip([false, false, true]).y)).toEqual([2, 1, 4, 3]);
    // Flip first, then rotate (the reference order): flipW then rot90 of [[1,2],[3,4]] → rot90([[2,1],[4,3]]).
    expect(Array.from(applyAugment(x, y, shape, { ...NONE, zoomed: 2, flips: [false, false, true], rot90: 1 }).x)).toEqual([1, 3, 2, 4]);
  });

  it('flips the slice order along depth, keeping channels together and the label as is', () => {
    const T = 3, S = 2, C = 2;
    const x = Float32Array.from({ length: T * S * S * C }, (_, q) => Math.floor(q / (S * S * C)) * 10 + (q % C));
    const y = Int32Array.from([0, 1, 2, 3]);
    const r = applyAugment(x, y, { T, size: S, C }, { ...NONE, zoomed: S, flips: [true, false, false] });
    for (let t = 0; t < T; t++) for (let q = 0; q < S * S; q++) for (let c = 0; c < C; c++) expect(r.x[(t * S * S + q) * C + c]).toBe((T - 1 - t) * 10 + c);
    expect(r.y).toEqual(y);
  });

  it('zooms out with a centred zero pad and zooms in with a crop at the offset', () => {
    const S = 4;
    const ones = new Float32Array(S * S).fill(1), lab = new Int32Array(S * S).fill(3);
    const out = applyAugment(ones, lab, { T: 1, size: S, C: 1 }, { ...NONE, zoom: 0.5, zoomed: 2, offsetY: -1, offsetX: -1 });
    const inside = (q: number) => [5, 6, 9, 10].includes(q);
    for (let q = 0; q < S * S; q++) { expect(out.x[q]).toBe(inside(q) ? 1 : 0); expect(out.y[q]).toBe(inside(q) ? 3 : 0); }
    // The padding is not shifted, with flips and rotation too.
    const shifted = applyAugment(ones, lab, { T: 1, size: S, C: 1 }, { ...NONE, zoom: 0.5, zoomed: 2, offsetY: 0, offsetX: -1, flips: [false, true, false], rot90: 1, shift: 0.1 });
    expect(Array.from(shifted.x).filter((v) => v === 0).length).toBe(12);
    expect(Array.from(shifted.x).filter((v) => Math.abs(v - 1.1) < 1e-6).length).toBe(4);
    expect(Array.from(shifted.x).map((v) => (v > 0 ? 1 : 0))).toEqual(Array.from(shifted.y).map((v) => (v > 0 ? 1 : 0)));
    // 2× zoom of a column ramp, cropped at column 4: bilinear taps of x = 0…3 at zoomed columns 4…7.
    const ramp = Float32Array.from({ length: S * S }, (_, q) => q % S);
    const z = applyAugment(ramp, lab, { T: 1, size: S, C: 1 }, { ...NONE, zoom: 2, zoomed: 8, offsetY: 0, offsetX: 4 });
    expect(Array.from(z.x.subarray(0, 4))).toEqual([1.75, 2.25, 2.75, 3]);
  });

  it('adds the shift to every image value but not the label', () => {
    const { x, y } = scene(3, 8);
    const r = applyAugment(x, y, { T: 3, size: 8, C: 1 }, { ...NONE, zoomed: 8, shift: -0.05 });
    for (let q = 0; q < x.length; q++) expect(r.x[q]).toBeCloseTo(x[q] - 0.05, 6);
    expect(r.y).toEqual(y);
  });

  it('checks sizes', () => {
    expect(() => applyAugment(new Float32Array(3), new Int32Array(4), { T: 1, size: 2, C: 1 }, NONE)).toThrow(/image has 3 values, expected T·S·S·C = 4/);
    expect(() => applyAugment(new Float32Array(4), new Int32Array(3), { T: 1, size: 2, C: 1 }, NONE)).toThrow(/label has 3 values/);
  });
});

describe('augment', () => {
  const T = 3, S = 32, shape = { T, size: S, C: 1 };
  const { x, y } = scene(T, S);

  it('is the identity when everything is off', () => {
    const r = augment(x, y, shape, makeRng(3), NO_AUGMENT);
    expect(r.x).toEqual(x);
    expect(r.y).toEqual(y);
    expect(r.x).not.toBe(x);
    expect(r.draw).toMatchObject({ zoom: 1, zoomed: S, offsetY: 0, offsetX: 0, flips: [false, false, false], rot90: 0, shift: 0 });
  });

  it('is deterministic per seed', () => {
    const a = augment(x, y, shape, makeRng(11)), b = augment(x, y, shape, makeRng(11)), c = augment(x, y, shape, makeRng(12));
    expect(a.x).toEqual(b.x);
    expect(a.y).toEqual(b.y);
    expect(a.draw).toEqual(b.draw);
    expect(c.draw).not.toEqual(a.draw);
  });

  it('keeps the label aligned with the image (label = threshold of the centre slice)', () => {
    const centreMatches = (r: { x: Float32Array; y: Int32Array; draw: AugmentDraw }) => {
      let same = 0;
      for (let q = 0; q < S * S; q++) {
        const bright = r.x[(1 * S * S) + q] - r.draw.shift - 0.01 > 0.5;
        if (bright === r.y[q] > 0) same++;
      }
      return same / (S * S);
    };
    // Without zoom (flips, rot90, shift only) the correspondence is exact.
    const noZoom = { ...DEFAULT_AUGMENT, zoom: { p: 0, min: 1, max: 1 }, flipP: 0.5, rot90P: 0.5 };
    for (let seed = 0; seed < 40; seed++) expect(centreMatches(augment(x, y, shape, makeRng(seed), noZoom))).toBe(1);
    // With zoom only the boundary pixels may differ (bilinear image vs nearest label).
    let worst = 1, zoomed = 0;
    for (let seed = 0; seed < 60; seed++) {
      const r = augment(x, y, shape, makeRng(seed), { ...DEFAULT_AUGMENT, flipP: 0.5, rot90P: 0.5 });
      if (r.draw.zoom !== 1) zoomed++;
      worst = Math.min(worst, centreMatches(r));
    }
    expect(zoomed).toBe(60);
    expect(worst).toBeGreaterThan(0.93);
    // Sanity: a label flipped without its image fails the check.
    const r = applyAugment(x, y, shape, { ...NONE, zoomed: S, flips: [false, true, false] });
    expect(centreMatches({ x, y: r.y, draw: NONE })).toBeLessThan(0.8);
  });

  it('draws with the reference probabilities', () => {
    const rng = makeRng(2024);
    const n = 5000;
    const flips = [0, 0, 0], ks = [0, 0, 0, 0];
    let shifts = 0, zoomSum = 0, zoomMin = Infinity, zoomMax = -Infinity, shiftMax = 0;
    for (let i = 0; i < n; i++) {
      const d = drawAugment(rng, DEFAULT_AUGMENT, 128);
      d.flips.forEach((f, a) => { if (f) flips[a]++; });
      ks[d.rot90]++;
      if (d.shift !== 0) shifts++;
      shiftMax = Math.max(shiftMax, Math.abs(d.shift));
      zoomSum += d.zoom; zoomMin = Math.min(zoomMin, d.zoom); zoomMax = Math.max(zoomMax, d.zoom);
      expect(d.zoomed).toBe(Math.floor(128 * d.zoom));
      if (d.zoomed >= 128) expect(d.offsetY >= 0 && d.offsetY <= d.zoomed - 128).toBe(true);
      else expect(d.offsetY).toBe(-Math.floor((128 - d.zoomed) / 2));
    }
    for (const f of flips) expect(Math.abs(f / n - 0.1)).toBeLessThan(0.015); // σ ≈ 0.0042
    expect(Math.abs((n - ks[0]) / n - 0.1)).toBeLessThan(0.015);
    for (const k of [1, 2, 3]) expect(Math.abs(ks[k] / (n - ks[0]) - 1 / 3)).toBeLessThan(0.06);
    expect(Math.abs(shifts / n - 0.5)).toBeLessThan(0.03);
    expect(shiftMax).toBeLessThanOrEqual(0.1);
    expect(shiftMax).toBeGreaterThan(0.09);
    expect(zoomMin).toBeGreaterThanOrEqual(0.5);
    expect(zoomMax).toBeLessThan(2);
    expect(zoomSum / n).toBeCloseTo(1.25, 1);
  });

  it('leaves the other draws unchanged when one augmentation is switched off', () => {
    const a = drawAugment(makeRng(9), DEFAULT_AUGMENT, 64);
    const b = drawAugment(makeRng(9), { ...DEFAULT_AUGMENT, rot90P: 0 }, 64);
    expect(b).toEqual({ ...a, rot90: 0 });
  });
});
