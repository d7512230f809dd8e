// Test helpers shared by the nifti tests: fixture loading, voxel indexing, approximate comparisons.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Volume } from './types.ts';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/nifti/', import.meta.url));

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES + name));
}

/** Value of voxel (i, j, k[, c]) in NIfTI order. */
export function voxel(vol: Pick<Volume, 'dims' | 'data'>, [i, j, k, c = 0]: number[]): number {
  const [nx, ny, nz] = vol.dims;
  return vol.data[i + nx * (j + ny * (k + nz * c))];
}

export function sum(data: ArrayLike<number>): { sum: number; abs: number } {
  let s = 0;
  let a = 0;
  for (let i = 0; i < data.length; i++) {
    s += data[i];
    a += Math.abs(data[i]);
  }
  return { sum: s, abs: a };
}

/** Row-major Float64Array(16) → nested rows (for readable failures). */
export function rows(m: ArrayLike<number>): number[][] {
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => m[4 * r + c]));
}

/** Largest |a − b| over two 4×4s. */
export function maxDiff(a: ArrayLike<number>, b: number[][]): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[4 * r + c] - b[r][c]));
  return d;
}
