// Training / inference / method / memory benchmarks (`npm run bench:train`), in one run, side by side: training steps of
// ViT-Tiny and ViT-Small at 128 and 224 px (T 5, batch 2, UNETR and UPerNet heads) on each tfjs backend in Node, with
// counted GFLOP/s as a fraction of that backend's plain matMul throughput; PyTorch on the same shapes (bench/
// torch_step.py); the FLOPs of `center` T 5 vs `2d`; tensor memory over 100 steps; whole-volume evaluation of Colin27.
// Core: src/cli/benchCore.ts (as `inflateseg bench`). Reported, never asserted: bench/RESULTS.md, bench/results-train.json.
// Part 'ceiling': the arithmetic ceiling of wasm SIMD on one thread (bench/wasm-peak.ts) beside the matMul of tfjs's own
// wasm kernel (XNNPACK), of ours (src/train/wasm/matmul.ts) and of PyTorch.
// Env: BENCH_PARTS (train,torch,method,memory,inference,ceiling), BENCH_TRAIN_BACKENDS (wasm,cpu,webgpu), BENCH_TRAIN_REPS (3),
// BENCH_SLOW_S (20: cpu/WebGPU rows estimated slower than this per step are skipped), BENCH_TORCH_THREADS (1,2);
// for quick tries: BENCH_SHAPES (training rows whose label contains one of these, e.g. 'vit_tiny 128'), BENCH_MEMORY_STEPS (100);
// BENCH_OUT (bench/results-train.json): where the JSON goes.
import { execFileSync, spawn } from 'node:child_process';
import { openAsBlob, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../src/train/backend.ts';
import { installDawn } from '../src/cli/backend.ts';
import { useZlib } from '../src/cli/common.ts';
import { benchTrainStep, matMulThroughput, median, type MatMulThroughput, type StepBench } from '../src/cli/benchCore.ts';
import { BENCH_ENCODERS, BENCH_SWIN, benchTrainShapes, isBenchSwin, generatedEncoder, growthText, mib, shapeFlops, shapeLabel, type BenchEncoder, type StepShape } from '../src/cli/benchShapes.ts';
import { trainStepFlops, encoderCost } from '../src/weights/flops.ts';
import { microSpec } from '../src/weights/micro.ts';
import { TrainingRun, caseVolume } from '../src/train/run.ts';
import { evaluateVolume } from '../src/train/evaluate.ts';
import { loadVolume } from '../src/workers/nifti.job.ts';
import { DEFAULT_TRAIN_CONFIG, type CaseData } from '../src/workers/train.protocol.ts';
import { wasmGemm } from '../src/train/wasm/matmul.ts';
import { wasmPeak, type WasmPeak } from './wasm-peak.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const env = (k: string, d: string) => (process.env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const PARTS = env('BENCH_PARTS', 'train,torch,method,memory,inference,ceiling');
const BACKENDS = env('BENCH_TRAIN_BACKENDS', 'wasm,cpu,webgpu');
const REPS = Math.max(1, Number(process.env.BENCH_TRAIN_REPS ?? 3));
const SLOW_MS = 1000 * Number(process.env.BENCH_SLOW_S ?? 20);
const TORCH_THREADS = env('BENCH_TORCH_THREADS', '1,2').map(Number);
const SHAPES = env('BENCH_SHAPES', '');
const MEMORY_STEPS = Math.max(2, Number(process.env.BENCH_MEMORY_STEPS ?? 100));
const results: Record<string, unknown> = {};
const say = (s: string) => console.log(s);
const f1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const label = shapeLabel;

// --- backends -------------------------------------------------------------------------------------------------
const adapters: Record<string, string> = {};
async function useBackend(name: string): Promise<boolean> {
  if (adapters[name]) return tf.setBackend(name);
  try {
    if (name === 'webgpu') {
      const dawn = await installDawn();
      if ('problem' in dawn) throw new Error(dawn.problem);
    }
    const info = await chooseBackend(name as 'wasm' | 'cpu' | 'webgpu');
    adapters[name] = `${info.adapter}${info.software && name !== 'cpu' ? ' (software)' : ''}`;
    return true;
  } catch (err) {
    say(`(${name}: not available: ${err instanceof Error ? err.message : String(err)})`);
    return false;
  }
}

const matmul: Record<string, MatMulThroughput> = {};
async function matmulOf(backend: string): Promise<MatMulThroughput> {
  matmul[backend] ??= await matMulThroughput();
  return matmul[backend];
}

function row(b: StepBench, backend: string) {
  return {
    backend, shape: b.shape, decoderWidth: b.config.decoderWidth, flops: b.flops, warmupMs: b.warmupMs, ms: b.ms, medianMs: b.median,
    samplesPerSec: b.samplesPerSec, gflopsPerSec: b.gflops, fractionOfMatMul: b.gflops / matmul[backend].best, skipped: b.skipped,
    memoryAfter: b.memory.at(-1), growth: b.growth,
  };
}

// --- training steps: wasm on every shape, cpu/WebGPU where an estimate says the step finishes in time ----------
const TRAIN_SHAPES = benchTrainShapes(SHAPES);

type Row = ReturnType<typeof row> | { backend: string; shape: StepShape; skipped: string; estimateMs: number };
async function partTrain(): Promise<Row[]> {
  const rows: Row[] = [];
  const wasmMs = new Map<StepShape, number>();
  for (const backend of BACKENDS) {
    if (!(await useBackend(backend))) continue;
    const mm = await matmulOf(backend);
    say(`\n${backend} — ${adapters[backend]}: plain matMul ${mm.sizes.map((s) => `${s.n}² ${f1(s.gflops)}`).join(', ')} GFLOP/s (best ${f1(mm.best)})`);
    // NOTE: off wasm, a row runs only when its step is estimated under SLOW_MS: its wasm time × this backend's slowdown
    // over wasm on the largest row run on both so far (the micro row first).
    let slowdown = 1;
    for (const shape of TRAIN_SHAPES) {
      const ref = wasmMs.get(shape);
      if (backend !== 'wasm') {
        const estimate = (ref ?? Infinity) * slowdown;
        if (estimate > SLOW_MS) {
          const skipped = `skipped: > ${SLOW_MS / 1000} s/step (estimated ${ref === undefined ? '—' : f1(estimate / 1000)} s)`;
          rows.push({ backend, shape, skipped, estimateMs: estimate });
          say(`${label(shape).padEnd(36)} ${backend.padEnd(6)} ${skipped}`);
          continue;
        }
      }
      const b = await benchTrainStep(shape, { steps: REPS, skipAboveMs: backend === 'wasm' ? undefined : 2 * SLOW_MS, oneStepAboveMs: 5000 });
      const r = row(b, backend);
      rows.push(r);
      if (backend === 'wasm') wasmMs.set(shape, b.median);
      else if (ref !== undefined && !b.skipped) slowdown = b.median / ref;
      say(`${label(shape).padEnd(36)} ${backend.padEnd(6)} ${b.skipped ?? `${b.median.toFixed(0).padStart(6)} ms (${b.ms.map((m) => m.toFixed(0)).join(', ')})  ${b.samplesPerSec.toFixed(2)} samples/s`}  `
        + `${(b.flops.stepFlops / 1e9).toFixed(2)} GFLOP/step → ${b.gflops.toFixed(2)} GFLOP/s = ${pct(r.fractionOfMatMul)} of matMul; ${b.memory.at(-1)!.numTensors} tensors ${mib(b.memory.at(-1)!.numBytes)} ${growthText(b.growth)}`);
    }
  }
  return rows;
}

// --- PyTorch on the same shapes (ViT-Tiny/Small rows), same machine, right after ------------------------------
interface TorchStep { arch?: string; dim: number; size: number; decoder: string; threads: number; median_ms: number; min_ms: number; max_ms: number }
interface TorchOut { matmul: Array<{ threads: number; best: number; gflops: Record<string, number> }>; steps: TorchStep[] }
function torchRun(shapes: StepShape[], threads: number): Promise<TorchOut> {
  // ViT rows as dim:heads:size:decoder; Swin rows (the Swin-T of test/reference/swin_torch.py) as dim:heads:size:decoder:swin:classes.
  const rows = shapes.map((s) => {
    if (isBenchSwin(s.encoder)) return `${BENCH_SWIN[s.encoder].embedDim}:${BENCH_SWIN[s.encoder].numHeads}:${s.size}:${s.decoder}:swin:${s.numClasses ?? 8}`;
    const e = BENCH_ENCODERS[s.encoder];
    return `${e.embedDim}:${e.numHeads}:${s.size}:${s.decoder}`;
  }).join(',');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(ROOT, 'bench/torch_step.py'), '--rows', rows, '--threads', String(threads), '--reps', '5', '--warmup', '2', '--json']);
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench/torch_step.py exited ${code}: ${err.trim().split('\n').at(-1)}`));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { kind: string } & Record<string, unknown>);
      resolve({ matmul: lines.filter((l) => l.kind === 'matmul') as never, steps: lines.filter((l) => l.kind === 'step') as never });
    });
  });
}

async function partTorch(train: Row[]) {
  const shapes = TRAIN_SHAPES.filter((s) => s.encoder !== 'micro');
  const out: TorchOut = { matmul: [], steps: [] };
  for (const threads of TORCH_THREADS) {
    const r = await torchRun(shapes, threads);
    out.matmul.push(...r.matmul);
    out.steps.push(...r.steps);
  }
  for (const m of out.matmul) say(`PyTorch ${m.threads} thread(s): matmul ${Object.entries(m.gflops).map(([n, g]) => `${n}² ${f1(g)}`).join(', ')} GFLOP/s (best ${f1(m.best)})`);
  const ratios = [];
  for (const s of shapes) {
    const swin = isBenchSwin(s.encoder);
    const dim = swin ? BENCH_SWIN[s.encoder as keyof typeof BENCH_SWIN].embedDim : BENCH_ENCODERS[s.encoder as keyof typeof BENCH_ENCODERS].embedDim;
    const wasm = train.find((r) => r.backend === 'wasm' && r.shape === s && 'medianMs' in r) as ReturnType<typeof row> | undefined;
    const torch = out.steps.filter((t) => (t.arch === 'swin') === swin && t.dim === dim && t.size === s.size && t.decoder === s.decoder);
    const flops = shapeFlops(s).stepFlops;
    const parts = torch.map((t) => `${t.threads} thr ${t.median_ms.toFixed(0)} ms (${(flops / 1e9 / (t.median_ms / 1000)).toFixed(1)} GFLOP/s)`);
    const best = Math.min(...torch.map((t) => t.median_ms));
    const one = torch.find((t) => t.threads === 1)?.median_ms;
    ratios.push({ shape: s, wasmMs: wasm?.medianMs, torch, ratioBest: wasm ? wasm.medianMs / best : null, ratioOneThread: wasm && one ? wasm.medianMs / one : null });
    say(`${label(s).padEnd(36)} wasm ${wasm ? wasm.medianMs.toFixed(0) : '—'} ms; PyTorch ${parts.join(', ')}; tfjs/PyTorch ${wasm ? `${(wasm.medianMs / best).toFixed(1)}× (best), ${one ? (wasm.medianMs / one).toFixed(1) : '—'}× (1 thread each)` : '—'}`);
  }
  return { ...out, ratios };
}

// --- method overhead: `center` T 5 vs `2d` (T 1) ----------------------------------------------------------------
async function partMethod() {
  const counted = (['vit_tiny', 'vit_small', 'vit_base'] as BenchEncoder[]).map((encoder) => {
    const spec = microSpec(BENCH_ENCODERS[encoder]);
    const step = (T: number) => trainStepFlops(spec, { kind: 'unetr', width: 64, numClasses: 8 }, 224, 1, T, 2).stepFlops;
    const enc = (T: number) => encoderCost(spec, 224, 1, T).totalMacs;
    const r = { encoder, encoderOverhead: enc(5) / enc(1) - 1, stepOverhead: step(5) / step(1) - 1, stepFlopsT5: step(5), stepFlopsT1: step(1) };
    say(`${encoder} 224 px: encoder +${(100 * r.encoderOverhead).toFixed(2)} %, whole step (UNETR w64, batch 2) ${(step(1) / 1e9).toFixed(2)} → ${(step(5) / 1e9).toFixed(2)} GFLOP, +${(100 * r.stepOverhead).toFixed(2)} %`);
    return r;
  });
  if (!(await useBackend('wasm'))) return { counted };
  // Measured: alternate the two so a change in the machine's load hits both (2 rounds × REPS timed steps each).
  const shapes: StepShape[] = [
    { encoder: 'vit_tiny', decoder: 'unetr', size: 128, T: 5, strategy: 'center', batch: 2 },
    { encoder: 'vit_tiny', decoder: 'unetr', size: 128, T: 1, strategy: '2d', batch: 2 },
  ];
  const times: number[][] = [[], []];
  for (let round = 0; round < 2; round++) for (let i = 0; i < 2; i++) times[i].push(...(await benchTrainStep(shapes[i], { steps: REPS })).ms);
  const [center, flat] = times.map(median);
  say(`measured, wasm, ViT-Tiny 128 px UNETR batch 2: center T 5 ${center.toFixed(0)} ms (${times[0].map((t) => t.toFixed(0)).join(', ')}), 2d ${flat.toFixed(0)} ms (${times[1].map((t) => t.toFixed(0)).join(', ')}): ${center >= flat ? '+' : ''}${(100 * (center / flat - 1)).toFixed(1)} %`);
  return { counted, measured: { centerMs: times[0], flatMs: times[1], centerMedian: center, flatMedian: flat, overhead: center / flat - 1 } };
}

// --- memory over 100 steps ---------------------------------------------------------------------------------------
async function partMemory() {
  const runs: Array<[string, StepShape]> = [
    ['wasm', { encoder: 'micro', decoder: 'unetr', size: 32, T: 5, strategy: 'center', batch: 2 }],
    ['cpu', { encoder: 'micro', decoder: 'unetr', size: 32, T: 5, strategy: 'center', batch: 2 }],
    ['wasm', { encoder: 'vit_tiny', decoder: 'unetr', size: 64, T: 5, strategy: 'center', batch: 2 }],
  ];
  const out = [];
  for (const [backend, shape] of runs) {
    if (!BACKENDS.includes(backend) || !(await useBackend(backend))) continue;
    const before = tf.memory().numTensors;
    const b = await benchTrainStep(shape, { warmup: 1, steps: MEMORY_STEPS - 1 });
    const after = tf.memory().numTensors;
    const at = (n: number) => b.memory[Math.min(n, MEMORY_STEPS) - 1];
    const max = { numTensors: Math.max(...b.memory.map((m) => m.numTensors)), numBytes: Math.max(...b.memory.map((m) => m.numBytes)) };
    out.push({ backend, shape, at: [1, 10, 50, 100].map(at), max, growth: b.growth, before, after, medianMs: b.median });
    say(`${label(shape).padEnd(36)} ${backend.padEnd(6)} tensors / MiB at steps 1, 10, 50, 100: ${[1, 10, 50, 100].map((n) => `${at(n).numTensors} / ${(at(n).numBytes / 2 ** 20).toFixed(2)}`).join(', ')}; max ${max.numTensors} / ${(max.numBytes / 2 ** 20).toFixed(2)}: ${growthText(b.growth)}; `
      + `${before} tensors before, ${after} after disposal (median step ${b.median.toFixed(0)} ms)`);
  }
  return out;
}

// --- inference: whole-volume evaluation of Colin27 (1 mm), as the app's Evaluate and `inflateseg eval` ---------------
async function partInference() {
  useZlib();
  const dir = path.join(ROOT, 'public/samples');
  const img = await loadVolume(await openAsBlob(path.join(dir, 'colin27_t1.nii.gz')), 'colin27_t1.nii.gz', 'image');
  const seg = await loadVolume(await openAsBlob(path.join(dir, 'colin27_t1_seg.nii.gz')), 'colin27_t1_seg.nii.gz', 'label');
  const v = img.volume;
  const data: CaseData = { id: 'colin27', split: 'val', dims: v.dims, channels: v.channels, spacing: v.spacing, affine: v.affine, image: v.data, label: seg.volume.data };
  const runs: Array<[string, BenchEncoder, number]> = [['wasm', 'micro', 64], ['cpu', 'micro', 64], ['wasm', 'vit_tiny', 128]];
  const out = [];
  for (const [backend, encoder, size] of runs) {
    if (!BACKENDS.includes(backend) || !(await useBackend(backend))) continue;
    const e = generatedEncoder({ encoder, size, T: 5, strategy: 'center' });
    const cfg = { ...DEFAULT_TRAIN_CONFIG, decoder: 'unetr' as const };
    const run = new TrainingRun({ kind: 'encoder', encoder: { spec: e.spec, options: { strategy: 'center', T: 5, inChans: 1, imgSize: size }, tensors: [...e.state].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })) } },
      [], 8, cfg, { classNames: [], source: encoder, appVersion: 'bench' }, () => {});
    // NOTE: the batch the training worker's 'evaluate' uses: twice the training batch, 4 to 32.
    const batch = Math.min(32, Math.max(4, 2 * cfg.batch));
    const t0 = performance.now();
    let predicted = 0;
    const r = await evaluateVolume(run.params, run.config, caseVolume(data, 'image'), caseVolume(data, 'label'), run.axis, batch, (done, total) => { if (done === total) predicted = performance.now(); });
    const t1 = performance.now();
    run.dispose();
    const slices = v.dims[run.axis];
    const res = { backend, encoder, size, T: 5, batch, slices, dims: v.dims, totalS: (t1 - t0) / 1000, predictS: (predicted - t0) / 1000, metricsS: (t1 - predicted) / 1000, slicesPerSec: slices / ((predicted - t0) / 1000), meanDice: r.metrics?.meanDice };
    out.push(res);
    say(`${`${encoder} ${size} px T 5`.padEnd(22)} ${backend.padEnd(6)} ${slices} axial slices of ${v.dims.join('×')}: ${res.totalS.toFixed(1)} s in all = prediction ${res.predictS.toFixed(1)} s (${res.slicesPerSec.toFixed(1)} slices/s, batch ${batch}) + Dice/HD95 ${res.metricsS.toFixed(1)} s`);
  }
  return out;
}

// --- the ceiling: wasm SIMD's peak, tfjs's product and ours, PyTorch's ------------------------------------------------
async function partCeiling(torch: { matmul: Array<{ threads: number; best: number }> } | undefined) {
  const peak: WasmPeak = wasmPeak();
  try {
    // NOTE: Node 20 runs relaxed SIMD only behind a flag: a child process measures the fused multiply–add.
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', path.join(ROOT, 'bench/wasm-peak.ts'), '--json'], { cwd: ROOT, encoding: 'utf8' });
    peak.relaxedMadd = (JSON.parse(out.trim().split('\n').at(-1)!) as WasmPeak).relaxedMadd;
  } catch (err) {
    say(`(relaxed SIMD not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  const kernels: Record<string, MatMulThroughput> = {};
  if (await useBackend('wasm')) {
    for (const on of [true, false]) {
      wasmGemm.enabled = on;
      kernels[on ? 'ours' : 'xnnpack'] = await matMulThroughput([256, 512, 1024]);
    }
    wasmGemm.enabled = true;
  }
  const torchBest = torch?.matmul.find((m) => m.threads === 1)?.best;
  say(`wasm SIMD ceiling (f32x4 mul + add, 1 thread): ${f1(peak.simd128)} GFLOP/s; relaxed_madd ${peak.relaxedMadd === null ? '—' : f1(peak.relaxedMadd)}`);
  for (const [k, m] of Object.entries(kernels)) say(`tfjs wasm matMul, ${k === 'ours' ? 'our kernel' : "tfjs's own (XNNPACK)"}: ${m.sizes.map((x) => `${x.n}² ${f1(x.gflops)}`).join(', ')} GFLOP/s = ${pct(m.best / peak.simd128)} of the ceiling`);
  if (torchBest) say(`PyTorch matmul, 1 thread: ${f1(torchBest)} GFLOP/s = ${(torchBest / peak.simd128).toFixed(1)}× the wasm ceiling`);
  return { peak, kernels, torchOneThreadBest: torchBest ?? null };
}

