// Test helpers for src/model: micro models (test/reference/micro.ts) inflated into a ModelConfig + parameter map,
// the reference [C, T, H, W] ↔ model [B, T, H, W, C] layout conversion, and the cpu backend set-up.
import * as tf from '@tensorflow/tfjs';
import { microModel, type Variant } from '../../test/reference/micro.ts';
import { inflate } from '../weights/inflate/index.ts';
import type { EncoderSpec, InflationStrategy, StateDict } from '../weights/types.ts';
import { makeConfig, type DecoderKind, type ModelConfig } from './config.ts';

/** Tests run on tfjs's cpu backend (float32). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export interface MicroOptions {
  strategy?: InflationStrategy;
  T?: number;
  inChans?: number;
  imgSize?: number;
  decoder?: DecoderKind;
  decoderWidth?: number;
  numClasses?: number;
  seed?: number;
}

/** A micro encoder of the variant, inflated by weights/inflate, and its config (micro decoder: width 8, 3 classes). */
export function microSetup(variant: Variant, o: MicroOptions = {}): { config: ModelConfig; state: StateDict; spec: EncoderSpec } {
  const m = microModel(variant, o.seed ?? 1);
  const T = o.T ?? 1;
  const strategy = o.strategy ?? (T === 1 ? '2d' : 'center');
  const { state, spec } = inflate(m.state, m.spec, { strategy, T, inChans: o.inChans ?? 1, imgSize: o.imgSize ?? 16, seed: o.seed ?? 1 });
  const config = makeConfig({ encoder: spec, numClasses: o.numClasses ?? 3, decoder: o.decoder ?? 'unetr', decoderWidth: o.decoderWidth ?? 8 });
  return { config, state, spec };
}

/** Reference layout [C, T, H, W] → model layout [T, H, W, C] (one sample). */
export function toModelLayout(x: Float32Array, C: number, T: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) for (let i = 0; i < H * W; i++) out[(t * H * W + i) * C + c] = x[(c * T + t) * H * W + i];
  return out;
}
