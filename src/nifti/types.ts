// The in-memory volume that the NIfTI reader produces and the rest of the app consumes.
import type { Mat4, Vec3, VoxelArray } from '../core/types.ts';

/** Where the affine came from, in NIfTI's order of preference. */
export type AffineSource = 'sform' | 'qform' | 'pixdim';

/**
 * A 3D volume with one or more channels (the NIfTI 4th axis, e.g. MRI contrasts).
 * Voxel (i, j, k) of channel c sits at data[i + nx·(j + ny·(k + nz·c))] (NIfTI / Fortran order).
 */
export interface Volume {
  /** File name the volume came from (used in every message about it). */
  name: string;
  /** Voxel counts along i, j, k. */
  dims: Vec3;
  /** Size of the 4th axis; 1 for a plain 3D volume. */
  channels: number;
  /** Voxel values with scl_slope/scl_inter applied; Float32Array whenever scaling is not the identity. */
  data: VoxelArray;
  /** NIfTI datatype code of the file (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16, 768 uint32). */
  datatypeCode: number;
  /** Voxel (i, j, k) → world millimetres (RAS+), row-major 4×4. */
  affine: Mat4;
  affineSource: AffineSource;
  /** Voxel size in mm along i, j, k (norms of the affine's columns). */
  spacing: Vec3;
  /** Number of NaN / ±Inf voxels found in the file; they are replaced by 0 in `data`. */
  nonFinite: number;
  /** Axis codes of the voxel axes, e.g. 'RAS' or 'LPS' (closest world direction of +i, +j, +k). */
  axcodes: string;
  /** Header description field (may be empty). */
  description: string;
}
