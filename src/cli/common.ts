// What the commands share: the I/O they talk through (streams, Ctrl-C), flag groups, Node's zlib for the NIfTI
// reader, and converting --encoder with download/inflation progress.
import { gunzip as zlibGunzip, gzip as zlibGzip } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzipSizeHint, setGzipCodec } from '../nifti/gzip.ts';
import { DEFAULT_HUB } from '../weights/hub.ts';
import { convertEncoder } from '../workers/weights.job.ts';
import type { ConvertOptions, ConvertedEncoder } from '../workers/weights.protocol.ts';
import type { InflationStrategy } from '../weights/types.ts';
import { UsageError, type Args, type FlagSpec } from './args.ts';
import { encoderSource, fetchUrlSource, installHubCache, presetList, type EncoderChoice } from './encoder.ts';
import { formatDuration, type Out } from './progress.ts';
import { DataError } from './dataset.ts';
import { decodeAnyCheckpoint, isVolumeCheckpoint, type AnyCheckpoint, type ModelCheckpoint } from '../weights/checkpoint.ts';

export interface Io {
  /** Results (paths written, help). */
  out: Out;
  /** Log and progress. */
  err: Out;
  /** Aborted on Ctrl-C when no command handler is set (downloads and loading stop). */
  signal: AbortSignal;
  /** Sets what the first Ctrl-C does (a training run stops after its step); null: abort `signal`. */
  onInterrupt(handler: (() => void) | null): void;
  /** True once Ctrl-C was pressed. */
  readonly interrupted: boolean;
}

/** Thrown when Ctrl-C ended a command before it had anything to write (exit status 130). */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor() { super('interrupted'); }
}

export function checkInterrupted(io: Io) {
  if (io.interrupted) throw new Interrupted();
}

/** The package version, recorded in checkpoints (the app's comes from Vite's define). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'dev';
  }
})();

/** A Buffer as a plain Uint8Array over the same bytes (no copy). */
const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const gunzipAsync = promisify(zlibGunzip);
const gzipAsync = promisify(zlibGzip);

/**
 * NIfTI (de)compression through Node's zlib, in the thread pool. NOTE: one output chunk of the size the gzip trailer
 * announces (+1, so zlib sees the end without asking for another chunk) instead of zlib's 16 KiB chunks: no
 * concatenation, and the reader keeps the voxels as a view of that buffer (157 MB CT: ~200 ms vs ~400 ms with
 * 16 KiB chunks; Node's DecompressionStream: 550–900 ms on the same bytes).
 */
export function useZlib() {
  setGzipCodec({
    gunzip: async (b) => view(await gunzipAsync(b, { chunkSize: Math.max(1 << 16, gunzipSizeHint(b) + 1) })),
    gzip: async (b, level) => view(await gzipAsync(b, level === undefined ? {} : { level })),
  });
}

export const OUT_FLAG: FlagSpec = { name: 'out', kind: 'string', arg: 'DIR', help: 'folder for the results (created when missing)' };
export const FORCE_FLAG: FlagSpec = { name: 'force', kind: 'bool', help: 'overwrite results already in --out' };
export const BACKEND_FLAG: FlagSpec = {
  name: 'backend', kind: 'string', choices: ['webgpu', 'wasm', 'cpu'],
  help: 'force a backend; by default WebGPU on a GPU (Dawn over Vulkan), else wasm (WebAssembly SIMD: faster than a software Vulkan driver, which is skipped), else the plain-JS cpu backend; webgpu forces Dawn even over a software driver',
};

/** Flags that choose and inflate the encoder (train, inflate). */
export const ENCODER_FLAGS: FlagSpec[] = [
  { name: 'encoder', kind: 'string', arg: 'NAME', help: `the 2D encoder: micro (built-in, random init), a preset (${presetList()}), a Hugging Face repo id (owner/name), a checkpoint file or folder (.safetensors, .pth, sharded with its index) or an http(s) URL of one; Video Swin: swint3d=FILE|URL (e.g. swin_base_patch244_window877_kinetics600_22k.pth)` },
  { name: 'strategy', kind: 'string', choices: ['center', 'average', '2d', 'scratch'], default: 'center', help: 'how the 2D patch kernel becomes 3D' },
  { name: 'T', kind: 'int', min: 1, max: 63, odd: true, arg: 'N', default: '5 (1 with --strategy 2d)', help: 'slices per window (odd)' },
  { name: 'size', kind: 'int', min: 8, max: 2048, arg: 'PX', default: 'auto: the data\'s in-plane size rounded to the patch size, at most the encoder\'s own (64 for micro)', help: 'in-plane input size, a multiple of the patch size' },
  { name: 'channels', kind: 'int', min: 1, max: 64, arg: 'N', help: 'input channels (modalities)' },
  { name: 'heads', kind: 'int', min: 1, max: 256, arg: 'N', help: 'attention heads, for a checkpoint whose layout does not say' },
  { name: 'hub', kind: 'string', arg: 'URL', default: DEFAULT_HUB, help: 'Hugging Face Hub address (downloads are cached in $INFLATESEG_CACHE or ~/.cache/inflateseg)' },
];

