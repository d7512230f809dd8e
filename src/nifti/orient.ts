// Voxel-axis orientation: nibabel's io_orientation / aff2axcodes, and toCanonical, which reorders and flips
// voxel axes to the closest RAS+ layout exactly as nibabel's as_closest_canonical does (data and affine).
import type { Mat4, Vec3 } from '../core/types.ts';
import { columnNorms, matmul4, mat4 } from './affine.ts';
import { NiftiError } from './errors.ts';
import { reorderCopy, reorderInPlace, type AxisMap } from './reorder.ts';
import type { Volume } from './types.ts';

/** For each voxel axis: [world output axis 0=x 1=y 2=z, +1 or −1]; [NaN, NaN] for an axis with no direction. */
export type Orientation = Array<[number, number]>;

/**
 * SVD of a 3×3 matrix by one-sided Jacobi (Hestenes): returns W = U·diag(S) as columns and V,
 * accurate for small singular values too (unlike an eigen-decomposition of AᵀA).
 */
function svd3(a: number[][]): { w: number[][]; s: number[]; v: number[][] } {
  const w = [0, 1, 2].map((c) => [a[0][c], a[1][c], a[2][c]]); // w[c] = column c
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]; // v[c] = column c of V
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const alpha = dot(w[p], w[p]);
      const beta = dot(w[q], w[q]);
      const gamma = dot(w[p], w[q]);
      if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
      rotated = true;
      const zeta = (beta - alpha) / (2 * gamma);
      const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t);
      const sn = c * t;
      for (const m of [w, v]) {
        for (let k = 0; k < 3; k++) {
          const x = m[p][k];
          const y = m[q][k];
          m[p][k] = c * x - sn * y;
          m[q][k] = sn * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  return { w, s: w.map((col) => Math.hypot(...col)), v };
}

function dot(x: number[], y: number[]): number {
  return x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
}

/**
 * Closest orthogonal matrix to m (polar factor U·Vᵀ over the singular values above nibabel's rank
 * tolerance S.max · 3 · eps); rows in, rows out. Rank-deficient input gives a partial isometry, as in nibabel.
 */
export function polar3(m: number[][]): number[][] {
  const { w, s, v } = svd3(m);
  const tol = Math.max(...s) * 3 * Number.EPSILON;
  const r = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let k = 0; k < 3; k++) {
    if (!(s[k] > tol)) continue;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[i][j] += (w[k][i] / s[k]) * v[k][j];
  }
  return r;
}

/**
 * nibabel.orientations.io_orientation: for each voxel axis, the world axis it is closest to and its sign.
 * Columns are divided by their norms, made orthogonal (polar decomposition), then voxel axes pick world
 * axes greedily in order (largest |entry| wins, first on ties), each world axis used once.
 */
export function ioOrientation(affine: Mat4): Orientation {
  const zooms = columnNorms(affine).map((z) => z || 1);
  const r = polar3([0, 1, 2].map((i) => [0, 1, 2].map((j) => affine[4 * i + j] / zooms[j])));
  const ornt: Orientation = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    const col = [r[0][inAx], r[1][inAx], r[2][inAx]];
    // NOTE: nibabel uses np.allclose(col, 0), i.e. every |entry| ≤ 1e-8.
    if (col.every((x) => Math.abs(x) <= 1e-8)) {
      ornt.push([NaN, NaN]);
      continue;
    }
    let outAx = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(col[k]) > Math.abs(col[outAx])) outAx = k;
    ornt.push([outAx, col[outAx] < 0 ? -1 : 1]);
    r[outAx] = [0, 0, 0];
  }
  return ornt;
}

const LABELS = [['L', 'R'], ['P', 'A'], ['I', 'S']];

/** Axis codes like nibabel.aff2axcodes, e.g. 'LAS'; '?' for an axis with no direction. */
export function axcodesFromAffine(affine: Mat4): string {
  return ioOrientation(affine)
    .map(([ax, flip]) => (Number.isNaN(ax) ? '?' : LABELS[ax][flip > 0 ? 1 : 0]))
    .join('');
}

function isIdentity(ornt: Orientation): boolean {
  return ornt.every(([ax, flip], i) => ax === i && flip === 1);
}

/** Options of toCanonical. */
export interface CanonicalOptions {
  /**
   * Allows toCanonical to reorder `vol.data` itself (and share it with the result) when the orientation is only
   * flips, instead of allocating a second array of the same size. For a caller that discards `vol.data` afterwards,
   * e.g. straight after readNifti. Default false: the input is never modified.
   */
  inPlace?: boolean;
}

/**
 * The volume with its voxel axes reordered/flipped to the closest RAS+ orientation (every channel), and the
 * affine updated so each voxel keeps its world position: nibabel's as_closest_canonical. Already RAS+ →
 * the same object. The input is never modified unless `opts.inPlace` (see CanonicalOptions).
 */
export function toCanonical(vol: Volume, opts: CanonicalOptions = {}): Volume {
  const ornt = ioOrientation(vol.affine);
  if (isIdentity(ornt)) return vol;
  if (ornt.some(([ax]) => Number.isNaN(ax))) {
    throw new NiftiError(vol.name, `affine has a voxel axis with no world direction (orientation ${JSON.stringify(ornt)}); cannot reorient to RAS+`);
  }
  const n = vol.dims;
  const inStride = [1, n[0], n[0] * n[1]];
  // For each output axis o: the input axis feeding it, the signed input step, and the start offset.
  const outDims = [0, 0, 0] as unknown as Vec3;
  const axes: AxisMap[] = [0, 1, 2].map(() => ({ length: 0, step: 0 }));
  let start = 0;
  // i_in = flip == 1 ? p[o] : n_in − 1 − p[o]  ⇒ voxel index map T (4×4) with new affine = affine · T.
  const t = mat4([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]);
  ornt.forEach(([o, flip], inAx) => {
    outDims[o] = n[inAx];
    axes[o] = { length: n[inAx], step: flip * inStride[inAx] };
    if (flip < 0) start += (n[inAx] - 1) * inStride[inAx];
    t[4 * inAx + o] = flip;
    t[4 * inAx + 3] = flip < 0 ? n[inAx] - 1 : 0;
  });
  axes.push({ length: vol.channels, step: n[0] * n[1] * n[2] });
  const data = opts.inPlace ? reorderInPlace(vol.data, axes, start) : reorderCopy(vol.data, axes, start);
  const affine = matmul4(vol.affine, t);
  return { ...vol, dims: outDims, data, affine, spacing: columnNorms(affine), axcodes: axcodesFromAffine(affine) };
}
