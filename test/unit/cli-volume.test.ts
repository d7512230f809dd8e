// The command line with the volume-based model (issue 16), as a user runs it (a child process, wasm): train the 3D
// UNETR micro preset from scratch on the bundled ITK head for a few steps, evaluate the checkpoint it wrote (whole
// volume by sliding window: a prediction on the image's grid, Dice and HD95), and the refusals: export-torch of a
// volume checkpoint, window-model flags with --model unetr3d.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnyCheckpoint, isVolumeCheckpoint } from '../../src/weights/checkpoint.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'scripts/inflateseg.mjs');
const IMAGE = path.join(ROOT, 'public/samples/itk_kmeans_t1.nii.gz');
const LABEL = path.join(ROOT, 'public/samples/itk_kmeans_t1_seg.nii.gz');

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-cli-volume-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const out = (name: string) => path.join(tmp, name);

describe('inflateseg train --model unetr3d / eval (child process, wasm)', () => {
  it('trains the micro 3D UNETR, and eval scores its checkpoint on the whole volume', { timeout: 180_000 }, async () => {
    const t = await cli(['train', IMAGE, LABEL, '--model', 'unetr3d', '--preset', 'micro', '--steps', '2', '--val-every', '0', '--backend', 'wasm', '--out', out('run')]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/3D UNETR \(micro\): 32×32×32 crops/);
    expect(t.stderr).toMatch(/lr 0\.003/);
    expect(t.stderr).toMatch(/validation at step 2: mean Dice/);
    const ckpt = await decodeAnyCheckpoint(new Uint8Array(readFileSync(out('run/model.safetensors'))), 'model.safetensors');
    expect(isVolumeCheckpoint(ckpt)).toBe(true);
    expect(ckpt.meta.config).toMatchObject({ model: 'unetr3d', crop: [32, 32, 32], inChans: 1, numClasses: 7 });
    expect(ckpt.meta.train).toMatchObject({ loss: 'dice-ce', lr: 3e-3, weightDecay: 1e-5, clip: 0 });
    expect(ckpt.meta.step).toBe(2);
    expect(ckpt.optim).not.toBeNull();
    expect(JSON.parse(readFileSync(out('run/metrics.json'), 'utf8'))).toMatchObject({ command: 'train', state: 'done', step: 2, inflation: null, model: { model: 'unetr3d' } });

    const e = await cli(['eval', IMAGE, LABEL, '--model', out('run/model.safetensors'), '--backend', 'wasm', '--out', out('eval')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/model: .*model\.safetensors \(step 2, 3D UNETR \(micro\).*sliding window with overlap 0\.25\)/);
    expect(existsSync(out('eval/itk_kmeans_t1_pred.nii.gz'))).toBe(true);
    const m = JSON.parse(readFileSync(out('eval/metrics.json'), 'utf8'));
    expect(m.cases).toHaveLength(1);
    expect(m.cases[0].dice).toHaveLength(7);
    expect(m.cases[0].meanDice).toBeGreaterThan(0);
    expect(m.cases[0].hd95).toHaveLength(7);

    const x = await cli(['export-torch', IMAGE, LABEL, '--model', out('run/model.safetensors'), '--out', out('torch')]);
    expect(x.code).not.toBe(0);
    expect(x.stderr).toMatch(/model\.safetensors: a volume-based model \(3D UNETR, preset custom\): export-torch continues window-based models only/);
    expect(existsSync(out('torch/model.safetensors'))).toBe(false);
  });

  it('refuses window-model flags with --model unetr3d, and --preset without it', async () => {
    const a = await cli(['train', IMAGE, LABEL, '--model', 'unetr3d', '--encoder', 'micro', '--out', out('bad')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--model unetr3d is trained from scratch at its preset's crop size; --encoder belong to the window model/);
    const b = await cli(['train', IMAGE, LABEL, '--encoder', 'micro', '--preset', 'micro', '--out', out('bad')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--preset chooses the size of --model unetr3d/);
    expect(existsSync(out('bad'))).toBe(false);
  });
});