/**
 * Inflation options from the flags; `channels` when --channels is not given. Without --size the size is chosen at
 * conversion from the encoder and `plane`, the in-plane voxels of the data's slices (src/train/defaults.ts).
 */
export function inflateOptions(a: Args, channels: number, seed: number, plane?: [number, number]): ConvertOptions {
  const strategy = a.str('strategy', 'center') as InflationStrategy;
  if (strategy === '2d' && a.has('T') && a.num('T') !== 1) throw new UsageError(`--T ${a.num('T')}: --strategy 2d uses one slice (T = 1)`);
  const T = strategy === '2d' ? 1 : a.num('T', 5);
  return { strategy, T, inChans: a.num('channels', channels), imgSize: a.num('size', 224), seed, ...(a.has('size') ? {} : { autoSize: { plane } }) };
}

/** Resolves --encoder without reading it (so a wrong name fails before the data is read). */
export async function chooseEncoder(a: Args): Promise<EncoderChoice> {
  const value = a.str('encoder');
  if (!value) throw new UsageError('--encoder is required (micro, a preset, a Hub repo id or a checkpoint file)');
  const choice = await encoderSource(value, a.str('hub', DEFAULT_HUB));
  const size = a.num('size', 224);
  if (a.has('size') && choice.patchSize && size % choice.patchSize !== 0) {
    throw new UsageError(`--size ${size}: ${value} has ${choice.patchSize}-pixel patches; use a multiple of ${choice.patchSize} (e.g. ${Math.max(1, Math.round(size / choice.patchSize)) * choice.patchSize})`);
  }
  inflateOptions(a, 1, 0); // checks --strategy against --T
  return choice;
}

/** Converts the chosen encoder (download, read, map to timm names, inflate) with progress on `io.err`. */
export async function loadEncoder(a: Args, choice: EncoderChoice, options: ConvertOptions, io: Io): Promise<ConvertedEncoder> {
  const value = a.str('encoder');
  if (choice.source.kind === 'hub') installHubCache();
  io.err.write(`encoder: ${choice.what}\n`);
  let lastPct = -1;
  const tty = !!io.err.isTTY;
  try {
    const source = choice.url ? await fetchUrlSource(choice.url, io.signal) : choice.source;
    const hint = choice.hint || a.has('heads') ? { ...choice.hint, ...(a.has('heads') ? { numHeads: a.num('heads') } : {}) } : undefined;
    const e = await convertEncoder(source, options, hint, io.signal, (phase, done, total, detail) => {
      if (phase !== 'download' || !total) return;
      const pct = Math.floor((100 * done) / total);
      if (pct === lastPct || (!tty && pct % 10 !== 0)) return;
      lastPct = pct;
      const line = `  downloading ${detail ?? ''} ${(done / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB (${pct} %)`;
      io.err.write(tty ? `\r\x1b[2K${line}${done >= total ? '\n' : ''}` : `${line}\n`);
    });
    const stages = e.spec.swin ? ` (stages ${e.spec.swin.depths.join('-')}, heads ${e.spec.swin.heads.join('-')}, window ${e.spec.swin.window.join('×')})` : '';
    io.err.write(`  ${e.spec.family} D ${e.spec.embedDim} × ${e.spec.depth} blocks${stages}, patch ${e.spec.patchSize}, ${e.params.toLocaleString('en')} parameters; `
      + `${e.options.strategy} T = ${e.options.T}, ${e.options.inChans} channel(s), ${e.options.imgSize} px (${formatDuration(e.ms / 1000)})\n`);
    for (const n of e.notes) io.err.write(`  note: ${n}\n`);
    return e;
  } catch (err) {
    checkInterrupted(io);
    throw new Error(`--encoder ${value}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Reads the model checkpoint a flag names (--model, --resume): a missing or unreadable file is a usage error, a file
 * that is no InflateSeg checkpoint a data error, both naming the flag. Returns the file's bytes too (to copy it).
 * A volume-based (3D UNETR) checkpoint is refused with `windowOnly` as the reason; readAnyModelFlag takes both kinds.
 */
export async function readModelFlag(flag: string, file: string, windowOnly = 'this command takes window-based models only'): Promise<{ checkpoint: ModelCheckpoint; bytes: Uint8Array }> {
  const { checkpoint, bytes } = await readAnyModelFlag(flag, file);
  if (isVolumeCheckpoint(checkpoint)) throw new DataError(`--${flag} ${file}: a volume-based model (3D UNETR, preset ${checkpoint.meta.config.preset}): ${windowOnly}`);
  return { checkpoint, bytes };
}

/** readModelFlag for commands that take either model kind (eval, train --resume). */
export async function readAnyModelFlag(flag: string, file: string): Promise<{ checkpoint: AnyCheckpoint; bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new UsageError(`--${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err)}`);
  }
  const checkpoint = await decodeAnyCheckpoint(bytes, file).catch((err: unknown) => { throw new DataError(`--${flag} ${err instanceof Error ? err.message : String(err)}`); });
  return { checkpoint, bytes };
}
