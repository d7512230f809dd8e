// Affine maths for NIfTI: header → affine (sform / qform / base, as nibabel chooses), affine → qform
// quaternion for writing, and small 4×4 / 3×3 helpers on row-major Float64Arrays.
import type { Mat4, Vec3 } from '../core/types.ts';
import type { AffineSource } from './types.ts';
import type { NiftiHeader } from './header.ts';

/** Row-major 4×4 from rows. */
export function mat4(rows: readonly (readonly number[])[]): Mat4 {
  const m = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) m[4 * r + c] = rows[r]?.[c] ?? (r === c ? 1 : 0);
  return m;
}

export function matmul4(a: Mat4, b: Mat4): Mat4 {
  const m = new Float64Array(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[4 * r + k] * b[4 * k + c];
      m[4 * r + c] = s;
    }
  return m;
}

/** Norms of the first three columns of the 3×3 part (the voxel sizes). */
export function columnNorms(a: Mat4): Vec3 {
  const n = (c: number) => Math.hypot(a[c], a[4 + c], a[8 + c]);
  return [n(0), n(1), n(2)];
}

/** Quaternion (b, c, d) with a = sqrt(1 − b² − c² − d²) → proper rotation matrix, rows. */
export function quaternToRotation(b: number, c: number, d: number): number[][] {
  // NOTE: like nibabel's fillpositive, a slightly negative 1 − |bcd|² (float32 round-off) means a = 0.
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const nq = a * a + b * b + c * c + d * d;
  const s = nq < 1e-12 ? 0 : 2 / nq; // nibabel quat2mat normalises; a zero quaternion gives identity
  const [x, y, z] = [b * s, c * s, d * s];
  return [
    [1 - (c * y + d * z), b * y - a * z, b * z + a * y],
    [b * y + a * z, 1 - (b * x + d * z), c * z - a * x],
    [b * z - a * y, c * z + a * x, 1 - (b * x + c * y)],
  ];
}

/** Proper rotation matrix (rows) → unit quaternion [a, b, c, d] with a ≥ 0 (NIfTI stores b, c, d only). */
export function rotationToQuatern(r: number[][]): [number, number, number, number] {
  const tr = r[0][0] + r[1][1] + r[2][2];
  let q: [number, number, number, number];
  if (tr > 0) {
    const s = 2 * Math.sqrt(1 + tr);
    q = [s / 4, (r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s];
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]);
    q = [(r[2][1] - r[1][2]) / s, s / 4, (r[0][1] + r[1][0]) / s, (r[0][2] + r[2][0]) / s];
  } else if (r[1][1] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]);
    q = [(r[0][2] - r[2][0]) / s, (r[0][1] + r[1][0]) / s, s / 4, (r[1][2] + r[2][1]) / s];
  } else {
    const s = 2 * Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]);
    q = [(r[1][0] - r[0][1]) / s, (r[0][2] + r[2][0]) / s, (r[1][2] + r[2][1]) / s, s / 4];
  }
  const n = Math.hypot(...q);
  const sign = q[0] < 0 ? -1 : 1;
  return q.map((v) => (sign * v) / n) as [number, number, number, number];
}

/** The qform affine: R · diag(pixdim1, pixdim2, qfac·pixdim3) + qoffset (NIfTI-1 "method 2"). */
export function qformAffine(h: Pick<NiftiHeader, 'quatern' | 'qoffset' | 'pixdim'>): Mat4 {
  const r = quaternToRotation(...h.quatern);
  // NOTE: qfac = pixdim[0]; the standard says any value other than −1 means 1 (nibabel fixes 0 to 1 on load).
  const qfac = h.pixdim[0] === -1 ? -1 : 1;
  // NOTE: nibabel fixes negative pixdim[1..3] to their absolute value and zero ones to 1 on load.
  const vox = [1, 2, 3].map((i) => Math.abs(h.pixdim[i]) || 1);
  vox[2] *= qfac;
  return mat4([
    [r[0][0] * vox[0], r[0][1] * vox[1], r[0][2] * vox[2], h.qoffset[0]],
    [r[1][0] * vox[0], r[1][1] * vox[1], r[1][2] * vox[2], h.qoffset[1]],
    [r[2][0] * vox[0], r[2][1] * vox[1], r[2][2] * vox[2], h.qoffset[2]],
  ]);
}

/**
 * nibabel's base affine when neither form is set: diag(−pixdim1, pixdim2, pixdim3) centred on the volume.
 * NOTE: this follows nibabel (Nifti1Header.get_best_affine → AnalyzeHeader.get_base_affine →
 * volumeutils.shape_zoom_affine with x_flip=True): origin = −(shape − 1)/2 · zooms, x zoom negated,
 * NOT the NIfTI-1 "method 1" diag(pixdim) with zero offset. Zero pixdims count as 1 (nibabel's load-time fix).
 */
export function baseAffine(shape: Vec3, pixdim: readonly number[]): Mat4 {
  const z = [1, 2, 3].map((i) => Math.abs(pixdim[i]) || 1);
  z[0] = -z[0];
  return mat4([
    [z[0], 0, 0, (-(shape[0] - 1) / 2) * z[0]],
    [0, z[1], 0, (-(shape[1] - 1) / 2) * z[1]],
    [0, 0, z[2], (-(shape[2] - 1) / 2) * z[2]],
  ]);
}

/** nibabel's get_best_affine: sform if sform_code ≠ 0, else qform if qform_code ≠ 0, else the base affine. */
export function bestAffine(h: NiftiHeader, shape: Vec3): { affine: Mat4; source: AffineSource } {
  if (h.sformCode !== 0) return { affine: mat4([...h.srow]), source: 'sform' };
  if (h.qformCode !== 0) return { affine: qformAffine(h), source: 'qform' };
  return { affine: baseAffine(shape, h.pixdim), source: 'pixdim' };
}

/**
 * The qform fields that best represent an affine: quaternion (b, c, d), qfac, pixdims and offset.
 * Shears cannot be represented; the rotation is the orthogonalised direction matrix (the sform stays exact).
 */
export function affineToQform(a: Mat4, orthogonalise: (m: number[][]) => number[][]): {
  quatern: [number, number, number];
  qfac: 1 | -1;
  pixdim: Vec3;
  qoffset: Vec3;
} {
  const zooms = columnNorms(a).map((z) => z || 1) as Vec3;
  const m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => a[4 * r + c] / zooms[c]));
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const qfac: 1 | -1 = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) m[r][2] = -m[r][2];
  const [, b, c, d] = rotationToQuatern(orthogonalise(m));
  return { quatern: [b, c, d], qfac, pixdim: zooms, qoffset: [a[3], a[7], a[11]] };
}
