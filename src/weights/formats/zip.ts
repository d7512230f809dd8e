// A small zip reader for PyTorch checkpoints: the central directory read from the end of the file (zip64 too),
// then one entry at a time by byte range. STORED entries come back as views of what was read; DEFLATE via fflate.
import { inflateSync } from 'fflate';
import { CheckpointError, fmtInt } from './errors.ts';
import type { ByteSource } from './source.ts';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  offset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function read(src: ByteSource, begin: number, end: number, name: string, what: string): Promise<Uint8Array> {
  if (begin < 0 || end > src.size || begin > end) {
    throw new CheckpointError(name, `${what} lies at bytes ${fmtInt(begin)}…${fmtInt(end)} but the file has ${fmtInt(src.size)} — truncated?`);
  }
  try {
    return await src.read(begin, end);
  } catch (cause) {
    throw new CheckpointError(name, `could not read ${what}: ${(cause as Error).message}`, { cause });
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));

/** Lists the entries of the zip's central directory (reads only the directory and the end records). */
export async function readZipDirectory(src: ByteSource, name: string): Promise<ZipEntry[]> {
  // The end-of-central-directory record is 22 bytes plus a comment of at most 65,535 bytes.
  const tailStart = Math.max(0, src.size - 22 - 65535 - 20);
  const tail = await read(src, tailStart, src.size, name, 'the end of the zip');
  const tv = view(tail);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new CheckpointError(name, 'no zip end-of-central-directory record — the file is truncated or not a zip');
  let count = tv.getUint16(at + 10, true);
  let dirSize = tv.getUint32(at + 12, true);
  let dirOffset = tv.getUint32(at + 16, true);
  if ((count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) && at >= 20 && tv.getUint32(at - 20, true) === ZIP64_LOCATOR) {
    const recAt = u64(tv, at - 20 + 8);
    const rec = view(await read(src, recAt, recAt + 56, name, 'the zip64 end record'));
    if (rec.getUint32(0, true) !== ZIP64_EOCD) throw new CheckpointError(name, `no zip64 end record at byte ${fmtInt(recAt)} — corrupt zip`);
    count = u64(rec, 32);
    dirSize = u64(rec, 40);
    dirOffset = u64(rec, 48);
  }
  const dir = await read(src, dirOffset, dirOffset + dirSize, name, 'the zip central directory');
  const dv = view(dir);
  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== CENTRAL) {
      throw new CheckpointError(name, `zip central directory entry ${i + 1} of ${count} is corrupt (at byte ${fmtInt(dirOffset + p)})`);
    }
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > dir.length) {
      throw new CheckpointError(name, `zip central directory entry ${i + 1} of ${count} runs past the directory's end (at byte ${fmtInt(dirOffset + p)}) — corrupt zip`);
    }
    const entry: ZipEntry = {
      name: names.decode(dir.subarray(p + 46, p + 46 + nameLen)),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      offset: dv.getUint32(p + 42, true),
    };
    // Zip64 extra field (id 1): 64-bit values for those fields that hold 0xffffffff, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        for (const f of ['size', 'compressedSize', 'offset'] as const) {
          if (entry[f] === 0xffffffff && q + 8 <= Math.min(e + 4 + len, extraEnd)) {
            entry[f] = u64(dv, q);
            q += 8;
          }
        }
      }
      e += 4 + len;
    }
    entries.push(entry);
    p = extraEnd + commentLen;
  }
  return entries;
}

/** The bytes of one entry (stored: exactly as in the file; deflated: inflated). */
export async function readZipEntry(src: ByteSource, entry: ZipEntry, name: string): Promise<Uint8Array> {
  const what = `zip entry '${entry.name}'`;
  const local = view(await read(src, entry.offset, entry.offset + 30, name, `the local header of ${what}`));
  if (local.getUint32(0, true) !== LOCAL) throw new CheckpointError(name, `${what}: no local header at byte ${fmtInt(entry.offset)} — corrupt zip`);
  const start = entry.offset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const data = await read(src, start, start + entry.compressedSize, name, what);
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) throw new CheckpointError(name, `${what}: stored entry with different sizes — corrupt zip`);
    return data;
  }
  if (entry.method === 8) {
    // NOTE: deflate expands at most ~1032:1; a larger claim is a corrupt entry or a zip bomb, refused before allocating.
    if (entry.size > entry.compressedSize * 1032 + 1024) {
      throw new CheckpointError(name, `${what} claims ${fmtInt(entry.size)} bytes from ${fmtInt(entry.compressedSize)} compressed, more than deflate can produce — corrupt zip or a zip bomb`);
    }
    try {
      return inflateSync(data, { out: new Uint8Array(entry.size) });
    } catch (cause) {
      throw new CheckpointError(name, `${what}: could not inflate (${(cause as Error).message})`, { cause });
    }
  }
  throw new CheckpointError(name, `${what}: compression method ${entry.method} is not supported (expected stored or deflate)`);
}
