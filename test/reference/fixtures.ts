// Node-only test helper: reads a .safetensors fixture (F32, I64) into a StateDict, optionally keeping only the keys
// under a prefix (with the prefix removed), and the PyTorch reference tokens beside it (*.ref.json).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { EncoderSpec, StateDict } from '../../src/weights/types.ts';

export const LAYOUT_FIXTURES = new URL('../fixtures/weights/layouts/', import.meta.url);

export function loadSafetensors(url: URL, prefix = ''): StateDict {
  const buf = readFileSync(url);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Entry>;
  const out: StateDict = new Map();
  for (const [key, e] of Object.entries(header)) {
    if (key === '__metadata__' || !key.startsWith(prefix)) continue;
    const raw = bytes.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]); // a copy, so aligned
    const name = key.slice(prefix.length);
    if (e.dtype === 'F32') out.set(name, { dtype: 'float32', shape: e.shape, data: new Float32Array(raw.buffer) });
    else if (e.dtype === 'I64') out.set(name, { dtype: 'int32', shape: e.shape, data: Int32Array.from(new BigInt64Array(raw.buffer), Number) });
    else throw new Error(`${url.pathname}: ${key} has dtype ${e.dtype}; expected F32 or I64`);
  }
  return out;
}

export interface RefJson {
  name: string;
  spec: EncoderSpec;
  forward: Record<string, string>;
  input: { shape: number[]; data: number[] };
  tokens: { shape: number[]; data: number[] };
}

/** The *.ref.json files present (empty until the fixtures exist). */
export function refFixtures(): string[] {
  if (!existsSync(LAYOUT_FIXTURES)) return [];
  return readdirSync(LAYOUT_FIXTURES).filter((f) => f.endsWith('.ref.json')).map((f) => f.slice(0, -'.ref.json'.length)).sort();
}

export const loadRef = (name: string): RefJson => JSON.parse(readFileSync(new URL(`${name}.ref.json`, LAYOUT_FIXTURES), 'utf8')) as RefJson;
