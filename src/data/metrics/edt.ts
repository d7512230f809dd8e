// Exact Euclidean distance transform on an anisotropic voxel grid (Felzenszwalb & Huttenlocher 2012,
// "Distance Transforms of Sampled Functions": the 1D squared-distance lower envelope, applied once per axis).
import type { Vec3 } from '../../core/types.ts';

/** Scratch buffers for one 1D pass over lines of length up to n. */
interface Scratch {
  f: Float64Array;
  out: Float64Array;
  v: Int32Array;
  z: Float64Array;
}

function scratch(n: number): Scratch {
  return { f: new Float64Array(n), out: new Float64Array(n), v: new Int32Array(n), z: new Float64Array(n + 1) };
}

/**
 * 1D: out[q] = min over p of ((q − p)·step)² + f[p], for q, p in 0 … n−1, where f[p] = Infinity marks "no
 * feature" (such p are left out of the envelope; a line with no finite f stays Infinity). Positions are in mm
 * (index × step), so the parabolas intersect at mm coordinates and anisotropic spacing is exact.
 */
function lowerEnvelope1d(n: number, step: number, s: Scratch): void {
  const { f, out, v, z } = s;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    const xq = q * step;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // Where the parabola rooted at q overtakes the one at v[k]; pop envelope parabolas it hides entirely.
    let cross: number;
    for (;;) {
      const p = v[k];
      const xp = p * step;
      cross = (fq + xq * xq - (f[p] + xp * xp)) / (2 * (xq - xp));
      if (cross <= z[k] && k > 0) k--;
      else break;
    }
    // NOTE: z[0] = −∞, so the loop stops at k = 0: the first parabola keeps (−∞, cross], which may end before 0.
    k++;
    v[k] = q;
    z[k] = cross;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const x = q * step;
    while (z[j + 1] < x) j++;
    const d = x - v[j] * step;
    out[q] = d * d + f[v[j]];
  }
}

/**
 * Squared distance in mm² from every voxel of a dims grid (NIfTI order, i fastest) to the nearest voxel whose
 * `features` value is non-zero; Infinity everywhere when there is none. `spacing` is the voxel size in mm along
 * i, j, k. Exact up to float64 rounding (each value is a sum of three squared multiples of the spacing).
 */
export function edtSquared(features: ArrayLike<number>, dims: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = dims;
  const total = nx * ny * nz;
  if (features.length !== total) throw new Error(`edtSquared: features have ${features.length} values, expected ${nx}·${ny}·${nz} = ${total}.`);
  for (const s of spacing) if (!(s > 0 && Number.isFinite(s))) throw new Error(`edtSquared: spacing [${spacing.join(', ')}] must be finite and > 0.`);
  const d = new Float64Array(total);
  for (let i = 0; i < total; i++) d[i] = features[i] ? 0 : Infinity;
  const strides = [1, nx, nx * ny];
  const sc = scratch(Math.max(nx, ny, nz));
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    if (n === 1) continue; // a single voxel along the axis: nothing moves
    const st = strides[axis];
    // Line starts: every voxel whose coordinate along `axis` is 0.
    const [a, b] = [0, 1, 2].filter((x) => x !== axis);
    for (let ib = 0; ib < dims[b]; ib++) {
      for (let ia = 0; ia < dims[a]; ia++) {
        const start = ia * strides[a] + ib * strides[b];
        let any = false;
        for (let q = 0, at = start; q < n; q++, at += st) {
          const x = d[at];
          sc.f[q] = x;
          if (x !== Infinity) any = true;
        }
        if (!any) continue; // the line stays Infinity
        lowerEnvelope1d(n, spacing[axis], sc);
        for (let q = 0, at = start; q < n; q++, at += st) d[at] = sc.out[q];
      }
    }
  }
  return d;
}
