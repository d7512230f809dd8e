// gzip / gunzip of whole byte arrays: an injected codec (setGzipCodec), else (De)CompressionStream where the
// platform has it, else fflate.
// Errors are plain Errors describing the stream problem; callers add the file name.
import { Gunzip, gzipSync } from 'fflate';

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Joins chunks into one Uint8Array with a single allocation (no copy when there is only one chunk). */
export function concatChunks(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const n = total ?? chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The decompressed size a gzip stream announces: ISIZE, the last 4 bytes (little-endian), or 0 when implausible.
 * NOTE: a hint only. ISIZE is the size of the LAST member modulo 2^32, so a multi-member file or one over 4 GiB
 * decompresses to more; and deflate expands at most ~1032:1, so a larger claim is a corrupt trailer (0 then,
 * rather than a huge allocation).
 */
export function gunzipSizeHint(bytes: Uint8Array): number {
  if (bytes.length < 18) return 0;
  const n = lastUint32(bytes);
  return n <= bytes.length * 1032 + 1024 ? n : 0;
}

function lastUint32(bytes: Uint8Array): number {
  const e = bytes.length;
  return (bytes[e - 4] | (bytes[e - 3] << 8) | (bytes[e - 2] << 16) | (bytes[e - 1] << 24)) >>> 0;
}

/**
 * Collects output chunks into one buffer allocated up front at the expected size (gunzipSizeHint), so the
 * output is copied once and never held twice; grows (doubling) when the stream yields more than expected.
 */
class Collector {
  private out: Uint8Array;
  private n = 0;
  constructor(expected: number) {
    this.out = new Uint8Array(expected);
  }
  push(chunk: Uint8Array): void {
    if (this.n + chunk.length > this.out.length) {
      const grown = new Uint8Array(Math.max(this.n + chunk.length, this.out.length * 2, 1 << 16));
      grown.set(this.out.subarray(0, this.n));
      this.out = grown;
    }
    this.out.set(chunk, this.n);
    this.n += chunk.length;
  }
  /** The bytes collected; exactly the allocated buffer when the hint was right. */
  result(): Uint8Array {
    return this.n === this.out.length ? this.out : this.out.slice(0, this.n);
  }
}

/**
 * Pushes the bytes through a (De)CompressionStream and collects the output, into one buffer of the `expected` size
 * when that is known (> 0). Rejects on a stream error.
 */
async function pipeThrough(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, expected = 0): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // The write/close promises reject together with the readable side; the read loop reports the error.
  const written = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  const into = expected > 0 ? new Collector(expected) : null;
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (into) into.push(value);
    else chunks.push(value);
    total += value.length;
  }
  await written;
  return into ? into.result() : concatChunks(chunks, total);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32 (gzip's) over more bytes; start with 0. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * fflate path (streaming, so multi-member files work and nothing is sized from the trailer).
 * NOTE: fflate neither checks the gzip trailer nor notices a truncated stream, so like zlib we check
 * every member's CRC-32 and length against the bytes it produced.
 */
function gunzipFflate(bytes: Uint8Array): Uint8Array {
  const into = new Collector(gunzipSizeHint(bytes));
  const members: { end: number; crc: number; size: number }[] = [];
  let crc = 0;
  let size = 0;
  const g = new Gunzip((chunk) => {
    if (chunk.length === 0) return;
    into.push(chunk);
    crc = crc32(chunk, crc);
    size += chunk.length;
  });
  g.onmember = (offset) => {
    members.push({ end: offset, crc, size });
    crc = 0;
    size = 0;
  };
  g.push(bytes, true);
  members.push({ end: bytes.length, crc, size });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const m of members) {
    if (m.end < 18) throw new Error('gzip stream truncated (shorter than a gzip header and trailer)');
    const wantCrc = view.getUint32(m.end - 8, true);
    const wantSize = view.getUint32(m.end - 4, true);
    if (wantSize !== m.size >>> 0 || wantCrc !== m.crc) {
      throw new Error(`gzip stream truncated or corrupt: trailer says ${wantSize} bytes with CRC-32 ${wantCrc.toString(16)}, data gave ${m.size} bytes with CRC-32 ${m.crc.toString(16)}`);
    }
  }
  return into.result();
}

/**
 * The first `n` decompressed bytes of a gzip stream (fewer when the stream holds fewer), decompressing only as much
 * input as that takes: a header can be read, and its claims checked, before the whole file is inflated. Throws an
 * Error when those first bytes are corrupt.
 */
export function gunzipHead(bytes: Uint8Array, n: number): Uint8Array {
  if (!isGzip(bytes)) throw new Error('not a gzip stream (no 1f 8b magic)');
  const out = new Uint8Array(n);
  let have = 0;
  const g = new Gunzip((chunk) => {
    const take = Math.min(chunk.length, n - have);
    out.set(chunk.subarray(0, take), have);
    have += take;
  });
  // NOTE: 4 KiB of input at a time; deflate cannot expand it past ~4 MiB, so the output stays bounded.
  for (let at = 0; at < bytes.length && have < n; at += 4096) g.push(bytes.subarray(at, Math.min(bytes.length, at + 4096)), false);
  return out.subarray(0, have);
}

/** A whole-buffer gzip codec a host can supply (e.g. Node's zlib); either half may be left to the default. */
export interface GzipCodec {
  /**
   * Decompresses every member of a gzip stream; rejects on corrupt or truncated input. The result should be owned
   * by the caller (not shared with other data): the NIfTI reader may keep a view into it as the voxel array.
   */
  gunzip?: (bytes: Uint8Array) => Promise<Uint8Array>;
  /** Compresses as gzip; `level` 0–9 when given. */
  gzip?: (bytes: Uint8Array, level?: number) => Promise<Uint8Array>;
}

let codec: GzipCodec = {};

/**
 * Replaces the platform's gzip for this module's callers (the NIfTI reader and writer); `null` restores the default.
 * NOTE: Node's DecompressionStream is ~3× slower than zlib on the same bytes (bench/RESULTS.md), so a Node entry
 * point (the CLI) injects zlib; browsers keep their native streams.
 */
export function setGzipCodec(c: GzipCodec | null): void {
  codec = c ?? {};
}

/** Decompresses a whole gzip stream. Rejects with an Error on corrupt or truncated input. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(bytes)) throw new Error('not a gzip stream (no 1f 8b magic)');
  if (codec.gunzip) return codec.gunzip(bytes);
  if (typeof DecompressionStream === 'function') return pipeThrough(bytes, new DecompressionStream('gzip'), gunzipSizeHint(bytes));
  return gunzipFflate(bytes);
}

/** Compresses bytes as one gzip member. `level` (0–9) is honoured by fflate only; streams use their default. */
export async function gzip(bytes: Uint8Array, level?: number): Promise<Uint8Array> {
  if (codec.gzip) return codec.gzip(bytes, level);
  if (typeof CompressionStream === 'function' && level === undefined) {
    return pipeThrough(bytes, new CompressionStream('gzip'));
  }
  return gzipSync(bytes, { level: (level ?? 6) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });
}

/** For tests: the fflate paths regardless of platform support. */
export const _fallback = { gunzip: async (b: Uint8Array) => gunzipFflate(b), gzip: async (b: Uint8Array, level = 6) => gzipSync(b, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 }) };
