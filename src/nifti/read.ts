// readNifti: .nii / .nii.gz bytes (NIfTI-1 or -2, either byte order) → Volume, with every check a
// malformed or truncated file needs; scaling, non-finite clean-up and nibabel's choice of affine.
import { type Dtype, type Vec3, type VoxelArray } from '../core/types.ts';
import { bestAffine, columnNorms } from './affine.ts';
import { fmtDims, fmtInt, NiftiError } from './errors.ts';
import { gunzip, gunzipHead, isGzip } from './gzip.ts';
import { parseHeader, type NiftiHeader } from './header.ts';
import { axcodesFromAffine } from './orient.ts';
import type { Volume } from './types.ts';

/** NIfTI datatype code → our dtype and bytes per voxel. */
export const DATATYPES: Record<number, { dtype: Dtype; bytes: number; name: string }> = {
  2: { dtype: 'uint8', bytes: 1, name: 'uint8' },
  4: { dtype: 'int16', bytes: 2, name: 'int16' },
  8: { dtype: 'int32', bytes: 4, name: 'int32' },
  16: { dtype: 'float32', bytes: 4, name: 'float32' },
  64: { dtype: 'float64', bytes: 8, name: 'float64' },
  256: { dtype: 'int8', bytes: 1, name: 'int8' },
  512: { dtype: 'uint16', bytes: 2, name: 'uint16' },
  768: { dtype: 'uint32', bytes: 4, name: 'uint32' },
};

/** Names of the NIfTI datatypes we do not read, for the error message. */
const OTHER_DATATYPES: Record<number, string> = {
  0: 'unknown', 1: 'binary', 32: 'complex64', 128: 'RGB24', 255: 'all', 1024: 'int64', 1280: 'uint64',
  1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};

/** Largest axis length we accept (NIfTI-1's int16 dims allow 32767; NIfTI-2 files rarely exceed this). */
export const MAX_AXIS = 65535;
/**
 * Largest voxel payload we accept in bytes, in a browser tab and in the CLI alike. NOTE: the voxels are held at least
 * twice on the way (decompressed file, then the reoriented volume; a float copy when scaled), and a tab that asks for
 * more than its ~2–4 GiB is killed with everything in it; the check runs on the header before anything is inflated.
 */
export const MAX_BYTES = 1.5e9;

function voxelShape(h: NiftiHeader, file: string): { dims: Vec3; channels: number } {
  const nd = h.dim[0];
  if (!(nd >= 2 && nd <= 7)) {
    throw new NiftiError(file, `dim[0] = ${nd} but a volume needs 2 to 7 dimensions (3 for a 3D volume, 4 with channels)`);
  }
  const used = h.dim.slice(1, nd + 1);
  const bad = used.findIndex((d) => !(d >= 1) || !Number.isInteger(d));
  if (bad >= 0) {
    throw new NiftiError(file, `dim[${bad + 1}] = ${used[bad]} in dims ${fmtDims(used)}; every dimension must be a positive integer`);
  }
  const big = used.findIndex((d) => d > MAX_AXIS);
  if (big >= 0) throw new NiftiError(file, `dim[${big + 1}] = ${fmtInt(used[big])} in dims ${fmtDims(used)} exceeds the ${fmtInt(MAX_AXIS)} voxels per axis this reader accepts`);
  const extra = used.slice(4).findIndex((d) => d > 1);
  if (extra >= 0) {
    throw new NiftiError(file, `dims ${fmtDims(used)} have dim[${extra + 5}] = ${used[extra + 4]}; only 3D volumes and 4D volumes (channels) are supported, so dim[5..7] must be 1`);
  }
  return { dims: [used[0], used[1] ?? 1, used[2] ?? 1], channels: used[3] ?? 1 };
}

function datatypeInfo(h: NiftiHeader, file: string): { dtype: Dtype; bytes: number; name: string } {
  const info = DATATYPES[h.datatype];
  if (!info) {
    const name = OTHER_DATATYPES[h.datatype] ?? 'not a NIfTI datatype code';
    const ok = Object.entries(DATATYPES).map(([code, d]) => `${d.name} (${code})`).join(', ');
    throw new NiftiError(file, `unsupported datatype ${h.datatype} (${name}); supported: ${ok}`);
  }
  return info;
}

