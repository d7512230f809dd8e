// One training run, top to bottom: build the model (inflated encoder + fresh decoder, or a checkpoint), sample
// windows, then evaluate / forward-backward-update / log each step; pause, resume and stop between steps; keep the
// last good weights on the host when a step fails (out of memory, lost device). Used by the training worker (and
// the CLI later).
import * as tf from '@tensorflow/tfjs';
import { createParams, makeConfig, predict, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import { makeAdamW, type AdamW } from './optim/adamw.ts';
import { layerDecayMultipliers } from './optim/groups.ts';
import { makeTrainStep } from './step.ts';
import { augmentFor, makeSampler, type Sampler, type SamplerCase, type SliceAxis } from '../data/windows/index.ts';
import { evaluateVolume, predictSlicePlane } from './evaluate.ts';
import { DiceAccumulator } from '../data/metrics/index.ts';
import type { CaseData, CaseImage, EncoderData, RunLabels, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { InflateOptions, StateDict } from '../weights/types.ts';
import type { ModelCheckpoint } from '../weights/checkpoint.ts';
import type { Volume } from '../nifti/types.ts';
import { RunLoop, historyUpTo, type CommonMeta, type Emit, type RunHistory, type SlicePrediction, type Snapshot } from './runLoop.ts';

export { explainFailure, type Emit, type SlicePrediction } from './runLoop.ts';

/** What a run's model is built from: a converted encoder (fresh decoder from the seed) or a saved model. */
export type ModelSource =
  | { kind: 'encoder'; encoder: EncoderData }
  | { kind: 'model'; checkpoint: ModelCheckpoint };

/** A case's image or label as a Volume on the canonical grid (what the sampler and evaluation take). */
export function caseVolume(c: CaseData, which: 'image' | 'label'): Volume {
  return which === 'image' ? imageVolume(c) : { ...imageVolume(c), name: `${c.id} label`, channels: 1, data: c.label };
}

/** A case's image as a Volume on the canonical grid (the live slice prediction needs no label). */
export function imageVolume(c: CaseImage): Volume {
  return {
    name: `${c.id} image`, dims: c.dims, channels: c.channels, data: c.image,
    datatypeCode: 16, affine: c.affine, affineSource: 'sform', spacing: c.spacing, nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

export class TrainingRun extends RunLoop<ModelCheckpoint> {
  readonly config: ModelConfig;
  readonly params: ParamMap;
  protected readonly opt: AdamW;
  private readonly inflation: InflateOptions;
  private sampler: Sampler | null = null;
  readonly history: RunHistory;

  constructor(source: ModelSource, cases: CaseData[], numClasses: number, cfg: TrainConfig, labels: RunLabels, emit: Emit) {
    super(cases, cfg, labels, emit);
    if (source.kind === 'encoder') {
      const { encoder } = source;
      const state: StateDict = new Map(encoder.tensors.map((t) => [t.name, { dtype: 'float32', shape: t.shape, data: t.data }]));
      // NOTE: micro encoders (D < 64, used for quick tries and tests) get a narrow decoder so the head does not dominate.
      const decoderWidth = cfg.decoderWidth ?? (encoder.spec.embedDim < 64 ? 16 : 64);
      this.config = makeConfig({
        encoder: encoder.spec, numClasses, T: encoder.options.T, inChans: encoder.options.inChans, imgSize: encoder.options.imgSize, decoderWidth, decoder: cfg.decoder,
      });
      this.params = createParams(this.config, state, cfg.seed);
      this.inflation = encoder.options;
      this.history = { steps: [], validations: [] };
    } else {
      const { meta, weights } = source.checkpoint;
      if (meta.config.numClasses !== numClasses) {
        throw new Error(`the model predicts ${meta.config.numClasses} classes but the labels have ${numClasses}: load labels with the same classes, or train a new model`);
      }
      this.config = makeConfig(meta.config);
      this.params = createParams(this.config, weights, cfg.seed);
      this.inflation = meta.inflation;
      this.step = meta.step;
      this.history = historyUpTo(meta.history, meta.step);
    }
    const names = [...this.params.keys()];
    this.opt = makeAdamW({
      weightDecay: cfg.weightDecay,
      maxGradNorm: cfg.clip > 0 ? cfg.clip : null,
      lrMultipliers: cfg.layerDecay < 1 ? layerDecayMultipliers(names, this.config.encoder.depth, cfg.layerDecay, this.config.encoder.swin?.depths) : undefined,
    });
    // A checkpoint is its own first snapshot.
    if (source.kind === 'model') this.resumeOptimiser(source.checkpoint);
  }

  /** The sampler over the run's cases, made on first use (a model loaded only to evaluate needs none). */
  private get windows(): Sampler {
    if (!this.sampler) {
      if (this.cases.length === 0) throw new Error('no labelled case to train on');
      const samplerCases: SamplerCase[] = this.cases.map((c) => ({ id: c.id, split: c.split, volume: caseVolume(c, 'image'), label: caseVolume(c, 'label') }));
      this.sampler = makeSampler(samplerCases, {
        axis: this.cfg.axis, T: this.config.T, size: this.config.imgSize, batch: this.cfg.batch, seed: this.cfg.seed, augment: augmentFor(this.cfg.augment),
      });
    }
    return this.sampler;
  }

  get notes(): string[] {
    return this.cases.length ? this.windows.notes : [];
  }

  get axis(): 0 | 1 | 2 {
    return this.cfg.axis;
  }

  /**
   * Windows per batch when predicting whole volumes. NOTE: inference keeps no activations for gradients, so twice the
   * training batch fits where training did, and fewer, larger batches mean fewer dispatches. Not measured on a
   * hardware GPU yet; on SwiftShader (compute-bound) it made no difference to the e2e evaluation time.
   */
  get evalBatch(): number {
    return Math.min(32, Math.max(4, 2 * this.cfg.batch));
  }

  protected get sizeForMessages(): number {
    return this.config.imgSize;
  }

  protected presets(): Record<string, string> {
    return this.sampler?.presets ?? {};
  }

  /** Which slices validation holds out, per case: the page marks them so the user knows what the model never saw. */
  heldOut(): Extract<TrainEvent, { type: 'split' }> {
    const sampler = this.windows;
    const byCase: Record<string, number[] | 'case'> = {};
    for (const c of this.cases) if (c.split === 'val') byCase[c.id] = 'case';
    for (const r of sampler.val) {
      const list = byCase[r.caseId];
      if (list !== 'case') (byCase[r.caseId] = list ?? []).push(r.index);
    }
    return { type: 'split', axis: this.cfg.axis, heldOut: byCase };
  }

  protected stepper(): (step: number) => (lr: number) => tf.Scalar {
    const sampler = this.windows;
    const trainStep = makeTrainStep(this.params, this.config, this.opt, this.cfg);
    return (step) => {
      const batch = sampler.batchAt(step);
      return (lr) => {
        const x = tf.tensor5d(batch.x, batch.shape);
        const y = tf.tensor3d(batch.y, [batch.shape[0], batch.shape[2], batch.shape[3]], 'int32');
        return trainStep(x, y, lr);
      };
    };
  }

  /** Pooled slice-level Dice over the validation windows (as the reference pools over validation slices). */
  async validate(): Promise<{ dice: number[]; meanDice: number }> {
    const acc = new DiceAccumulator(this.config.numClasses);
    const S = this.config.imgSize;
    for (const b of this.windows.validation(this.cfg.batch)) {
      const pred = tf.tidy(() => predict(this.params, this.config, tf.tensor5d(b.x, b.shape)));
      const p = (await pred.data()) as Int32Array;
      pred.dispose();
      for (let i = 0; i < b.shape[0]; i++) {
        const pi = p.subarray(i * S * S, (i + 1) * S * S);
        const yi = b.y.subarray(i * S * S, (i + 1) * S * S);
        acc.add(pi, yi);
      }
    }
    const r = acc.result();
    const dice = r.perClass;
    this.history.validations.push({ step: this.step, dice, meanDice: r.mean });
    this.emit({ type: 'validation', step: this.step, dice, meanDice: r.mean });
    return { dice, meanDice: r.mean };
  }

  /**
   * The run's preprocessing (intensity ranges as training, resize to the model's size) and labels resized back by
   * nearest. Across the run's axis this is one window; across another axis the model still predicts slices across
   * its own axis: the whole volume is predicted once per step and the plane is cut from it.
   */
  protected async predictNow(image: Volume, axis: SliceAxis, index: number): Promise<SlicePrediction> {
    const step = this.step;
    const ranges = this.rangesOf(image);
    if (axis === this.cfg.axis) return { ...(await predictSlicePlane(this.params, this.config, image, axis, index, ranges)), step };
    return this.sliceOfWhole(image, axis, index, async () => {
      const r = await evaluateVolume(this.params, this.config, image, null, this.cfg.axis, this.evalBatch, undefined, ranges);
      return r.prediction;
    });
  }

  protected checkpointOf(common: CommonMeta, snap: Snapshot): ModelCheckpoint {
    return { meta: { ...common, config: this.config, inflation: this.inflation }, weights: snap.weights, optim: snap.optim };
  }
}

