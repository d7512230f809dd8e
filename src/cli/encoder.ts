// --encoder for the CLI: 'micro' (the built-in micro ViT), a preset id of models/presets.json, a Hub repo id, or a
// local checkpoint file / folder — as a WeightsSource for the weights worker's job (convertEncoder). Hub downloads
// are kept on disk: Node has no Cache Storage, so the CLI gives openHubCache a small file-backed one.
import { createHash } from 'node:crypto';
import { existsSync, openAsBlob, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { PRESETS } from '../weights/presets.ts';
import { validateRepoId } from '../weights/hub.ts';
import { MICRO_VIT } from '../weights/micro.ts';
import type { WeightsSource } from '../workers/weights.protocol.ts';
import type { LayoutHint } from '../weights/layouts/index.ts';
import { UsageError } from './args.ts';

/**
 * What the user named and how to get it; `patchSize` when known before reading (micro, presets); `hint` what the name
 * says about the checkpoint (a preset's family, Video Swin for swint3d=…); `url` a file to download first (then
 * `source` is filled by fetchUrlSource).
 */
export interface EncoderChoice { source: WeightsSource; what: string; patchSize?: number; hint?: LayoutHint; url?: string }

/** Video Swin has no Hub safetensors: these names take a file or URL, `--encoder swint3d=/path/to/checkpoint.pth`. */
export const VIDEO_SWIN_NAMES = ['swint3d', 'videoswint'] as const;
const VIDEO_SWIN_EXAMPLE = 'swin_base_patch244_window877_kinetics600_22k.pth';
const isUrl = (v: string): boolean => /^https?:\/\//i.test(v);

const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };
const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };

export const presetList = () => ['micro', ...PRESETS.map((p) => p.id)].join(', ');

/** Resolves --encoder. Throws a UsageError naming the value and what was expected. */
export async function encoderSource(value: string, hubBase: string): Promise<EncoderChoice> {
  const video = /^([\w-]+)(?:=(.*))?$/s.exec(value);
  if (video && (VIDEO_SWIN_NAMES as readonly string[]).includes(video[1])) {
    const where = video[2]?.trim();
    if (!where) {
      throw new UsageError(
        `--encoder ${value}: Video Swin has no Hub preset; name its checkpoint after '=': --encoder ${video[1]}=/path/to/${VIDEO_SWIN_EXAMPLE} ` +
          `(the Video Swin release, mmaction layout) or a torchvision swin3d_t/s/b .pth, as a file or an http(s) URL`,
      );
    }
    if (VIDEO_SWIN_NAMES.some((n) => where === n)) throw new UsageError(`--encoder ${value}: '${where}' is not a checkpoint file or URL`);
    const inner = await encoderSource(where, hubBase);
    if (inner.source.kind !== 'files' && !inner.url) throw new UsageError(`--encoder ${value}: ${where} is not a checkpoint file, folder or URL (Video Swin is read from a file)`);
    return { ...inner, hint: { family: 'videoswin' }, what: `Video Swin from ${inner.what}` };
  }
  if (isUrl(value)) {
    let name: string;
    try {
      name = decodeURIComponent(new URL(value).pathname.split('/').pop() ?? '');
    } catch {
      throw new UsageError(`--encoder ${value}: not a valid URL`);
    }
    if (!/\.(safetensors|pth|pt|bin|ckpt)$/i.test(name)) throw new UsageError(`--encoder ${value}: the URL should name a checkpoint file (.safetensors, .pth, .pt, .bin, .ckpt), found '${name || '(none)'}'`);
    return { source: { kind: 'files', files: [] }, url: value, what: `${value} (download)` };
  }
  if (value === 'micro') return { source: { kind: 'micro' }, what: 'the built-in micro ViT (random init, not pre-trained)', patchSize: MICRO_VIT.patchSize };
  const preset = PRESETS.find((p) => p.id === value);
  if (preset) {
    // models/presets.json also gives each preset's architecture (not part of the typed Preset).
    const patchSize = (preset as { spec?: { patchSize?: number } }).spec?.patchSize;
    return { source: { kind: 'hub', repo: preset.repo, baseUrl: hubBase }, what: `${preset.title} (${preset.repo})`, patchSize, hint: { family: preset.family } };
  }
  if (isFile(value)) return { source: { kind: 'files', files: [{ name: path.basename(value), blob: await openAsBlob(value) }] }, what: value };
  if (isDir(value)) {
    // A downloaded Hub repo: the weights (one file, or shards with their index) and config.json side by side.
    const names = readdirSync(value).filter((n) => isFile(path.join(value, n)) && /\.(safetensors|pth|pt|bin|ckpt|json)$/i.test(n)).sort();
    if (!names.some((n) => !/\.json$/i.test(n))) throw new UsageError(`--encoder ${value}: the folder holds no checkpoint file (.safetensors, .pth, .pt, .bin)`);
    const files = await Promise.all(names.map(async (n) => ({ name: n, blob: await openAsBlob(path.join(value, n)) })));
    return { source: { kind: 'files', files }, what: `${value}/ (${names.join(', ')})` };
  }
  if (validateRepoId(value) === null && !existsSync(value) && !/\.(safetensors|pth|pt|bin|ckpt)$/i.test(value)) {
    return { source: { kind: 'hub', repo: value, baseUrl: hubBase }, what: `${value} (Hugging Face Hub)` };
  }
  throw new UsageError(`--encoder ${value}: no such file or folder, and not a preset (${presetList()}) or a Hub repo id (owner/name)`);
}

/**
 * Downloads an --encoder URL (kept in the cache folder under urls/, so a second run reads the disk) and gives the
 * file as a 'files' source. Throws naming the URL and the HTTP status.
 */
export async function fetchUrlSource(url: string, signal?: AbortSignal, dir = path.join(cacheDir(), 'urls')): Promise<WeightsSource> {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? 'checkpoint');
  const cache = fileCache(dir);
  const hit = await cache.match(url);
  if (hit) return { kind: 'files', files: [{ name, blob: await hit.blob() }] };
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw new Error(`${url}: download failed (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  await cache.put(url, res);
  const saved = await cache.match(url);
  return { kind: 'files', files: [{ name, blob: await saved!.blob() }] };
}

/** The CLI's download cache folder: $INFLATESEG_CACHE, else $XDG_CACHE_HOME/inflateseg, else ~/.cache/inflateseg. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.INFLATESEG_CACHE || path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'inflateseg');
}

interface MiniCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, res: Response): Promise<void>;
}

/** A folder of files named by the SHA-256 of their URL; writes go through a temp file and a rename. */
export function fileCache(dir: string): MiniCache {
  const file = (url: string) => path.join(dir, createHash('sha256').update(url).digest('hex'));
  return {
    async match(url) {
      const f = file(url);
      return isFile(f) ? new Response(await openAsBlob(f)) : undefined;
    },
    async put(url, res) {
      const f = file(url);
      const tmp = `${f}.${process.pid}.tmp`;
      await mkdir(dir, { recursive: true });
      try {
        await writeFile(tmp, new Uint8Array(await res.arrayBuffer()));
        await rename(tmp, f);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}

/**
 * Gives the shared Hub code (openHubCache, which opens Cache Storage when `globalThis.caches` exists) a file-backed
 * stand-in, with only the `open` it calls. Does nothing where real Cache Storage exists.
 */
export function installHubCache(dir = cacheDir()) {
  const g = globalThis as { caches?: unknown };
  if (g.caches) return;
  g.caches = { open: async (name: string) => fileCache(path.join(dir, name.replace(/[^\w.-]+/g, '_'))) };
}
