// AdamW as torch.optim.AdamW (1.13): decay predicate, lr multipliers, global-norm clipping, per-parameter state in
// tf.Variables, export/import as host tensors; one kernel a step on cpu and wasm (fused.ts), tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../../core/types.ts';
import { clipByGlobalNorm, globalNorm } from './clip.ts';
import { fusedAdamW, hasFusedAdamW, type ParamCoeffs } from './fused.ts';
import { defaultDecay } from './groups.ts';
import { scheduleAt, type Schedule } from './schedule.ts';

export interface AdamWConfig {
  /** β1, β2 (PyTorch defaults 0.9, 0.999). */
  betas?: [number, number];
  /** Added to √v̂ (METHOD: 1e-8). */
  eps?: number;
  /** Decoupled decay rate for parameters where `decay(name)` holds (METHOD: 0.05). */
  weightDecay?: number;
  /** Which parameters decay (default: not biases, norms, tokens, position tables, layer scale). */
  decay?: (name: string) => boolean;
  /** lr multiplier per parameter name (layer-wise lr decay); absent names use 1. */
  lrMultipliers?: ReadonlyMap<string, number>;
  /** Clip gradients to this global L2 norm before the update (METHOD: 1.0); null: no clipping. */
  maxGradNorm?: number | null;
  /**
   * Where the backend has it (cpu, wasm: src/train/optim/fused.ts), update every parameter in one kernel (default);
   * false: per-tensor tfjs ops, ~15 kernels a parameter (what other backends always run). Both give the same
   * float32 results, except that the fused kernel sums the gradient norm in float64 (clipped gradients may then
   * differ in the last bit).
   */
  fused?: boolean;
}

/** Optimizer state for a checkpoint: float32 host tensors `optim.m.<name>`, `optim.v.<name>`, `optim.step.<name>` ([]). */
export interface OptimState {
  /** Number of `step` calls so far (the step a schedule is evaluated at next). */
  step: number;
  tensors: Record<string, HostTensor>;
}

export interface AdamW {
  /**
   * One update of every parameter that has a gradient (parameters without one are left alone, their moments and
   * step count too, as in PyTorch). `lr` is a number or a schedule evaluated at `steps`. Everything runs in one
   * tf.tidy with `assign`: after the first step of each parameter, tf.memory().numTensors does not change.
   */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: Schedule): void;
  /** Completed `step` calls. */
  readonly steps: number;
  /** Global gradient norm before clipping at the last step (reads one number back from the device). */
  gradNorm(): Promise<number>;
  getState(): Promise<OptimState>;
  setState(state: OptimState): void;
  /** Frees every state variable. */
  dispose(): void;
}

interface Slot { m: tf.Variable; v: tf.Variable; t: number }

const PREFIX = { m: 'optim.m.', v: 'optim.v.', t: 'optim.step.' } as const;

