// Backend self-check: one seeded micro training step on the current backend and on tfjs's cpu backend, compared
// (logits, loss, gradients, parameters after AdamW). Catches driver / shader bugs before a user trains for an hour.
import * as tf from '@tensorflow/tfjs';
import { createParams, disposeParams, expectedEncoderShapes, forward, makeConfig, segLoss, trainableVars, type ModelConfig } from '../model/index.ts';
import { makeRng } from '../weights/inflate/index.ts';
import type { EncoderSpec, StateDict } from '../weights/types.ts';
import { isBackendName, BACKEND_NAMES, type BackendName } from './backend.ts';
import { makeAdamW } from './optim/adamw.ts';

export interface SelfCheckResult {
  backend: BackendName;
  /** True when every compared quantity agrees within its tolerance. */
  ok: boolean;
  /** Largest relative differences, by quantity (see TOLERANCES for how each is scaled). NaN when a value is NaN. */
  diffs: { logits: number; loss: number; grads: number; params: number };
  /** The worst gradient's parameter name, for the report. */
  worst: string;
  /** Total wall time of the check (both steps, read-backs included). */
  ms: number;
  /** Tolerance of each quantity (the same scale as diffs). */
  tolerances: { logits: number; loss: number; grads: number; params: number };
  /** One line per quantity out of tolerance, e.g. 'grads of blocks.0.attn.qkv.weight: 2.1e-2 > 1e-3'; empty when ok. */
  failures: string[];
  /** Wall time of the training step on the checked backend and on cpu. */
  stepMs: { backend: number; cpu: number };
}

/**
 * Tolerances on relative differences, each max|a − b| over a floored scale of the cpu reference:
 *   logits  / max(1, max|logits|)          loss / max(1, |loss|)
 *   grad    / (max(1e-3, max|grad|) + 1e-3) (per parameter; the worst one counts)
 *   param after the step / (max|param| + 0.1)
 * NOTE: float32 with another summation order differs by little: WebGPU on SwiftShader (Dawn in Node) gives ≤ 1e-6
 * for logits, loss and gradients and 0 for the update; the one-hot shader bug fixed in losses.ts gave NaN. The
 * floors keep near-zero values from dominating.
 */
export const TOLERANCES: SelfCheckResult['tolerances'] = { logits: 1e-3, loss: 1e-4, grads: 1e-3, params: 1e-4 };

/** The model and batch of the check: a micro model and its seeded inputs, [B, T, S, S, 1] and labels [B, S, S]. */
export interface SelfCheckModel {
  config: ModelConfig;
  /** Canonical encoder state (decoder initialised from `decoderSeed`). */
  state: StateDict;
  decoderSeed: number;
  x: Float32Array;
  y: Int32Array;
  batch: number;
}

/** What one training step produced, read back to the host. */
export interface StepOutcome {
  logits: Float32Array;
  loss: number;
  /** Gradient by parameter name. */
  grads: Map<string, Float32Array>;
  /** Every parameter after one AdamW step, by name (with the reference gradients in selfCheck). */
  after: Map<string, Float32Array>;
  ms: number;
}

export interface SelfCheckOptions {
  /** The backend to check against cpu (default: the active one, tf.getBackend()). */
  backend?: BackendName;
  /** Another model and batch (default: microCheckModel()). */
  model?: SelfCheckModel;
  /** Test hook: changes the checked backend's outcome before the comparison (to prove a difference is caught). */
  tamper?: (outcome: StepOutcome) => void;
}

/** Micro ViT of the check: D 16, depth 2, 2 heads, patch 4, T 3, 32 px, 1 channel (an inflated ViT's layout). */
export const MICRO_SPEC: EncoderSpec = {
  family: 'vit', layout: 'timm', embedDim: 16, depth: 2, numHeads: 2, mlpRatio: 4, patchSize: 4, inChans: 1, grid: [8, 8],
  hasClsToken: true, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: true, relPosBias: 'none',
  normEps: 1e-6, fcNorm: false, T: 3, inflation: 'center',
};

