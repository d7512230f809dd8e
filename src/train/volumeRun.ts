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
import { makeAdamW, type AdamW, type OptimState } from './optim/adamw.ts';
import { lrAt } from './optim/schedule.ts';
import { cropImage, makeVolumeSampler, planWindows, VOLUME_AUGMENT, WindowAssembler, type VolumeSampler } from '../data/volume/index.ts';
import { labelSlice, planeOf, type SliceAxis } from '../data/windows/index.ts';
import type { Range } from '../data/intensity.ts';
import { modelRanges, type VolumeEvaluation } from './evaluate.ts';
import { DiceAccumulator, evaluateCase } from '../data/metrics/index.ts';
import { gpuDeviceLost, takeGpuError } from './backend.ts';
import { caseVolume, explainFailure, type Emit, type SlicePrediction } from './run.ts';
import type { CaseData, CheckpointSummary, RunLabels, RunState, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { StateDict } from '../weights/types.ts';
import { checkpointName, encodeModelCheckpoint, type StepRecord, type ValidationRecord, type VolumeCheckpoint, type VolumeCheckpointMeta } from '../weights/checkpoint.ts';
import type { Vec3 } from '../core/types.ts';
import type { Volume } from '../nifti/types.ts';

/** What a volume run is built from: a fresh config (random init from the seed) or a saved volume model. */
export type VolumeSource =
  | { kind: 'volume'; config: VolumeModelConfig }
  | { kind: 'model'; checkpoint: VolumeCheckpoint };

interface Snapshot { step: number; weights: StateDict; optim: OptimState | null }

/** Sliding-window overlap (MONAI BTCV: 0.25). */
export const VOLUME_OVERLAP = 0.25;

export class VolumeTrainingRun {
  readonly kind = 'unetr3d' as const;
  readonly config: VolumeModelConfig;
  readonly params: ParamMap;
  private readonly opt: AdamW;
  private sampler: VolumeSampler | null = null;
  private state: RunState = 'starting';
  private wake: (() => void) | null = null;
  private kept: Snapshot | null;
  private failed = false;
  private predicting: Promise<unknown> | null = null;
  private readonly ranges = new WeakMap<object, Range[]>();
  /** The whole-volume prediction behind the last slice shown, until the weights change. */
  private whole: { data: object; step: number; prediction: Uint8Array } | null = null;
  readonly history: { steps: StepRecord[]; validations: ValidationRecord[] };
  step = 0;

  constructor(
    source: VolumeSource, private readonly cases: CaseData[], numClasses: number, private readonly cfg: TrainConfig,
    private readonly labels: RunLabels, private readonly emit: Emit,
  ) {
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
      this.history = { steps: meta.history.steps.filter((s) => s.step <= meta.step), validations: meta.history.validations.filter((v) => v.step <= meta.step) };
    }
    this.opt = makeAdamW({ weightDecay: cfg.weightDecay, maxGradNorm: cfg.clip > 0 ? cfg.clip : null });
    const optim = source.kind === 'model' ? source.checkpoint.optim : null;
    if (optim) this.opt.setState(optim);
    this.kept = source.kind === 'model' ? { step: this.step, weights: source.checkpoint.weights, optim } : null;
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

  get batch(): number {
    return this.cfg.batch;
  }

  /** Windows per forward pass when predicting by sliding window (MONAI's sw_batch_size is 4). */
  get evalBatch(): number {
    return Math.min(8, Math.max(1, 2 * this.cfg.batch));
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

  async run(): Promise<void> {
    const { cfg } = this;
    const sampler = this.crops;
    this.emit(this.heldOut());
    this.kept ??= await this.snapshot();
    this.setState('running');
    const trainable = [...this.params.values()];
    const nameOf = new Map([...this.params].map(([k, v]) => [v.name, k]));
    const schedule = { baseLr: cfg.lr, totalSteps: Math.max(1, cfg.steps), warmupSteps: Math.min(cfg.warmupSteps, Math.max(0, cfg.steps - 1)), decay: cfg.schedule };
    while (this.step < cfg.steps) {
      // --- pause / stop between steps ------------------------------------------------------------------
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
          const [B, D, H, W] = batch.shape;
          const x = tf.tensor5d(batch.x, batch.shape);
          const y = tf.tensor4d(batch.y, [B, D, H, W], 'int32');
          const { value, grads } = tf.variableGrads(() => this.loss(x, y), trainable);
          this.opt.step(this.params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g])), lr);
          return value;
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

      // --- validate (and keep these weights as the last good ones) -------------------------------------------
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

  private async fail(reason: unknown): Promise<void> {
    await new Promise<void>((r) => setTimeout(r, 0));
    const message = typeof reason === 'string' ? reason : explainFailure(reason, this.cfg, this.config.crop[0], this.step, gpuDeviceLost(), takeGpuError());
    this.failed = true;
    const kept = this.kept;
    const note = !kept || kept.step === this.step ? '' : ` The last good weights are those of step ${kept.step}.`;
    this.setState('failed', message + note);
    if (kept) this.send('failure', kept);
  }

  private send(reason: 'autosave' | 'failure', snap: Snapshot) {
    try {
      const ckpt = this.checkpointFrom(snap);
      const name = checkpointName(ckpt.meta);
      const bytes = encodeModelCheckpoint(ckpt);
      this.emit({ type: 'checkpoint', reason, name, bytes, summary: summarizeVolume(ckpt, name) }, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      this.emit({ type: 'error', message: `the ${reason === 'failure' ? 'last good weights' : 'autosave checkpoint'} could not be written: ${err instanceof Error ? err.message : String(err)}` });
    }
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

  private rangesOf(image: Volume): Range[] {
    let r = this.ranges.get(image.data);
    if (!r) this.ranges.set(image.data, (r = modelRanges(image)));
    return r;
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
   * whole volume's prediction (computed once per step and image). Served between training steps.
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
    const p = planeOf(image.dims, axis);
    if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) throw new Error(`${image.name}: slice ${index} is outside 0…${p.depth - 1} along axis ${axis}.`);
    if (axis === 2) {
      // Only the windows of the whole-volume plan that cover this slice: the same averaged logits there, for a
      // fraction of the windows.
      const { crop, numClasses } = this.config;
      const plan = planWindows(image.dims, crop, VOLUME_OVERLAP).filter(([k]) => k <= index && index < k + crop[0]);
      const acc = new WindowAssembler(image.dims, crop, numClasses, [index, index + 1]);
      await this.predictWindows(image, this.rangesOf(image), plan, acc, [0, image.dims[2]], this.evalBatch);
      return { pred: acc.labels(), H: p.H, W: p.W, step };
    }
    if (this.whole?.data !== image.data || this.whole.step !== step) {
      this.whole = null;
      const prediction = await this.slidingWindow(image, this.rangesOf(image));
      this.whole = { data: image.data, step, prediction };
    }
    const plane = labelSlice({ ...image, channels: 1, data: this.whole.prediction }, axis, index);
    return { pred: Uint8Array.from(plane), H: p.H, W: p.W, step };
  }

  private async snapshot(): Promise<Snapshot> {
    const weights: StateDict = new Map();
    for (const [k, v] of this.params) weights.set(k, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
    return { step: this.step, weights, optim: await this.opt.getState() };
  }

  async checkpoint(optimizer: boolean): Promise<VolumeCheckpoint> {
    const snap = this.failed && this.kept ? this.kept : await this.snapshot();
    const ckpt = this.checkpointFrom(snap);
    return optimizer ? ckpt : { ...ckpt, optim: null };
  }

  private checkpointFrom(snap: Snapshot): VolumeCheckpoint {
    const meta: VolumeCheckpointMeta = {
      config: this.config,
      source: this.labels.source,
      train: this.cfg,
      step: snap.step,
      classNames: this.labels.classNames,
      intensity: this.sampler?.presets ?? {},
      orientation: { space: 'RAS', axis: 2 },
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

/** A volume checkpoint's description for the page (no tensors). */
export function summarizeVolume(ckpt: VolumeCheckpoint, file: string): CheckpointSummary {
  let params = 0;
  for (const t of ckpt.weights.values()) params += t.data.length;
  return { ...ckpt.meta, file, hasOptimizer: ckpt.optim !== null, params };
}
