// `inflateseg bench`: times a training step of a chosen shape on this machine with nothing to download (a generated
// encoder), and says how much of the backend's own matMul throughput it reaches and whether tensor memory grows.
import path from 'node:path';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.ts';
import { BACKEND_FLAG, VERSION, type Io } from './common.ts';
import { toJson, writeAtomic } from './output.ts';
import { BENCH_ENCODER_NAMES, BENCH_ENCODERS, growthText, mib, type BenchEncoder, type StepShape } from './benchShapes.ts';
import type { CliBackend } from './backend.ts';
import type { InflationStrategy } from '../weights/types.ts';

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'time a training step of a chosen model shape on this machine (generated weights, no download)',
  usage: 'inflateseg bench [--encoder micro|vit_tiny|vit_small|vit_base] [--size PX] [--T N] [--batch N] [--steps N] [--backend B] [--json FILE]',
  flags: [
    { name: 'encoder', kind: 'string', choices: BENCH_ENCODER_NAMES, default: 'micro', help: 'encoder size (timm layout, generated with timm\'s initialisation: the values do not change the speed)' },
    { name: 'decoder', kind: 'string', choices: ['unetr', 'uper'], default: 'unetr', help: 'segmentation head' },
    { name: 'decoder-width', kind: 'int', min: 1, max: 1024, arg: 'N', help: 'channels of the head (default 64; 16 for encoders with D < 64)' },
    { name: 'size', kind: 'int', min: 8, max: 2048, arg: 'PX', default: '32 for micro, else 224', help: 'in-plane input size, a multiple of the patch size' },
    { name: 'T', kind: 'int', min: 1, max: 63, odd: true, arg: 'N', default: '5 (1 with --strategy 2d)', help: 'slices per window (odd)' },
    { name: 'strategy', kind: 'string', choices: ['center', 'average', '2d', 'scratch'], default: 'center', help: 'how the 2D patch kernel becomes 3D' },
    { name: 'batch', kind: 'int', min: 1, max: 4096, arg: 'N', default: '2', help: 'windows per step' },
    { name: 'classes', kind: 'int', min: 2, max: 256, arg: 'N', default: '8', help: 'output classes' },
    { name: 'steps', kind: 'int', min: 1, max: 10_000, arg: 'N', default: '5', help: 'timed steps, after the warm-up' },
    { name: 'warmup', kind: 'int', min: 1, max: 100, arg: 'N', default: '1', help: 'untimed steps first (the first builds the optimiser state; WebGPU compiles its shaders)' },
    BACKEND_FLAG,
    { name: 'json', kind: 'string', arg: 'FILE', help: 'also write the results as JSON' },
  ],
  notes: [
    'Prints the backend and adapter, ms per step (median and range), samples/s, the counted FLOPs of a step (forward + backward of encoder and decoder; src/weights/flops.ts), the GFLOP/s that makes, the same backend\'s plain matMul GFLOP/s measured in this run and the fraction reached, and the tensors / bytes held after each step (flat or growing). Timings vary with the machine\'s load.',
  ],
  examples: ['inflateseg bench --encoder vit_tiny --size 128 --T 5 --batch 2 --backend wasm', 'inflateseg bench --encoder micro --size 32 --steps 2 --backend cpu --json bench.json'],
};

