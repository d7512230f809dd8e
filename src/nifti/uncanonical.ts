// fromCanonical: the exact inverse of toCanonical — puts voxels laid out on the closest-RAS+ grid back onto
// the file's stored voxel grid and affine (e.g. to write a prediction made on the canonical grid).
import type { Mat4, Vec3, VoxelArray } from '../core/types.ts';
import { columnNorms } from './affine.ts';
import { NiftiError } from './errors.ts';
import { axcodesFromAffine, ioOrientation } from './orient.ts';
import { reorderCopy, type AxisMap } from './reorder.ts';

/** What fromCanonical needs of the canonical volume: a full Volume works, and so does a bare label map. */
export interface CanonicalGrid {
  /** Voxel counts on the canonical grid. */
  dims: Vec3;
  /** Voxels in NIfTI order (i fastest), `channels` blocks one after another. */
  data: VoxelArray;
  /** Size of the 4th axis; 1 when absent. */
  channels?: number;
  /** File name, used in error messages when present. */
  name?: string;
  /** Canonical affine; when present it is checked against the source's (a guard against the wrong source). */
  affine?: Mat4;
}

/** The stored grid of the file: the dims and affine the reader reported before toCanonical. */
export interface SourceGrid {
  dims: Vec3;
  affine: Mat4;
}

/** The fields fromCanonical replaces; everything else of the input is kept. */
export interface StoredGrid {
  dims: Vec3;
  data: VoxelArray;
  affine: Mat4;
  spacing: Vec3;
  axcodes: string;
}

/**
 * The canonical volume on the source's voxel grid: fromCanonical(toCanonical(v), v) has v's dims, data
 * (bit for bit, every channel) and affine (a copy of source.affine). The input is never modified; when the
 * source is already RAS+ the data array is shared, not copied (toCanonical returns the same object then).
 */
export function fromCanonical<T extends CanonicalGrid>(canonical: T, source: SourceGrid): Omit<T, keyof StoredGrid> & StoredGrid {
  const name = canonical.name ?? 'canonical volume';
  const ornt = ioOrientation(source.affine);
  if (ornt.some(([ax]) => Number.isNaN(ax))) {
    throw new NiftiError(name, `source affine has a voxel axis with no world direction (orientation ${JSON.stringify(ornt)}); it has no canonical grid`);
  }
  const n = source.dims;
  // toCanonical: canonical axis o = ornt[inAx][0] holds source axis inAx, reversed when the flip is −1.
  const canonDims = [0, 0, 0];
  ornt.forEach(([o], inAx) => { canonDims[o] = n[inAx]; });
  if (canonical.dims.some((d, a) => d !== canonDims[a])) {
    throw new NiftiError(name, `dims [${canonical.dims.join(', ')}] are not the canonical dims [${canonDims.join(', ')}] of the source grid [${n.join(', ')}]`);
  }
  const channels = canonical.channels ?? 1;
  const voxels = n[0] * n[1] * n[2];
  if (canonical.data.length !== voxels * channels) {
    throw new NiftiError(name, `data has ${canonical.data.length} values; expected ${voxels} voxels × ${channels} channel(s) = ${voxels * channels}`);
  }
  if (canonical.affine) checkAffine(name, canonical.affine, source, ornt);

  const affine = Float64Array.from(source.affine);
  const grid = { dims: [n[0], n[1], n[2]] as Vec3, affine, spacing: columnNorms(affine), axcodes: axcodesFromAffine(affine) };
  if (ornt.every(([o, flip], inAx) => o === inAx && flip === 1)) return { ...canonical, ...grid, data: canonical.data };

  // Gather: walk the source grid in NIfTI order; along source axis inAx the canonical index moves by
  // ±(stride of canonical axis o), starting from the far end when the axis was flipped.
  const cStride = [1, canonDims[0], canonDims[0] * canonDims[1]];
  let start = 0;
  const axes: AxisMap[] = ornt.map(([o, flip], inAx) => {
    if (flip < 0) start += (n[inAx] - 1) * cStride[o];
    return { length: n[inAx], step: flip * cStride[o] };
  });
  axes.push({ length: channels, step: voxels });
  const out = reorderCopy(canonical.data, axes, start);
  return { ...canonical, ...grid, data: out };
}

/**
 * The canonical affine must equal source.affine · T, T the voxel map of toCanonical; within 1e-6 of the
 * affine's scale (it went through one matrix product).
 */
function checkAffine(name: string, canonAffine: Mat4, source: SourceGrid, ornt: Array<[number, number]>): void {
  const a = source.affine;
  const expected = Float64Array.from(a);
  for (let r = 0; r < 3; r++) {
    let offset = a[4 * r + 3];
    ornt.forEach(([o, flip], inAx) => {
      expected[4 * r + o] = a[4 * r + inAx] * flip;
      if (flip < 0) offset += a[4 * r + inAx] * (source.dims[inAx] - 1);
    });
    expected[4 * r + 3] = offset;
  }
  let scale = 1;
  for (const x of expected) scale = Math.max(scale, Math.abs(x));
  for (let k = 0; k < 16; k++) {
    if (!(Math.abs(canonAffine[k] - expected[k]) <= 1e-6 * scale)) {
      throw new NiftiError(name, `affine entry [${k >> 2}][${k & 3}] is ${canonAffine[k]}; the canonical grid of the source has ${expected[k]} (wrong source volume?)`);
    }
  }
}
