// What every kind of training run shares, whatever the model: the run state (pause, resume, stop between steps),
// the step loop (forward-backward-update, log, validate, keep the last good weights), the fallback to the last good
// weights when a step fails, checkpoints sent to the page, live slice predictions served between steps (one at a
// time, on one step's weights) and the whole-volume prediction a slice across another axis is cut from.
// The window model (run.ts) and the volume model (volumeRun.ts) supply the model-specific parts.
import * as tf from '@tensorflow/tfjs';
import type { ParamMap } from '../model/types.ts';
import type { AdamW, OptimState } from './optim/adamw.ts';
import { lrAt } from './optim/schedule.ts';
import { labelSlice, planeOf, type SliceAxis } from '../data/windows/index.ts';
import type { Range } from '../data/intensity.ts';
import { modelRanges } from './evaluate.ts';
import { gpuDeviceLost, takeGpuError } from './backend.ts';
import type { CaseData, CheckpointSummary, RunLabels, RunState, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { StateDict } from '../weights/types.ts';
import { checkpointName, encodeModelCheckpoint, type AnyCheckpoint, type CheckpointMeta, type StepRecord, type ValidationRecord } from '../weights/checkpoint.ts';
import type { Volume } from '../nifti/types.ts';

export type Emit = (e: TrainEvent, transfer?: Transferable[]) => void;

/** One slice's prediction on the case's canonical plane (layout as planeOf), with the step of the weights. */
export interface SlicePrediction { pred: Uint8Array; H: number; W: number; step: number }

/** The weights (and optimiser state) of one step, on the host. */
export interface Snapshot { step: number; weights: StateDict; optim: OptimState | null }

export type RunHistory = { steps: StepRecord[]; validations: ValidationRecord[] };

/** The meta fields every model's checkpoint has (CheckpointMeta without the model's own config and inflation). */
export type CommonMeta = Omit<CheckpointMeta, 'config' | 'inflation'>;

/** A saved run's history up to (and including) `step`: what was logged after it belongs to weights not kept. */
export const historyUpTo = (h: RunHistory, step: number): RunHistory => ({
  steps: h.steps.filter((s) => s.step <= step),
  validations: h.validations.filter((v) => v.step <= step),
});

/** A checkpoint's description for the page (no tensors). */
export function summarizeCheckpoint(ckpt: AnyCheckpoint, file: string): CheckpointSummary {
  let params = 0;
  for (const t of ckpt.weights.values()) params += t.data.length;
  return { ...ckpt.meta, file, hasOptimizer: ckpt.optim !== null, params };
}

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

/**
 * The shared run. A subclass builds its config, `params`, `opt`, `step` and `history` in its constructor (then
 * calls `resumeOptimiser` when it continues a checkpoint) and supplies the model-specific parts below.
 */
export abstract class RunLoop<Ckpt extends AnyCheckpoint> {
  abstract readonly params: ParamMap;
  protected abstract readonly opt: AdamW;
  abstract readonly history: RunHistory;
  step = 0;
  protected state: RunState = 'starting';
  private wake: (() => void) | null = null;
  /** Last good weights on the host: at the start, at each validation, and what a failure falls back to. */
  protected kept: Snapshot | null = null;
  private failed = false;
  /** A live prediction being computed: the training loop waits for it, so one prediction sees one step's weights. */
  private predicting: Promise<unknown> | null = null;
  /** Intensity ranges per image array (computed once; the same as training and evaluation: modelRanges). */
  private readonly ranges = new WeakMap<object, Range[]>();
  /** The whole predicted volume behind the last slice cut from it, until the weights change. */
  private whole: { data: object; step: number; prediction: Uint8Array } | null = null;

  constructor(
    protected readonly cases: CaseData[], protected readonly cfg: TrainConfig,
    protected readonly labels: RunLabels, protected readonly emit: Emit,
  ) {}

  // --- what each model supplies ------------------------------------------------------------------------------
  /** The canonical axis the run's slices run along. */
  abstract get axis(): 0 | 1 | 2;
  /** Windows (or crops) per forward pass when predicting whole volumes. */
  abstract get evalBatch(): number;
  /** Which slices or cases validation holds out, for the page. */
  abstract heldOut(): Extract<TrainEvent, { type: 'split' }>;
  /** Validates the current weights, records and emits the result. */
  abstract validate(): Promise<{ dice: number[]; meanDice: number }>;
  /**
   * The training step, made once per run: `prepare(step)` draws the step's batch on the host (not timed) and returns
   * the update, which runs inside tf.tidy with the step's learning rate and returns the loss.
   */
  protected abstract stepper(): (step: number) => (lr: number) => tf.Scalar;
  /** The in-plane size the failure messages quote (px). */
  protected abstract get sizeForMessages(): number;
  /** Intensity preset per training case (what the sampler chose), for checkpoints. */
  protected abstract presets(): Record<string, string>;
  /** A checkpoint of a snapshot: the model's own config fields plus `common`. */
  protected abstract checkpointOf(common: CommonMeta, snap: Snapshot): Ckpt;
  /** The current model's prediction of one slice (served one at a time by predictSlice). */
  protected abstract predictNow(image: Volume, axis: SliceAxis, index: number): Promise<SlicePrediction>;

  // --- shared ------------------------------------------------------------------------------------------------
  get batch(): number {
    return this.cfg.batch;
  }

  /** Continues a checkpoint: its optimiser state, and the checkpoint as the first last-good snapshot. */
  protected resumeOptimiser(checkpoint: { weights: StateDict; optim: OptimState | null }): void {
    if (checkpoint.optim) this.opt.setState(checkpoint.optim);
    this.kept = { step: this.step, weights: checkpoint.weights, optim: checkpoint.optim };
  }

  protected setState(s: RunState, message?: string) {
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
  async run(): Promise<void> {
    const { cfg } = this;
    this.emit(this.heldOut());
    // A fresh model takes its first snapshot when the run starts (reads are async on GPUs).
    this.kept ??= await this.snapshot();
    this.setState('running');
    const prepare = this.stepper();
    const schedule = { baseLr: cfg.lr, totalSteps: Math.max(1, cfg.steps), warmupSteps: Math.min(cfg.warmupSteps, Math.max(0, cfg.steps - 1)), decay: cfg.schedule };
    while (this.step < cfg.steps) {
      // --- pause / stop between steps ------------------------------------------------------------------
      // Yield to the event loop so pause/stop messages are handled (the cpu backend resolves data() in a microtask).
      await new Promise<void>((r) => setTimeout(r, 0));
      while (this.state === 'paused') await new Promise<void>((r) => (this.wake = r));
      while (this.predicting) await this.predicting.catch(() => undefined);
      if (this.state === 'stopped') break;

      // --- forward, backward, update --------------------------------------------------------------------
      const update = prepare(this.step);
      const lr = lrAt(this.step, schedule);
      const t0 = performance.now();
      let lossValue: number;
      try {
        const loss = tf.tidy(() => update(lr));
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

  /**
   * A failed step: the device may be gone or the variables half-updated, so the run falls back to the last host
   * snapshot and sends it as a checkpoint, which the page can save or continue from (in a fresh worker if need be).
   */
  private async fail(reason: unknown): Promise<void> {
    // The device's `lost` promise settles a task after the failed read: let it, then explain.
    await new Promise<void>((r) => setTimeout(r, 0));
    const message = typeof reason === 'string' ? reason : explainFailure(reason, this.cfg, this.sizeForMessages, this.step, gpuDeviceLost(), takeGpuError());
    this.failed = true;
    const kept = this.kept;
    const note = !kept || kept.step === this.step ? '' : ` The last good weights are those of step ${kept.step}.`;
    this.setState('failed', message + note);
    if (kept) this.send('failure', kept);
  }

  /** Sends a snapshot to the page as a checkpoint file. */
  private send(reason: 'autosave' | 'failure', snap: Snapshot) {
    try {
      const ckpt = this.checkpointFrom(snap);
      const name = checkpointName(ckpt.meta);
      const bytes = encodeModelCheckpoint(ckpt);
      this.emit({ type: 'checkpoint', reason, name, bytes, summary: summarizeCheckpoint(ckpt, name) }, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      this.emit({ type: 'error', message: `the ${reason === 'failure' ? 'last good weights' : 'autosave checkpoint'} could not be written: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** The intensity ranges of an image, as training and evaluation compute them (once per image array). */
  protected rangesOf(image: Volume): Range[] {
    let r = this.ranges.get(image.data);
    if (!r) this.ranges.set(image.data, (r = modelRanges(image)));
    return r;
  }

  /**
   * The current model's prediction of slice `index` across `axis` of `image`, on the image's own plane. Served
   * between training steps (the loop waits for it); one at a time.
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

  /**
   * Slice `index` across `axis` cut from the whole-volume prediction, which `predictWhole` computes once per image and
   * step (a slice across another axis than the model's needs the whole volume predicted).
   */
  protected async sliceOfWhole(image: Volume, axis: SliceAxis, index: number, predictWhole: () => Promise<Uint8Array>): Promise<SlicePrediction> {
    const step = this.step;
    const p = planeOf(image.dims, axis);
    if (!(Number.isInteger(index) && index >= 0 && index < p.depth)) throw new Error(`${image.name}: slice ${index} is outside 0…${p.depth - 1} along axis ${axis}.`);
    if (this.whole?.data !== image.data || this.whole.step !== step) {
      this.whole = null;
      const prediction = await predictWhole();
      this.whole = { data: image.data, step, prediction };
    }
    const plane = labelSlice({ ...image, channels: 1, data: this.whole.prediction }, axis, index);
    return { pred: Uint8Array.from(plane), H: p.H, W: p.W, step };
  }

  /** The current weights and optimiser state, read back to the host. */
  protected async snapshot(): Promise<Snapshot> {
    const weights: StateDict = new Map();
    for (const [k, v] of this.params) weights.set(k, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
    return { step: this.step, weights, optim: await this.opt.getState() };
  }

  /** The model as a checkpoint record: the current weights, or after a failure the last good ones. */
  async checkpoint(optimizer: boolean): Promise<Ckpt> {
    const snap = this.failed && this.kept ? this.kept : await this.snapshot();
    const ckpt = this.checkpointFrom(snap);
    return optimizer ? ckpt : { ...ckpt, optim: null };
  }

  private checkpointFrom(snap: Snapshot): Ckpt {
    return this.checkpointOf({
      source: this.labels.source,
      train: this.cfg,
      step: snap.step,
      classNames: this.labels.classNames,
      intensity: this.presets(),
      orientation: { space: 'RAS', axis: this.axis },
      history: historyUpTo(this.history, snap.step),
      appVersion: this.labels.appVersion,
      created: new Date().toISOString(),
    }, snap);
  }

  dispose() {
    this.opt.dispose();
    for (const v of this.params.values()) v.dispose();
  }
}
