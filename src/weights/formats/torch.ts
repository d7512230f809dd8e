// PyTorch zip checkpoints (torch.save since 1.6: .pth/.pt/.bin): the archive's data.pkl unpickled with torch's
// globals modelled, then each needed storage read from <prefix>/data/<key> — one storage's bytes at a time.
import type { HostTensor } from '../../core/types.ts';
import type { StateDict } from '../types.ts';
import { decodeElements, HOST_DTYPE, ITEM_SIZE, type StoredDtype } from './dtypes.ts';
import { CheckpointError, fmtInt, fmtList, fmtShape, throwIfAborted } from './errors.ts';
import { gather, isContiguous } from './strided.ts';
import { opaqueGlobal, PyGlobal, PyObject, unpickle } from './pickle.ts';
import { byteSource, type ByteSource, type ReadOptions } from './source.ts';
import { findStateDict } from './torch-unwrap.ts';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.ts';

export interface TorchContents {
  tensors: StateDict;
  /** Where the state dict was found: "top level", "['model']", "['teacher']", … */
  nested: string;
  /** Keys holding something other than tensors (epoch, args, optimizer, …). */
  extras: string[];
  notes: string[];
}

/** torch.<Name>Storage → element type (undefined: a storage type we cannot decode). */
const STORAGES: Record<string, StoredDtype> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL', UntypedStorage: 'U8',
};
/** torch.<dtype> (pickled by name) → element type. */
const DTYPES: Record<string, StoredDtype> = {
  float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16', float64: 'F64', double: 'F64',
  int64: 'I64', long: 'I64', int32: 'I32', int: 'I32', int16: 'I16', short: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
  uint16: 'U16', uint32: 'U32', uint64: 'U64',
};

class StorageType {
  constructor(readonly name: string, readonly dtype: StoredDtype | undefined) {}
}
class TorchDtype {
  constructor(readonly name: string, readonly dtype: StoredDtype | undefined) {}
}
class StorageRef {
  constructor(readonly key: string, readonly type: StorageType) {}
}
/** A tensor as the pickle describes it; its bytes are read later, only if it is kept. */
class TensorRef {
  constructor(
    readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[],
    readonly dtype: StoredDtype | undefined, readonly dtypeName: string,
  ) {}
}

const isTensorRef = (v: unknown): v is TensorRef => v instanceof TensorRef;
const isInts = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);

