// fromCanonical undoes toCanonical exactly: on every orientation fixture, on all 48 signed axis permutations
// and on oblique affines (data bit for bit, dims, and the source affine), and refuses mismatched grids.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../core/types.ts';
import { mat4 } from './affine.ts';
import { NiftiError } from './errors.ts';
import { axcodesFromAffine, toCanonical } from './orient.ts';
import { readNifti } from './read.ts';
import { FIXTURES, fixtureBytes } from './testutil.ts';
import type { Volume } from './types.ts';
import { fromCanonical } from './uncanonical.ts';

const expected = JSON.parse(readFileSync(FIXTURES + 'expected.json', 'utf8')) as { files: Record<string, { axcodes?: string }> };
/** Every fixture with an orientation of its own (orient_*) plus every fixture that is not RAS+ already. */
const fixtures = Object.keys(expected.files).filter((n) => n.startsWith('orient_') || (expected.files[n].axcodes ?? 'RAS') !== 'RAS');

function volume(dims: Vec3, affine: number[][], channels = 1): Volume {
  const n = dims[0] * dims[1] * dims[2] * channels;
  const data = new Int32Array(n).map((_, i) => (i * 7919) % 100003); // distinct values: any misplaced voxel shows
  return {
    name: 'gen.nii', dims, channels, data, datatypeCode: 8, affine: mat4(affine), affineSource: 'sform',
    spacing: [0, 0, 0], nonFinite: 0, axcodes: axcodesFromAffine(mat4(affine)), description: '',
  };
}

function expectRoundTrip(v: Volume): void {
  const c = toCanonical(v);
  const back = fromCanonical(c, { dims: v.dims, affine: v.affine });
  expect(back.dims).toEqual(v.dims);
  expect(back.channels).toBe(v.channels);
  expect(back.data.constructor).toBe(v.data.constructor);
  expect(back.data).toEqual(v.data);
  expect(Array.from(back.affine)).toEqual(Array.from(v.affine));
  expect(back.axcodes).toBe(axcodesFromAffine(v.affine));
  expect(back.affine).not.toBe(v.affine); // a copy, so later edits to one do not move the other
}

/** The 48 signed permutations of the axes, as 3×3 rows scaled by per-axis voxel sizes. */
function signedPermutations(): number[][][] {
  const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  const out: number[][][] = [];
  const zooms = [0.8, 1.5, 3];
  for (const p of perms) {
    for (let signs = 0; signs < 8; signs++) {
      const m = [[0, 0, 0, 12], [0, 0, 0, -7], [0, 0, 0, 3.5]];
      // voxel axis j points along world axis p[j]
      p.forEach((w, j) => { m[w][j] = (signs >> j) & 1 ? -zooms[j] : zooms[j]; });
      out.push(m);
    }
  }
  return out;
}

function rotation(ax: number, ay: number, az: number): number[][] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]];
  const ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]];
  const rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]];
  const mul = (a: number[][], b: number[][]) => a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
  return mul(rz, mul(ry, rx));
}

describe('fromCanonical on the orientation fixtures', () => {
  it('finds the orientation fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
  });

  it.each(fixtures)('%s round-trips', async (name) => {
    const v = await readNifti(fixtureBytes(name), name);
    expectRoundTrip(v);
  });
});

describe('fromCanonical on generated grids', () => {
  it.each(signedPermutations().map((m, i) => [i, m] as const))('signed permutation %i round-trips', (_, m) => {
    expectRoundTrip(volume([4, 3, 5], m));
  });

  it('keeps channels apart (4D, flipped and permuted)', () => {
    expectRoundTrip(volume([3, 4, 2], [[0, 0, -2, 1], [1, 0, 0, 2], [0, -1, 0, 3]], 3));
  });

  it('oblique affines (rotations, shear, anisotropic zooms) round-trip', () => {
    const angles: Vec3[] = [[0.3, -0.2, 0.7], [2.9, 0.1, -1.2], [-0.6, 1.4, 0.5], [1.0, -2.5, 3.0]];
    for (const [ax, ay, az] of angles) {
      const r = rotation(ax, ay, az);
      const zooms = [1.2, 0.7, 2.5];
      const m = r.map((row, i) => [...row.map((x, j) => x * zooms[j] + (i === 0 && j === 1 ? 0.05 : 0)), [-90, 126, -72][i]]);
      expectRoundTrip(volume([5, 4, 3], m));
      expectRoundTrip(volume([2, 6, 3], m, 2));
    }
  });

  it('a RAS+ source gives the same voxels and dims and a copy of its affine', () => {
    const v = volume([3, 2, 2], [[2, 0, 0, 1], [0, 3, 0, 2], [0, 0, 4, 3]]);
    const back = fromCanonical(v, v);
    expect(back.data).toBe(v.data);
    expect(Array.from(back.affine)).toEqual(Array.from(v.affine));
  });

  it('accepts a bare label map (dims and data only) and keeps its dtype', () => {
    const v = volume([4, 3, 2], [[-1, 0, 0, 0], [0, 0, 2, 0], [0, -3, 0, 0]]);
    const labels = new Uint8Array(v.data.length).map((_, i) => i % 5);
    const c = toCanonical({ ...v, data: labels });
    const back = fromCanonical({ dims: c.dims, data: c.data }, v);
    expect(back.data).toBeInstanceOf(Uint8Array);
    expect(back.data).toEqual(labels);
    expect(back.dims).toEqual([4, 3, 2]);
    expect(back.spacing).toEqual([1, 3, 2]);
    expect(back.axcodes).toBe('LIA');
  });

  it('leaves its input untouched', () => {
    const v = volume([4, 3, 2], [[0, 1, 0, 0], [-1, 0, 0, 0], [0, 0, 1, 0]]);
    const c = toCanonical(v);
    const before = Int32Array.from(c.data as Int32Array);
    const dims = [...c.dims];
    fromCanonical(c, v);
    expect(c.data).toEqual(before);
    expect(c.dims).toEqual(dims);
  });
});

describe('fromCanonical refuses mismatched grids', () => {
  const v = volume([4, 3, 2], [[0, 1, 0, 0], [-1, 0, 0, 0], [0, 0, 1, 0]]); // canonical dims [3, 4, 2]

  it('dims that are not the canonical dims of the source', () => {
    expect(() => fromCanonical({ dims: [4, 3, 2], data: new Uint8Array(24) }, v)).toThrow(/dims \[4, 3, 2\] are not the canonical dims \[3, 4, 2\]/);
  });

  it('a data length that does not match dims × channels', () => {
    expect(() => fromCanonical({ dims: [3, 4, 2], data: new Uint8Array(23) }, v)).toThrow(NiftiError);
    expect(() => fromCanonical({ dims: [3, 4, 2], data: new Uint8Array(24), channels: 2 }, v)).toThrow(/expected 24 voxels × 2 channel\(s\) = 48/);
  });

  it('a canonical affine from another source', () => {
    const c = toCanonical(v);
    const other = { dims: v.dims, affine: mat4([[0, 1, 0, 5], [-1, 0, 0, 0], [0, 0, 1, 0]]) };
    expect(() => fromCanonical(c, other)).toThrow(/affine entry \[0\]\[3\].*wrong source volume/);
  });

  it('a source affine with an axis of no direction', () => {
    const flat = { dims: [4, 3, 2] as Vec3, affine: mat4([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]) };
    expect(() => fromCanonical({ dims: [4, 3, 2], data: new Uint8Array(24) }, flat)).toThrow(/no world direction/);
  });
});
