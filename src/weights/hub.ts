// Hugging Face Hub downloads: resolve a repo's weight files, stream them with progress, resume after a network
// failure with HTTP Range, and keep finished files in Cache Storage so a second visit is instant.
// fetch and the cache are injected, so the same code runs in a worker, in Node and in tests.

export const DEFAULT_HUB = 'https://huggingface.co';

export interface HubFile {
  /** Path inside the repo, e.g. 'model.safetensors'. */
  path: string;
  blob: Blob;
  fromCache: boolean;
}

export interface HubCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, res: Response): Promise<void>;
}

export interface HubOptions {
  baseUrl?: string;
  revision?: string;
  fetch?: typeof fetch;
  cache?: HubCache | null;
  signal?: AbortSignal;
  /** Bytes received so far and the total (0 when unknown), across every file of the download. */
  onProgress?: (done: number, total: number, file: string) => void;
  /** Network failures tolerated per file before giving up; each retry resumes where the last stopped. */
  retries?: number;
  /** Delay before retry n (ms); tests set 0. */
  backoffMs?: (attempt: number) => number;
}

export class HubError extends Error {
  constructor(readonly repo: string, message: string, readonly status?: number) {
    super(message);
    this.name = 'HubError';
  }
}

/** The URL of a file in a Hub repo: {base}/{repo}/resolve/{revision}/{path}. */
export function hubUrl(repo: string, path: string, baseUrl = DEFAULT_HUB, revision = 'main'): string {
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  return `${baseUrl.replace(/\/+$/, '')}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(path)}`;
}

/** Checks a repo id: 'owner/name', letters, digits, '-', '_', '.'. */
export function validateRepoId(repo: string): string | null {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repo.trim()) ? null : `"${repo}" is not a Hugging Face repo id (expected owner/name, e.g. timm/vit_small_patch16_224.dino)`;
}

/** Opens the Cache Storage bucket used for Hub files, when the platform has one. */
export async function openHubCache(): Promise<HubCache | null> {
  const cs = (globalThis as { caches?: CacheStorage }).caches;
  if (!cs) return null;
  try {
    const c = await cs.open('inflateseg-hub-v1');
    return { match: (u) => c.match(u), put: (u, r) => c.put(u, r) };
  } catch {
    return null; // e.g. an opaque origin; downloads still work, uncached
  }
}

/**
 * Downloads one file, resuming with `Range: bytes=N-` after a dropped connection. Throws HubError on
 * 401/403/404 and after the retries are used up, naming the repo, the file and the reason.
 */
export async function downloadFile(repo: string, path: string, opts: HubOptions = {}, progressBase = 0, grandTotal = 0): Promise<HubFile> {
  const url = hubUrl(repo, path, opts.baseUrl, opts.revision);
  const cached = await opts.cache?.match(url);
  if (cached) {
    const blob = await cached.blob();
    opts.onProgress?.(progressBase + blob.size, grandTotal || blob.size, path);
    return { path, blob, fromCache: true };
  }
  const doFetch = opts.fetch ?? fetch;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let total = 0;
  const retries = opts.retries ?? 5;
  const backoff = opts.backoffMs ?? ((n: number) => Math.min(8000, 500 * 2 ** n));
  for (let attempt = 0; ; attempt++) {
    try {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await doFetch(url, { headers, signal: opts.signal });
      if (res.status === 404) throw new HubError(repo, `${repo}: ${path} not found on the Hub (HTTP 404)`, 404);
      if (res.status === 401 || res.status === 403) throw new HubError(repo, `${repo}: access to ${path} denied (HTTP ${res.status}); gated or private repos need a token, which InflateSeg does not handle — download the file yourself and drop it on the page`, res.status);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (received > 0 && res.status !== 206) {
        // The server ignored the Range header: start over.
        chunks.length = 0;
        received = 0;
      }
      if (total === 0) {
        const range = res.headers.get('content-range');
        const len = Number(res.headers.get('content-length') ?? 0);
        total = range ? Number(range.split('/')[1]) || 0 : len;
      }
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        opts.onProgress?.(progressBase + received, grandTotal || total, path);
      }
      if (total && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
      break;
    } catch (err) {
      if (err instanceof HubError) throw err;
      if (opts.signal?.aborted) throw err;
      if (attempt >= retries) {
        throw new HubError(repo, `${repo}: downloading ${path} failed after ${attempt + 1} attempts (${received.toLocaleString('en')} of ${total ? total.toLocaleString('en') : '?'} bytes): ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, backoff(attempt)));
    }
  }
  const blob = new Blob(chunks as BlobPart[]);
  await opts.cache?.put(url, new Response(blob, { headers: { 'content-length': String(blob.size) } })).catch(() => {});
  return { path, blob, fromCache: false };
}

/** What a repo holds, as far as loading weights goes. */
export interface RepoWeights {
  files: HubFile[];
  /** config.json of the repo, when there is one (Hugging Face transformers models need it for head counts). */
  config?: Record<string, unknown>;
}

async function tryDownload(repo: string, path: string, opts: HubOptions, base = 0, total = 0): Promise<HubFile | null> {
  try {
    return await downloadFile(repo, path, opts, base, total);
  } catch (err) {
    if (err instanceof HubError && err.status === 404) return null;
    throw err;
  }
}

/**
 * Fetches a repo's weights: model.safetensors, else the shards named by model.safetensors.index.json,
 * else pytorch_model.bin; plus config.json when present.
 */
export async function downloadRepoWeights(repo: string, opts: HubOptions = {}): Promise<RepoWeights> {
  const problem = validateRepoId(repo);
  if (problem) throw new HubError(repo, problem);
  const configFile = await tryDownload(repo, 'config.json', { ...opts, onProgress: undefined });
  const config = configFile ? (JSON.parse(await configFile.blob.text()) as Record<string, unknown>) : undefined;
  const single = await tryDownload(repo, 'model.safetensors', opts);
  if (single) return { files: [single], config };
  const index = await tryDownload(repo, 'model.safetensors.index.json', { ...opts, onProgress: undefined });
  if (index) {
    const map = (JSON.parse(await index.blob.text()) as { weight_map?: Record<string, string> }).weight_map ?? {};
    const shards = [...new Set(Object.values(map))];
    const files: HubFile[] = [index];
    for (const s of shards) files.push(await downloadFile(repo, s, opts));
    return { files, config };
  }
  const bin = await tryDownload(repo, 'pytorch_model.bin', opts);
  if (bin) return { files: [bin], config };
  throw new HubError(repo, `${repo}: no weights found (tried model.safetensors, model.safetensors.index.json, pytorch_model.bin)`, 404);
}
