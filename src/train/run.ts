// One training run, top to bottom: build the model (inflated encoder + fresh decoder, or a checkpoint), sample
// windows, then evaluate / forward-backward-update / log each step; pause, resume and stop between steps; keep the
// last good weights on the host when a step fails (out of memory, lost device). Used by the training worker (and
// the CLI later).
import * as tf from '@tensorflow/tfjs';
import { createParams, makeConfig, predict, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import { makeAdamW, type AdamW, type OptimState } from './optim/adamw.ts';
import { layerDecayMultipliers } from './optim/groups.ts';
import { lrAt } from './optim/schedule.ts';
import { makeTrainStep } from './step.ts';
import { augmentFor, labelSlice, makeSampler, planeOf, type Sampler, type SamplerCase, type SliceAxis } from '../data/windows/index.ts';
import type { Range } from '../data/intensity.ts';
import { evaluateVolume, modelRanges, predictSlicePlane } from './evaluate.ts';
import { DiceAccumulator } from '../data/metrics/index.ts';
import { gpuDeviceLost, takeGpuError } from './backend.ts';
import type { CaseData, CaseImage, CheckpointSummary, EncoderData, RunLabels, RunState, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { InflateOptions, StateDict } from '../weights/types.ts';
import { checkpointName, encodeModelCheckpoint, type CheckpointMeta, type ModelCheckpoint, type StepRecord, type ValidationRecord } from '../weights/checkpoint.ts';
import type { Volume } from '../nifti/types.ts';

export type Emit = (e: TrainEvent, transfer?: Transferable[]) => void;

/** What a run's model is built from: a converted encoder (fresh decoder from the seed) or a saved model. */
export type ModelSource =
  | { kind: 'encoder'; encoder: EncoderData }
  | { kind: 'model'; checkpoint: ModelCheckpoint };

/** The weights (and optimiser state) of one step, on the host. */
interface Snapshot { step: number; weights: StateDict; optim: OptimState | null }

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

/** One slice's prediction on the case's canonical plane (layout as planeOf), with the step of the weights. */
export interface SlicePrediction { pred: Uint8Array; H: number; W: number; step: number }

/**
 * Turns a tfjs failure into a message a user can act on. `lost` is the WebGPU device-loss reason when the device
 * is gone (reads then fail with an empty message, so the error alone cannot tell).
 */
export function explainFailure(
  err: unknown, cfg: TrainConfig, size: number, step: number, lost: string | null = null, gpuError: { kind: string; message: string } | null = null,
): string {
  const m = [err instanceof Error ? err.message : String(err), gpuError && `${gpuError.kind}: ${gpuError.message}`].filter(Boolean).join(' — ');
  if (lost !== null || /device.*lost|lost.*device|context lost/i.test(m)) {
    return `The GPU device was lost during step ${step + 1} (driver reset, GPU reclaimed by the system or another tab): ${lost ?? m}. Continue to go on from the last good weights on a new device.`;
  }
  if (gpuError?.kind === 'GPUOutOfMemoryError' || /out of memory|\bOOM\b|allocat|exceeds the max|too large|larger than|exceeds.*limit|maxBufferSize|maxStorageBufferBindingSize/i.test(m)) {
    return `Out of GPU memory during step ${step + 1} (batch ${cfg.batch}, ${size} px): lower the batch and continue from the last good weights, or lower the input size and start again. (${m})`;
  }
  return `Training stopped during step ${step + 1}: ${m || 'unknown error'}`;
}

export class TrainingRun {
  readonly config: ModelConfig;
  readonly params: ParamMap;
  private readonly opt: AdamW;
  private readonly inflation: InflateOptions;
  private sampler: Sampler | null = null;
  private state: RunState = 'starting';
  private wake: (() => void) | null = null;
  /** Last good weights on the host: at the start, at each validation, and what a failure falls back to. */
  private kept: Snapshot | null;
  private failed = false;
  /** A live prediction being computed: the training loop waits for it, so one prediction sees one step's weights. */
  private predicting: Promise<unknown> | null = null;
  /** Intensity ranges per image array (computed once; the same as training and evaluation: modelRanges). */
  private readonly ranges = new WeakMap<object, Range[]>();
  /** The whole predicted volume behind the last slice across another axis than the run's, until the weights change. */
  private across: { data: object; step: number; prediction: Uint8Array } | null = null;
  readonly history: { steps: StepRecord[]; validations: ValidationRecord[] };
  step = 0;

  constructor(
    source: ModelSource, private readonly cases: CaseData[], numClasses: number, private readonly cfg: TrainConfig,
    private readonly labels: RunLabels, private readonly emit: Emit,
  ) {
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
      this.history = { steps: meta.history.steps.filter((s) => s.step <= meta.step), validations: meta.history.validations.filter((v) => v.step <= meta.step) };
    }
    const names = [...this.params.keys()];
    this.opt = makeAdamW({
      weightDecay: cfg.weightDecay,
      maxGradNorm: cfg.clip > 0 ? cfg.clip : null,
      lrMultipliers: cfg.layerDecay < 1 ? layerDecayMultipliers(names, this.config.encoder.depth, cfg.layerDecay, this.config.encoder.swin?.depths) : undefined,
    });
    const optim = source.kind === 'model' ? source.checkpoint.optim : null;
    if (optim) this.opt.setState(optim);
    // A checkpoint is its own first snapshot; a fresh model takes one when the run starts (reads are async on GPUs).
    this.kept = source.kind === 'model' ? { step: this.step, weights: source.checkpoint.weights, optim } : null;
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

  get batch(): number {
    return this.cfg.batch;
  }

  /**
   * Windows per batch when predicting whole volumes. NOTE: inference keeps no activations for gradients, so twice the
   * training batch fits where training did, and fewer, larger batches mean fewer dispatches. Not measured on a
   * hardware GPU yet; on SwiftShader (compute-bound) it made no difference to the e2e evaluation time.
   */
  get evalBatch(): number {
    return Math.min(32, Math.max(4, 2 * this.cfg.batch));
  }

  private setState(s: RunState, message?: string) {
    this.state = s;
    this.emit({ type: 'state', state: s, message });
  }

  pause() {
    if (this.state === 'running') this.setState('paused');
  }

  resume() {
    if (this.state !== 'paused') return;
    this.setState('running');
    this.wake?.();
  }

  stop() {
    if (this.state === 'running' || this.state === 'paused' || this.state === 'starting') {
      this.state = 'stopped';
      this.wake?.();
    }
  }

  /** Runs up to `cfg.steps` steps in total (a model from a checkpoint continues from its step), or until stopped. */
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

  async run(): Promise<void> {
    const { cfg } = this;
    const sampler = this.windows;
    this.emit(this.heldOut());
    this.kept ??= await this.snapshot();
    this.setState('running');
    const trainStep = makeTrainStep(this.params, this.config, this.opt, cfg);
    const schedule = { baseLr: cfg.lr, totalSteps: Math.max(1, cfg.steps), warmupSteps: Math.min(cfg.warmupSteps, Math.max(0, cfg.steps - 1)), decay: cfg.schedule };
    while (this.step < cfg.steps) {
      // --- pause / stop between steps ------------------------------------------------------------------
      // Yield to the event loop so pause/stop messages are handled (the cpu backend resolves data() in a microtask).
      await new Promise<void>((r) => setTimeout(r, 0));
      while (this.state === 'paused') await new Promise<void>((r) => (this.wake = r));
      while (this.predicting) await this.predicting.catch(() => undefined);
      if (this.state === 'stopped') break;

      // --- forward, backward, update --------------------------------------------------------------------
      const batch = sampler.batchAt(this.step);
      const lr = lrAt(this.step, schedule);
      const t0 = performance.now();
      let lossValue: number;
      try {
        const loss = tf.tidy(() => {
          const x = tf.tensor5d(batch.x, batch.shape);
          const y = tf.tensor3d(batch.y, [batch.shape[0], batch.shape[2], batch.shape[3]], 'int32');
          return trainStep(x, y, lr);
        });
        lossValue = (await loss.data())[0];
        loss.dispose();
      } catch (err) {
        await this.fail(err);
        return;
      }
      this.step++;
      const ms = performance.now() - t0;
      const mem = tf.memory();

      // --- log ---------------------------------------------------------------------------------------------
      const point: StepRecord = { step: this.step, loss: lossValue, lr, ms, samplesPerSec: (cfg.batch * 1000) / ms, numTensors: mem.numTensors, numBytes: mem.numBytes };
      this.history.steps.push(point);
      this.emit({ type: 'step', ...point });
      if (!Number.isFinite(lossValue)) {
        await this.fail(`The loss became ${lossValue} at step ${this.step}: lower the learning rate (now ${cfg.lr}) and continue from the last good weights, or start again.`);
        return;
      }

      // --- evaluate (and keep these weights as the last good ones) -------------------------------------------
      const last = this.step === cfg.steps;
      if ((cfg.valEvery > 0 && this.step % cfg.valEvery === 0) || last) {
        try {
          await this.validate();
          this.kept = await this.snapshot();
          if (cfg.autosave) this.send('autosave', this.kept);
        } catch (err) {
          await this.fail(err);
          return;
        }
      }
    }
    this.setState(this.state === 'stopped' ? 'stopped' : 'done');
  }

  /**
   * A failed step: the device may be gone or the variables half-updated, so the run falls back to the last host
   * snapshot and sends it as a checkpoint, which the page can save or continue from (in a fresh worker if need be).
   */
  private async fail(reason: unknown): Promise<void> {
    // The device's `lost` promise settles a task after the failed read: let it, then explain.
    await new Promise<void>((r) => setTimeout(r, 0));
    const message = typeof reason === 'string' ? reason : explainFailure(reason, this.cfg, this.config.imgSize, this.step, gpuDeviceLost(), takeGpuError());
    this.failed = true;
    const kept = this.kept;
    const note = !kept ? '' : kept.step === this.step ? '' : ` The last good weights are those of step ${kept.step}.`;
    this.setState('failed', message + note);
    if (kept) this.send('failure', kept);
  }

  /** Sends a snapshot to the page as a checkpoint file. */
  private send(reason: 'autosave' | 'failure', snap: Snapshot) {
    try {
      const ckpt = this.checkpointFrom(snap);
      const name = checkpointName(ckpt.meta);
      const bytes = encodeModelCheckpoint(ckpt);
      this.emit({ type: 'checkpoint', reason, name, bytes, summary: summarize(ckpt, name) }, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      this.emit({ type: 'error', message: `the ${reason === 'failure' ? 'last good weights' : 'autosave checkpoint'} could not be written: ${err instanceof Error ? err.message : String(err)}` });
    }
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
   * The current model's prediction of slice `index` across `axis` of `image`, on the image's own plane: the run's
   * preprocessing (intensity ranges as training, resize to the model's size) and labels resized back by nearest.
   * Served between training steps (the loop waits for it). Across the run's axis this is one window; across another
   * axis the model still predicts slices across its own axis: the whole volume is predicted once per step and the
   * plane is cut from it.
   */
  async predictSlice(image: Volume, axis: SliceAxis, index: number): Promise<SlicePrediction> {
    while (this.predicting) await this.predicting.catch(() => undefined);
    const job = this.predictNow(image, axis, index);
    this.predicting = job;
    try {
      return await job;
    } finally {
      this.predicting = null;
    }
  }

  private async predictNow(image: Volume, axis: SliceAxis, index: number): Promise<SlicePrediction> {
    const step = this.step;
    let ranges = this.ranges.get(image.data);
    if (!ranges) this.ranges.set(image.data, (ranges = modelRanges(image)));
    if (axis === this.cfg.axis) return { ...(await predictSlicePlane(this.params, this.config, image, axis, index, ranges)), step };
    const p = planeOf(image.dims, axis);
    if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) throw new Error(`${image.name}: slice ${index} is outside 0…${p.depth - 1} along axis ${axis}.`);
    if (this.across?.data !== image.data || this.across.step !== step) {
      this.across = null;
      const r = await evaluateVolume(this.params, this.config, image, null, this.cfg.axis, this.evalBatch, undefined, ranges);
      this.across = { data: image.data, step, prediction: r.prediction };
    }
    const plane = labelSlice({ ...image, channels: 1, data: this.across.prediction }, axis, index);
    return { pred: Uint8Array.from(plane), H: p.H, W: p.W, step };
  }

  /** The current weights and optimiser state, read back to the host. */
  private async snapshot(): Promise<Snapshot> {
    const weights: StateDict = new Map();
    for (const [k, v] of this.params) weights.set(k, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
    return { step: this.step, weights, optim: await this.opt.getState() };
  }

  /** The model as a checkpoint record: the current weights, or after a failure the last good ones. */
  async checkpoint(optimizer: boolean): Promise<ModelCheckpoint> {
    const snap = this.failed && this.kept ? this.kept : await this.snapshot();
    const ckpt = this.checkpointFrom(snap);
    return optimizer ? ckpt : { ...ckpt, optim: null };
  }

  private checkpointFrom(snap: Snapshot): ModelCheckpoint {
    const meta: CheckpointMeta = {
      config: this.config,
      inflation: this.inflation,
      source: this.labels.source,
      train: this.cfg,
      step: snap.step,
      classNames: this.labels.classNames,
      intensity: this.sampler?.presets ?? {},
      orientation: { space: 'RAS', axis: this.cfg.axis },
      history: { steps: this.history.steps.filter((s) => s.step <= snap.step), validations: this.history.validations.filter((v) => v.step <= snap.step) },
      appVersion: this.labels.appVersion,
      created: new Date().toISOString(),
    };
    return { meta, weights: snap.weights, optim: snap.optim };
  }

  dispose() {
    this.opt.dispose();
    for (const v of this.params.values()) v.dispose();
  }
}

/** A checkpoint's description for the page (no tensors). */
export function summarize(ckpt: ModelCheckpoint, file: string): CheckpointSummary {
  let params = 0;
  for (const t of ckpt.weights.values()) params += t.data.length;
  return { ...ckpt.meta, file, hasOptimizer: ckpt.optim !== null, params };
}
