// Slice windows of a volume: T neighbouring slices along one voxel axis (edge-clamped), normalised to [0, 1],
// laid out [T, H, W, C]; the centre slice's label [H, W]; per-slice foreground counts. Pure, typed arrays.
import type { Vec3 } from '../../core/types.ts';
import type { Volume } from '../../nifti/types.ts';
import { computeRange, normalize, type IntensityPreset, type PresetId, type Range } from '../intensity.ts';

/** The voxel axis held fixed by a window: 0 = i, 1 = j, 2 = k (on a RAS+ grid: sagittal, coronal, axial). */
export type SliceAxis = 0 | 1 | 2;

/**
 * In-plane geometry of slices taken across `axis`. The two remaining voxel axes in increasing order are
 * (wAxis, hAxis): W runs along the lower-numbered axis, H along the higher one, so pixel (y, x) of slice s
 * is voxel v with v[axis] = s, v[hAxis] = y, v[wAxis] = x. Axial (axis 2): H = nj, W = ni; coronal (1):
 * H = nk, W = ni; sagittal (0): H = nk, W = nj. (The viewer's width/height, without its display flips.)
 * NOTE: with W on the lower axis, a row of a slice is contiguous in NIfTI (Fortran) order for axes 1 and 2.
 */
export interface Plane {
  axis: SliceAxis;
  hAxis: SliceAxis;
  wAxis: SliceAxis;
  H: number;
  W: number;
  /** Number of slices along `axis`. */
  depth: number;
}

export function planeOf(dims: Vec3, axis: SliceAxis): Plane {
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new Error(`planeOf: axis ${String(axis)}, expected 0, 1 or 2.`);
  const [wAxis, hAxis] = ([0, 1, 2] as SliceAxis[]).filter((a) => a !== axis);
  return { axis, hAxis, wAxis, H: dims[hAxis], W: dims[wAxis], depth: dims[axis] };
}

function checkT(T: number): void {
  if (!(Number.isInteger(T) && T >= 1 && T % 2 === 1)) throw new Error(`window: T = ${T}, expected an odd integer ≥ 1.`);
}

/** Slice indices of the window centred on `index`: index−⌊T/2⌋ … index+⌊T/2⌋, clamped to 0 … depth−1. */
export function windowIndices(index: number, T: number, depth: number): number[] {
  checkT(T);
  if (!(Number.isInteger(index) && index >= 0 && index < depth)) {
    throw new Error(`windowIndices: slice ${index} is outside 0…${depth - 1}.`);
  }
  const half = (T - 1) / 2;
  const out: number[] = [];
  for (let d = -half; d <= half; d++) out.push(Math.min(depth - 1, Math.max(0, index + d)));
  return out;
}

/** The intensity range of every channel of a volume under a preset (computed once per volume, then reused). */
export function channelRanges(volume: Volume, preset: IntensityPreset | PresetId): Range[] {
  const out: Range[] = [];
  for (let c = 0; c < volume.channels; c++) out.push(computeRange(preset, volume.data, { channel: c, channels: volume.channels }));
  return out;
}

export interface WindowOptions {
  /** Intensity range(s) mapped to [0, 1]: one for all channels, or one per channel. */
  ranges: Range | readonly Range[];
  /** Optional output buffer of T·H·W·C values (e.g. a view into a batch). */
  out?: Float32Array;
}

function voxelStrides(dims: Vec3): Vec3 {
  return [1, dims[0], dims[0] * dims[1]];
}

/**
 * T in-plane slices around slice `index` along `axis`, every channel, normalised with the given range(s).
 * Layout [T, H, W, C] (C fastest): value (t, y, x, c) at ((t·H + y)·W + x)·C + c; H, W as in `planeOf`.
 * Slice t is index + t − ⌊T/2⌋ clamped to the volume (the edge slice repeats at the ends).
 */
