// Pure slice extraction and RGBA rendering for the viewer: canonical (RAS+) voxel grid → screen pixels.
// No React, no DOM: the canvas component hands the result to putImageData.
import type { Vec3, VoxelArray } from '../core/types.ts';

export type Axis = 'axial' | 'coronal' | 'sagittal';
export const AXES: readonly Axis[] = ['axial', 'coronal', 'sagittal'];

/** The canonical voxel axis held fixed by each view (i = R, j = A, k = S). */
export const FIXED_AXIS: Record<Axis, 0 | 1 | 2> = { sagittal: 0, coronal: 1, axial: 2 };

export interface SliceGeometry {
  /** Pixels across and down. */
  width: number;
  height: number;
  /** Millimetres per pixel across and down (for the on-screen aspect ratio). */
  mmPerPixel: [number, number];
}

/**
 * Screen conventions on a RAS+ grid:
 * - axial: anterior up; coronal and sagittal: superior up;
 * - sagittal: anterior on the left (the patient faces left);
 * - radiological (default): the patient's right on the screen's left; neurological: the other way round.
 */
export interface ViewOptions {
  axis: Axis;
  radiological: boolean;
}

export function sliceCount(dims: Vec3, axis: Axis): number {
  return dims[FIXED_AXIS[axis]];
}

export function sliceGeometry(dims: Vec3, spacing: Vec3, axis: Axis): SliceGeometry {
  switch (axis) {
    case 'axial': return { width: dims[0], height: dims[1], mmPerPixel: [spacing[0], spacing[1]] };
    case 'coronal': return { width: dims[0], height: dims[2], mmPerPixel: [spacing[0], spacing[2]] };
    case 'sagittal': return { width: dims[1], height: dims[2], mmPerPixel: [spacing[1], spacing[2]] };
  }
}

/** Voxel (i, j, k) shown at pixel (col, row) of slice `index`. */
export function pixelToVoxel(dims: Vec3, view: ViewOptions, index: number, col: number, row: number): Vec3 {
  const [nx, ny, nz] = dims;
  const lr = (c: number) => (view.radiological ? nx - 1 - c : c);
  switch (view.axis) {
    case 'axial': return [lr(col), ny - 1 - row, index];
    case 'coronal': return [lr(col), index, nz - 1 - row];
    case 'sagittal': return [index, ny - 1 - col, nz - 1 - row];
  }
}

/** Inverse of pixelToVoxel: the pixel (col, row) where voxel (i, j, k) is drawn, and the slice index. */
export function voxelToPixel(dims: Vec3, view: ViewOptions, v: Vec3): { col: number; row: number; index: number } {
  const [nx, ny, nz] = dims;
  const lr = (i: number) => (view.radiological ? nx - 1 - i : i);
  switch (view.axis) {
    case 'axial': return { col: lr(v[0]), row: ny - 1 - v[1], index: v[2] };
    case 'coronal': return { col: lr(v[0]), row: nz - 1 - v[2], index: v[1] };
    case 'sagittal': return { col: ny - 1 - v[1], row: nz - 1 - v[2], index: v[0] };
  }
}

/**
 * Linear offsets into the volume for every pixel of the slice, row-major over the screen.
 * Computed as start + col·colStride + row·rowStride so the render loop is two adds per pixel.
 */
function strides(dims: Vec3, view: ViewOptions, index: number, channel: number) {
  const [nx, ny, nz] = dims;
  const sx = 1, sy = nx, sz = nx * ny;
  const origin = pixelToVoxel(dims, view, index, 0, 0);
  const start = origin[0] * sx + origin[1] * sy + origin[2] * sz + channel * nx * ny * nz;
  const lrStep = view.radiological ? -sx : sx;
  switch (view.axis) {
    case 'axial': return { start, colStride: lrStep, rowStride: -sy };
    case 'coronal': return { start, colStride: lrStep, rowStride: -sz };
    case 'sagittal': return { start, colStride: -sy, rowStride: -sz };
  }
}

export interface RenderInput {
  dims: Vec3;
  spacing: Vec3;
  image: VoxelArray;
  channel: number;
  /** Intensity mapped to black and to white. */
  window: { low: number; high: number };
  label?: VoxelArray;
  /** RGB for each label value (index = label value); label 0 and hidden classes are not drawn. */
  palette?: Uint8Array;
  /** 1 = draw the class; 0 = hide it. Index = label value. */
  visible?: Uint8Array;
  /** Overlay opacity in [0, 1]. */
  opacity: number;
}

/**
 * Renders one slice to RGBA. `out` is reused when it has the right size (no allocation per frame).
 * A 512×512 slice with overlay takes ~1–3 ms in V8: see bench/viewer.bench.ts.
 */
export function renderSlice(input: RenderInput, view: ViewOptions, index: number, out?: Uint8ClampedArray): { rgba: Uint8ClampedArray; geometry: SliceGeometry } {
  const geometry = sliceGeometry(input.dims, input.spacing, view.axis);
  const { width, height } = geometry;
  const rgba = out && out.length === width * height * 4 ? out : new Uint8ClampedArray(width * height * 4);
  const { start, colStride, rowStride } = strides(input.dims, view, index, input.channel);
  const { low, high } = input.window;
  const scale = high > low ? 255 / (high - low) : 0;
  const img = input.image;
  const label = input.label;
  const palette = input.palette;
  const visible = input.visible;
  const a = Math.max(0, Math.min(1, input.opacity));
  const labelStart = start - input.channel * input.dims[0] * input.dims[1] * input.dims[2];
  let p = 0;
  for (let r = 0; r < height; r++) {
    let o = start + r * rowStride;
    let lo = labelStart + r * rowStride;
    for (let c = 0; c < width; c++, o += colStride, lo += colStride) {
      const v = img[o];
      let g = scale === 0 ? (v > low ? 255 : 0) : (v - low) * scale;
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      let R = g, G = g, B = g;
      if (label && palette && a > 0) {
        const l = label[lo];
        if (l > 0 && l * 3 + 2 < palette.length && (!visible || visible[l])) {
          R = g + (palette[l * 3] - g) * a;
          G = g + (palette[l * 3 + 1] - g) * a;
          B = g + (palette[l * 3 + 2] - g) * a;
        }
      }
      rgba[p] = R; rgba[p + 1] = G; rgba[p + 2] = B; rgba[p + 3] = 255;
      p += 4;
    }
  }
  return { rgba, geometry };
}

/** Voxel → world millimetres through a row-major 4×4 affine. */
export function voxelToWorld(affine: Float64Array, v: Vec3): Vec3 {
  const [i, j, k] = v;
  return [
    affine[0] * i + affine[1] * j + affine[2] * k + affine[3],
    affine[4] * i + affine[5] * j + affine[6] * k + affine[7],
    affine[8] * i + affine[9] * j + affine[10] * k + affine[11],
  ];
}
