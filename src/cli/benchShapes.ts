// The shapes the training-step benchmark runs (`inflateseg bench`, bench/train.ts): named encoder sizes generated on
// the spot (timm layout, timm's initialisation from a seed), their model config and counted FLOPs. No tfjs here.
import { makeConfig, type DecoderKind, type ModelConfig } from '../model/config.ts';
import { inflate } from '../weights/inflate/index.ts';
import { MICRO_SWIN, MICRO_VIT, microSpec, microState, microSwinState, type MicroSize } from '../weights/micro.ts';
import { trainStepFlops, type StepFlops } from '../weights/flops.ts';
import type { EncoderSpec, InflationStrategy, StateDict } from '../weights/types.ts';

/** Encoder sizes the benchmark generates: the built-in micro ViT and timm's ViT-Ti/S/B/16 (224 px, 14×14 grid). */
export const BENCH_ENCODERS = {
  micro: MICRO_VIT,
  vit_tiny: { embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, grid: 14 },
  vit_small: { embedDim: 384, depth: 12, numHeads: 6, patchSize: 16, grid: 14 },
  vit_base: { embedDim: 768, depth: 12, numHeads: 12, patchSize: 16, grid: 14 },
} as const satisfies Record<string, MicroSize>;
export type BenchEncoder = keyof typeof BENCH_ENCODERS;
export const BENCH_ENCODER_NAMES = Object.keys(BENCH_ENCODERS) as BenchEncoder[];

/**
 * Hierarchical encoders the benchmarks generate: Swin-T (timm's swin_tiny_patch4_window7_224, 2D) and the built-in
 * micro Swin (for the FLOP checks of test/unit/flops-kernels.test.ts; not in the training rows).
 */
export const BENCH_SWIN = {
  swin_micro: MICRO_SWIN,
  swin_tiny: { ...MICRO_SWIN, embedDim: 96, depth: 12, numHeads: 3, grid: [56, 56], swin: { depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: [7, 7], patchDepth: 1 } },
} as const satisfies Record<string, EncoderSpec>;
export type BenchSwin = keyof typeof BENCH_SWIN;
export const isBenchSwin = (e: string): e is BenchSwin => Object.hasOwn(BENCH_SWIN, e);

/** The 2D spec of a bench encoder (ViT sizes as micro specs, Swin as its spec). */
export const benchSpec = (e: BenchEncoder | BenchSwin): EncoderSpec => (isBenchSwin(e) ? BENCH_SWIN[e] : microSpec(BENCH_ENCODERS[e]));

export interface StepShape {
  encoder: BenchEncoder | BenchSwin;
  decoder: DecoderKind;
  /** Decoder width (default as a TrainingRun: 16 for encoders with D < 64, else 64). */
  decoderWidth?: number;
  size: number;
  /** Slices per window (1 with strategy '2d'). */
  T: number;
  strategy: InflationStrategy;
  batch: number;
  /** Output classes (default 8: Colin27's lobes and background). */
  numClasses?: number;
}

/** The 2D encoder of `name`, generated (timm init from seed 0), then inflated for the shape (1 input channel). */
export function generatedEncoder(shape: Pick<StepShape, 'encoder' | 'size' | 'T' | 'strategy'>): { spec: EncoderSpec; state: StateDict; notes: string[] } {
  const e = shape.encoder;
  const [state2d, spec2d] = isBenchSwin(e) ? [microSwinState(BENCH_SWIN[e], 0), BENCH_SWIN[e]] : [microState(BENCH_ENCODERS[e], 0), microSpec(BENCH_ENCODERS[e])];
  const r = inflate(state2d, spec2d, { strategy: shape.strategy, T: shape.strategy === '2d' ? 1 : shape.T, inChans: 1, imgSize: shape.size, seed: 0 });
  return { spec: r.spec, state: r.state, notes: r.notes };
}

/** The model config of a shape (as TrainingRun makes it from an encoder). */
export function benchConfig(shape: StepShape, spec: EncoderSpec): ModelConfig {
  return makeConfig({
    encoder: spec, numClasses: shape.numClasses ?? 8, T: shape.strategy === '2d' ? 1 : shape.T, inChans: 1, imgSize: shape.size,
    decoder: shape.decoder, decoderWidth: shape.decoderWidth ?? (spec.embedDim < 64 ? 16 : 64),
  });
}

/** Counted FLOPs of one training step of the shape (src/weights/flops.ts), without building anything. */
export function shapeFlops(shape: StepShape): StepFlops {
  const spec = benchSpec(shape.encoder);
  const T = shape.strategy === '2d' ? 1 : shape.T;
  const width = shape.decoderWidth ?? (spec.embedDim < 64 ? 16 : 64);
  return trainStepFlops(spec, { kind: shape.decoder, width, numClasses: shape.numClasses ?? 8 }, shape.size, 1, T, shape.batch);
}

/** A shape's name in the benchmarks' tables and filters: 'vit_tiny 128 px T 5 b2 UNETR' (' (2d)' after T for '2d'). */
export const shapeLabel = (s: StepShape): string =>
  `${s.encoder} ${s.size} px T ${s.T}${s.strategy === '2d' ? ' (2d)' : ''} b${s.batch} ${s.decoder === 'uper' ? 'UPerNet' : 'UNETR'}`;

/**
 * The training rows of `npm run bench:train` and `bench:browser`: the micro ViT at 32 px, ViT-Tiny and ViT-Small at
 * 128 and 224 px, each with both heads, T 5, batch 2, in order of counted FLOPs; and Swin-T at 128 and 224 px with
 * UPerNet (the paper's head for Swin), T 5, batch 2, 4 classes. `only`: keep the rows whose label contains one of
 * these (BENCH_SHAPES, e.g. 'vit_tiny 128' or 'swin_tiny'); empty keeps all.
 */
export function benchTrainShapes(only: readonly string[] = []): StepShape[] {
  const shape = (encoder: BenchEncoder | BenchSwin, size: number, decoder: DecoderKind): StepShape => ({ encoder, decoder, size, T: 5, strategy: 'center', batch: 2 });
  return [
    shape('micro', 32, 'unetr'), shape('micro', 32, 'uper'),
    ...(['vit_tiny', 'vit_small'] as const).flatMap((e) => [128, 224].flatMap((size) => [shape(e, size, 'unetr'), shape(e, size, 'uper')])),
    ...[128, 224].map((size) => ({ ...shape('swin_tiny', size, 'uper'), numClasses: 4 })),
  ].filter((s) => !only.length || only.some((w) => shapeLabel(s).includes(w))).sort((a, b) => shapeFlops(a).stepFlops - shapeFlops(b).stepFlops);
}

/** '66.5 MiB' */
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** 'flat' or 'grew by 3 tensors / 0.1 MiB' from step 1 to the last. */
export function growthText(g: { numTensors: number; numBytes: number }): string {
  return g.numTensors === 0 && g.numBytes === 0 ? 'flat' : `grew by ${g.numTensors} tensors / ${mib(g.numBytes)}`;
}
