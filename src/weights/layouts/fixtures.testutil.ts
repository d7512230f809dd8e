// Test helper (Node only): loads the micro fixtures written by scripts/make-weight-fixtures.py — the .safetensors
// copy of each checkpoint and its .ref.json / .config.json — without depending on src/weights/formats.
import { readFileSync } from 'node:fs';
import type { StateDict } from '../types.ts';

const DIR = new URL('../../../test/fixtures/weights/layouts/', import.meta.url);

export function loadFixture(name: string): StateDict {
  const buf = readFileSync(new URL(`${name}.safetensors`, DIR));
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out: StateDict = new Map();
  for (const [key, e] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const raw = bytes.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]); // a copy: aligned
    if (e.dtype === 'F32') out.set(key, { dtype: 'float32', shape: e.shape, data: new Float32Array(raw.buffer) });
    else if (e.dtype === 'I64') out.set(key, { dtype: 'int32', shape: e.shape, data: Int32Array.from(new BigInt64Array(raw.buffer), Number) });
    else throw new Error(`${name}.safetensors: ${key} has dtype ${e.dtype}; the fixtures use F32 and I64 only`);
  }
  return out;
}

export function loadJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as T;
}
