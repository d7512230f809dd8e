// End-to-end harness: serves the built app (dist/) with Vite's preview server and drives Debian's Chromium.
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../src/core/backends.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-results');
export const CHROMIUM = process.env.INFLATESEG_CHROMIUM ?? '/usr/bin/chromium';

export interface Harness {
  browser: Browser;
  server: PreviewServer;
  url: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra Chromium flags, e.g. '--use-angle=swiftshader'. */
  addArgs?: string[];
  /** Default flags to leave out, e.g. '--enable-unsafe-webgpu' to see the app without WebGPU. */
  removeArgs?: string[];
}

export const DEFAULT_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const unknown = (opts.removeArgs ?? []).filter((a) => !DEFAULT_ARGS.includes(a));
  if (unknown.length) throw new Error(`startHarness: removeArgs ${unknown.join(', ')} are not default flags (${DEFAULT_ARGS.join(' ')})`);
  if (!existsSync(path.join(ROOT, 'dist/index.html'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium, or set INFLATESEG_CHROMIUM.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await preview({ root: ROOT, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1', open: false } });
  const url = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...DEFAULT_ARGS.filter((a) => !opts.removeArgs?.includes(a)), ...(opts.addArgs ?? [])],
  });
  return {
    browser,
    server,
    url,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export interface OpenOptions {
  /**
   * Forces the training backend (?backend=): tests that exercise WebGPU on purpose say so, since the automatic choice
   * skips a software adapter (SwiftShader here) for WebAssembly.
   */
  backend?: BackendName;
}

/** Opens the app at `query` ('?sample=none'); collects page errors so a test can assert there were none. */
export async function openApp(h: Harness, query = '', opts: OpenOptions = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await h.browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const params = new URLSearchParams(query);
  if (opts.backend) params.set('backend', opts.backend);
  const search = params.toString();
  await page.goto(h.url + (search ? `?${search}` : ''));
  return { page, errors };
}

/** The texts of the error notices on the page now. */
export const errorNotices = (page: Page): Promise<string[]> => page.getByTestId('notice-error').allTextContents();

/**
 * Clicks `button`, then waits for `target` to be visible. Fails at once, quoting it, when an error notice appears
 * that was not there before the click (a failed evaluation says so in a notice; without this the test would wait
 * out its whole timeout and report only that).
 */
export async function clickAndWait(page: Page, button: Locator | (() => Promise<void>), target: Locator, timeout: number): Promise<void> {
  const before = await errorNotices(page);
  if (typeof button === 'function') await button();
  else await button.click();
  const end = Date.now() + timeout;
  for (;;) {
    if (await target.isVisible()) return;
    const fresh = (await errorNotices(page)).filter((t) => !before.includes(t));
    if (fresh.length) throw new Error(`an error notice appeared instead: ${fresh.join(' | ')}`);
    if (Date.now() > end) throw new Error(`still waiting after ${timeout / 1000} s (no error notice on the page)`);
    await page.waitForTimeout(250);
  }
}

/** Dispatches a real `drop` event on the page carrying the given files (bytes travel as base64). */
export async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[], selector = '[data-testid=drop-root]') {
  const payload = files.map((f) => ({ name: f.name, b64: Buffer.from(f.bytes).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bin = atob(it.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], it.name));
    }
    return dt;
  }, payload);
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

export interface Pixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Takes a screenshot of an element and decodes it in the browser: the pixels a user would see. */
export async function screenshotPixels(page: Page, selector: string, saveAs?: string): Promise<Pixels> {
  const png = await page.locator(selector).screenshot(saveAs ? { path: path.join(ARTIFACTS, saveAs) } : {});
  const decoded = await page.evaluate(async (b64) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height);
    let s = '';
    for (let i = 0; i < d.data.length; i += 0x8000) s += String.fromCharCode(...d.data.subarray(i, i + 0x8000));
    return { width: d.width, height: d.height, b64: btoa(s) };
  }, png.toString('base64'));
  return { width: decoded.width, height: decoded.height, data: new Uint8ClampedArray(Buffer.from(decoded.b64, 'base64')) };
}

/** Counts of pixel kinds: grey (r≈g≈b, not black), coloured (overlay), black. */
export function pixelStats(p: Pixels) {
  let grey = 0, colored = 0, black = 0;
  for (let i = 0; i < p.data.length; i += 4) {
    const r = p.data[i], g = p.data[i + 1], b = p.data[i + 2];
    const mx = Math.max(r, g, b), mn = Math.min(r, g, b);
    if (mx < 8) black++;
    else if (mx - mn > 40) colored++;
    else grey++;
  }
  const total = p.data.length / 4;
  return { grey: grey / total, colored: colored / total, black: black / total };
}

/** Number of distinct colours (quantised to 5 bits per channel): a blank or single-colour panel has a handful. */
export function distinctColours(p: Pixels): number {
  const seen = new Set<number>();
  for (let i = 0; i < p.data.length; i += 4) seen.add(((p.data[i] >> 3) << 10) | ((p.data[i + 1] >> 3) << 5) | (p.data[i + 2] >> 3));
  return seen.size;
}

/** Fraction of pixels that differ by more than `tol` in any channel. */
export function pixelDiff(a: Pixels, b: Pixels, tol = 8): number {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let diff = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (Math.abs(a.data[i] - b.data[i]) > tol || Math.abs(a.data[i + 1] - b.data[i + 1]) > tol || Math.abs(a.data[i + 2] - b.data[i + 2]) > tol) diff++;
  }
  return diff / (a.data.length / 4);
}

/** Starts recording the longest gap between animation frames; the returned function reads it (ms). A page whose
 *  main thread is blocked shows a long gap. */
export async function watchFrameGaps(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as unknown as { __maxGap: number };
    w.__maxGap = 0;
    let last = performance.now();
    const tick = (t: number) => { w.__maxGap = Math.max(w.__maxGap, t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  return () => page.evaluate(() => (window as unknown as { __maxGap: number }).__maxGap);
}
