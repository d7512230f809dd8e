// One training run, top to bottom: build the model from the inflated encoder, sample windows, then
// evaluate / forward-backward-update / log each step; pause, resume and stop between steps; keep the last
// good weights when a step fails (out of memory, lost device). Used by the training worker (and the CLI later).
import * as tf from '@tensorflow/tfjs';
import { createParams, forward, makeConfig, predict, segLoss, toStateDict, trainableVars, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import { makeAdamW, type AdamW } from './optim/adamw.ts';
import { layerDecayMultipliers } from './optim/groups.ts';
import { lrAt } from './optim/schedule.ts';
import { makeSampler, type Sampler, type SamplerCase } from '../data/windows/index.ts';
import { DiceAccumulator } from '../data/metrics/index.ts';
import type { CaseData, EncoderData, RunState, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import type { StateDict } from '../weights/types.ts';
import type { Volume } from '../nifti/types.ts';

export type Emit = (e: TrainEvent, transfer?: Transferable[]) => void;

/** A case's image or label as a Volume on the canonical grid (what the sampler and evaluation take). */
export function caseVolume(c: CaseData, which: 'image' | 'label'): Volume {
  return {
    name: `${c.id} ${which}`, dims: c.dims, channels: which === 'image' ? c.channels : 1, data: which === 'image' ? c.image : c.label,
    datatypeCode: 16, affine: c.affine, affineSource: 'sform', spacing: c.spacing, nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

/** Turns a tfjs failure into a message a user can act on. */
export function explainFailure(err: unknown, cfg: TrainConfig, size: number, step: number): string {
  const m = err instanceof Error ? err.message : String(err);
  if (/out of memory|OOM|allocat|exceeds the max|too large/i.test(m)) {
    return `Out of GPU memory at step ${step} (batch ${cfg.batch}, ${size} px): lower the batch or the input size and start again; the weights of step ${step} are kept. (${m})`;
  }
  if (/device.*lost|lost.*device|context lost/i.test(m)) {
    return `The GPU device was lost at step ${step} (driver reset or another tab took the GPU); the weights of step ${step} are kept — start again to continue. (${m})`;
  }
  return `Training stopped at step ${step}: ${m}`;
}

export class TrainingRun {
  readonly config: ModelConfig;
  readonly params: ParamMap;
  private readonly opt: AdamW;
  private readonly sampler: Sampler;
  private state: RunState = 'starting';
  private wake: (() => void) | null = null;
  step = 0;

  constructor(encoder: EncoderData, cases: CaseData[], numClasses: number, private readonly cfg: TrainConfig, private readonly emit: Emit) {
    const state: StateDict = new Map(encoder.tensors.map((t) => [t.name, { dtype: 'float32', shape: t.shape, data: t.data }]));
    // NOTE: micro encoders (D < 64, used for quick tries and tests) get a narrow decoder so the head does not dominate.
    const decoderWidth = cfg.decoderWidth ?? (encoder.spec.embedDim < 64 ? 16 : 64);
    this.config = makeConfig({ encoder: encoder.spec, numClasses, T: encoder.options.T, inChans: encoder.options.inChans, imgSize: encoder.options.imgSize, decoderWidth });
    this.params = createParams(this.config, state, cfg.seed);
    const names = [...this.params.keys()];
    this.opt = makeAdamW({
      weightDecay: cfg.weightDecay,
      maxGradNorm: cfg.clip > 0 ? cfg.clip : null,
      lrMultipliers: cfg.layerDecay < 1 ? layerDecayMultipliers(names, encoder.spec.depth, cfg.layerDecay) : undefined,
    });
    const samplerCases: SamplerCase[] = cases.map((c) => ({ id: c.id, split: c.split, volume: caseVolume(c, 'image'), label: caseVolume(c, 'label') }));
    this.sampler = makeSampler(samplerCases, {
      axis: cfg.axis, T: this.config.T, size: this.config.imgSize, batch: cfg.batch, seed: cfg.seed, augment: cfg.augment ? undefined : false,
    });
  }

  get notes(): string[] {
    return this.sampler.notes;
  }

  get axis(): 0 | 1 | 2 {
    return this.cfg.axis;
  }

  get batch(): number {
    return this.cfg.batch;
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

  /** Runs `cfg.steps` steps (or until stopped). Pause and stop take effect between steps. */
  async run(): Promise<void> {
    const { cfg } = this;
    this.setState('running');
    const trainable = trainableVars(this.params);
    const nameOf = new Map([...this.params].map(([k, v]) => [v.name, k]));
    const schedule = { baseLr: cfg.lr, totalSteps: Math.max(1, cfg.steps), warmupSteps: Math.min(cfg.warmupSteps, Math.max(0, cfg.steps - 1)), decay: cfg.schedule };
    while (this.step < cfg.steps) {
      // --- pause / stop between steps ------------------------------------------------------------------
      // Yield to the event loop so pause/stop messages are handled (the cpu backend resolves data() in a microtask).
      await new Promise<void>((r) => setTimeout(r, 0));
      while (this.state === 'paused') await new Promise<void>((r) => (this.wake = r));
      if (this.state === 'stopped') break;

      // --- forward, backward, update --------------------------------------------------------------------
      const batch = this.sampler.next();
      const lr = lrAt(this.step, schedule);
      const t0 = performance.now();
      let lossValue: number;
      try {
        const loss = tf.tidy(() => {
          const x = tf.tensor5d(batch.x, batch.shape);
          const y = tf.tensor3d(batch.y, [batch.shape[0], batch.shape[2], batch.shape[3]], 'int32');
          const { value, grads } = tf.variableGrads(() => segLoss(forward(this.params, this.config, x), y, { kind: cfg.loss, ignoreBackground: cfg.ignoreBackground }), trainable);
          const named = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g]));
          this.opt.step(this.params, named, lr);
          return value;
        });
        lossValue = (await loss.data())[0];
        loss.dispose();
      } catch (err) {
        this.setState('failed', explainFailure(err, cfg, this.config.imgSize, this.step));
        return;
      }
      this.step++;
      const ms = performance.now() - t0;
      const mem = tf.memory();

      // --- log ---------------------------------------------------------------------------------------------
      this.emit({ type: 'step', step: this.step, loss: lossValue, lr, ms, samplesPerSec: (cfg.batch * 1000) / ms, numTensors: mem.numTensors, numBytes: mem.numBytes });
      if (!Number.isFinite(lossValue)) {
        this.setState('failed', `The loss became ${lossValue} at step ${this.step}: lower the learning rate (now ${cfg.lr}) and start again.`);
        return;
      }

      // --- evaluate ------------------------------------------------------------------------------------------
      const last = this.step === cfg.steps;
      if ((cfg.valEvery > 0 && this.step % cfg.valEvery === 0) || last) await this.validate();
    }
    this.setState(this.state === 'stopped' ? 'stopped' : 'done');
  }

  /** Pooled slice-level Dice over the validation windows (as the reference pools over validation slices). */
  async validate(): Promise<{ dice: number[]; meanDice: number }> {
    const acc = new DiceAccumulator(this.config.numClasses);
    let best: { fg: number; pred: Uint8Array; caseId: string; index: number } | null = null;
    const S = this.config.imgSize;
    for (const b of this.sampler.validation(this.cfg.batch)) {
      const pred = tf.tidy(() => predict(this.params, this.config, tf.tensor5d(b.x, b.shape)));
      const p = (await pred.data()) as Int32Array;
      pred.dispose();
      for (let i = 0; i < b.shape[0]; i++) {
        const pi = p.subarray(i * S * S, (i + 1) * S * S);
        const yi = b.y.subarray(i * S * S, (i + 1) * S * S);
        acc.add(pi, yi);
        let fg = 0;
        for (let k = 0; k < yi.length; k++) if (yi[k] > 0) fg++;
        if (!best || fg > best.fg) best = { fg, pred: Uint8Array.from(pi), caseId: b.refs[i].caseId, index: b.refs[i].index };
      }
    }
    const r = acc.result();
    const dice = r.perClass;
    this.emit({ type: 'validation', step: this.step, dice, meanDice: r.mean });
    if (best) this.emit({ type: 'preview', step: this.step, caseId: best.caseId, axis: this.cfg.axis, index: best.index, size: S, pred: best.pred }, [best.pred.buffer]);
    return { dice, meanDice: r.mean };
  }

  /** The trained weights (encoder under timm names + decode_head.*), for export. */
  weights(): StateDict {
    return toStateDict(this.params);
  }

  dispose() {
    this.opt.dispose();
    for (const v of this.params.values()) v.dispose();
  }
}
