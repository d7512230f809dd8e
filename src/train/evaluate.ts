// Full-volume inference: every slice's window along the axis, batched through the model, assembled into a label
// volume on the canonical grid, then per-class Dice and HD95 (mm) against the ground truth.
import * as tf from '@tensorflow/tfjs';
import { predict, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import { channelRanges, planeOf, resizeBilinear, sliceWindow, type SliceAxis } from '../data/windows/index.ts';
import { suggestPreset } from '../data/intensity.ts';
import { assembleVolume, evaluateCase, type CaseMetrics } from '../data/metrics/index.ts';
import type { Volume } from '../nifti/types.ts';

export interface VolumeEvaluation {
  /** Predicted labels on the canonical grid (i fastest). */
  prediction: Uint8Array;
  metrics: CaseMetrics | null;
}

/** Predicts every slice of `image` along `axis` (windows of config.T, edge-clamped) and scores it against `label`. */
export async function evaluateVolume(
  params: ParamMap, config: ModelConfig, image: Volume, label: Volume | null, axis: SliceAxis, batch: number,
  onProgress?: (done: number, total: number) => void,
): Promise<VolumeEvaluation> {
  const p = planeOf(image.dims, axis);
  const S = config.imgSize;
  const T = config.T;
  const C = image.channels;
  // NOTE: the same intensity ranges as training (the sampler's default: the suggested preset of the volume).
  const ranges = channelRanges(image, suggestPreset(image).preset);
  const slices: Uint8Array[] = [];
  const win = T * S * S * C;
  for (let start = 0; start < p.depth; start += batch) {
    const n = Math.min(batch, p.depth - start);
    const x = new Float32Array(n * win);
    for (let b = 0; b < n; b++) {
      const w = sliceWindow(image, axis, start + b, T, { ranges });
      x.set(resizeBilinear(w, [T, p.H, p.W, C], S, S), b * win);
    }
    const pred = tf.tidy(() => predict(params, config, tf.tensor5d(x, [n, T, S, S, C])));
    const data = (await pred.data()) as Int32Array;
    pred.dispose();
    for (let b = 0; b < n; b++) slices.push(Uint8Array.from(data.subarray(b * S * S, (b + 1) * S * S)));
    onProgress?.(start + n, p.depth);
    await new Promise<void>((r) => setTimeout(r, 0));
  }
  const prediction = assembleVolume(slices, image.dims, axis, S);
  const metrics = label ? evaluateCase({ dims: image.dims, data: prediction, name: `${image.name} prediction` }, label, config.numClasses, image.spacing) : null;
  return { prediction, metrics };
}
