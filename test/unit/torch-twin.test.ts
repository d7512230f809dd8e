// The PyTorch twin (python/inflateseg_torch/model.py) against the app's model: checkpoints written by the CLI for
// every encoder family the app converts (micro ViT, ViT with layer scale, distilled DeiT, BEiT from timm and from the
// original release) and both heads; the app's logits on the cpu backend, the twin's on the same windows, max abs
// diff ≤ 1e-4. Debian's python3-torch and python3-nibabel are required (the test fails, never skips, without them).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appLogits, cli, LAYOUTS, py, requireTorch, SAMPLE } from '../support/torchTwin.ts';

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-twin-'));
  await tf.setBackend('cpu');
});
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

const QUICK = ['--T', '3', '--steps', '2', '--val-every', '0', '--axis', '1', '--batch', '1'];
const fixture = (name: string) => ['--encoder', path.join(LAYOUTS, `${name}.safetensors`), '--heads', '2', '--size', '16'];

/** Checkpoints to compare: name → the CLI's model flags. */
const MODELS: Record<string, string[]> = {
  'micro ViT, unetr': ['--encoder', 'micro', '--size', '32'],
  'micro ViT, uper': ['--encoder', 'micro', '--size', '32', '--decoder', 'uper'],
  'timm ViT with layer scale, unetr': fixture('timm_vit'),
  'DeiT distilled (cls + dist tokens), uper': [...fixture('timm_deit_distilled'), '--decoder', 'uper'],
  'BEiT (timm: per-layer bias, fc_norm), unetr': fixture('beit_timm'),
  'BEiT (original release: its shared table, copied per layer by the converter), uper': [...fixture('beit_original'), '--decoder', 'uper'],
};

describe('PyTorch twin', () => {
  it('has Debian\'s torch and nibabel', () => {
    requireTorch();
  });

  it('gives the app\'s logits within 1e-4 on CLI checkpoints of every family and head', async () => {
    requireTorch();
    const names = Object.keys(MODELS);
    const files = names.map((_, i) => path.join(tmp, `m${i}`));
    // Two CLI runs at a time (2 cores).
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(names.slice(i, i + 2).map((n, j) => cli(['train', ...SAMPLE, ...MODELS[n], ...QUICK, '--out', files[i + j]])));
    }
    const cases = [];
    for (let i = 0; i < names.length; i++) cases.push(await appLogits(names[i], path.join(files[i], 'model.safetensors'), path.join(tmp, `c${i}`)));
    const spec = path.join(tmp, 'parity.json');
    writeFileSync(spec, JSON.stringify(cases));
    const results = JSON.parse((await py(['-m', 'inflateseg_torch', 'parity', spec])).stdout) as { name: string; maxAbsDiff: number; maxAbsLogit: number }[];
    expect(results.map((r) => r.name)).toEqual(names);
    console.log(results.map((r) => `${r.name}: max |twin − app| ${r.maxAbsDiff.toExponential(2)} (max |logit| ${r.maxAbsLogit.toFixed(3)})`).join('\n'));
    for (const r of results) {
      expect(r.maxAbsLogit, r.name).toBeGreaterThan(1e-3); // not a trivially zero output
      expect(r.maxAbsDiff, `${r.name}: max |twin − app| = ${r.maxAbsDiff}`).toBeLessThanOrEqual(1e-4);
    }
  }, 150_000);
});
