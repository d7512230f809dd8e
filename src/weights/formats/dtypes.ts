// Stored element types of checkpoint files (safetensors names, shared by the PyTorch reader) and their decoding
// into host arrays: F16/BF16/F64 → float32, I64 → int32 and U64 → uint32 (checked), BOOL → uint8; byte order.
import type { Dtype, VoxelArray } from '../../core/types.ts';
import { CheckpointError, fmtInt } from './errors.ts';

/** Element types as safetensors names them (PyTorch storages map onto the same set). */
export type StoredDtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

export const ITEM_SIZE: Readonly<Record<StoredDtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/**
 * What each stored type becomes on the host.
 * NOTE: F64 becomes float32 (the model and tfjs compute in float32); I64/U64 are narrowed and checked.
 */
export const HOST_DTYPE: Readonly<Record<StoredDtype, Dtype>> = {
  BOOL: 'uint8', U8: 'uint8', I8: 'int8', I16: 'int16', U16: 'uint16', F16: 'float32', BF16: 'float32',
  I32: 'int32', U32: 'uint32', F32: 'float32', F64: 'float32', I64: 'int32', U64: 'uint32',
};

export function isStoredDtype(s: unknown): s is StoredDtype {
  return typeof s === 'string' && Object.hasOwn(ITEM_SIZE, s);
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Ctor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

/** A typed view of the bytes when their offset is aligned; otherwise a view of an aligned copy. */
function viewAs<T>(C: Ctor<T>, bytes: Uint8Array): T {
  const n = bytes.byteLength / C.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % C.BYTES_PER_ELEMENT === 0) return new C(bytes.buffer, bytes.byteOffset, n);
  return new C(bytes.slice().buffer, 0, n);
}

/** A copy with every `size`-byte item reversed. */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

let halfTable: Float32Array | undefined;

/** IEEE half → float32 for every one of the 65,536 bit patterns (subnormals, ±0, ±inf, NaN), built once. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

/** Converts one half-precision bit pattern (for tests and messages). */
export function halfToFloat(bits: number): number {
  return halfToFloatTable()[bits & 0xffff];
}

/** Converts one bfloat16 bit pattern: the top half of a float32. */
export function bfloat16ToFloat(bits: number): number {
  return new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0];
}

/** Where a decoded array comes from, for messages. */
export interface Where {
  file: string;
  key: string;
}

/**
 * Decodes the bytes of `dtype` elements into the host array of HOST_DTYPE[dtype]. Native types stored in host byte
 * order are returned as views of `bytes` (or of an aligned copy when the offset is misaligned); the rest are new arrays.
 */
export function decodeElements(bytes: Uint8Array, dtype: StoredDtype, littleEndian: boolean, where: Where): VoxelArray {
  const size = ITEM_SIZE[dtype];
  if (bytes.length % size !== 0) {
    throw new CheckpointError(where.file, `tensor '${where.key}': ${fmtInt(bytes.length)} bytes is not a whole number of ${dtype} elements`);
  }
  const b = size > 1 && littleEndian !== HOST_LITTLE_ENDIAN ? swapped(bytes, size) : bytes;
  switch (dtype) {
    case 'BOOL':
    case 'U8': return viewAs(Uint8Array, b);
    case 'I8': return viewAs(Int8Array, b);
    case 'I16': return viewAs(Int16Array, b);
    case 'U16': return viewAs(Uint16Array, b);
    case 'I32': return viewAs(Int32Array, b);
    case 'U32': return viewAs(Uint32Array, b);
    case 'F32': return viewAs(Float32Array, b);
    case 'F64': return Float32Array.from(viewAs(Float64Array, b));
    case 'F16': {
      const h = viewAs(Uint16Array, b);
      const t = halfToFloatTable();
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = t[h[i]];
      return out;
    }
    case 'BF16': {
      const h = viewAs(Uint16Array, b);
      const out = new Float32Array(h.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < h.length; i++) bits[i] = h[i] << 16;
      return out;
    }
    case 'I64':
    case 'U64': return narrow64(viewAs(Int32Array, b), dtype === 'U64', where);
  }
}

/** 64-bit integers (as pairs of 32-bit words in host order) → int32 / uint32; throws naming the first value that does not fit. */
function narrow64(words: Int32Array, unsigned: boolean, where: Where): Int32Array | Uint32Array {
  const n = words.length / 2;
  const lo = HOST_LITTLE_ENDIAN ? 0 : 1;
  const out = unsigned ? new Uint32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = words[2 * i + lo];
    const h = words[2 * i + 1 - lo];
    if (unsigned ? h !== 0 : h !== l >> 31) {
      const v = (BigInt(h) << 32n) | BigInt(l >>> 0);
      const value = unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
      throw new CheckpointError(where.file, `tensor '${where.key}': element ${fmtInt(i)} is ${value}, outside the ${unsigned ? 'uint32' : 'int32'} range it is converted to`);
    }
    out[i] = unsigned ? l >>> 0 : l;
  }
  return out;
}