const CTORS = {
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
} as const;

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Most bytes a voxel view may keep alive besides the voxels (header, extensions, spare capacity): 64 KiB, or 1/16
 * of the voxels. NOTE: a heuristic; a view over a buffer with a large extension or trailing data would pin memory
 * the volume never uses, so such files are copied instead.
 */
function viewSlackOk(buffer: ArrayBufferLike, payload: number): boolean {
  const slack = buffer.byteLength - payload;
  return slack <= 65536 || slack <= payload / 16;
}

/**
 * The voxels in host byte order. A view of `bytes` (no copy) when the reader owns them (`owned`: they came out of
 * gunzip), the file's byte order is the host's, vox_offset is a multiple of the element size and the buffer holds
 * little else (viewSlackOk); otherwise a copy, byte-swapped when needed.
 */
function voxelArray(bytes: Uint8Array, offset: number, count: number, dtype: Dtype, bytesPer: number, littleEndian: boolean, owned: boolean): VoxelArray {
  const start = bytes.byteOffset + offset;
  const payload = count * bytesPer;
  if (owned && (littleEndian === HOST_LITTLE || bytesPer === 1) && start % bytesPer === 0 && viewSlackOk(bytes.buffer, payload)) {
    return new CTORS[dtype](bytes.buffer as ArrayBuffer, start, count);
  }
  // NOTE: an explicit copy, not bytes.slice(): on a Node Buffer slice() is a view into a shared pool.
  const raw = new Uint8Array(payload);
  raw.set(bytes.subarray(offset, offset + payload));
  if (bytesPer > 1 && littleEndian !== HOST_LITTLE) swapBytes(raw.buffer, count, bytesPer);
  return new CTORS[dtype](raw.buffer, 0, count);
}

/** Reverses the byte order of each of `count` elements of `bytesPer` bytes at the start of an aligned buffer. */
function swapBytes(buffer: ArrayBufferLike, count: number, bytesPer: number): void {
  if (bytesPer === 2) {
    const u = new Uint16Array(buffer, 0, count);
    for (let i = 0; i < count; i++) {
      const x = u[i];
      u[i] = (x >>> 8) | ((x & 0xff) << 8);
    }
    return;
  }
  const u = new Uint32Array(buffer, 0, count * (bytesPer / 4));
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    u[i] = (x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24);
  }
  if (bytesPer === 8) {
    for (let i = 0; i < u.length; i += 2) {
      const t = u[i];
      u[i] = u[i + 1];
      u[i + 1] = t;
    }
  }
}

/** Applies scl_slope/scl_inter the way nibabel does, counts and zeroes NaN/±Inf. */
function scaleAndClean(data: VoxelArray, h: NiftiHeader, file: string): { data: VoxelArray; nonFinite: number } {
  const slope = h.sclSlope;
  const inter = h.sclInter;
  // NOTE: nibabel (Nifti1Header.get_slope_inter) ignores scaling when slope is 0 or not finite, and
  // refuses a finite slope with a non-finite intercept.
  let out = data;
  if (slope !== 0 && Number.isFinite(slope) && !(slope === 1 && inter === 0)) {
    if (!Number.isFinite(inter)) {
      throw new NiftiError(file, `scl_slope is ${slope} but scl_inter is ${inter}; a finite intercept was expected`);
    }
    const f = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) f[i] = data[i] * slope + inter;
    out = f;
  }
  let nonFinite = 0;
  if (out instanceof Float32Array || out instanceof Float64Array) {
    for (let i = 0; i < out.length; i++) {
      const v = out[i];
      if (v - v !== 0) {
        out[i] = 0;
        nonFinite++;
      }
    }
  }
  return { data: out, nonFinite };
}

/** A voxel count and its bytes as people say them: '4.3 G voxels (4.0 GiB)'. */
function sizeText(count: number, payload: number): string {
  const scaled = (v: number, base: number, units: string[]) => {
    let i = 0;
    while (i < units.length - 1 && v >= base ** (i + 1)) i++;
    return i === 0 ? fmtInt(v) + units[0] : `${(v / base ** i).toFixed(1)} ${units[i]}`;
  };
  return `${scaled(count, 1000, [' voxels', 'k voxels', 'M voxels', 'G voxels', 'T voxels'])} (${scaled(payload, 1024, [' bytes', 'KiB', 'MiB', 'GiB', 'TiB'])})`;
}

