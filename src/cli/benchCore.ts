// The training-step benchmark's core, shared by `inflateseg bench` and bench/train.ts: a generated encoder
// (benchShapes.ts), the model and AdamW as a TrainingRun builds them, timed steps with the tensor memory after each,
// and the backend's plain matMul throughput.
import * as tf from '@tensorflow/tfjs';
import { createParams, type ModelConfig } from '../model/index.ts';
import { makeAdamW } from '../train/optim/adamw.ts';
import { makeTrainStep } from '../train/step.ts';
import { trainStepFlops, type StepFlops } from '../weights/flops.ts';
import { DEFAULT_TRAIN_CONFIG } from '../workers/train.protocol.ts';
import { benchConfig, generatedEncoder, type StepShape } from './benchShapes.ts';

export interface MemoryPoint { step: number; numTensors: number; numBytes: number }

export interface StepBench {
  shape: StepShape;
  config: ModelConfig;
  flops: StepFlops;
  /** ms of the warm-up steps (the first builds AdamW's state; WebGPU compiles its shaders). */
  warmupMs: number[];
  /** ms of each timed step. */
  ms: number[];
  median: number;
  samplesPerSec: number;
  /** Counted FLOPs per second of the median step, in GFLOP/s. */
  gflops: number;
  /** tf.memory() after every step, warm-up included (step 1 = the first). */
  memory: MemoryPoint[];
  /** Growth from step 1 to the last step (0, 0: flat). */
  growth: { numTensors: number; numBytes: number };
  /** Set when the timed steps were skipped because the warm-up took longer than `skipAboveMs`. */
  skipped?: string;
}

export interface StepBenchOptions {
  /** Steps timed after the warm-up (default 3). */
  steps?: number;
  /** Untimed steps first (default 1). */
  warmup?: number;
  /** When the first warm-up step takes longer, stop there and say so (default: never). */
  skipAboveMs?: number;
  /** When the first warm-up step takes longer, time only one step (default: never). */
  oneStepAboveMs?: number;
  /** Called after every step (warm-up included). */
  onStep?: (step: number, ms: number, timed: boolean) => void;
}

/** The median (the lower middle for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * Trains the shape on the active backend with the app's defaults (Dice + focal, AdamW with weight decay and
 * gradient clipping, one tf.tidy per step as TrainingRun does, the batch uploaded each step) on fixed random data.
 * Everything it made is disposed before it returns.
 */
export async function benchTrainStep(shape: StepShape, opts: StepBenchOptions = {}): Promise<StepBench> {
  const steps = opts.steps ?? 3;
  const warmup = Math.max(1, opts.warmup ?? 1);
  const enc = generatedEncoder(shape);
  const config = benchConfig(shape, enc.spec);
  const params = createParams(config, enc.state, 0);
  const cfg = DEFAULT_TRAIN_CONFIG;
  const opt = makeAdamW({ weightDecay: cfg.weightDecay, maxGradNorm: cfg.clip > 0 ? cfg.clip : null });
  const trainStep = makeTrainStep(params, config, opt, cfg);
  const { batch: B, size: S } = shape;
  const T = config.T;
  // NOTE: fixed pseudo-random inputs (a window in [0, 1], labels over every class): the values do not change the work.
  const x = new Float32Array(B * T * S * S);
  const y = new Int32Array(B * S * S);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) { seed = (seed * 1664525 + 1013904223) >>> 0; x[i] = seed / 2 ** 32; }
  for (let i = 0; i < y.length; i++) { seed = (seed * 1664525 + 1013904223) >>> 0; y[i] = seed % config.numClasses; }
  const memory: MemoryPoint[] = [];
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const loss = tf.tidy(() => {
      const xs = tf.tensor5d(x, [B, T, S, S, 1]);
      const ys = tf.tensor3d(y, [B, S, S], 'int32');
      return trainStep(xs, ys, 1e-4);
    });
    const v = (await loss.data())[0];
    loss.dispose();
    const ms = performance.now() - t0;
    if (!Number.isFinite(v)) throw new Error(`bench: the loss became ${v} at step ${memory.length + 1}`);
    const m = tf.memory();
    memory.push({ step: memory.length + 1, numTensors: m.numTensors, numBytes: m.numBytes });
    return ms;
  };
  const warmupMs: number[] = [];
  const ms: number[] = [];
  let skipped: string | undefined;
  try {
    for (let i = 0; i < warmup; i++) {
      warmupMs.push(await step());
      opts.onStep?.(memory.length, warmupMs[i], false);
      if (i === 0 && opts.skipAboveMs !== undefined && warmupMs[0] > opts.skipAboveMs) {
        skipped = `skipped: the first step took ${(warmupMs[0] / 1000).toFixed(1)} s (> ${(opts.skipAboveMs / 1000).toFixed(0)} s)`;
        break;
      }
    }
    const n = skipped ? 0 : opts.oneStepAboveMs !== undefined && warmupMs[0] > opts.oneStepAboveMs ? Math.min(1, steps) : steps;
    for (let i = 0; i < n; i++) {
      ms.push(await step());
      opts.onStep?.(memory.length, ms[i], true);
    }
  } finally {
    opt.dispose();
    for (const v of params.values()) v.dispose();
  }
  const flops = trainStepFlops(config.encoder, { kind: config.decoder, width: config.decoderWidth, numClasses: config.numClasses }, S, 1, T, B);
  const med = ms.length ? median(ms) : warmupMs[0];
  const first = memory[0];
  const last = memory[memory.length - 1];
  return {
    shape, config, flops, warmupMs, ms, median: med, samplesPerSec: (B * 1000) / med, gflops: flops.stepFlops / 1e9 / (med / 1000),
    memory, growth: { numTensors: last.numTensors - first.numTensors, numBytes: last.numBytes - first.numBytes }, skipped,
  };
}

export interface MatMulThroughput {
  /** GFLOP/s of one plain [n, n] · [n, n] product per size (the median of 3 after a warm-up). */
  sizes: Array<{ n: number; gflops: number }>;
  best: number;
}

/**
 * Plain square matMul throughput on the active backend, sizes in order. NOTE: a size is skipped once one product
 * would take over ~2 s at the rate measured so far (the cpu backend and software WebGPU run at ~0.3–1 GFLOP/s).
 */
export async function matMulThroughput(sizes: readonly number[] = [256, 512, 1024]): Promise<MatMulThroughput> {
  const out: Array<{ n: number; gflops: number }> = [];
  for (const n of sizes) {
    const prev = out.at(-1);
    if (prev && (2 * n ** 3) / (prev.gflops * 1e9) > 2) break;
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 3) as tf.Tensor2D;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, a);
      await c.data();
      c.dispose();
      if (i > 0) times.push(performance.now() - t0);
    }
    a.dispose();
    out.push({ n, gflops: (2 * n ** 3) / (median(times) / 1000) / 1e9 });
  }
  return { sizes: out, best: Math.max(...out.map((s) => s.gflops)) };
}
