// The volume model's training step (UNETR over 3D crops, src/model/volume): forward, Dice + CE, backward and AdamW
// (lr 1e-4, weight decay 1e-5) on a random crop, batch 1, per preset on tfjs wasm in Node, beside the same step in
// PyTorch on this CPU (bench/unetr3d_step.py, the parity-tested reference), with counted FLOPs (src/model/volume/flops3d.ts).
// Writes bench/results-train.json's "unetr3d" key (the rest of the file is kept; so are rows of presets not run).
// NOTE: bench/train.ts rewrites that file whole: run this after it. Reported, never asserted.
// Env: UNETR3D_PRESETS (micro,browser,monai-btcv), UNETR3D_REPS (3), UNETR3D_TORCH_THREADS (1,2), UNETR3D_SKIP_TORCH.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../src/train/backend.ts';
import { makeAdamW } from '../src/train/optim/index.ts';
import { createUnetr3dParams, unetr3dForward, unetr3dParamCount, UNETR3D_MICRO, volumeConfig, volumeLoss, type VolumeModelConfig } from '../src/model/volume/index.ts';
import { unetr3dCost } from '../src/model/volume/flops3d.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const env = (k: string, d: string) => (process.env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const PRESETS = env('UNETR3D_PRESETS', 'micro,browser,monai-btcv');
const REPS = Math.max(1, Number(process.env.UNETR3D_REPS ?? 3));
const THREADS = env('UNETR3D_TORCH_THREADS', '1,2').map(Number);

const configOf = (p: string): VolumeModelConfig =>
  p === 'micro' ? { ...UNETR3D_MICRO, inChans: 1, numClasses: 2 } : volumeConfig(p as 'browser' | 'monai-btcv', { inChans: 1, numClasses: 14 });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function tfjsStep(label: string, cfg: VolumeModelConfig) {
  const params = createUnetr3dParams(cfg, 0);
  const opt = makeAdamW({ weightDecay: 1e-5 });
  const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
  const vars = [...params.values()];
  const x = tf.randomNormal([1, ...cfg.crop, cfg.inChans]);
  const y = tf.randomUniform([1, ...cfg.crop], 0, cfg.numClasses, 'int32');
  const ms: number[] = [];
  let peakBytes = 0;
  for (let i = 0; i <= REPS; i++) {
    const t0 = performance.now();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => volumeLoss(unetr3dForward(params, cfg, x), y), vars);
      peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      opt.step(params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g])), 1e-4);
      return value;
    });
    loss.dataSync();
    loss.dispose();
    if (i > 0) ms.push(performance.now() - t0);
    else console.log(`  ${label}: warm-up ${(performance.now() - t0).toFixed(0)} ms`);
  }
  tf.dispose([x, y]);
  opt.dispose();
  for (const v of params.values()) v.dispose();
  return { ms, medianMs: median(ms), peakTensorMiB: peakBytes / 2 ** 20 };
}

async function main() {
  const info = await chooseBackend('wasm');
  const rows: Record<string, unknown>[] = [];
  for (const p of PRESETS) {
    const cfg = configOf(p);
    const cost = unetr3dCost(cfg);
    const row: Record<string, unknown> = { preset: p, loadStart: os.loadavg(), config: cfg, params: unetr3dParamCount(cfg), forwardGMacs: cost.totalMacs / 1e9, stepGFlops: (6 * cost.totalMacs) / 1e9, fullResShare: cost.fullResMacs / cost.totalMacs };
    try {
      const r = await tfjsStep(p, cfg);
      row.wasm = { adapter: info.adapter, ...r, gflopsPerS: (6 * cost.totalMacs) / 1e6 / r.medianMs };
      console.log(`${p}: wasm ${r.medianMs.toFixed(0)} ms/step (${(row.wasm as { gflopsPerS: number }).gflopsPerS.toFixed(1)} GFLOP/s counted, peak tensors ${r.peakTensorMiB.toFixed(0)} MiB)`);
    } catch (err) {
      row.wasm = { error: err instanceof Error ? err.message : String(err) };
      console.log(`${p}: wasm failed: ${(row.wasm as { error: string }).error}`);
    }
    if (!process.env.UNETR3D_SKIP_TORCH) {
      row.torch = THREADS.map((t) => {
        const out = execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench/unetr3d_step.py'), '--configs', JSON.stringify([{ ...cfg, label: p }]), '--threads', String(t), '--reps', String(REPS)], { encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as { medianMs: number };
        console.log(`${p}: torch ${t} thread(s) ${r.medianMs.toFixed(0)} ms/step`);
        return r;
      });
    }
    rows.push(row);
  }
  const file = path.join(ROOT, 'bench/results-train.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> : {};
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  // Rows of presets not run this time are kept (e.g. UNETR3D_PRESETS=monai-btcv UNETR3D_REPS=1 adds that row alone).
  const before = (all.unetr3d as { rows?: { preset: string }[] } | undefined)?.rows ?? [];
  const machine = { cpus: os.cpus().length, node: process.version, date: new Date().toISOString(), commit, loadEnd: os.loadavg() };
  all.unetr3d = { rows: [...before.filter((r) => !PRESETS.includes(r.preset)), ...rows.map((r) => ({ ...r, machine }))] };
  writeFileSync(file, `${JSON.stringify(all, null, 1)}\n`);
}

await main();