export async function bench(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(BENCH, argv);
  if (a.help) { io.out.write(helpText(BENCH)); return 0; }
  if (a.positional.length) throw new UsageError(`bench takes no data (${a.positional[0]}): it trains on generated inputs`);
  const encoder = a.str('encoder', 'micro') as BenchEncoder;
  const patch = BENCH_ENCODERS[encoder].patchSize;
  const size = a.num('size', encoder === 'micro' ? 32 : 224);
  if (size % patch !== 0) throw new UsageError(`--size ${size}: ${encoder} has ${patch}-pixel patches; use a multiple of ${patch} (e.g. ${Math.max(1, Math.round(size / patch)) * patch})`);
  const strategy = a.str('strategy', 'center') as InflationStrategy;
  if (strategy === '2d' && a.has('T') && a.num('T') !== 1) throw new UsageError(`--T ${a.num('T')}: --strategy 2d uses one slice (T = 1)`);
  const shape: StepShape = {
    encoder, decoder: a.str('decoder', 'unetr') as 'unetr' | 'uper', size, strategy, T: strategy === '2d' ? 1 : a.num('T', 5), batch: a.num('batch', 2),
    numClasses: a.num('classes', 8), ...(a.has('decoder-width') ? { decoderWidth: a.num('decoder-width') } : {}),
  };
  const jsonFile = a.str('json');
  const log = (line: string) => io.err.write(line + '\n');
  const say = (line: string) => io.out.write(line + '\n');

  // --- backend -------------------------------------------------------------------------------------------------
  const { startBackend, describeBackend } = await import('./backend.ts');
  const { benchTrainStep, matMulThroughput } = await import('./benchCore.ts');
  const info = await startBackend(a.str('backend') as CliBackend | undefined);
  say(`backend: ${describeBackend(info)}`);
  for (const f of info.fallbacks) log(`  skipped ${f}`);

  // --- the step, then the matMul reference ---------------------------------------------------------------------
  const steps = a.num('steps', 5);
  const warmup = a.num('warmup', 1);
  const s = BENCH_ENCODERS[encoder];
  say(`model: ${encoder} (generated, D ${s.embedDim} × ${s.depth} blocks, patch ${s.patchSize}), ${strategy} T = ${shape.T}, ${size} px, ${shape.decoder} head, batch ${shape.batch}, ${shape.numClasses} classes`);
  log(`timing ${steps} step(s) after ${warmup} warm-up step(s)…`);
  const r = await benchTrainStep(shape, { steps, warmup, onStep: (i, ms, timed) => log(`  step ${i}${timed ? '' : ' (warm-up)'}: ${ms.toFixed(0)} ms`) });
  log('plain matMul throughput…');
  const mm = await matMulThroughput();
  const fraction = r.gflops / mm.best;
  const f = r.flops;
  say(`step: median ${r.median.toFixed(1)} ms (range ${Math.min(...r.ms).toFixed(1)}–${Math.max(...r.ms).toFixed(1)} over ${r.ms.length} step(s); decoder width ${r.config.decoderWidth}), ${r.samplesPerSec.toFixed(2)} samples/s`);
  say(`counted: ${(f.stepFlops / 1e9).toFixed(3)} GFLOP per step (forward + backward; encoder ${(6 * shape.batch * f.encoderMacs / 1e9).toFixed(3)}, decoder ${(6 * shape.batch * f.decoderMacs / 1e9).toFixed(3)}) → ${r.gflops.toFixed(2)} GFLOP/s`);
  say(`matMul: ${mm.sizes.map((m) => `${m.n}² ${m.gflops.toFixed(1)}`).join(', ')} GFLOP/s (best ${mm.best.toFixed(1)}) → the step reaches ${(100 * fraction).toFixed(1)} % of it`);
  const last = r.memory[r.memory.length - 1];
  say(`memory: ${r.memory.map((m) => m.numTensors).join(', ')} tensors after steps 1…${r.memory.length}; ${last.numTensors} tensors / ${mib(last.numBytes)} held: ${growthText(r.growth)}`);

  if (jsonFile) {
    const written = writeAtomic(path.dirname(path.resolve(jsonFile)), path.basename(jsonFile), toJson({
      command: 'bench', version: VERSION, date: new Date().toISOString(),
      backend: { name: info.name, adapter: info.adapter, software: info.software },
      shape: { ...shape, decoderWidth: r.config.decoderWidth },
      warmupMs: r.warmupMs, ms: r.ms, medianMs: r.median, minMs: Math.min(...r.ms), maxMs: Math.max(...r.ms), samplesPerSec: r.samplesPerSec,
      flops: f, gflopsPerSec: r.gflops, matMul: mm, fractionOfMatMul: fraction,
      memory: r.memory, growth: r.growth, memoryFlat: r.growth.numTensors === 0 && r.growth.numBytes === 0,
    }));
    log(`wrote ${written}`);
  }
  return 0;
}