/** What the header says the file holds, checked: shape, datatype, and a payload this reader can hold. */
function claims(h: NiftiHeader, name: string) {
  if (h.magic === 'ni1' || h.magic === 'ni2') {
    throw new NiftiError(name, `is a header-only NIfTI (magic '${h.magic}', .hdr/.img pair); expected a single-file .nii with magic 'n+${h.version}'`);
  }
  const { dims, channels } = voxelShape(h, name);
  const type = datatypeInfo(h, name);
  const count = dims[0] * dims[1] * dims[2] * channels;
  const payload = count * type.bytes;
  const shapeText = `${fmtDims(channels > 1 ? [...dims, channels] : dims)} ${type.name} voxels`;
  if (payload > MAX_BYTES) {
    throw new NiftiError(name, `header claims ${shapeText}: ${sizeText(count, payload)} is over the ${(MAX_BYTES / 1e9).toFixed(1)} GB limit of a browser tab `
      + `and of this reader (${fmtInt(payload)} bytes); crop or downsample it first`);
  }
  return { dims, channels, type, count, payload, shapeText };
}

/** Reads a .nii or .nii.gz file (detected by its magic bytes, not its name) into a Volume. */
export async function readNifti(input: ArrayBuffer | Uint8Array, name: string): Promise<Volume> {
  let bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  // The caller's bytes are never aliased (the volume may be modified later); gunzip's output is ours to keep.
  let owned = false;
  if (isGzip(bytes)) {
    // The header's claims are checked on the first decompressed bytes, before the rest is inflated: a small file that
    // says it holds 4 GiB of voxels is refused at once instead of filling memory.
    let head: Uint8Array | null = null;
    try {
      head = gunzipHead(bytes, 544);
    } catch {
      // a corrupt start: the whole-stream gunzip below reports it
    }
    if (head && head.length >= 348) {
      let h: NiftiHeader | null = null;
      try {
        h = parseHeader(head, name);
      } catch {
        // a header the full read will explain (or a NIfTI-2 header cut short here: it needs 540 bytes)
      }
      if (h) claims(h, name);
    }
    try {
      bytes = await gunzip(bytes);
      owned = true;
    } catch (e) {
      // Browsers wrap the decoder's reason in a stream-API sentence; keep only the reason.
      const why = (e instanceof Error ? e.message : String(e)).replace(/^Failed to execute '\w+' on '\w+': /, '').replace(/\.$/, '');
      throw new NiftiError(name, `gzip data is corrupt or truncated (${why}); expected a complete .nii.gz file`, { cause: e });
    }
  }
  const h = parseHeader(bytes, name);
  const { dims, channels, type, count, payload, shapeText } = claims(h, name);
  if (!Number.isFinite(h.voxOffset) || h.voxOffset > bytes.length) {
    throw new NiftiError(name, `vox_offset ${h.voxOffset} lies beyond the end of the file (${fmtInt(bytes.length)} bytes); truncated or not a single-file .nii?`);
  }
  // NOTE: a single-file NIfTI keeps its voxels after the header and the 4-byte extension flag; like nibabel
  // we truncate a fractional float vox_offset and treat a too-small one as that minimum (352 / 544).
  const offset = Math.max(Math.trunc(h.voxOffset), h.headerSize + 4);
  if (offset + payload > bytes.length) {
    throw new NiftiError(name, `header claims ${shapeText} (${fmtInt(payload)} bytes) from offset ${offset} but the file holds ${fmtInt(bytes.length)} bytes — truncated?`);
  }
  const native = voxelArray(bytes, offset, count, type.dtype, type.bytes, h.littleEndian, owned);
  const { data, nonFinite } = scaleAndClean(native, h, name);
  const { affine, source } = bestAffine(h, dims);
  if (!affine.every(Number.isFinite)) {
    throw new NiftiError(name, `the ${source} affine has non-finite entries [${Array.from(affine).join(', ')}]; expected finite numbers`);
  }
  return {
    name,
    dims,
    channels,
    data,
    datatypeCode: h.datatype,
    affine,
    affineSource: source,
    spacing: columnNorms(affine),
    nonFinite,
    axcodes: axcodesFromAffine(affine),
    description: h.description,
  };
}
