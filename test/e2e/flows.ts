// E2E user flows shared by specs: the backend badge and its self-check, and a micro training run set up the way a
// user would (T, size, the timm fixture encoder dropped with its config, run settings, Train → done).
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, dropFiles } from './harness.ts';

const fixture = (n: string) => new Uint8Array(readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts', n)));

/** Waits until the backend badge has been filled in by the worker's probe; returns its text and tooltip. */
export async function backendBadge(page: Page, timeout = 60_000): Promise<{ text: string; title: string }> {
  const badge = page.getByTestId('backend');
  await expect.poll(() => badge.textContent(), { timeout }).not.toMatch(/checking/);
  return { text: (await badge.textContent()) ?? '', title: (await badge.getAttribute('title')) ?? '' };
}

export interface CheckOutcome {
  ok: boolean;
  status: string;
  text: string;
  /** The tooltip: every quantity with its tolerance, the worst gradient, step times. */
  details: string;
  /** The largest relative difference quoted in the text ('max rel. diff 3e-6'); NaN when there is none. */
  maxRelDiff: number;
  ms: number;
}

/** Runs the self-check from the keyboard (focus the Check button, Enter) and waits for the verdict. */
export async function runBackendCheck(page: Page, timeout = 60_000): Promise<CheckOutcome> {
  const t0 = Date.now();
  await page.getByTestId('backend-check').focus();
  await page.keyboard.press('Enter');
  const result = page.getByTestId('backend-check-result');
  await expect.poll(() => result.getAttribute('data-status'), { timeout }).toMatch(/^(done|failed)$/);
  const text = (await result.textContent()) ?? '';
  return {
    ok: (await result.getAttribute('data-ok')) === 'true',
    status: (await result.getAttribute('data-status')) ?? '',
    text,
    details: (await result.getAttribute('title')) ?? '',
    maxRelDiff: Number(/max rel\. diff ([^)\s]+)/.exec(text)?.[1] ?? NaN),
    ms: Date.now() - t0,
  };
}

export interface MicroRun {
  /** Slices per window and in-plane size of the model (the encoder is inflated to them). */
  T: number;
  size: number;
  steps: number;
  batch: number;
  /** Validate every n steps (0: never). */
  valEvery: number;
  lr: number;
}

/** Model options, the timm micro encoder (2 heads) dropped with its config, and the run settings. */
export async function setUpMicroRun(page: Page, r: MicroRun): Promise<void> {
  await page.getByTestId('opt-T').fill(String(r.T));
  await page.getByTestId('opt-size').fill(String(r.size));
  await dropFiles(page, [{ name: 'timm_vit.safetensors', bytes: fixture('timm_vit.safetensors') }, { name: 'config.json', bytes: new TextEncoder().encode('{"num_heads": 2}') }]);
  await page.getByTestId('encoder-card').waitFor();
  await page.getByTestId('cfg-steps').fill(String(r.steps));
  await page.getByTestId('cfg-batch').fill(String(r.batch));
  await page.getByTestId('cfg-val').fill(String(r.valEvery));
  await page.getByTestId('cfg-lr').fill(String(r.lr));
}

/** Clicks Train and waits until the run is under way (its first step may still be computing). */
export async function startRun(page: Page, timeout = 60_000): Promise<void> {
  await page.getByTestId('train-start').click();
  await expect.poll(() => page.getByTestId('run-status').getAttribute('data-state'), { timeout }).toMatch(/^(running|done|failed)$/);
}

/** Waits for the run to finish; fails with the status line unless it is done. Returns the loss chart's point count. */
export async function runToDone(page: Page, timeout = 120_000): Promise<number> {
  const status = page.getByTestId('run-status');
  await expect.poll(() => status.getAttribute('data-state'), { timeout }).toMatch(/^(done|failed)$/);
  expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
  return Number(await page.getByTestId('chart-loss').getAttribute('data-points'));
}
