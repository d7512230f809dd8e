// Privacy in Chromium: every network request of a whole flow — the bundled sample, a micro encoder converted from a
// dropped file, a few training steps, evaluation, checkpoint export — goes to the app's own server; a Hub download
// then goes only to the Hub address the user typed. Requests are recorded from the page, its workers and service
// workers (Playwright), websockets are watched, and a trap proxy catches anything else that leaves the loopback
// interface; a canary request from the page and from a worker shows that both recorders see such requests.
// The list is written to test-results/requests.txt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Request } from 'playwright-core';
import { ARTIFACTS, clickAndWait, startHarness, type Harness } from './harness.ts';
import { runToDone, setUpMicroRun, startRun } from './flows.ts';
import { microHubFiles, startHubServer, type HubServer } from '../support/hubServer.ts';


/**
 * A proxy that lets nothing through and remembers what was tried. Chromium sends every request for a host outside
 * the loopback interface to it (loopback bypasses proxies), including requests Playwright might not attribute.
 */
async function startTrapProxy(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => { hits.push(`${req.method} ${req.url}`); res.writeHead(403).end(); });
  server.on('connect', (req, socket: Socket) => { hits.push(`CONNECT ${req.url}`); socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'); });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

interface Seen { phase: string; method: string; url: string; type: string; from: string }

let h: Harness;
let hub: HubServer;
let trap: Awaited<ReturnType<typeof startTrapProxy>>;
beforeAll(async () => {
  trap = await startTrapProxy();
  h = await startHarness({ addArgs: [`--proxy-server=${trap.url}`] });
  hub = await startHubServer(microHubFiles());
});
afterAll(async () => { await hub?.close(); await h?.close(); await trap?.close(); });

/**
 * Chromium's own services (component updater, sign-in, autofill, network time) reach the trap proxy whatever the page
 * does, with the flags the harness uses: they are the browser's, listed in requests.txt and not held against the
 * app. The page's and workers' requests are checked from Playwright's record, which the canary proves complete.
 */
const BROWSER_SERVICES = /^(CONNECT |[A-Z]+ http:\/\/)(accounts\.google\.com|clients\d?\.google\.com|update\.googleapis\.com|content-autofill\.googleapis\.com|[\w-]+\.gvt1\.com)[:/]/;
const CANARY = 'http://privacy-canary.invalid';

/** The origin a request goes to; blob: URLs belong to the origin that made them, data: URLs go nowhere. */
function target(url: string): string {
  if (url.startsWith('data:')) return 'data:';
  return new URL(url.startsWith('blob:') ? url.slice(5) : url).origin;
}

describe('privacy', () => {
  it('sends nothing anywhere but the app server; a Hub download goes only to the configured Hub', async () => {
    const app = new URL(h.url).origin;
    const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, serviceWorkers: 'allow' });
    const seen: Seen[] = [];
    const sockets: string[] = [];
    let phase = 'flow';
    // NOTE: Chromium reports a dedicated worker's requests under the page's frame (the Hub download runs in the
    // weights worker), so 'page' here means the page or one of its workers.
    const from = (r: Request) => (r.serviceWorker() ? 'service worker' : 'page');
    const record = (r: Request) => {
      if (!seen.some((s) => s.method === r.method() && s.url === r.url() && s.phase === phase && s.from === from(r))) seen.push({ phase, method: r.method(), url: r.url(), type: r.resourceType(), from: from(r) });
    };
    ctx.on('request', record);
    ctx.on('serviceworker', (w) => sockets.push(`service worker ${w.url()}`));
    const page = await ctx.newPage();
    page.on('request', record); // the page's own view (dedicated workers included); duplicates are dropped
    page.on('websocket', (ws) => sockets.push(`websocket ${ws.url()}`));
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // --- the whole flow, offline in spirit: sample, dropped encoder, train, evaluate, export ----------------------
    await page.goto(`${h.url}?sample=itk_kmeans`);
    await page.getByTestId('legend').waitFor();
    await setUpMicroRun(page, { T: 3, size: 32, steps: 2, batch: 1, valEvery: 2, lr: 0.002 });
    await startRun(page);
    await runToDone(page);
    await clickAndWait(page, page.getByTestId('train-evaluate'), page.getByTestId('evaluation'), 150_000);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-checkpoint').click()]);
    expect(download.suggestedFilename()).toMatch(/\.safetensors$/);
    expect(hub.requests).toEqual([]);

    // --- a Hub download, to the address the user typed --------------------------------------------------------------
    phase = 'hub';
    await page.locator('summary[data-section=model]').click(); // the run folded the Model section away
    await page.locator('details.advanced > summary').click();
    await page.getByTestId('hub-base').fill(hub.url);
    await page.getByTestId('hub-id').fill('timm/vit_micro_patch4_16');
    await page.getByTestId('hub-load').click();
    await expect.poll(() => page.locator('.encoder-title').textContent(), { timeout: 60_000 }).toBe('timm/vit_micro_patch4_16');

    // --- the canary: a request to elsewhere from the page and from a worker is seen by both recorders -------------
    phase = 'canary';
    await page.evaluate(async (canary) => {
      await fetch(`${canary}/from-page`).catch(() => {});
      const src = `fetch('${canary}/from-worker').catch(() => {}).finally(() => postMessage('done'));`;
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      await new Promise((r) => (w.onmessage = r));
      w.terminate();
    }, CANARY);
    await expect.poll(() => seen.filter((s) => s.url.startsWith(CANARY)).map((s) => s.url).sort()).toEqual([`${CANARY}/from-page`, `${CANARY}/from-worker`]);
    expect(trap.hits.filter((x) => x.includes(CANARY)).sort()).toEqual([`GET ${CANARY}/from-page`, `GET ${CANARY}/from-worker`]);

    const browserOwn = trap.hits.filter((x) => BROWSER_SERVICES.test(x));
    const lines = seen.map((s) => `${s.phase}\t${s.from}\t${s.method}\t${s.type}\t${s.url}`);
    writeFileSync(path.join(ARTIFACTS, 'requests.txt'), [
      `# app ${app}, hub ${hub.url}; phase, initiator (page: the page or a dedicated worker), method, resource type, URL`,
      ...lines,
      `# workers: ${workers.join(' ')}`,
      `# websockets / service workers: ${sockets.join(' ') || 'none'}`,
      `# trap proxy, the canary and anything else that left the loopback interface: ${trap.hits.filter((x) => !browserOwn.includes(x)).join(' ') || 'none'}`,
      `# trap proxy, Chromium's own services: ${[...new Set(browserOwn.map((x) => x.split('?')[0]))].join(' ') || 'none'}`,
      '',
    ].join('\n'));

    const flow = seen.filter((s) => s.phase === 'flow');
    const hubPhase = seen.filter((s) => s.phase === 'hub');
    // The flow really ran through the app's server: its page, scripts, workers and the sample.
    expect(flow.some((s) => s.url.endsWith('/samples/itk_kmeans_t1.nii.gz'))).toBe(true);
    expect(workers.length).toBeGreaterThanOrEqual(2);
    expect(flow.filter((s) => !['data:', app].includes(target(s.url))).map((s) => s.url)).toEqual([]);
    // The Hub download: only the app and the configured Hub, and at the Hub only the repo that was asked for.
    expect(hubPhase.filter((s) => ![app, hub.url, 'data:'].includes(target(s.url))).map((s) => s.url)).toEqual([]);
    const atHub = hubPhase.filter((s) => target(s.url) === hub.url);
    expect(atHub.some((s) => s.url.endsWith('/timm/vit_micro_patch4_16/resolve/main/model.safetensors'))).toBe(true);
    expect(atHub.filter((s) => !new URL(s.url).pathname.startsWith('/timm/vit_micro_patch4_16/resolve/main/')).map((s) => s.url)).toEqual([]);
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.every((r) => r.path.startsWith('/timm/vit_micro_patch4_16/resolve/main/'))).toBe(true);
    expect(sockets).toEqual([]);
    expect(trap.hits.filter((x) => !browserOwn.includes(x) && !x.includes(CANARY))).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 300_000);
});
