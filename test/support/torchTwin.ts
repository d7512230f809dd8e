// Helpers of the PyTorch twin's tests (python/inflateseg_torch): Debian's python with torch + nibabel, the CLI as a
// child process, and the app's logits of a checkpoint on the cpu backend written as raw float32 files.
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { forward, createParams, makeConfig } from '../../src/model/index.ts';
import { decodeModelCheckpoint } from '../../src/weights/checkpoint.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const PYTHON = '/usr/bin/python3';
export const CLI = path.join(ROOT, 'scripts/inflateseg.mjs');
export const SAMPLE = [path.join(ROOT, 'public/samples/itk_kmeans_t1.nii.gz'), path.join(ROOT, 'public/samples/itk_kmeans_t1_seg.nii.gz')];
export const LAYOUTS = path.join(ROOT, 'test/fixtures/weights/layouts');

/** Throws (never skips) when Debian's python lacks torch or nibabel, with what to install. */
export function requireTorch(): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch, nibabel'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${PYTHON} cannot import torch and nibabel (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}): ` +
      'install them with `apt-get install python3-torch python3-nibabel` (CI installs them in .ci/run)');
  }
}

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs a command to its end; resolves with its exit code and output. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `node scripts/inflateseg.mjs ARGS`; throws with the log when it fails. */
export async function cli(args: string[]): Promise<Run> {
  const r = await run(process.execPath, [CLI, ...args]);
  if (r.code !== 0) throw new Error(`inflateseg ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** `python3 -m inflateseg_torch ARGS` (PYTHONPATH = python/); throws with the log when it fails. */
export async function py(args: string[], env: Record<string, string> = {}, cmd = PYTHON): Promise<Run> {
  const r = await run(cmd, args, { PYTHONPATH: path.join(ROOT, 'python'), ...env });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** Deterministic window values in 0…1 (the same formula as scripts/check-checkpoint-torch.py). */
export function windowInput(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
}

/**
 * The app's logits of checkpoint `file` on B deterministic windows (cpu backend): writes `<prefix>.input.f32`
 * ([B, T, H, W, C]) and `<prefix>.logits.f32` ([B, H, W, K]); returns the parity case for `python -m inflateseg_torch parity`.
 */
export async function appLogits(name: string, file: string, prefix: string, B = 2) {
  const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(file)), file);
  const config = makeConfig(ckpt.meta.config);
  const params = createParams(config, ckpt.weights, 0);
  const shape: [number, number, number, number, number] = [B, config.T, config.imgSize, config.imgSize, config.inChans];
  const x = windowInput(shape.reduce((a, b) => a * b, 1));
  const logits = tf.tidy(() => forward(params, config, tf.tensor5d(x, shape)));
  const data = (await logits.data()) as Float32Array;
  logits.dispose();
  for (const v of params.values()) v.dispose();
  writeFileSync(`${prefix}.input.f32`, x);
  writeFileSync(`${prefix}.logits.f32`, data);
  return { name, checkpoint: file, input: `${prefix}.input.f32`, logits: `${prefix}.logits.f32`, shape };
}