export function makeAdamW(cfg: AdamWConfig = {}): AdamW {
  const [beta1, beta2] = cfg.betas ?? [0.9, 0.999];
  const eps = cfg.eps ?? 1e-8;
  const weightDecay = cfg.weightDecay ?? 0.05;
  const decay = cfg.decay ?? defaultDecay;
  const maxGradNorm = cfg.maxGradNorm === undefined ? 1.0 : cfg.maxGradNorm;
  for (const [k, b] of [['β1', beta1], ['β2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new Error(`makeAdamW: ${k} = ${b}, expected 0 ≤ β < 1.`);
  }
  if (!(eps > 0)) throw new Error(`makeAdamW: eps ${eps}, expected > 0.`);
  if (!(weightDecay >= 0)) throw new Error(`makeAdamW: weightDecay ${weightDecay}, expected ≥ 0.`);
  if (maxGradNorm !== null && !(maxGradNorm > 0)) throw new Error(`makeAdamW: maxGradNorm ${maxGradNorm}, expected > 0 or null.`);

  const slots = new Map<string, Slot>();
  const lastNorm = tf.tidy(() => tf.variable(tf.scalar(0), false));
  let steps = 0;

  const slotFor = (name: string, p: tf.Variable): Slot => {
    let s = slots.get(name);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false), t: 0 };
      slots.set(name, s);
    } else if (!sameShape(s.m.shape, p.shape)) {
      throw new Error(`AdamW.step: state of ${name} has shape [${s.m.shape}], the parameter [${p.shape}].`);
    }
    return s;
  };

  const clearSlots = () => {
    for (const s of slots.values()) { s.m.dispose(); s.v.dispose(); }
    slots.clear();
  };

  return {
    step(params, grads, lr) {
      const lrNow = scheduleAt(lr, steps);
      if (!(lrNow >= 0 && Number.isFinite(lrNow))) throw new Error(`AdamW.step: lr ${lrNow} at step ${steps}, expected a finite number ≥ 0.`);
      for (const [name, g] of grads) {
        const p = params.get(name);
        if (!p) throw new Error(`AdamW.step: gradient for ${name}, which is not among the ${params.size} parameters.`);
        if (!sameShape(p.shape, g.shape)) throw new Error(`AdamW.step: gradient of ${name} has shape [${g.shape}], the parameter [${p.shape}].`);
        if (p.dtype !== 'float32') throw new Error(`AdamW.step: ${name} is ${p.dtype}, expected float32.`);
        if (g.dtype !== 'float32') throw new Error(`AdamW.step: the gradient of ${name} is ${g.dtype}, expected float32.`);
      }
      const coeffsOf = (name: string, t: number): ParamCoeffs => {
        const lrP = lrNow * (cfg.lrMultipliers?.get(name) ?? 1);
        const wd = decay(name) ? weightDecay : 0;
        return { decayFactor: 1 - lrP * wd, stepSize: lrP / (1 - beta1 ** t), sqrtBc2: Math.sqrt(1 - beta2 ** t) };
      };
      if (cfg.fused !== false && hasFusedAdamW()) {
        // One kernel: norm, clipping and every update (src/train/optim/fused.ts).
        tf.tidy(() => {
          const names = [...grads.keys()];
          const slotsNow = names.map((name) => slotFor(name, params.get(name)!));
          for (const s of slotsNow) s.t += 1;
          const out = fusedAdamW({
            p: names.map((name) => params.get(name)!), g: names.map((name) => grads.get(name)!),
            m: slotsNow.map((s) => s.m), v: slotsNow.map((s) => s.v), coeffs: names.map((name, i) => coeffsOf(name, slotsNow[i].t)),
            beta1, beta2, eps, maxGradNorm,
          });
          lastNorm.assign(out.norm);
          names.forEach((name, i) => {
            slotsNow[i].m.assign(out.m[i]);
            slotsNow[i].v.assign(out.v[i]);
            params.get(name)!.assign(out.p[i]);
          });
        });
        steps += 1;
        return;
      }
      tf.tidy(() => {
        // 1. global norm, and clipping
        let g: ReadonlyMap<string, tf.Tensor> = grads;
        if (maxGradNorm === null) lastNorm.assign(globalNorm(grads.values()));
        else {
          const c = clipByGlobalNorm(grads, maxGradNorm);
          lastNorm.assign(c.norm);
          g = c.grads;
        }
        // 2. per parameter: decoupled decay, moments, bias-corrected update (torch.optim.AdamW's op order)
        for (const [name, grad] of g) {
          const p = params.get(name)!;
          const s = slotFor(name, p);
          s.t += 1;
          const k = coeffsOf(name, s.t);
          const next: tf.Tensor = k.decayFactor !== 1 ? tf.mul(p, k.decayFactor) : p;
          const m = tf.add(tf.mul(s.m, beta1), tf.mul(grad, 1 - beta1));
          const v = tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
          const denom = tf.add(tf.div(tf.sqrt(v), k.sqrtBc2), eps);
          s.m.assign(m);
          s.v.assign(v);
          p.assign(tf.sub(next, tf.mul(tf.div(m, denom), k.stepSize)));
        }
      });
      steps += 1;
    },

    get steps() { return steps; },

    async gradNorm() {
      return (await lastNorm.data())[0];
    },

    async getState() {
      const tensors: Record<string, HostTensor> = {};
      for (const [name, s] of slots) {
        const [m, v] = await Promise.all([s.m.data(), s.v.data()]);
        tensors[PREFIX.m + name] = { dtype: 'float32', shape: [...s.m.shape], data: Float32Array.from(m) };
        tensors[PREFIX.v + name] = { dtype: 'float32', shape: [...s.v.shape], data: Float32Array.from(v) };
        tensors[PREFIX.t + name] = { dtype: 'float32', shape: [], data: Float32Array.of(s.t) };
      }
      return { step: steps, tensors };
    },

    setState(state) {
      if (!(Number.isInteger(state.step) && state.step >= 0)) throw new Error(`AdamW.setState: step ${state.step}, expected an integer ≥ 0.`);
      const names = new Set<string>();
      for (const key of Object.keys(state.tensors)) {
        const kind = (Object.keys(PREFIX) as (keyof typeof PREFIX)[]).find((k) => key.startsWith(PREFIX[k]));
        if (!kind) throw new Error(`AdamW.setState: unexpected key ${key}; expected optim.m.*, optim.v.* or optim.step.*.`);
        names.add(key.slice(PREFIX[kind].length));
      }
      const read = (key: string, shape?: readonly number[]): HostTensor => {
        const h = state.tensors[key];
        if (!h) throw new Error(`AdamW.setState: missing ${key}.`);
        const n = h.shape.reduce((a, b) => a * b, 1);
        if (h.dtype !== 'float32' || !(h.data instanceof Float32Array) || h.data.length !== n) {
          throw new Error(`AdamW.setState: ${key} must be float32 with ${n} values for shape [${h.shape}].`);
        }
        if (shape && !sameShape(h.shape, shape)) throw new Error(`AdamW.setState: ${key} has shape [${h.shape}], expected [${shape}].`);
        return h;
      };
      // Validate everything before touching the current state.
      const loaded = [...names].map((name) => {
        const m = read(PREFIX.m + name);
        const v = read(PREFIX.v + name, m.shape);
        const t = read(PREFIX.t + name, []).data[0];
        if (!(Number.isInteger(t) && t >= 1)) throw new Error(`AdamW.setState: ${PREFIX.t + name} = ${t}, expected an integer ≥ 1.`);
        return { name, m, v, t };
      });
      clearSlots();
      for (const { name, m, v, t } of loaded) {
        slots.set(name, {
          m: tf.tidy(() => tf.variable(tf.tensor(m.data, m.shape, 'float32'), false)),
          v: tf.tidy(() => tf.variable(tf.tensor(v.data, v.shape, 'float32'), false)),
          t,
        });
      }
      steps = state.step;
    },

    dispose() {
      clearSlots();
      lastNorm.dispose();
    },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