// --- the run ------------------------------------------------------------------------------------------------------
const git = (...args: string[]) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return ''; } };
const t0 = Date.now();
tf.enableProdMode(); // NOTE: only silences tfjs's console advice (the cpu backend's 'install tfjs-node' banner)
results.machine = {
  cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadStart: os.loadavg(),
  commit: git('rev-parse', '--short', 'HEAD'), uncommitted: git('status', '--porcelain', '--', 'src/train', 'src/model', 'src/cli', 'src/weights').split('\n').filter(Boolean),
};
say(`bench:train — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}, commit ${(results.machine as { commit: string }).commit}, load ${os.loadavg().map(f1).join(' ')}; parts ${PARTS.join(', ')}; backends ${BACKENDS.join(', ')}`);
let train: Row[] = [];
if (PARTS.includes('train')) { say('\n## Training steps'); train = await partTrain(); results.train = train; }
if (PARTS.includes('torch')) { say('\n## PyTorch, same shapes'); results.torch = await partTorch(train); }
if (PARTS.includes('method')) { say('\n## Method overhead: center T 5 vs 2d'); results.method = await partMethod(); }
if (PARTS.includes('memory')) { say('\n## Memory over 100 steps'); results.memory = await partMemory(); }
if (PARTS.includes('inference')) { say('\n## Inference: Colin27 1 mm, whole volume'); results.inference = await partInference(); }
if (PARTS.includes('ceiling')) { say('\n## Ceiling: wasm SIMD, tfjs matMul kernels, PyTorch'); results.ceiling = await partCeiling(results.torch as never); }
results.matmul = matmul;
results.adapters = adapters;
Object.assign(results.machine as object, { loadEnd: os.loadavg(), seconds: (Date.now() - t0) / 1000 });
const file = path.resolve(ROOT, process.env.BENCH_OUT ?? 'bench/results-train.json');
writeFileSync(file, JSON.stringify(results, null, 1) + '\n');
say(`\nload ${os.loadavg().map(f1).join(' ')} at the end; ${((Date.now() - t0) / 1000).toFixed(0)} s; wrote ${path.relative(ROOT, file)}`);
process.exit(0);
