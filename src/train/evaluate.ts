// Full-volume inference: every slice's window along the axis, batched through the model, assembled into a label
// volume on the canonical grid, then per-class Dice and HD95 (mm) against the ground truth. Also one slice's
// prediction on its native plane (the live view of a run).
import * as tf from '@tensorflow/tfjs';
import { predict, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import { channelRanges, planeOf, resizeBilinear, resizeNearest, sliceWindow, type SliceAxis } from '../data/windows/index.ts';
import type { Range } from '../data/intensity.ts';
import { suggestPreset } from '../data/intensity.ts';
import { assembleVolume, evaluateCase, type CaseMetrics } from '../data/metrics/index.ts';
import type { Volume } from '../nifti/types.ts';

export interface VolumeEvaluation {
  /** Predicted labels on the canonical grid (i fastest). */
  prediction: Uint8Array;
  metrics: CaseMetrics | null;
}

/**
 * The intensity ranges a model sees for a volume: the sampler's default, the suggested preset of the volume (so
 * evaluation and the live view normalise as training did).
 */
export function modelRanges(image: Volume): Range[] {
  return channelRanges(image, suggestPreset(image).preset);
}

/**
 * Predicted labels of the windows centred on `indices` along `axis`, each size×size (row-major, layout as planeOf).
 * One batch of windows at a time; tensors are disposed before each await.
 */
async function predictWindows(
  params: ParamMap, config: ModelConfig, image: Volume, axis: SliceAxis, indices: readonly number[], ranges: Range[], batch: number,
  onBatch?: (done: number) => Promise<void> | void,
): Promise<Uint8Array[]> {
  const p = planeOf(image.dims, axis);
  const S = config.imgSize, T = config.T, C = image.channels;
  if (C !== config.inChans) throw new Error(`${image.name} has ${C} channel(s) but the model takes ${config.inChans}.`);
  const win = T * S * S * C;
  const out: Uint8Array[] = [];
  for (let start = 0; start < indices.length; start += batch) {
    const n = Math.min(batch, indices.length - start);
    const x = new Float32Array(n * win);
    for (let b = 0; b < n; b++) {
      const w = sliceWindow(image, axis, indices[start + b], T, { ranges });
      x.set(resizeBilinear(w, [T, p.H, p.W, C], S, S), b * win);
    }
    const pred = tf.tidy(() => predict(params, config, tf.tensor5d(x, [n, T, S, S, C])));
    const data = (await pred.data()) as Int32Array;
    pred.dispose();
    for (let b = 0; b < n; b++) out.push(Uint8Array.from(data.subarray(b * S * S, (b + 1) * S * S)));
    await onBatch?.(start + n);
  }
  return out;
}

/**
 * The prediction of slice `index` along `axis` on the volume's own plane (H×W as planeOf, labels resized back by
 * nearest neighbour as assembleVolume does). `ranges`: the intensity ranges of the volume (default modelRanges).
 */
export async function predictSlicePlane(
  params: ParamMap, config: ModelConfig, image: Volume, axis: SliceAxis, index: number, ranges: Range[] = modelRanges(image),
): Promise<{ pred: Uint8Array; H: number; W: number }> {
  const p = planeOf(image.dims, axis);
  if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) throw new Error(`${image.name}: slice ${index} is outside 0…${p.depth - 1} along axis ${axis}.`);
  const [small] = await predictWindows(params, config, image, axis, [index], ranges, 1);
  return { pred: resizeNearest(small, [1, config.imgSize, config.imgSize, 1], p.H, p.W), H: p.H, W: p.W };
}

/** Predicts every slice of `image` along `axis` (windows of config.T, edge-clamped) and scores it against `label`. */
export async function evaluateVolume(
  params: ParamMap, config: ModelConfig, image: Volume, label: Volume | null, axis: SliceAxis, batch: number,
  onProgress?: (done: number, total: number) => void, ranges: Range[] = modelRanges(image),
): Promise<VolumeEvaluation> {
  const p = planeOf(image.dims, axis);
  const indices = Array.from({ length: p.depth }, (_, i) => i);
  const slices = await predictWindows(params, config, image, axis, indices, ranges, batch, async (done) => {
    onProgress?.(done, p.depth);
    await new Promise<void>((r) => setTimeout(r, 0));
  });
  const prediction = assembleVolume(slices, image.dims, axis, config.imgSize);
  const metrics = label ? evaluateCase({ dims: image.dims, data: prediction, name: `${image.name} prediction` }, label, config.numClasses, image.spacing) : null;
  return { prediction, metrics };
}
