// One training run of the volume-based model (3D UNETR, issue 16), beside the window model's TrainingRun with the
// same surface (run / pause / resume / stop, checkpoint, live slice prediction, evaluation) and the same events:
// built from scratch from a VolumeModelConfig (the paper trains UNETR from scratch) or from a 'unetr3d' checkpoint;
// trains on seeded 3D crops by positive/negative label balance (src/data/volume) with Dice + CE and AdamW; validates
// by sliding-window prediction of the held-out split; evaluates whole volumes by sliding window (Dice, HD95).
import * as tf from '@tensorflow/tfjs';
import type { ParamMap } from '../model/types.ts';
import { segLoss } from '../model/losses.ts';
import type { VolumeModelConfig } from '../model/volume/config.ts';
import { createUnetr3dParams, loadUnetr3dParams, unetr3dForward } from '../model/volume/index.ts';
import { makeAdamW, type AdamW } from './optim/adamw.ts';
import { cropImage, makeVolumeSampler, planWindows, VOLUME_AUGMENT, WindowAssembler, type VolumeSampler } from '../data/volume/index.ts';
import { planeOf, type SliceAxis } from '../data/windows/index.ts';
import type { Range } from '../data/intensity.ts';
import type { VolumeEvaluation } from './evaluate.ts';
import { DiceAccumulator, evaluateCase } from '../data/metrics/index.ts';
import { caseVolume } from './run.ts';
import { RunLoop, historyUpTo, type CommonMeta, type Emit, type RunHistory, type SlicePrediction, type Snapshot } from './runLoop.ts';
import type { CaseData, RunLabels, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { VolumeCheckpoint } from '../weights/checkpoint.ts';
import type { Vec3 } from '../core/types.ts';
import type { Volume } from '../nifti/types.ts';

/** What a volume run is built from: a fresh config (random init from the seed) or a saved volume model. */
export type VolumeSource =
  | { kind: 'volume'; config: VolumeModelConfig }
  | { kind: 'model'; checkpoint: VolumeCheckpoint };

/** Sliding-window overlap (MONAI BTCV: 0.25). */
export const VOLUME_OVERLAP = 0.25;

export class VolumeTrainingRun extends RunLoop<VolumeCheckpoint> {
  readonly kind = 'unetr3d' as const;
  readonly config: VolumeModelConfig;
  readonly params: ParamMap;
  protected readonly opt: AdamW;
  private sampler: VolumeSampler | null = null;
  readonly history: RunHistory;

  constructor(source: VolumeSource, cases: CaseData[], numClasses: number, cfg: TrainConfig, labels: RunLabels, emit: Emit) {
    super(cases, cfg, labels, emit);
    if (source.kind === 'volume') {
      if (source.config.numClasses !== numClasses) throw new Error(`the volume model predicts ${source.config.numClasses} classes but the labels have ${numClasses}`);
      this.config = source.config;
      this.params = createUnetr3dParams(this.config, cfg.seed);
      this.history = { steps: [], validations: [] };
    } else {
      const { meta, weights } = source.checkpoint;
      if (meta.config.numClasses !== numClasses) {
        throw new Error(`the model predicts ${meta.config.numClasses} classes but the labels have ${numClasses}: load labels with the same classes, or train a new model`);
      }
      this.config = meta.config;
      this.params = loadUnetr3dParams(this.config, weights);
      this.step = meta.step;
      this.history = historyUpTo(meta.history, meta.step);
    }
    this.opt = makeAdamW({ weightDecay: cfg.weightDecay, maxGradNorm: cfg.clip > 0 ? cfg.clip : null });
    if (source.kind === 'model') this.resumeOptimiser(source.checkpoint);
  }

  private get crops(): VolumeSampler {
    if (!this.sampler) {
      if (this.cases.length === 0) throw new Error('no labelled case to train on');
      this.sampler = makeVolumeSampler(
        this.cases.map((c) => ({ id: c.id, split: c.split, volume: caseVolume(c, 'image'), label: caseVolume(c, 'label') })),
        { crop: this.config.crop, batch: this.cfg.batch, seed: this.cfg.seed, augment: VOLUME_AUGMENT[this.cfg.augment] },
      );
    }
    return this.sampler;
  }

  get notes(): string[] {
    return this.cases.length ? this.crops.notes : [];
  }

  /** The crops' D axis on the canonical grid: held-out slabs and the run's own slices run along it. */
  get axis(): 0 | 1 | 2 {
    return 2;
  }

  /** Windows per forward pass when predicting by sliding window (MONAI's sw_batch_size is 4). */
  get evalBatch(): number {
    return Math.min(8, Math.max(1, 2 * this.cfg.batch));
  }

  protected get sizeForMessages(): number {
    return this.config.crop[0];
  }

  protected presets(): Record<string, string> {
    return this.sampler?.presets ?? {};
  }

  /** The held-out axial slices (a single case's slab) or cases, for the page. */
  heldOut(): Extract<TrainEvent, { type: 'split' }> {
    const byCase: Record<string, number[] | 'case'> = {};
    const single = new Set(this.crops.train.map((p) => p.caseId));
    for (const p of this.crops.val) {
      byCase[p.caseId] = single.has(p.caseId) ? Array.from({ length: p.k1 - p.k0 }, (_, i) => p.k0 + i) : 'case';
    }
    return { type: 'split', axis: 2, heldOut: byCase };
  }

  /** The loss of a batch: Dice + CE over every voxel of each crop (logits [B, D, H, W, K] seen as [B, D·H, W, K]). */
  private loss(x: tf.Tensor5D, y: tf.Tensor4D): tf.Scalar {
    const [B, D, H, W] = y.shape;
    const K = this.config.numClasses;
    const logits = unetr3dForward(this.params, this.config, x).reshape([B, D * H, W, K]);
    return segLoss(logits, y.reshape([B, D * H, W]), { kind: this.cfg.loss, ignoreBackground: this.cfg.ignoreBackground });
  }

  protected stepper(): (step: number) => (lr: number) => tf.Scalar {
    const sampler = this.crops;
    const trainable = [...this.params.values()];
    const nameOf = new Map([...this.params].map(([k, v]) => [v.name, k]));
    return (step) => {
      const batch = sampler.batchAt(step);
      return (lr) => {
        const [B, D, H, W] = batch.shape;
        const x = tf.tensor5d(batch.x, batch.shape);
        const y = tf.tensor4d(batch.y, [B, D, H, W], 'int32');
        const { value, grads } = tf.variableGrads(() => this.loss(x, y), trainable);
        this.opt.step(this.params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g])), lr);
        return value;
      };
    };
  }

  /**
   * Labels of slices kRange of `image` by sliding window (windows of the crop size, overlap 0.25, logits averaged
   * with constant weights), in the canonical i-fastest layout of those slices. One batch of windows at a time;
   * tensors are disposed before each await.
   */
  async slidingWindow(
    image: Volume, ranges: Range[], kRange: [number, number] = [0, image.dims[2]], onBatch?: (done: number, total: number) => Promise<void> | void, n = this.evalBatch,
  ): Promise<Uint8Array> {
    const acc = new WindowAssembler(image.dims, this.config.crop, this.config.numClasses, kRange);
    await this.predictWindows(image, ranges, planWindows(image.dims, this.config.crop, VOLUME_OVERLAP, kRange), acc, kRange, n, onBatch);
    return acc.labels();
  }

  /** Runs the model on the windows starting at `plan` (crops reading slices kRange only) and adds their logits to `acc`. */
  private async predictWindows(
    image: Volume, ranges: Range[], plan: Vec3[], acc: WindowAssembler, kRange: [number, number], n: number, onBatch?: (done: number, total: number) => Promise<void> | void,
  ): Promise<void> {
    const { crop, numClasses, inChans } = this.config;
    if (image.channels !== inChans) throw new Error(`${image.name} has ${image.channels} channel(s) but the model takes ${inChans}.`);
    const win = crop[0] * crop[1] * crop[2];
    for (let s = 0; s < plan.length; s += n) {
      const starts: Vec3[] = plan.slice(s, s + n);
      const x = new Float32Array(starts.length * win * inChans);
      starts.forEach((st, b) => x.set(cropImage(image, ranges, st, crop, kRange), b * win * inChans));
      const logits = tf.tidy(() => unetr3dForward(this.params, this.config, tf.tensor5d(x, [starts.length, ...crop, inChans])));
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      starts.forEach((st, b) => acc.add(st, data.subarray(b * win * numClasses, (b + 1) * win * numClasses)));
      await onBatch?.(Math.min(plan.length, s + n), plan.length);
    }
  }

  /** Dice pooled over the held-out slabs / cases, each predicted alone by sliding window. */
  async validate(): Promise<{ dice: number[]; meanDice: number }> {
    const acc = new DiceAccumulator(this.config.numClasses);
    for (const p of this.crops.val) {
      const c = this.crops.caseOf(p.caseId);
      const pred = await this.slidingWindow(c.volume, c.ranges, [p.k0, p.k1]);
      const plane = c.volume.dims[0] * c.volume.dims[1];
      const gt = Int32Array.from(c.label.data.subarray(p.k0 * plane, p.k1 * plane), (v) => Math.round(v));
      acc.add(pred, gt);
    }
    const r = acc.result();
    this.history.validations.push({ step: this.step, dice: r.perClass, meanDice: r.mean });
    this.emit({ type: 'validation', step: this.step, dice: r.perClass, meanDice: r.mean });
    return { dice: r.perClass, meanDice: r.mean };
  }

  /** The whole volume predicted by sliding window, with Dice and HD95 against `label` when given. */
  async evaluateVolume(image: Volume, label: Volume | null, onProgress?: (done: number, total: number) => void, batch = this.evalBatch): Promise<VolumeEvaluation> {
    const prediction = await this.slidingWindow(image, this.rangesOf(image), undefined, async (done, total) => {
      onProgress?.(done, total);
      await new Promise<void>((r) => setTimeout(r, 0));
    }, batch);
    const metrics = label ? evaluateCase({ dims: image.dims, data: prediction, name: `${image.name} prediction` }, label, this.config.numClasses, image.spacing) : null;
    return { prediction, metrics };
  }

  /**
   * The current model's prediction of slice `index` across `axis`, as the sliding-window prediction of the whole
   * volume has it: across the crops' D axis from the windows covering the slice, across another axis cut from the
   * whole volume's prediction (computed once per step and image).
   */
  protected async predictNow(image: Volume, axis: SliceAxis, index: number): Promise<SlicePrediction> {
    if (axis !== 2) return this.sliceOfWhole(image, axis, index, () => this.slidingWindow(image, this.rangesOf(image)));
    const step = this.step;
    const p = planeOf(image.dims, axis);
    if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) throw new Error(`${image.name}: slice ${index} is outside 0…${p.depth - 1} along axis ${axis}.`);
    // Only the windows of the whole-volume plan that cover this slice: the same averaged logits there, for a
    // fraction of the windows.
    const { crop, numClasses } = this.config;
    const plan = planWindows(image.dims, crop, VOLUME_OVERLAP).filter(([k]) => k <= index && index < k + crop[0]);
    const acc = new WindowAssembler(image.dims, crop, numClasses, [index, index + 1]);
    await this.predictWindows(image, this.rangesOf(image), plan, acc, [0, image.dims[2]], this.evalBatch);
    return { pred: acc.labels(), H: p.H, W: p.W, step };
  }

  protected checkpointOf(common: CommonMeta, snap: Snapshot): VolumeCheckpoint {
    return { meta: { ...common, config: this.config }, weights: snap.weights, optim: snap.optim };
  }
}

