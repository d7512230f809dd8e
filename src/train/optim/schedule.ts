// Learning-rate schedules as pure functions of the step: linear warm-up, then linear or cosine decay to a floor
// (METHOD.md "Training"), the linear batch-size scaling rule, and optax-style `number | (step) => number`.

/** A learning rate: constant, or a pure function of the 0-based optimizer step. */
export type Schedule = number | ((step: number) => number);

export interface ScheduleConfig {
  /** Peak learning rate, reached at the end of warm-up. Paper: 3e-5 for a batch of 16 (see `scaleLr`). */
  baseLr: number;
  /** Optimizer steps of the whole run; the decay reaches `minLr` at this step. Reference runs: 25k. */
  totalSteps: number;
  /** Steps of linear warm-up from 0 to `baseLr` (METHOD: 20). */
  warmupSteps?: number;
  /** Floor after the decay (METHOD: 0). */
  minLr?: number;
  /** Shape of the decay after warm-up (METHOD: linear). */
  decay?: 'linear' | 'cosine';
}

export const DEFAULT_WARMUP_STEPS = 20;

/**
 * The learning rate of 0-based step `step` (the lr the update of that step uses):
 * 1. warm-up (step < warmup): baseLr · step / warmup;
 * 2. after the run (step ≥ totalSteps): minLr;
 * 3. decay in between, progress p = (step − warmup) / (totalSteps − warmup) ∈ [0, 1):
 *    linear: minLr + (baseLr − minLr)·(1 − p); cosine: minLr + (baseLr − minLr)·(1 + cos πp)/2.
 * NOTE: branch 1 follows the reference (Hugging Face get_linear_schedule_with_warmup, used by TransSeg), where the
 * update of step 0 has lr 0; nanoGPT's (step + 1)/(warmup + 1) would start one notch higher.
 */
export function lrAt(step: number, cfg: ScheduleConfig): number {
  const { baseLr, totalSteps } = cfg;
  const warmup = cfg.warmupSteps ?? DEFAULT_WARMUP_STEPS;
  const minLr = cfg.minLr ?? 0;
  checkConfig(baseLr, totalSteps, warmup, minLr);
  if (!(Number.isInteger(step) && step >= 0)) throw new Error(`lrAt: step ${step}, expected an integer ≥ 0.`);
  // 1) linear warm-up
  if (step < warmup) return (baseLr * step) / warmup;
  // 2) past the end of the run: the floor
  if (step >= totalSteps) return minLr;
  // 3) decay from baseLr to minLr
  const p = (step - warmup) / (totalSteps - warmup);
  const coeff = (cfg.decay ?? 'linear') === 'linear' ? 1 - p : 0.5 * (1 + Math.cos(Math.PI * p));
  return minLr + coeff * (baseLr - minLr);
}

function checkConfig(baseLr: number, totalSteps: number, warmup: number, minLr: number): void {
  if (!(baseLr >= 0 && Number.isFinite(baseLr))) throw new Error(`lrAt: baseLr ${baseLr}, expected a finite number ≥ 0.`);
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1)) throw new Error(`lrAt: totalSteps ${totalSteps}, expected an integer ≥ 1.`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`lrAt: warmupSteps ${warmup}, expected an integer ≥ 0.`);
  if (!(minLr >= 0 && minLr <= baseLr)) throw new Error(`lrAt: minLr ${minLr}, expected 0 … baseLr (${baseLr}).`);
}

/** The schedule as a function of the step (checked once, here). */
export function makeSchedule(cfg: ScheduleConfig): (step: number) => number {
  lrAt(0, cfg);
  return (step) => lrAt(step, cfg);
}

/** The value of a schedule at a step. */
export function scheduleAt(s: Schedule, step: number): number {
  return typeof s === 'number' ? s : s(step);
}

/**
 * Linear scaling rule: the learning rate for `batch` given one tuned for `refBatch` (lr ∝ batch).
 * The paper's 3e-5 was tuned for an effective batch of 16 (2 per GPU × 8 GPUs), so a browser batch of 2 gives
 * scaleLr(3e-5, 2) = 3.75e-6. NOTE: the rule is a heuristic that holds best for small batches like these; Adam is
 * less sensitive than SGD, so treat the result as a starting point.
 */
export function scaleLr(baseLr: number, batch: number, refBatch = 16): number {
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`scaleLr: batch ${batch}, expected an integer ≥ 1.`);
  if (!(refBatch > 0)) throw new Error(`scaleLr: refBatch ${refBatch}, expected > 0.`);
  return (baseLr * batch) / refBatch;
}
