// HD95: hand-computed cases (single voxels, a cube against a shifted cube), numpy's percentile, the empty-mask
// conventions, brute-force surface distances, and reference numbers from scipy reproducing medpy's hd95.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../core/types.ts';
import { directedSurfaceDistances, hausdorff, hd95, percentile, surfaceVoxels } from './hd95.ts';

const idx = (dims: Vec3, i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

function box(dims: Vec3, lo: Vec3, hi: Vec3, value = 1, into?: Uint8Array): Uint8Array {
  const m = into ?? new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) m[idx(dims, i, j, k)] = value;
  return m;
}

/**
 * The masks of the scipy reference cases: a perturbed ellipsoid. Same formula, same float operations in the
 * same order as the Python below, so the voxel sets are identical (their sizes are checked too).
 */
function blob(dims: Vec3, c: Vec3, r: Vec3, salt: number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const h = ((i * 31 + j * 17 + k * 7 + i * j + j * k * salt) % 13) / 13.0;
        const [a, b, d] = [(i - c[0]) / r[0], (j - c[1]) / r[1], (k - c[2]) / r[2]];
        if (a * a + b * b + d * d < 0.8 + 0.4 * h) m[idx(dims, i, j, k)] = 1;
      }
    }
  }
  return m;
}
const or = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x | b[i]);
const count = (m: Uint8Array) => m.reduce((s, x) => s + x, 0);

describe('percentile (numpy linear)', () => {
  it('matches numpy.percentile on small sets', () => {
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 14); // np.percentile([1,2,3,4], 95) = 3.85
    expect(percentile([10, 0], 95)).toBe(9.5);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([0, 1, 2, 3], 100)).toBe(3);
    expect(percentile([], 95)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow('q = 101');
  });

  it('leaves its input unsorted', () => {
    const v = Float64Array.from([3, 1, 2]);
    percentile(v, 50);
    expect(Array.from(v)).toEqual([3, 1, 2]);
  });
});

describe('surfaceVoxels', () => {
  it('a solid box: every voxel minus the eroded interior; the volume border counts as outside', () => {
    const dims: Vec3 = [6, 5, 4];
    expect(surfaceVoxels(box(dims, [1, 1, 1], [4, 3, 2]), dims).length).toBe(4 * 3 * 2 - 2 * 1 * 0);
    expect(surfaceVoxels(box(dims, [0, 0, 0], [5, 4, 3]), dims).length).toBe(6 * 5 * 4 - 4 * 3 * 2);
    const cube: Vec3 = [7, 7, 7];
    const s = surfaceVoxels(box(cube, [1, 1, 1], [5, 5, 5]), cube);
    expect(s.length).toBe(125 - 27);
    expect(s.includes(idx(cube, 3, 3, 3))).toBe(false);
    expect(s.includes(idx(cube, 1, 3, 3))).toBe(true);
  });

  it('with a label: only voxels equal to it are inside', () => {
    const dims: Vec3 = [5, 5, 5];
    const m = box(dims, [0, 0, 0], [4, 4, 4], 1);
    box(dims, [1, 1, 1], [3, 3, 3], 2, m);
    expect(surfaceVoxels(m, dims, 2).length).toBe(27 - 1);
    expect(surfaceVoxels(m, dims).length).toBe(125 - 27); // non-zero: one solid cube
    expect(surfaceVoxels(m, dims, 3).length).toBe(0);
  });
});