/**
 * Deterministic encoder weights for a config: norm weights around 1, biases and tokens of std 0.2 / 0.5, weights of
 * std 1.2/√fan-in. NOTE: far from timm's init on purpose, so that every path of the forward moves the output.
 */
export function microEncoderState(config: ModelConfig, seed: number): StateDict {
  const rng = makeRng(seed);
  const state: StateDict = new Map();
  for (const [key, shape] of expectedEncoderShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = n / shape[0];
    const isNormWeight = /norm\d?\.weight$/.test(key);
    const mean = isNormWeight ? 1 : 0;
    const std = isNormWeight || key.endsWith('.bias') ? 0.2 : shape[0] === 1 ? 0.5 : 1.2 / Math.sqrt(fanIn);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
    state.set(key, { dtype: 'float32', shape, data });
  }
  return state;
}

/** The default model and batch: MICRO_SPEC, 5 classes, UNETR-style head of width 16, batch 2, seeded. */
export function microCheckModel(seed = 0): SelfCheckModel {
  const B = 2, T = 3, S = 32, K = 5;
  const config = makeConfig({ encoder: MICRO_SPEC, numClasses: K, T, inChans: 1, imgSize: S, decoderWidth: 16 });
  // Inputs: a multiplicative hash in [0, 1); labels: diagonal stripes, every class present.
  const x = Float32Array.from({ length: B * T * S * S }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
  const y = Int32Array.from({ length: B * S * S }, (_, i) => (Math.floor(i / S) + (i % S)) % K);
  return { config, state: microEncoderState(config, seed + 1), decoderSeed: 7, x, y, batch: B };
}

const copy = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from((await t.data()) as Float32Array);

/**
 * One forward-backward-update on `backend` (made active, and left active); every tensor it makes is disposed.
 * With `updateWith`, the AdamW step applies those gradients (by parameter name) instead of its own.
 */
export async function runStep(backend: BackendName, m: SelfCheckModel, updateWith?: ReadonlyMap<string, Float32Array>): Promise<StepOutcome> {
  if (!(await tf.setBackend(backend))) throw new Error(`selfCheck: the '${backend}' backend did not initialise`);
  await tf.ready();
  const t0 = performance.now();
  const { config, batch: B } = m;
  const S = config.imgSize;
  const params = createParams(config, m.state, m.decoderSeed);
  const opt = makeAdamW({ weightDecay: 0.05 });
  const xt = tf.tensor5d(m.x, [B, config.T, S, S, config.inChans]);
  const yt = tf.tensor3d(m.y, [B, S, S], 'int32');
  const held: tf.Tensor[] = [xt, yt];
  try {
    // forward
    const logitsT = tf.tidy(() => forward(params, config, xt));
    held.push(logitsT);
    const logits = await copy(logitsT);
    // forward-backward
    const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
    const { value, grads } = tf.variableGrads(() => segLoss(forward(params, config, xt), yt, { kind: 'dice-focal' }), trainableVars(params));
    held.push(value, ...Object.values(grads));
    const named = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g]));
    const gradData = new Map<string, Float32Array>();
    for (const [k, g] of named) gradData.set(k, await copy(g));
    const loss = (await value.data())[0];
    // update
    let update = named;
    if (updateWith) {
      update = new Map();
      for (const [k, g] of named) {
        const given = updateWith.get(k);
        if (!given) throw new Error(`selfCheck: no reference gradient for '${k}'`);
        const t = tf.tensor(given, g.shape, 'float32');
        held.push(t);
        update.set(k, t);
      }
    }
    opt.step(params, update, 1e-3);
    const after = new Map<string, Float32Array>();
    for (const [k, v] of params) after.set(k, await copy(v));
    return { logits, loss, grads: gradData, after, ms: performance.now() - t0 };
  } finally {
    tf.dispose(held);
    opt.dispose();
    disposeParams(params);
  }
}

