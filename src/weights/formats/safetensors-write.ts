// safetensors writing: a state dict (in its order) and string metadata → the bytes of one .safetensors file.
import { dtypeOf, type Dtype, type HostTensor } from '../../core/types.ts';
import type { StateDict } from '../types.ts';
import { HOST_LITTLE_ENDIAN, type StoredDtype } from './dtypes.ts';
import { CheckpointError, fmtInt, fmtShape } from './errors.ts';

const STORED: Readonly<Record<Dtype, StoredDtype>> = {
  float32: 'F32', float64: 'F64', int32: 'I32', uint32: 'U32', int16: 'I16', uint16: 'U16', int8: 'I8', uint8: 'U8',
};

/**
 * Writes tensors in the given order, each as its own dtype (float32 → F32, int32 → I32, uint8 → U8, …), after a JSON
 * header padded with spaces so the data section starts at a multiple of 8. Metadata values must be strings.
 * `name` only labels errors.
 */
export function writeSafetensors(
  tensors: StateDict | Array<[string, HostTensor]>, metadata?: Record<string, string>, name = 'model.safetensors',
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : tensors;
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(name, `metadata '${k}' is ${JSON.stringify(v)}; safetensors metadata values must be strings`);
    }
    if (Object.keys(metadata).length) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const [key, t] of list) {
    const bad = (what: string) => new CheckpointError(name, `tensor '${key}': ${what}`);
    if (typeof key !== 'string' || key === '' || key === '__metadata__') throw bad('not a valid tensor name');
    if (seen.has(key)) throw bad('given more than once');
    seen.add(key);
    if (!Object.hasOwn(STORED, t.dtype)) throw bad(`unknown dtype '${t.dtype}'`);
    if (dtypeOf(t.data) !== t.dtype) throw bad(`dtype says ${t.dtype} but the data is a ${t.data.constructor.name}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`shape ${fmtShape(t.shape)} is not a list of non-negative integers`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw bad(`shape ${fmtShape(t.shape)} holds ${fmtInt(numel)} elements but the data has ${fmtInt(t.data.length)}`);
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(key)}:{"dtype":"${STORED[t.dtype]}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of list) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    if (!HOST_LITTLE_ENDIAN) {
      const size = t.data.BYTES_PER_ELEMENT;
      for (let i = at; i < at + bytes.length; i += size) out.subarray(i, i + size).reverse();
    }
    at += bytes.length;
  }
  return out;
}
