// The exact EDT against brute force (minimum over every feature voxel) on small anisotropic grids.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../core/types.ts';
import { edtSquared } from './edt.ts';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG; tests only). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function bruteForce(features: Uint8Array, dims: Vec3, sp: Vec3): Float64Array {
  const [nx, ny, nz] = dims;
  const pts: number[][] = [];
  for (let k = 0, q = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, q++) if (features[q]) pts.push([i, j, k]);
  const out = new Float64Array(nx * ny * nz).fill(Infinity);
  for (let k = 0, q = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, q++) {
        for (const [a, b, c] of pts) {
          const d = ((i - a) * sp[0]) ** 2 + ((j - b) * sp[1]) ** 2 + ((k - c) * sp[2]) ** 2;
          if (d < out[q]) out[q] = d;
        }
      }
    }
  }
  return out;
}

function expectClose(a: Float64Array, b: Float64Array): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === Infinity || b[i] === Infinity) expect(a[i]).toBe(b[i]);
    else worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, b[i]));
  }
  expect(worst).toBeLessThan(1e-12);
}

describe('edtSquared', () => {
  const grids: Array<[Vec3, Vec3, number]> = [
    [[9, 7, 5], [1, 1, 1], 0.05],
    [[11, 6, 8], [0.7, 1.9, 3.1], 0.02],
    [[13, 1, 9], [2.5, 1, 0.4], 0.1],
    [[1, 1, 17], [1, 1, 1.5], 0.2],
    [[8, 8, 8], [1, 0.3, 2], 0.5],
    [[10, 9, 7], [1.1, 0.9, 1.7], 0.004], // one or two features: long empty lines
  ];
  it.each(grids.map((g, i) => [i, ...g] as const))('grid %i matches brute force', (i, dims, sp, density) => {
    const rand = lcg(1234 + i);
    const n = dims[0] * dims[1] * dims[2];
    const f = Uint8Array.from({ length: n }, () => (rand() < density ? 1 : 0));
    if (!f.some((x) => x)) f[Math.floor(n / 3)] = 1;
    expectClose(edtSquared(f, dims, sp), bruteForce(f, dims, sp));
  });

  it('single feature: squared mm distance with anisotropic spacing', () => {
    const dims: Vec3 = [5, 4, 3];
    const f = new Uint8Array(60);
    f[1 + 5 * (2 + 4 * 0)] = 1; // (1, 2, 0)
    const d = edtSquared(f, dims, [0.5, 2, 3]);
    expect(d[4 + 5 * (0 + 4 * 2)]).toBeCloseTo((3 * 0.5) ** 2 + (2 * 2) ** 2 + (2 * 3) ** 2, 12); // (4, 0, 2)
    expect(d[1 + 5 * 2]).toBe(0);
  });

  it('no feature: Infinity everywhere', () => {
    expect(Array.from(edtSquared(new Uint8Array(24), [2, 3, 4], [1, 1, 1])).every((x) => x === Infinity)).toBe(true);
  });

  it('refuses a wrong length or a non-positive spacing', () => {
    expect(() => edtSquared(new Uint8Array(5), [2, 3, 1], [1, 1, 1])).toThrow('features have 5 values, expected 2·3·1 = 6');
    expect(() => edtSquared(new Uint8Array(6), [2, 3, 1], [1, 0, 1])).toThrow('spacing [1, 0, 1] must be finite and > 0');
  });
});
