// safetensors reading: header parsing with full validation (pure), tensor data by byte ranges (one tensor's raw
// bytes alive at a time when reading a Blob), and sharded models with a model.safetensors.index.json.
import type { StateDict } from '../types.ts';
import { decodeElements, HOST_DTYPE, isStoredDtype, ITEM_SIZE, type StoredDtype } from './dtypes.ts';
import { CheckpointError, fmtInt, fmtList, fmtShape, throwIfAborted } from './errors.ts';
import { byteSource, type ByteSource, type ReadOptions } from './source.ts';

/** One tensor of the header; begin/end are byte offsets within the data section (after the header). */
export interface SafetensorsEntry {
  key: string;
  dtype: StoredDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header's length in bytes; the data section starts at 8 + N. */
  headerLength: number;
  dataStart: number;
  dataLength: number;
  /** In data order (by begin offset). */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
  /** Conversions worth telling the user about (e.g. float64 → float32). */
  notes: string[];
}

/** Headers beyond this are refused (the reference implementation uses the same limit). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Reads and checks the 8-byte little-endian header length. */
function headerLengthOf(bytes: Uint8Array, name: string, fileSize: number): number {
  if (fileSize < 8 || bytes.length < 8) {
    throw new CheckpointError(name, `file is ${fmtInt(fileSize)} bytes; a safetensors file starts with an 8-byte header length — truncated?`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(name, `header length ${fmtInt(n)} bytes is absurd (limit ${fmtInt(MAX_HEADER_BYTES)}) — not a safetensors file?`);
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw new CheckpointError(name, `header claims ${fmtInt(len)} bytes but only ${fmtInt(fileSize - 8)} follow the length — truncated?`);
  }
  return len;
}

/** The keys of the top-level object of valid JSON text, in order and with duplicates (JSON.parse keeps only the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && ' \t\r\n'.includes(text[k])) k++;
        if (text[k] === ':') keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      }
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks one header entry against the dtype table and the data section. */
function parseEntry(key: string, v: unknown, dataLength: number, name: string): SafetensorsEntry {
  const bad = (what: string) => new CheckpointError(name, `tensor '${key}': ${what}`);
  if (!isRecord(v)) throw bad(`expected an object {dtype, shape, data_offsets}, found ${JSON.stringify(v)}`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (!isStoredDtype(dtype)) {
    throw bad(`unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const bytes = numel * ITEM_SIZE[dtype];
  if (end - begin !== bytes) {
    throw bad(`shape ${fmtShape(shape as number[])} of ${dtype} needs ${fmtInt(bytes)} bytes but data_offsets [${begin}, ${end}] span ${fmtInt(end - begin)}`);
  }
  if (end > dataLength) {
    throw new CheckpointError(name, `tensor '${key}' claims bytes ${fmtInt(begin)}…${fmtInt(end)} but the data section holds ${fmtInt(dataLength)} bytes — truncated?`);
  }
  return { key, dtype, shape: shape as number[], begin, end };
}

/** Entries must tile the data section: no gaps, no overlaps, nothing after the last (empty tensors may sit anywhere). */
function checkCoverage(entries: SafetensorsEntry[], dataLength: number, name: string): void {
  let at = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin === e.end) continue;
    if (e.begin > at) {
      throw new CheckpointError(name, `gap: bytes ${fmtInt(at)}…${fmtInt(e.begin)} of the data section belong to no tensor (before '${e.key}')`);
    }
    if (e.begin < at) {
      throw new CheckpointError(name, `tensors '${prev}' and '${e.key}' overlap: '${e.key}' starts at byte ${fmtInt(e.begin)} but '${prev}' ends at ${fmtInt(at)}`);
    }
    at = e.end;
    prev = e.key;
  }
  if (at !== dataLength) {
    throw new CheckpointError(name, `the data section holds ${fmtInt(dataLength)} bytes but the tensors cover only ${fmtInt(at)} — extra bytes at the end`);
  }
}

/**
 * Parses and validates a safetensors header. `bytes` starts at the file's first byte and holds at least the
 * 8 + N header bytes (the whole file will do); `fileSize` defaults to bytes.length.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, name: string, fileSize = bytes.length): SafetensorsHeader {
  const headerLength = headerLengthOf(bytes, name, fileSize);
  const dataStart = 8 + headerLength;
  if (bytes.length < dataStart) {
    throw new CheckpointError(name, `needs the first ${fmtInt(dataStart)} bytes to parse the header, given ${fmtInt(bytes.length)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch (cause) {
    throw new CheckpointError(name, 'the header is not valid UTF-8', { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CheckpointError(name, `the header is not valid JSON (${(cause as Error).message}); it starts ${JSON.stringify(text.slice(0, 40))}`, { cause });
  }
  if (!isRecord(json)) throw new CheckpointError(name, `the header must be a JSON object, found ${text.trimStart().slice(0, 20)}…`);
  const keys = topLevelKeys(text);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new CheckpointError(name, `the header lists '${dup}' more than once`);

  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const key of keys) {
    const v = json[key];
    if (key === '__metadata__') {
      if (!isRecord(v)) throw new CheckpointError(name, `__metadata__ must be an object of strings, found ${JSON.stringify(v)}`);
      for (const [mk, mv] of Object.entries(v)) {
        if (typeof mv !== 'string') throw new CheckpointError(name, `__metadata__ '${mk}' is ${JSON.stringify(mv)}; metadata values must be strings`);
        metadata[mk] = mv;
      }
    } else {
      entries.push(parseEntry(key, v, dataLength, name));
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkCoverage(entries, dataLength, name);
  return { headerLength, dataStart, dataLength, entries, metadata };
}

/** Reads the length, then the header, from a source. */
async function readHeader(src: ByteSource, name: string, signal?: AbortSignal): Promise<SafetensorsHeader> {
  throwIfAborted(signal, name);
  const first = await readRange(src, 0, Math.min(8, src.size), name);
  const n = headerLengthOf(first, name, src.size);
  const head = await readRange(src, 0, 8 + n, name);
  throwIfAborted(signal, name);
  return parseSafetensorsHeader(head, name, src.size);
}

async function readRange(src: ByteSource, begin: number, end: number, name: string): Promise<Uint8Array> {
  try {
    return await src.read(begin, end);
  } catch (cause) {
    throw new CheckpointError(name, `could not read bytes ${fmtInt(begin)}…${fmtInt(end)}: ${(cause as Error).message}`, { cause });
  }
}

/** Progress across one or more files. */
interface Progress {
  done: number;
  total: number;
  report?: (done: number, total: number) => void;
}

/** Reads the given entries one byte range at a time into `out`. */
async function readEntries(
  src: ByteSource, header: SafetensorsHeader, entries: SafetensorsEntry[], name: string,
  out: StateDict, notes: Set<string>, progress: Progress, signal?: AbortSignal,
): Promise<void> {
  for (const e of entries) {
    throwIfAborted(signal, name);
    const raw = await readRange(src, header.dataStart + e.begin, header.dataStart + e.end, name);
    throwIfAborted(signal, name);
    const data = decodeElements(raw, e.dtype, true, { file: name, key: e.key });
    out.set(e.key, { dtype: HOST_DTYPE[e.dtype], shape: e.shape, data });
    if (e.dtype === 'F64') notes.add(`${name}: float64 tensors converted to float32`);
    if (e.dtype === 'I64' || e.dtype === 'U64') notes.add(`${name}: 64-bit integer tensors narrowed to 32 bits (all values fit)`);
    progress.done += e.end - e.begin;
    progress.report?.(progress.done, progress.total);
  }
}

const byteCount = (entries: SafetensorsEntry[]) => entries.reduce((s, e) => s + e.end - e.begin, 0);

/**
 * Reads a safetensors file. From a Blob, the header and then each tensor's byte range are sliced, so at most one
 * tensor's raw bytes (plus the outputs) are in memory; from a Uint8Array, float32/int32/uint8… tensors are views of
 * it when aligned (no copy). Tensors come in file order. F16/BF16/F64 → float32, I64 → int32 (checked), BOOL → uint8.
 */
export async function readSafetensors(source: Blob | Uint8Array, name: string, opts: ReadOptions = {}): Promise<SafetensorsContents> {
  const src = byteSource(source);
  const header = await readHeader(src, name, opts.signal);
  const entries = opts.keep ? header.entries.filter((e) => opts.keep!(e.key)) : header.entries;
  const progress: Progress = { done: header.dataStart, total: header.dataStart + byteCount(entries), report: opts.onProgress };
  progress.report?.(progress.done, progress.total);
  const tensors: StateDict = new Map();
  const notes = new Set<string>();
  await readEntries(src, header, entries, name, tensors, notes, progress, opts.signal);
  return { tensors, metadata: header.metadata, notes: [...notes] };
}

/** The JSON of a model.safetensors.index.json. */
export interface ShardIndex {
  weight_map: Record<string, string>;
  metadata?: Record<string, unknown>;
}

/**
 * Reads a sharded model: `index` is the parsed model.safetensors.index.json (`name` its file name), `open` returns
 * each shard by its file name. Every key of the weight map must be in its shard, and no shard may hold other keys.
 * Metadata: the index's (stringified) over the first shard's.
 */
export async function readShardedSafetensors(
  index: ShardIndex, open: (shardFile: string) => Promise<Blob>, name: string, opts: ReadOptions = {},
): Promise<SafetensorsContents> {
  const map: unknown = (index as unknown as Record<string, unknown> | null)?.weight_map;
  if (!isRecord(map) || !Object.values(map).every((v) => typeof v === 'string')) {
    throw new CheckpointError(name, 'expected {"weight_map": {tensor name: shard file name}}');
  }
  const byShard = new Map<string, Set<string>>();
  for (const [key, shard] of Object.entries(map as Record<string, string>)) {
    if (!byShard.has(shard)) byShard.set(shard, new Set());
    byShard.get(shard)!.add(key);
  }
  const shards: { file: string; src: ByteSource; header: SafetensorsHeader; entries: SafetensorsEntry[] }[] = [];
  for (const [file, expected] of byShard) {
    throwIfAborted(opts.signal, name);
    let blob: Blob;
    try {
      blob = await open(file);
    } catch (cause) {
      throw new CheckpointError(name, `could not open shard '${file}' named in the weight map: ${(cause as Error).message}`, { cause });
    }
    const src = byteSource(blob);
    const header = await readHeader(src, file, opts.signal);
    const held = new Set(header.entries.map((e) => e.key));
    const missing = [...expected].filter((k) => !held.has(k));
    if (missing.length) throw new CheckpointError(file, `${name} maps ${fmtList(missing)} to this shard but it does not hold them`);
    const extra = [...held].filter((k) => !expected.has(k));
    if (extra.length) {
      const where = (k: string) => (map[k] === undefined ? 'not in the weight map' : `mapped to '${map[k]}'`);
      throw new CheckpointError(file, `holds ${extra.slice(0, 4).map((k) => `'${k}' (${where(k)})`).join(', ')}${extra.length > 4 ? ', …' : ''} — unexpected by ${name}`);
    }
    const entries = opts.keep ? header.entries.filter((e) => opts.keep!(e.key)) : header.entries;
    shards.push({ file, src, header, entries });
  }
  const headers = shards.reduce((s, sh) => s + sh.header.dataStart, 0);
  const progress: Progress = { done: headers, total: headers + shards.reduce((s, sh) => s + byteCount(sh.entries), 0), report: opts.onProgress };
  progress.report?.(progress.done, progress.total);
  const tensors: StateDict = new Map();
  const notes = new Set<string>();
  for (const sh of shards) await readEntries(sh.src, sh.header, sh.entries, sh.file, tensors, notes, progress, opts.signal);
  const metadata: Record<string, string> = { ...(shards[0]?.header.metadata ?? {}) };
  for (const [k, v] of Object.entries(index.metadata ?? {})) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return { tensors, metadata, notes: [...notes] };
}

export { writeSafetensors } from './safetensors-write.ts';
