// Label maps: class histogram (`labelStats`), and the public entry to class names and colours
// (lookup parsers live in lookup.ts, the colour map in palette.ts).
import type { Volume } from '../nifti/types.ts';

export { classColor, defaultClassName, type RGB } from './palette.ts';
export { parseBinaryLut, parseLookup, parseLookupFile, type LookupFormat, type LookupTable } from './lookup.ts';

export interface LabelStats {
  /** Class values present, ascending (0 included when present). */
  classes: number[];
  /** Voxel count of each present class. */
  counts: Record<number, number>;
  /** Total voxels counted (all channels). */
  voxels: number;
}

const DIRECT = 65536;

/**
 * Classes and voxel counts of a label map, in one pass: values 0…65535 go to a typed-array histogram,
 * other integers (negative, large) to a Map. Throws on a fractional value, naming the file and the voxel.
 */
export function labelStats(label: Volume): LabelStats {
  const { data } = label;
  const integerTyped = !(data instanceof Float32Array || data instanceof Float64Array);
  // Uint32 counts suffice: a typed array holds fewer than 2³² elements.
  let hist: Uint32Array = new Uint32Array(data instanceof Uint8Array || data instanceof Int8Array ? 256 : DIRECT);
  const other = new Map<number, number>();
  if (data instanceof Uint8Array || data instanceof Uint16Array) {
    hist = unsignedHistogram(data, hist.length);
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v >= 0 && v < DIRECT && (integerTyped || (v | 0) === v)) hist[v]++;
      else if (integerTyped || Number.isInteger(v)) other.set(v, (other.get(v) ?? 0) + 1);
      else throw new Error(`label ${label.name}: voxel ${voxelName(label, i)} has value ${v}; a label map holds integer class indices (was it resampled with linear interpolation?).`);
    }
  }
  const counts: Record<number, number> = {};
  const classes: number[] = [];
  for (const [v, n] of other) if (v < 0) { classes.push(v); counts[v] = n; }
  for (let v = 0; v < hist.length; v++) if (hist[v] > 0) { classes.push(v); counts[v] = hist[v]; }
  for (const [v, n] of other) if (v >= 0) { classes.push(v); counts[v] = n; }
  classes.sort((a, b) => a - b);
  return { classes, counts, voxels: data.length };
}

/**
 * Histogram of unsigned integers below `size`. NOTE: four interleaved histograms break the
 * read-increment-write chain when neighbouring voxels share a value (most are background); ~2× faster.
 */
function unsignedHistogram(data: Uint8Array | Uint16Array, size: number): Uint32Array {
  const a = new Uint32Array(size), b = new Uint32Array(size), c = new Uint32Array(size), d = new Uint32Array(size);
  const n4 = data.length - (data.length % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    a[data[i]]++;
    b[data[i + 1]]++;
    c[data[i + 2]]++;
    d[data[i + 3]]++;
  }
  for (; i < data.length; i++) a[data[i]]++;
  for (let v = 0; v < size; v++) a[v] += b[v] + c[v] + d[v];
  return a;
}

/** '(i, j, k)' or '(i, j, k, channel c)' of a flat index. */
export function voxelName(v: Volume, flat: number): string {
  const [nx, ny, nz] = v.dims;
  const i = flat % nx, j = Math.floor(flat / nx) % ny, k = Math.floor(flat / (nx * ny)) % nz;
  const c = Math.floor(flat / (nx * ny * nz));
  return c > 0 ? `(${i}, ${j}, ${k}, channel ${c})` : `(${i}, ${j}, ${k})`;
}