/** numpy scalars (numpy.core.multiarray.scalar(dtype, bytes)) of the simple kinds; others stay opaque. */
function numpyScalar(args: unknown[]): unknown {
  const [dt, raw] = args;
  const code = dt instanceof PyObject ? dt.args[0] : undefined;
  const state = dt instanceof PyObject && Array.isArray(dt.state) ? dt.state : [];
  if (typeof code !== 'string' || !(raw instanceof Uint8Array)) return new PyObject('numpy.scalar', args);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = state[1] !== '>';
  const read: Record<string, () => number | bigint | boolean> = {
    f8: () => v.getFloat64(0, le), f4: () => v.getFloat32(0, le), i8: () => v.getBigInt64(0, le), i4: () => v.getInt32(0, le),
    u8: () => v.getBigUint64(0, le), u4: () => v.getUint32(0, le), i2: () => v.getInt16(0, le), u2: () => v.getUint16(0, le),
    i1: () => v.getInt8(0), u1: () => v.getUint8(0), b1: () => v.getUint8(0) !== 0,
  };
  const r = read[code];
  if (!r || raw.length < Number(code.slice(1))) return new PyObject('numpy.scalar', args);
  const x = r();
  return typeof x === 'bigint' && x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

/** The torch, collections, _codecs and numpy globals a checkpoint uses; anything else becomes opaque. */
function findClass(file: string) {
  return (module: string, name: string): unknown => {
    const full = `${module}.${name}`;
    const g = (fn: (args: unknown[]) => unknown) => new PyGlobal(full, fn);
    const rebuild = (withDtype: boolean) => g((a) => {
      const [storage, offset, size, stride] = a;
      if (!(storage instanceof StorageRef) || !Number.isSafeInteger(offset) || !isInts(size) || !isInts(stride) || size.length !== stride.length) {
        throw new CheckpointError(file, `${full}: unexpected arguments (storage, offset, size, stride expected)`);
      }
      const dt = withDtype && a[6] instanceof TorchDtype ? a[6] : undefined;
      return new TensorRef(storage, offset as number, size, stride, dt ? dt.dtype : storage.type.dtype, dt ? dt.name : storage.type.name);
    });
    switch (full) {
      case 'collections.OrderedDict': return g((a) => new Map(Array.isArray(a[0]) ? (a[0] as [unknown, unknown][]) : []));
      case 'torch._utils._rebuild_tensor': case 'torch._utils._rebuild_tensor_v2': return rebuild(false);
      case 'torch._utils._rebuild_tensor_v3': return rebuild(true);
      case 'torch._utils._rebuild_parameter': case 'torch._utils._rebuild_parameter_with_state': return g((a) => a[0]);
      case 'torch._tensor._rebuild_from_type_v2': return g((a) => (a[0] instanceof PyGlobal && Array.isArray(a[2]) ? a[0].call(a[2]) : new PyObject(full, a)));
      case 'torch.Size': return g((a) => a[0]);
      case '_codecs.encode': return g((a) => (typeof a[0] === 'string' ? Uint8Array.from(a[0], (c) => c.charCodeAt(0) & 0xff) : new PyObject(full, a)));
      case 'numpy.core.multiarray.scalar': case 'numpy._core.multiarray.scalar': return g(numpyScalar);
    }
    if (module === 'torch' && name.endsWith('Storage')) return new StorageType(name, STORAGES[name]);
    if (module === 'torch' && Object.hasOwn(DTYPES, name)) return new TorchDtype(name, DTYPES[name]);
    return opaqueGlobal(module, name);
  };
}

/** The first bytes of a pre-1.6 torch.save file: a pickled LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function legacyPickleError(head: Uint8Array, name: string): CheckpointError {
  const legacy = LEGACY_MAGIC.every((b, i) => head[i] === b);
  return new CheckpointError(name, legacy
    ? 'legacy (pre-1.6) PyTorch pickle — re-save with torch.save(obj, path, _use_new_zipfile_serialization=True) or convert to safetensors'
    : 'a plain Python pickle, not a torch.save zip checkpoint — re-save with torch.save(state_dict, path) or convert to safetensors');
}

/** The archive's folder name: the entries are <prefix>data.pkl, <prefix>data/<key>, <prefix>byteorder. */
function findPrefix(entries: ZipEntry[], name: string): string {
  const names = entries.map((e) => e.name);
  if (names.some((n) => /(^|\/)constants\.pkl$/.test(n) || /(^|\/)code\//.test(n))) {
    throw new CheckpointError(name, 'a TorchScript archive (torch.jit.save) — in Python, torch.jit.load(path).state_dict() and save that with torch.save or as safetensors');
  }
  const pkl = names.filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl')).sort((a, b) => a.length - b.length)[0];
  if (pkl === undefined) {
    const kind = names.length && names.every((n) => n.endsWith('.npy')) ? 'a NumPy .npz archive' : 'a zip without data.pkl';
    throw new CheckpointError(name, `${kind}, not a PyTorch checkpoint; its entries: ${fmtList(names) || '(none)'}`);
  }
  return pkl.slice(0, -'data.pkl'.length);
}

async function readByteOrder(src: ByteSource, byName: Map<string, ZipEntry>, prefix: string, name: string): Promise<boolean> {
  const e = byName.get(`${prefix}byteorder`);
  if (!e) return true; // NOTE: files written before the byteorder record existed are little-endian.
  const text = new TextDecoder().decode(await readZipEntry(src, e, name)).trim();
  if (text !== 'little' && text !== 'big') throw new CheckpointError(name, `${prefix}byteorder says '${text}', expected 'little' or 'big'`);
  return text === 'little';
}

/**
 * Reads a torch.save zip checkpoint. Only the storages of the tensors kept are read (optimizer state and the like
 * are skipped); each storage is read by byte range and released before the next. Tensors may be views of a
 * storage's bytes, shared between tensors that share the storage in PyTorch: treat them as read-only.
 */
export async function readTorchCheckpoint(source: Blob | Uint8Array, name: string, opts: ReadOptions = {}): Promise<TorchContents> {
  const src = byteSource(source);
  throwIfAborted(opts.signal, name);
  const head = await src.read(0, Math.min(16, src.size));
  if (head[0] === 0x80) throw legacyPickleError(head, name);
  if (!(head[0] === 0x50 && head[1] === 0x4b)) throw new CheckpointError(name, 'not a zip file, so not a PyTorch (≥ 1.6) checkpoint');

  const entries = await readZipDirectory(src, name);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const prefix = findPrefix(entries, name);
  const littleEndian = await readByteOrder(src, byName, prefix, name);
  const pklEntry = byName.get(`${prefix}data.pkl`)!;
  const pkl = await readZipEntry(src, pklEntry, name);
  throwIfAborted(opts.signal, name);

  const storages = new Map<string, StorageRef>();
  const root = unpickle(pkl, name, `${prefix}data.pkl`, {
    findClass: findClass(name),
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof StorageType || pid[1] instanceof TorchDtype)) {
        throw new CheckpointError(name, `${prefix}data.pkl: unexpected persistent id ${JSON.stringify(pid, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      }
      const key = String(pid[2]);
      const type = pid[1] instanceof StorageType ? pid[1] : new StorageType(pid[1].name, pid[1].dtype);
      if (!storages.has(key)) storages.set(key, new StorageRef(key, type));
      return storages.get(key)!;
    },
  });

  const found = findStateDict(root, isTensorRef, name);
  const kept = opts.keep ? [...found.tensors].filter(([k]) => opts.keep!(k)) : [...found.tensors];
  // Group the kept tensors by storage so each storage is read once.
  const byStorage = new Map<string, [string, TensorRef][]>();
  for (const [key, t] of kept) {
    if (t.dtype === undefined) throw new CheckpointError(name, `tensor '${key}' is stored as ${t.dtypeName}, which is not supported (float, half, bfloat16, double, integer and bool are)`);
    const group = byStorage.get(t.storage.key) ?? [];
    group.push([key, t]);
    byStorage.set(t.storage.key, group);
  }
  const entryOf = (key: string, tensor: string) => {
    const e = byName.get(`${prefix}data/${key}`);
    if (!e) throw new CheckpointError(name, `tensor '${tensor}': its storage ${prefix}data/${key} is missing from the archive`);
    return e;
  };
  const storageEntries = [...byStorage].map(([key, group]) => entryOf(key, group[0][0]));
  let done = pklEntry.compressedSize;
  const total = done + storageEntries.reduce((s, e) => s + e.compressedSize, 0);
  opts.onProgress?.(done, total);

  const out = new Map<string, HostTensor>();
  let i = 0;
  for (const group of byStorage.values()) {
    const entry = storageEntries[i++];
    throwIfAborted(opts.signal, name);
    const raw = await readZipEntry(src, entry, name);
    throwIfAborted(opts.signal, name);
    for (const [key, t] of group) {
      const dtype = t.dtype!;
      const size = ITEM_SIZE[dtype];
      const where = { file: name, key };
      const numel = t.shape.reduce((a, b) => a * b, 1);
      const last = numel === 0 ? t.offset - 1 : t.offset + t.shape.reduce((s, d, j) => s + (d - 1) * t.stride[j], 0);
      if ((last + 1) * size > raw.length) {
        throw new CheckpointError(name, `tensor '${key}' ${fmtShape(t.shape)} (stride ${fmtShape(t.stride)}, offset ${fmtInt(t.offset)}) reaches element ${fmtInt(last + 1)} but its storage ${entry.name} holds ${fmtInt(Math.floor(raw.length / size))} ${dtype} elements — truncated?`);
      }
      const span = decodeElements(raw.subarray(t.offset * size, (last + 1) * size), dtype, littleEndian, where);
      const data = numel === 0 || isContiguous(t.shape, t.stride) ? span : gather(span, t.shape, t.stride);
      out.set(key, { dtype: HOST_DTYPE[dtype], shape: t.shape, data });
    }
    done += entry.compressedSize;
    opts.onProgress?.(done, total);
  }
  // Back to the checkpoint's order (grouping by storage may have reordered).
  const tensors: StateDict = new Map(kept.map(([k]) => [k, out.get(k)!]));
  const notes = [...found.notes];
  const kinds = new Set(kept.map(([, t]) => t.dtype));
  if (kinds.has('F64')) notes.push(`${name}: float64 tensors converted to float32`);
  if (kinds.has('I64')) notes.push(`${name}: int64 tensors narrowed to int32 (all values fit)`);
  if (!littleEndian) notes.push(`${name}: big-endian checkpoint, byte-swapped`);
  return { tensors, nested: found.nested, extras: found.extras, notes };
}
