// Training-step benchmark (`npm run bench:train`): ms per step, samples/s and tensor memory of the same model with
// each decoder head (UNETR-style, UPerNet) on each tfjs backend available in Node (cpu; wasm (XNNPACK, custom plain-
// matMul gradients); WebGPU through Dawn over a Vulkan driver when one is found), beside each backend's plain matMul
// throughput. Timings are reported, never asserted. Results: bench/RESULTS.md. PyTorch on the same shapes:
// bench/torch_step.py. BENCH_TRAIN_REPS (default 3): timed steps per row, after one warm-up step; the median is
// printed. BENCH_TRAIN_BACKENDS (e.g. 'wasm,cpu'): only these backends.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inflate } from '../src/weights/inflate/index.ts';
import { createParams, forward, makeConfig, segLoss, trainableVars, type DecoderKind } from '../src/model/index.ts';
import { makeAdamW } from '../src/train/optim/adamw.ts';
import { chooseBackend, registerWasm } from '../src/train/backend.ts';
import { convertEncoder } from '../src/workers/weights.job.ts';
import { encoderCost } from '../src/weights/flops.ts';
import { vitState } from '../test/support/vitCheckpoint.ts';
import type { EncoderSpec, StateDict } from '../src/weights/types.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ICD = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const REPS = Math.max(1, Number(process.env.BENCH_TRAIN_REPS ?? 3));
const HEADS: DecoderKind[] = ['unetr', 'uper'];
/** A row whose warm-up step takes longer than this gets one timed step instead of BENCH_TRAIN_REPS. */
const SLOW_MS = 30_000;

interface BenchModel {
  name: string;
  spec: EncoderSpec;
  state: StateDict;
  size: number;
  width: number;
  /** Backends to run it on (default: all found). */
  only?: string[];
  /** Decoder heads (default both). */
  heads?: DecoderKind[];
}

/** A generated timm ViT/16 (deterministic values), its classifier dropped, centre-inflated to T = 5 at `size` px. */
function generatedVit(D: number, heads: number, size: number): { spec: EncoderSpec; state: StateDict } {
  const state2d: StateDict = new Map(vitState(D, 12));
  state2d.delete('head.weight'); state2d.delete('head.bias');
  const spec: EncoderSpec = { family: 'vit', layout: 'timm', embedDim: D, depth: 12, numHeads: heads, mlpRatio: 4, patchSize: 16, inChans: 3, grid: [14, 14], hasClsToken: true, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: true, relPosBias: 'none', normEps: 1e-6, fcNorm: false };
  return inflate(state2d, spec, { strategy: 'center', T: 5, inChans: 1, imgSize: size });
}

const tiny128 = () => generatedVit(192, 3, 128);

/** GFLOP/s of one plain [n, n]·[n, n] matMul on the active backend (median of 3 after a warm-up). */
async function matmulGflops(n: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 3);
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a as tf.Tensor2D, a as tf.Tensor2D);
    await c.data();
    c.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  a.dispose();
  times.sort((x, y) => x - y);
  return (2 * n ** 3) / (times[1] / 1000) / 1e9;
}

