// Checkpoint formats: readCheckpoint sniffs a file by its first bytes (never by its name) and hands it to the
// safetensors or PyTorch-zip reader; unknown files get an error saying what they look like.
import type { StateDict } from '../types.ts';
import { CheckpointError } from './errors.ts';
import { readSafetensors } from './safetensors.ts';
import type { ReadOptions } from './source.ts';
import { legacyPickleError, readTorchCheckpoint } from './torch.ts';

export { abortError, CheckpointError } from './errors.ts';
export { bfloat16ToFloat, halfToFloat, HOST_DTYPE, type StoredDtype } from './dtypes.ts';
export {
  parseSafetensorsHeader, readSafetensors, readShardedSafetensors, writeSafetensors,
  type SafetensorsContents, type SafetensorsEntry, type SafetensorsHeader, type ShardIndex,
} from './safetensors.ts';
export { readTorchCheckpoint, type TorchContents } from './torch.ts';
export type { ReadOptions } from './source.ts';

export type CheckpointFormat = 'safetensors' | 'torch-zip';

export interface Checkpoint {
  tensors: StateDict;
  /** safetensors __metadata__ (empty for PyTorch files). */
  metadata: Record<string, string>;
  format: CheckpointFormat;
  /** What the reader did that the user may want to know (unwrapping, prefixes stripped, conversions). */
  notes: string[];
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** What the first bytes of a file that is no checkpoint look like, for the error message. */
export function describeBytes(head: Uint8Array): string {
  const i32 = (at: number, le: boolean) => (head.length >= at + 4 ? new DataView(head.buffer, head.byteOffset).getInt32(at, le) : -1);
  if ((i32(0, true) === 348 || i32(0, false) === 348) && (startsWith(head, ascii('n+1\0'), 344) || startsWith(head, ascii('ni1\0'), 344))) {
    return 'looks like a NIfTI-1 image (.nii), not a checkpoint';
  }
  if ((i32(0, true) === 540 || i32(0, false) === 540) && startsWith(head, ascii('n+2\0'), 4)) return 'looks like a NIfTI-2 image (.nii), not a checkpoint';
  if (startsWith(head, [0x1f, 0x8b])) return 'looks like a gzip file (a .nii.gz image? a .tar.gz?) — checkpoints are .safetensors or .pth/.pt/.bin';
  if (startsWith(head, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) return 'looks like an HDF5 file (.h5 Keras weights) — convert the model to PyTorch or safetensors';
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return 'looks like a NumPy .npy array, not a checkpoint';
  if (startsWith(head, ascii('GGUF'))) return 'looks like a GGUF (llama.cpp) file, not a vision checkpoint';
  if (head[0] === 0x08 && head.length > 2 && head[1] < 0x20 && head[2] === 0x12) return 'looks like an ONNX model (protobuf) — export the PyTorch weights instead';
  const text = new TextDecoder().decode(head.subarray(0, 32)).trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return 'looks like a JSON text file (a config or index?), not a checkpoint';
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const printable = [...head.subarray(0, 8)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `is not a checkpoint this app reads (.safetensors, or a PyTorch zip .pth/.pt/.bin); it starts with ${hex || '(nothing)'} "${printable}"`;
}

/** Reads a .safetensors or PyTorch zip checkpoint, recognised by content. */
export async function readCheckpoint(file: Blob, name: string, opts: ReadOptions = {}): Promise<Checkpoint> {
  const head = new Uint8Array(await file.slice(0, 352).arrayBuffer());
  if (head.length === 0) throw new CheckpointError(name, 'the file is empty');
  if (startsWith(head, ascii('PK\x03\x04')) || startsWith(head, ascii('PK\x05\x06'))) {
    const r = await readTorchCheckpoint(file, name, opts);
    const where = r.nested === 'top level' ? [] : [`${name}: state dict found under ${r.nested}`];
    return { tensors: r.tensors, metadata: {}, format: 'torch-zip', notes: [...where, ...r.notes] };
  }
  // safetensors: an 8-byte little-endian header length, then the JSON header.
  if (head.length > 8 && head[8] === 0x7b) {
    const r = await readSafetensors(file, name, opts);
    return { tensors: r.tensors, metadata: r.metadata, format: 'safetensors', notes: r.notes };
  }
  if (head[0] === 0x80) throw legacyPickleError(head, name);
  throw new CheckpointError(name, describeBytes(head));
}
