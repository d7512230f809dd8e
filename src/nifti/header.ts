// Parses the NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers of either byte order into one plain record.
// NOTE: we parse ourselves rather than with nifti-reader-js so that every field keeps its on-disk width
// (NIfTI-2 int64 dims, float64 srow) and the affine choice follows nibabel, not that library's qform-first rule.
import { NiftiError } from './errors.ts';

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** Size of the header proper (348 or 540). */
  headerSize: number;
  /** dim[0..7] as numbers (NIfTI-2 int64 values above 2^53 become Infinity so they fail validation). */
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z: the first three rows of the sform. */
  srow: [number[], number[], number[]];
  xyztUnits: number;
  description: string;
  /** Magic string as found ('n+1', 'ni1', 'n+2', 'ni2'). */
  magic: string;
}

const MAGIC_ERROR = "not a NIfTI-1/NIfTI-2 file (no 'n+1'/'ni1'/'n+2' magic)";

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < bytes.length; i++) {
    if (bytes[i] === 0) break;
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** Which NIfTI version and byte order the first bytes describe, or null when they are not a NIfTI header. */
export function sniffNifti(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } | null {
  if (bytes.length < 348) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m1 = ascii(bytes, 344, 348);
  if (m1 === 'n+1' || m1 === 'ni1') {
    const le = view.getInt32(0, true);
    if (le === 348) return { version: 1, littleEndian: true };
    if (view.getInt32(0, false) === 348) return { version: 1, littleEndian: false };
    return null;
  }
  const m2 = ascii(bytes, 4, 12);
  if ((m2 === 'n+2' || m2 === 'ni2') && bytes.length >= 540) {
    if (view.getInt32(0, true) === 540) return { version: 2, littleEndian: true };
    if (view.getInt32(0, false) === 540) return { version: 2, littleEndian: false };
  }
  return null;
}

/** Parses the header at the start of `bytes` (already gunzipped). Throws NiftiError when it is not NIfTI. */
export function parseHeader(bytes: Uint8Array, file: string): NiftiHeader {
  const sniff = sniffNifti(bytes);
  if (!sniff) {
    const why = bytes.length < 348 ? ` (only ${bytes.length} bytes; a NIfTI header needs at least 348)` : '';
    throw new NiftiError(file, MAGIC_ERROR + why);
  }
  const le = sniff.littleEndian;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (sniff.version === 1) {
    const f32 = (o: number) => v.getFloat32(o, le);
    const i16 = (o: number) => v.getInt16(o, le);
    return {
      version: 1,
      littleEndian: le,
      headerSize: 348,
      dim: Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i)),
      datatype: i16(70),
      bitpix: i16(72),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      xyztUnits: bytes[123],
      description: ascii(bytes, 148, 228),
      qformCode: i16(252),
      sformCode: i16(254),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as NiftiHeader['srow'],
      magic: ascii(bytes, 344, 348),
    };
  }
  const f64 = (o: number) => v.getFloat64(o, le);
  const i64 = (o: number) => {
    const b = v.getBigInt64(o, le);
    return b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER) ? (b > 0n ? Infinity : -Infinity) : Number(b);
  };
  return {
    version: 2,
    littleEndian: le,
    headerSize: 540,
    datatype: v.getInt16(12, le),
    bitpix: v.getInt16(14, le),
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    description: ascii(bytes, 240, 320),
    qformCode: v.getInt32(344, le),
    sformCode: v.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))) as NiftiHeader['srow'],
    xyztUnits: v.getInt32(500, le),
    magic: ascii(bytes, 4, 8),
  };
}
