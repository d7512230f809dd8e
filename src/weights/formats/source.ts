// Random access to the bytes of a checkpoint held as a Blob/File (read by slices, never whole) or a Uint8Array (views).

/** Byte ranges of one file. `read` resolves to exactly end − begin bytes or rejects. */
export interface ByteSource {
  readonly size: number;
  read(begin: number, end: number): Promise<Uint8Array>;
}

/**
 * A Uint8Array source hands out subarray views (no copy); a Blob source reads each range with
 * blob.slice(begin, end).arrayBuffer(), so only the ranges asked for are ever in memory.
 */
export function byteSource(src: Blob | Uint8Array): ByteSource {
  if (src instanceof Uint8Array) {
    return { size: src.length, read: (begin, end) => Promise.resolve(src.subarray(begin, end)) };
  }
  return {
    size: src.size,
    async read(begin, end) {
      const bytes = new Uint8Array(await src.slice(begin, end).arrayBuffer());
      if (bytes.length !== Math.min(end, src.size) - begin) throw new Error(`short read: ${bytes.length} of ${end - begin} bytes`);
      return bytes;
    },
  };
}

/** Options every checkpoint reader takes. */
export interface ReadOptions {
  /** Called with bytes read so far and the bytes to read in all; monotonic, ends with done === total. */
  onProgress?(done: number, total: number): void;
  /** Aborting rejects the read with a DOMException named 'AbortError'. */
  signal?: AbortSignal;
  /**
   * Which tensors to read, by the key they will have in the result (for PyTorch files: after unwrapping and prefix
   * stripping); the rest are skipped without reading their bytes.
   */
  keep?: (key: string) => boolean;
}
