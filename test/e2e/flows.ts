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

/** One validation as the page shows it: wall seconds since Train was clicked, step, mean foreground Dice. */
export interface SeenValidation { t: number; step: number; meanDice: number }

/**
 * The first run of a new user, nothing touched: the page opens on its default sample, *Micro ViT (quick try)* (in the
 * run bar), *Train*;
 * then waits until the run ends, noting every validation the page shows (data-testid latest-dice) and when it was
 * seen. `onTick` runs at each poll (screenshots mid-run). Returns the validations and the run's final state.
 */
export async function firstRun(page: Page, opts: { timeout?: number; onTick?: (s: SeenValidation[]) => Promise<void> } = {}): Promise<{ validations: SeenValidation[]; state: string; seconds: number }> {
  await page.getByTestId('legend').waitFor({ timeout: 60_000 });
  // The quick try as the run bar offers it before any encoder is loaded (the Model section has the same button).
  await page.getByTestId('runbar-micro').click();
  await page.getByTestId('encoder-card').waitFor({ state: 'attached', timeout: 60_000 });
  const t0 = Date.now();
  await page.getByTestId('train-start').click();
  const status = page.getByTestId('run-status');
  const latest = page.getByTestId('latest-dice');
  const validations: SeenValidation[] = [];
  const end = t0 + (opts.timeout ?? 400_000);
  for (;;) {
    if (await latest.count()) {
      const step = Number(await latest.getAttribute('data-step'));
      const meanDice = Number(await latest.getAttribute('data-mean-dice'));
      if (step > 0 && step !== validations[validations.length - 1]?.step) validations.push({ t: (Date.now() - t0) / 1000, step, meanDice });
    }
    const state = (await status.getAttribute('data-state')) ?? '';
    if (/^(done|failed|stopped)$/.test(state) && (state !== 'done' || validations[validations.length - 1]?.step === Number(/step (\d+)\//.exec((await status.textContent()) ?? '')?.[1]))) {
      return { validations, state, seconds: (Date.now() - t0) / 1000 };
    }
    if (Date.now() > end) throw new Error(`the first run had not ended after ${(end - t0) / 1000} s: ${await status.textContent()}`);
    await opts.onTick?.(validations);
    await page.waitForTimeout(400);
  }
}
