// A local stand-in for the Hugging Face Hub in tests: serves files at {repo}/resolve/{rev}/{path}, honours Range,
// sends CORS headers, and can cut a response short once to exercise resumption. Records every request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The micro ViT test checkpoint (timm layout) as a Hub repo of its own. */
export const MICRO_HUB_REPO = 'timm/vit_micro_patch4_16';

/**
 * The files of MICRO_HUB_REPO: the timm-layout micro fixture and a config.json giving its head count (timm repos
 * ship one), plus any `config` fields given.
 */
export function microHubFiles(config: Record<string, unknown> = {}): Record<string, Uint8Array> {
  const weights = readFileSync(path.resolve(import.meta.dirname, '../fixtures/weights/layouts/timm_vit.safetensors'));
  return {
    [`${MICRO_HUB_REPO}/model.safetensors`]: new Uint8Array(weights),
    [`${MICRO_HUB_REPO}/config.json`]: new TextEncoder().encode(JSON.stringify({ architecture: 'vit_micro', ...config, model_args: { num_heads: 2 } })),
  };
}

export interface HubServer {
  url: string;
  requests: Array<{ path: string; range?: string }>;
  /** Cut the next response for this path after N bytes (simulates a dropped connection). */
  failOnce(path: string, afterBytes: number): void;
  /** Send this path slowly: `chunk` bytes every `everyMs` (for cancel tests). */
  throttle(path: string, chunk: number, everyMs: number): void;
  close(): Promise<void>;
}

export async function startHubServer(files: Record<string, Uint8Array>): Promise<HubServer> {
  const requests: HubServer['requests'] = [];
  const failures = new Map<string, number>();
  const slow = new Map<string, { chunk: number; everyMs: number }>();
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const range = req.headers.range;
    requests.push({ path, range });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    const m = /^\/(.+?\/.+?)\/resolve\/[^/]+\/(.+)$/.exec(path);
    const body = m ? files[`${m[1]}/${m[2]}`] : undefined;
    if (!body) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found'); return; }
    let start = 0;
    if (range) {
      const r = /bytes=(\d+)-/.exec(range);
      start = r ? Number(r[1]) : 0;
    }
    const slice = body.subarray(start);
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(slice.length) };
    if (range) headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const cut = failures.get(path);
    if (cut !== undefined) {
      failures.delete(path);
      // Let the first bytes reach the client before the connection drops.
      res.write(slice.subarray(0, cut), () => setTimeout(() => res.destroy(), 150));
      return;
    }
    const sl = slow.get(path);
    if (sl) {
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(slice.subarray(at, at + sl.chunk));
        at += sl.chunk;
        if (at >= slice.length) { clearInterval(timer); res.end(); }
      }, sl.everyMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failOnce: (path, afterBytes) => failures.set(path, afterBytes),
    throttle: (path, chunk, everyMs) => slow.set(path, { chunk, everyMs }),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