/** max |a − b| (NaN if either holds a NaN); a length mismatch is Infinity. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const within = (d: number, tol: number): boolean => d <= tol; // false for NaN
const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(1) : String(v));

/** Compares a step on the checked backend (`got`) with the cpu reference (`ref`): relative diffs, verdict, failures. */
export function compareSteps(ref: StepOutcome, got: StepOutcome): Pick<SelfCheckResult, 'ok' | 'diffs' | 'worst' | 'failures'> {
  const failures: string[] = [];
  const logits = maxAbsDiff(got.logits, ref.logits) / Math.max(1, maxAbs(ref.logits));
  const loss = Math.abs(got.loss - ref.loss) / Math.max(1, Math.abs(ref.loss));
  let grads = 0, worst = '', params = 0, worstParam = '';
  const missing = [...ref.grads.keys()].filter((k) => !got.grads.has(k));
  const extra = [...got.grads.keys()].filter((k) => !ref.grads.has(k));
  if (missing.length || extra.length) failures.push(`gradients of different parameters: missing ${missing.join(', ') || 'none'}; extra ${extra.join(', ') || 'none'}`);
  for (const [k, g] of ref.grads) {
    const other = got.grads.get(k);
    if (!other) continue;
    const d = maxAbsDiff(other, g) / (Math.max(1e-3, maxAbs(g)) + 1e-3);
    if (!worst || !(d <= grads)) { grads = d; worst = k; }
  }
  for (const [k, p] of ref.after) {
    const other = got.after.get(k);
    const d = other ? maxAbsDiff(other, p) / (maxAbs(p) + 0.1) : Infinity;
    if (!worstParam || !(d <= params)) { params = d; worstParam = k; }
  }
  if (!within(logits, TOLERANCES.logits)) failures.push(`logits: ${fmt(logits)} > ${fmt(TOLERANCES.logits)}`);
  if (!within(loss, TOLERANCES.loss)) failures.push(`loss: ${fmt(loss)} > ${fmt(TOLERANCES.loss)} (${got.loss} vs cpu ${ref.loss})`);
  if (!within(grads, TOLERANCES.grads)) failures.push(`grads of ${worst}: ${fmt(grads)} > ${fmt(TOLERANCES.grads)}`);
  if (!within(params, TOLERANCES.params)) failures.push(`params after AdamW (${worstParam}): ${fmt(params)} > ${fmt(TOLERANCES.params)}`);
  return { ok: failures.length === 0, diffs: { logits, loss, grads, params }, worst, failures };
}

/**
 * Runs the micro step on the active backend (or `opts.backend`) and on cpu and compares them; also cpu vs cpu
 * (diffs 0). The active backend is restored afterwards and tf.memory().numTensors is unchanged.
 */
export async function selfCheck(opts: SelfCheckOptions = {}): Promise<SelfCheckResult> {
  const t0 = performance.now();
  await tf.ready();
  const original = tf.getBackend();
  const backend = opts.backend ?? original;
  if (!isBackendName(backend)) throw new Error(`selfCheck: backend '${backend}' is not one InflateSeg trains on (${BACKEND_NAMES.join(', ')})`);
  const model = opts.model ?? microCheckModel();
  try {
    // NOTE: AdamW's first step is ≈ lr·sign(g). A gradient that is zero in exact arithmetic (the key bias: softmax
    // ignores a shift of the scores) is float noise of either sign, so each backend's own update could differ by up to
    // lr there. Gradients are compared above; the optimiser is compared on the same (cpu) gradients.
    const ref = await runStep('cpu', model);
    const got = await runStep(backend, model, ref.grads);
    opts.tamper?.(got);
    const verdict = compareSteps(ref, got);
    return { backend, ...verdict, tolerances: { ...TOLERANCES }, stepMs: { backend: got.ms, cpu: ref.ms }, ms: performance.now() - t0 };
  } finally {
    if (tf.getBackend() !== original) await tf.setBackend(original);
  }
}
