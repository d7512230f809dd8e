// writeNifti: Volume → single-file NIfTI-1 (.nii or .nii.gz bytes), little endian, sform and qform both set.
import { dtypeOf, type Dtype } from '../core/types.ts';
import type { Volume } from './types.ts';
import { affineToQform, columnNorms } from './affine.ts';
import { fmtDims, NiftiError } from './errors.ts';
import { gzip } from './gzip.ts';
import { polar3 } from './orient.ts';

export type WritableVolume = Pick<Volume, 'dims' | 'channels' | 'data' | 'affine'> & { description?: string; name?: string };

export interface WriteOptions {
  /** gzip the result (.nii.gz); default true. */
  gzip?: boolean;
}

const CODES: Record<Dtype, { code: number; bits: number }> = {
  uint8: { code: 2, bits: 8 },
  int16: { code: 4, bits: 16 },
  int32: { code: 8, bits: 32 },
  float32: { code: 16, bits: 32 },
  float64: { code: 64, bits: 64 },
  int8: { code: 256, bits: 8 },
  uint16: { code: 512, bits: 16 },
  uint32: { code: 768, bits: 32 },
};

/** NIfTI-1 single file: 348-byte header, 4-byte extension flag (all zero: no extensions), voxels at 352. */
const HEADER = 348;
const VOX_OFFSET = 352;
/** xyzt_units: NIFTI_UNITS_MM (spatial only; the 4th axis holds channels, not time). */
const UNITS_MM = 2;
/** sform/qform code 2: NIFTI_XFORM_ALIGNED_ANAT (coordinates aligned to another file / the original scan). */
const XFORM_ALIGNED = 2;

function finiteRange(data: Volume['data']): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * Encodes a volume as NIfTI-1. The sform holds the affine exactly (to float32); the qform holds its closest
 * rigid part (quaternion, qfac, voxel sizes, offset) for readers that only use the qform.
 * NOTE: scl_slope = 1, scl_inter = 0 — the identity, which every reader honours; nibabel itself writes
 * (1, 0) for integer data and NaN ("unset") for float data, and reads both as unscaled.
 */
export async function writeNifti(vol: WritableVolume, opts: WriteOptions = {}): Promise<Uint8Array> {
  const file = vol.name ?? 'output.nii';
  const [nx, ny, nz] = vol.dims;
  const count = nx * ny * nz * vol.channels;
  if (count !== vol.data.length || ![nx, ny, nz, vol.channels].every((d) => Number.isInteger(d) && d >= 1 && d <= 32767)) {
    throw new NiftiError(file, `cannot write dims ${fmtDims(vol.dims)} × ${vol.channels} channels with ${vol.data.length} voxels; expected positive dims ≤ 32,767 whose product is the voxel count`);
  }
  if (!vol.affine.every(Number.isFinite)) throw new NiftiError(file, 'cannot write an affine with non-finite entries');
  const { code, bits } = CODES[dtypeOf(vol.data)];
  const payload = vol.data.byteLength;
  const out = new Uint8Array(VOX_OFFSET + payload);
  const v = new DataView(out.buffer);
  const i16 = (o: number, x: number) => v.setInt16(o, x, true);
  const f32 = (o: number, x: number) => v.setFloat32(o, x, true);

  v.setInt32(0, HEADER, true);
  out[38] = 'r'.charCodeAt(0); // "regular", an ANALYZE leftover that some readers still check
  const ndim = vol.channels > 1 ? 4 : 3;
  [ndim, nx, ny, nz, vol.channels, 1, 1, 1].forEach((d, i) => i16(40 + 2 * i, d));
  i16(70, code);
  i16(72, bits);
  const a = vol.affine;
  const q = affineToQform(a, polar3);
  [q.qfac, ...columnNorms(a).map((z) => z || 1), 1, 1, 1, 1].forEach((p, i) => f32(76 + 4 * i, p));
  f32(108, VOX_OFFSET);
  f32(112, 1);
  f32(116, 0);
  out[123] = UNITS_MM;
  const [lo, hi] = finiteRange(vol.data);
  f32(124, hi);
  f32(128, lo);
  const desc = (vol.description ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  for (let i = 0; i < desc.length; i++) out[148 + i] = desc.charCodeAt(i);
  i16(252, XFORM_ALIGNED);
  i16(254, XFORM_ALIGNED);
  q.quatern.forEach((x, i) => f32(256 + 4 * i, x));
  q.qoffset.forEach((x, i) => f32(268 + 4 * i, x));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) f32(280 + 16 * r + 4 * c, a[4 * r + c]);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // 'n+1\0'
  // bytes 348..351: extension flag, all zero.

  const src = new Uint8Array(vol.data.buffer, vol.data.byteOffset, payload);
  out.set(src, VOX_OFFSET);
  const hostLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const size = bits / 8;
  if (!hostLittle && size > 1) {
    for (let i = VOX_OFFSET; i < out.length; i += size) out.subarray(i, i + size).reverse();
  }
  return opts.gzip === false ? out : gzip(out);
}