describe('hd95: hand-computed', () => {
  it('two single voxels: their distance in mm with anisotropic spacing', () => {
    const dims: Vec3 = [6, 4, 5];
    const a = new Uint8Array(120), b = new Uint8Array(120);
    a[idx(dims, 1, 2, 3)] = 1;
    b[idx(dims, 4, 0, 3)] = 1;
    const sp: Vec3 = [0.5, 2, 3];
    const d = Math.sqrt((3 * 0.5) ** 2 + (2 * 2) ** 2); // √18.25
    expect(hd95(a, b, dims, sp)).toBeCloseTo(d, 12);
    expect(hd95(a, b, dims, sp, { definition: 'max-directed' })).toBeCloseTo(d, 12);
    b[idx(dims, 1, 2, 0)] = 1; // a second voxel of B, 3 voxels × 3 mm along k from A
    // Plain Hausdorff: A → B is √18.25 mm, but B's new voxel is 3 × 3 mm = 9 mm from A.
    expect(hausdorff(a, b, dims, sp, { percentile: 100 })).toBeCloseTo(9, 12);
  });

  it('a 4³ cube against the same cube shifted 2 voxels along i (1.5 mm voxels along i)', () => {
    // A: i 2…5, B: i 4…7; j, k 2…5 for both. Each has 56 surface voxels. Distances A → B by hand:
    //   i = 2 face (16): 3 mm;  i = 3 rim (12): 1.5 mm;  i = 4 rim (12): 0;
    //   i = 5 face: rim (12) 0, centre 2×2 (4) 1 mm (to B's j-face, 1 mm away, nearer than B's i-face at 1.5 mm).
    // B → A is the mirror image. Union of 112: 48 × 0, 8 × 1, 24 × 1.5, 32 × 3.
    const dims: Vec3 = [10, 8, 8];
    const sp: Vec3 = [1.5, 1, 1];
    const a = box(dims, [2, 2, 2], [5, 5, 5]);
    const b = box(dims, [4, 2, 2], [7, 5, 5]);
    const sa = surfaceVoxels(a, dims), sb = surfaceVoxels(b, dims);
    expect([sa.length, sb.length]).toEqual([56, 56]);
    const dAB = Array.from(directedSurfaceDistances(sa, sb, dims, sp)).sort((x, y) => x - y);
    const hist = (v: number) => dAB.filter((x) => Math.abs(x - v) < 1e-12).length;
    expect([hist(0), hist(1), hist(1.5), hist(3)]).toEqual([24, 4, 12, 16]);
    expect(hd95(a, b, dims, sp)).toBeCloseTo(3, 12); // h = 0.95·111 = 105.45, inside the 3 mm block (80…111)
    expect(hausdorff(a, b, dims, sp, { percentile: 50 })).toBeCloseTo(1.25, 12); // h = 55.5: between x[55] = 1, x[56] = 1.5
    expect(hd95(b, a, dims, sp)).toBeCloseTo(3, 12);
  });

  it('identical masks: 0', () => {
    const dims: Vec3 = [6, 6, 6];
    const a = box(dims, [1, 0, 2], [4, 3, 5]);
    expect(hd95(a, a, dims, [0.7, 1.1, 2])).toBe(0);
  });
});

describe('hd95: empty masks', () => {
  const dims: Vec3 = [4, 4, 4];
  const empty = new Uint8Array(64);
  const one = box(dims, [1, 1, 1], [2, 2, 2]);
  it('both empty → NaN (absent)', () => {
    expect(hd95(empty, empty, dims, [1, 1, 1])).toBeNaN();
  });
  it('exactly one empty → Infinity, either way round', () => {
    expect(hd95(one, empty, dims, [1, 1, 1])).toBe(Infinity);
    expect(hd95(empty, one, dims, [1, 1, 1], { definition: 'max-directed' })).toBe(Infinity);
  });
  it('directed distances to an empty surface are Infinity', () => {
    expect(Array.from(directedSurfaceDistances(Int32Array.of(5, 6), new Int32Array(0), dims, [1, 1, 1]))).toEqual([Infinity, Infinity]);
  });
  it('refuses masks of the wrong size', () => {
    expect(() => hd95(one, new Uint8Array(63), dims, [1, 1, 1])).toThrow('mask has 63 values, expected 4·4·4 = 64');
  });
});

describe('hd95: surface distances against brute force', () => {
  it('random blobs on an anisotropic grid (the EDT runs on the cropped box)', () => {
    const dims: Vec3 = [23, 17, 13];
    const sp: Vec3 = [0.9, 1.4, 2.2];
    const a = or(blob(dims, [6, 5, 4], [5, 4, 3], 3), blob(dims, [18, 12, 9], [3, 3, 2], 2));
    const b = blob(dims, [10, 8, 6], [6, 5, 3], 5);
    const sa = surfaceVoxels(a, dims), sb = surfaceVoxels(b, dims);
    const got = directedSurfaceDistances(sa, sb, dims, sp);
    const xyz = (q: number) => [q % dims[0], Math.floor(q / dims[0]) % dims[1], Math.floor(q / (dims[0] * dims[1]))];
    for (let n = 0; n < sa.length; n++) {
      const [i, j, k] = xyz(sa[n]);
      let best = Infinity;
      for (const q of sb) {
        const [x, y, z] = xyz(q);
        best = Math.min(best, Math.hypot((i - x) * sp[0], (j - y) * sp[1], (k - z) * sp[2]));
      }
      expect(got[n]).toBeCloseTo(best, 10);
    }
  });
});