async function models(): Promise<BenchModel[]> {
  const micro = await convertEncoder({ kind: 'files', files: [{ name: 'timm_vit.safetensors', blob: new Blob([readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts/timm_vit.safetensors'))]) }] },
    { strategy: 'center', T: 5, inChans: 1, imgSize: 32, seed: 0 }, { numHeads: 2 }, undefined);
  const tiny = generatedVit(192, 3, 64);
  const small = generatedVit(384, 6, 64);
  return [
    { name: 'micro ViT (D 24, depth 2), 32 px', spec: micro.spec, state: new Map(micro.tensors.map((t) => [t.name, { dtype: 'float32' as const, shape: t.shape, data: t.data }])) as StateDict, size: 32, width: 16 },
    { name: 'ViT-Tiny/16 (D 192, depth 12), 64 px', spec: tiny.spec, state: tiny.state, size: 64, width: 64 },
    // NOTE: cpu only: on SwiftShader one ViT-Small step would take minutes.
    { name: 'ViT-Small/16 (D 384, depth 12), 64 px', spec: small.spec, state: small.state, size: 64, width: 64, only: ['cpu', 'wasm'] },
    // NOTE: PERF_NOTES's reference shape (PyTorch 228–380 ms on this 2-core VM): wasm only, cpu would take minutes.
    { ...tiny128(), name: 'ViT-Tiny/16 (D 192, depth 12), 128 px', size: 128, width: 64, only: ['wasm'], heads: ['unetr'] },
  ];
}

async function main() {
  const backends = ['cpu'];
  try {
    await registerWasm();
    backends.push('wasm');
  } catch (err) {
    console.log(`(no wasm backend: ${err instanceof Error ? err.message : String(err)})`);
  }
  if (existsSync(ICD) && !(process.env.BENCH_TRAIN_BACKENDS && !process.env.BENCH_TRAIN_BACKENDS.includes('webgpu'))) {
    try {
      process.env.VK_ICD_FILENAMES = ICD;
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      (globalThis as unknown as { navigator: unknown }).navigator = { gpu: create([]) };
      // NOTE: src/train/backend.ts imported tfjs-backend-webgpu before navigator.gpu existed, so it did not register:
      // chooseBackend registers it with its own factory.
      await chooseBackend('webgpu');
      backends.push('webgpu');
    } catch (err) {
      console.log(`(no WebGPU in Node: ${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const only = process.env.BENCH_TRAIN_BACKENDS?.split(',');
  const B = 2, T = 5;
  console.log(`batch ${B}, T ${T}, 8 classes; median of ${REPS} timed step(s) after one warm-up step`);
  for (const backend of backends) {
    if (only && !only.includes(backend)) continue;
    await tf.setBackend(backend);
    console.log(`${backend}: plain matMul 512² ${(await matmulGflops(512)).toFixed(1)} GFLOP/s, 1024² ${(await matmulGflops(1024)).toFixed(1)} GFLOP/s`);
  }
  for (const m of await models()) {
    for (const backend of backends) {
      if (m.only && !m.only.includes(backend)) continue;
      if (only && !only.includes(backend)) continue;
      await tf.setBackend(backend);
      for (const decoder of m.heads ?? HEADS) {
        const config = makeConfig({ encoder: m.spec, numClasses: 8, T, inChans: 1, imgSize: m.size, decoderWidth: m.width, decoder });
        const params = createParams(config, m.state, 0);
        const vars = trainableVars(params);
        const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
        const opt = makeAdamW();
        const x = tf.randomUniform([B, T, m.size, m.size, 1], 0, 1, 'float32', 1);
        const y = tf.randomUniform([B, m.size, m.size], 0, 8, 'int32', 2);
        const step = async (): Promise<number> => {
          const t0 = performance.now();
          const loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => segLoss(forward(params, config, x), y as tf.Tensor3D), vars);
            opt.step(params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g])), 1e-4);
            return value;
          });
          await loss.data();
          loss.dispose();
          return performance.now() - t0;
        };
        const warm = await step(); // warm-up: shader compilation, optimizer state
        const times: number[] = [];
        for (let i = 0; i < (warm < SLOW_MS ? REPS : 1); i++) times.push(await step());
        times.sort((a, b) => a - b);
        const ms = times[Math.floor((times.length - 1) / 2)]; // the median (the lower middle for an even count)
        const gflop = (6 * B * encoderCost(m.spec, m.size, 1, T).totalMacs) / 1e9; // fwd + bwd ≈ 3× fwd, 2 FLOPs per MAC
        const mem = tf.memory();
        const head = decoder === 'uper' ? 'UPerNet' : 'UNETR';
        console.log(`${m.name.padEnd(40)} ${head.padEnd(7)} w${String(m.width).padEnd(3)} ${backend.padEnd(7)} ${ms.toFixed(0).padStart(7)} ms/step  ${((B * 1000) / ms).toFixed(2)} samples/s  `
          + `encoder ≈${(gflop / (ms / 1000)).toFixed(2)} GFLOP/s  ${mem.numTensors} tensors ${(mem.numBytes / 2 ** 20).toFixed(1)} MiB`
          + `  (warm-up ${(warm / 1000).toFixed(1)} s; ${times.length} timed)`);
        tf.dispose([x, y]);
        opt.dispose();
        for (const v of params.values()) v.dispose();
      }
    }
  }
}

await main();