export function sliceWindow(volume: Volume, axis: SliceAxis, index: number, T: number, opts: WindowOptions): Float32Array {
  const p = planeOf(volume.dims, axis);
  const C = volume.channels;
  const idx = windowIndices(index, T, p.depth);
  const ranges = Array.isArray(opts.ranges) ? opts.ranges : Array.from({ length: C }, () => opts.ranges as Range);
  if (ranges.length !== C) throw new Error(`sliceWindow: ${volume.name} has ${C} channel(s) but ${ranges.length} range(s) were given.`);
  const n = T * p.H * p.W * C;
  const out = opts.out ?? new Float32Array(n);
  if (out.length !== n) throw new Error(`sliceWindow: out has ${out.length} values, expected T·H·W·C = ${n}.`);
  const st = voxelStrides(volume.dims);
  const nvox = volume.dims[0] * volume.dims[1] * volume.dims[2];
  const sH = st[p.hAxis], sW = st[p.wAxis];
  const plane = new Float32Array(p.H * p.W);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const base = idx[t] * st[axis] + c * nvox;
      for (let y = 0, q = 0; y < p.H; y++) {
        const row = base + y * sH;
        for (let x = 0; x < p.W; x++, q++) plane[q] = volume.data[row + x * sW];
      }
      normalize(plane, ranges[c], plane);
      const o = t * p.H * p.W * C + c;
      for (let q = 0; q < plane.length; q++) out[o + q * C] = plane[q];
    }
  }
  return out;
}

function checkLabel(label: Volume, what: string): void {
  if (label.channels !== 1) throw new Error(`${what}: label ${label.name} has ${label.channels} channels, expected 1.`);
}

/** The label of slice `index` along `axis`, [H, W] (layout as `planeOf`), values rounded to integers. */
export function labelSlice(label: Volume, axis: SliceAxis, index: number, out?: Int32Array): Int32Array {
  checkLabel(label, 'labelSlice');
  const p = planeOf(label.dims, axis);
  if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) {
    throw new Error(`labelSlice: slice ${index} of ${label.name} is outside 0…${p.depth - 1} along axis ${axis}.`);
  }
  const res = out ?? new Int32Array(p.H * p.W);
  if (res.length !== p.H * p.W) throw new Error(`labelSlice: out has ${res.length} values, expected H·W = ${p.H * p.W}.`);
  const st = voxelStrides(label.dims);
  const base = index * st[axis], sH = st[p.hAxis], sW = st[p.wAxis];
  for (let y = 0, q = 0; y < p.H; y++) {
    for (let x = 0; x < p.W; x++, q++) res[q] = Math.round(label.data[base + y * sH + x * sW]);
  }
  return res;
}

/**
 * Number of foreground voxels (label > 0 after rounding, as `labelSlice` reads it) in every slice along `axis`,
 * in one pass over the volume.
 */
export function foregroundCounts(label: Volume, axis: SliceAxis): Int32Array {
  checkLabel(label, 'foregroundCounts');
  const [nx, ny, nz] = label.dims;
  const counts = new Int32Array(label.dims[axis]);
  const d = label.data;
  for (let k = 0, q = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, q++) {
        if (d[q] >= 0.5) counts[axis === 0 ? i : axis === 1 ? j : k]++;
      }
    }
  }
  return counts;
}

/**
 * Voxels of each label value in each slice along `axis`: [depth × K] row-major, K = largest label + 1 (labels are
 * rounded; negative values count as 0).
 */
export function classCountsPerSlice(label: Volume, axis: SliceAxis): { counts: Int32Array; K: number } {
  checkLabel(label, 'classCountsPerSlice');
  const [nx, ny, nz] = label.dims;
  const d = label.data;
  let K = 1;
  for (let q = 0; q < d.length; q++) K = Math.max(K, Math.round(d[q]) + 1);
  const counts = new Int32Array(label.dims[axis] * K);
  for (let k = 0, q = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, q++) {
        const v = Math.max(0, Math.round(d[q]));
        counts[(axis === 0 ? i : axis === 1 ? j : k) * K + v]++;
      }
    }
  }
  return { counts, K };
}

/** Throws unless image and label share the voxel grid. */
export function checkSameGrid(image: Volume, label: Volume): void {
  const [a, b] = [image.dims, label.dims];
  if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) {
    throw new Error(`${label.name}: label grid ${b.join('×')} differs from image ${image.name} grid ${a.join('×')}.`);
  }
}