describe('hd95: scipy reference (medpy definition)', () => {
  /*
   * Produced once with Debian's /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1), reproducing
   * medpy.metric.binary.hd95 (medpy is not installed; its definition is four lines):
   *   i, j, k = np.meshgrid(*[np.arange(n) for n in dims], indexing='ij')
   *   blob = e < 0.8 + 0.4 * h, with h = ((i*31 + j*17 + k*7 + i*j + j*k*salt) % 13) / 13.0 and
   *          e = ((i-c0)/r0)**2 + ((j-c1)/r1)**2 + ((k-c2)/r2)**2        (the `blob` function above)
   *   surf(m) = m ^ binary_erosion(m, generate_binary_structure(3, 1), iterations=1)
   *   d(a, b) = distance_transform_edt(~surf(b), sampling=spacing)[surf(a)]
   *   medpy = np.percentile(np.hstack((d(a, b), d(b, a))), 95)
   *   maxDirected = max(np.percentile(d(a, b), 95), np.percentile(d(b, a), 95)); hd100 = max of both maxima
   */
  const cases = [
    {
      dims: [12, 10, 8] as Vec3, sp: [0.8, 1.3, 2.5] as Vec3,
      a: () => blob([12, 10, 8], [5, 4, 3.5], [4, 3, 2.5], 3),
      b: () => blob([12, 10, 8], [6.5, 5, 4], [3.5, 3.5, 2], 5),
      sizes: [117, 101, 81, 75], medpy: 2.6487342376977754, maxDirected: 2.929163703175362, hd100: 3.24037034920393,
    },
    {
      dims: [9, 11, 7] as Vec3, sp: [1, 1, 1] as Vec3,
      a: () => or(blob([9, 11, 7], [1, 2, 1], [3, 4, 3], 2), blob([9, 11, 7], [7, 9, 5], [2, 2, 2], 1)),
      b: () => blob([9, 11, 7], [2, 3, 2], [3, 3, 3], 4),
      sizes: [118, 107, 98, 77], medpy: 5.856490261321594, maxDirected: 6.200220538138555, hd100: 7.0710678118654755,
    },
    {
      dims: [15, 8, 10] as Vec3, sp: [0.5, 2, 1.2] as Vec3,
      a: () => blob([15, 8, 10], [7, 3, 5], [6, 3, 4], 6),
      b: () => or(blob([15, 8, 10], [4, 4, 6], [3, 2, 3], 7), blob([15, 8, 10], [12, 2, 2], [2, 2, 2], 8)),
      sizes: [292, 101, 170, 82], medpy: 3.0724582991474434, maxDirected: 3.4190641994557516, hd100: 4.437341546466758,
    },
  ];

  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_, c) => {
    const a = c.a(), b = c.b();
    expect([count(a), count(b), surfaceVoxels(a, c.dims).length, surfaceVoxels(b, c.dims).length]).toEqual(c.sizes);
    expect(Math.abs(hd95(a, b, c.dims, c.sp) - c.medpy)).toBeLessThan(1e-6);
    expect(Math.abs(hd95(b, a, c.dims, c.sp) - c.medpy)).toBeLessThan(1e-6); // symmetric
    expect(Math.abs(hd95(a, b, c.dims, c.sp, { definition: 'max-directed' }) - c.maxDirected)).toBeLessThan(1e-6);
    expect(Math.abs(hausdorff(a, b, c.dims, c.sp, { percentile: 100 }) - c.hd100)).toBeLessThan(1e-6);
  });

  it('with a label map: class 2 of a two-class map is the same as its binary mask', () => {
    const c = cases[0];
    const a = c.a(), b = c.b();
    const la = a.map((x, i) => (x ? 2 : i % 3 === 0 ? 1 : 0));
    const lb = b.map((x, i) => (x ? 2 : i % 5 === 0 ? 1 : 0));
    expect(Math.abs(hd95(la, lb, c.dims, c.sp, { label: 2 }) - c.medpy)).toBeLessThan(1e-6);
  });
});
