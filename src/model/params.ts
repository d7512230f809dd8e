// The parameter map: encoder variables from a canonical state dict (strictly checked against the config), decoder
// variables freshly initialised, export back to a state dict, and the no-weight-decay rule.
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../core/types.ts';
import { makeRng, type Rng } from '../weights/inflate/index.ts';
import { isHierarchical, type StateDict } from '../weights/types.ts';
import { gridSide, type ModelConfig } from './config.ts';
import { decoderParamSpecs } from './decoder.ts';
import { SWIN_UNUSED_BY_FORWARD, swinEncoderShapes, withStageNorms } from './swin/params.ts';
import type { ParamMap, ParamSpec } from './types.ts';

/**
 * Keys the encoder forward never reads (kept so that export is complete): variables created non-trainable, so that
 * tf.variableGrads() without a list, or an optimizer, does not ask for their (missing) gradient.
 */
const UNUSED_BY_FORWARD = new Set(['fc_norm.weight', 'fc_norm.bias']);

/** Every encoder key and its shape for the config (models/CANONICAL_KEYS.md, the inflated grid and kernel). */
export function expectedEncoderShapes(config: ModelConfig): Map<string, number[]> {
  const e = config.encoder;
  if (isHierarchical(e.family)) return swinEncoderShapes(config);
  const D = e.embedDim;
  const H = Math.round(e.mlpRatio * D);
  const g = gridSide(config);
  const prefix = (e.hasClsToken ? 1 : 0) + (e.hasDistToken ? 1 : 0);
  const R = (2 * g - 1) * (2 * g - 1) + 3;
  const s = new Map<string, number[]>();
  if (e.hasClsToken) s.set('cls_token', [1, 1, D]);
  if (e.hasDistToken) s.set('dist_token', [1, 1, D]);
  if (e.absPosEmbed) s.set('pos_embed', [1, prefix + g * g, D]);
  s.set('patch_embed.proj.weight', [D, config.inChans, config.T, e.patchSize, e.patchSize]);
  s.set('patch_embed.proj.bias', [D]);
  if (e.relPosBias === 'shared') s.set('rel_pos_bias.relative_position_bias_table', [R, e.numHeads]);
  for (let i = 0; i < e.depth; i++) {
    const p = `blocks.${i}.`;
    for (const n of ['norm1', 'norm2']) for (const leaf of ['weight', 'bias']) s.set(`${p}${n}.${leaf}`, [D]);
    s.set(`${p}attn.qkv.weight`, [3 * D, D]);
    if (e.qkvBias === 'qkv') s.set(`${p}attn.qkv.bias`, [3 * D]);
    if (e.qkvBias === 'qv') {
      s.set(`${p}attn.q_bias`, [D]);
      s.set(`${p}attn.v_bias`, [D]);
    }
    if (e.relPosBias === 'per-layer') s.set(`${p}attn.relative_position_bias_table`, [R, e.numHeads]);
    s.set(`${p}attn.proj.weight`, [D, D]);
    s.set(`${p}attn.proj.bias`, [D]);
    s.set(`${p}mlp.fc1.weight`, [H, D]);
    s.set(`${p}mlp.fc1.bias`, [H]);
    s.set(`${p}mlp.fc2.weight`, [D, H]);
    s.set(`${p}mlp.fc2.bias`, [D]);
    if (e.layerScale) {
      const [a, b] = e.family === 'beit' ? ['gamma_1', 'gamma_2'] : ['ls1.gamma', 'ls2.gamma'];
      s.set(`${p}${a}`, [D]);
      s.set(`${p}${b}`, [D]);
    }
  }
  for (const leaf of ['weight', 'bias']) s.set(`${e.fcNorm ? 'fc_norm' : 'norm'}.${leaf}`, [D]);
  return s;
}

/** Every decoder parameter name starts with this. */
export const DECODER_PREFIX = 'decode_head.';

/** A variable holding a copy of data (the temporary tensor it is made from is disposed). */
export function newVariable(data: Float32Array, shape: number[], trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), trainable));
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);


/**
 * Variables for exactly the `expected` keys (name → shape, in that order) from `state`: a missing key, an unknown one
 * among `given` (the state's keys this owner claims), a wrong shape or a non-float dtype is an error, `mismatch` /
 * `owner` naming whose state it is. `trainable(key)` false makes a variable no optimiser asks a gradient for.
 */
export function strictVariables(
  mismatch: string, owner: string, expected: Map<string, number[]>, state: StateDict, given: string[], trainable: (key: string) => boolean = () => true,
): ParamMap {
  const missing = [...expected.keys()].filter((k) => !state.has(k));
  const unknown = given.filter((k) => !expected.has(k));
  if (missing.length || unknown.length) {
    const list = (ks: string[]): string => ks.slice(0, 20).join(', ') + (ks.length > 20 ? ` (+${ks.length - 20} more)` : '');
    throw new Error(`${mismatch}${missing.length ? `; missing: ${list(missing)}` : ''}${unknown.length ? `; unknown: ${list(unknown)}` : ''}`);
  }
  const params: ParamMap = new Map();
  for (const [key, shape] of expected) {
    const t = state.get(key) as HostTensor;
    if (!sameShape(t.shape, shape)) throw new Error(`${owner}: '${key}' has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`${owner}: '${key}' must be float32 or float64, found ${t.dtype}`);
    // A copy: the cpu backend would otherwise keep the caller's array as its storage.
    params.set(key, newVariable(Float32Array.from(t.data), shape, trainable(key)));
  }
  return params;
}

/**
 * Encoder variables from a canonical state dict; strict: every missing key, unknown key or shape mismatch is an error.
 * Swin / Video Swin: the stage norms are added when the state has none (swin/params.ts withStageNorms).
 */
export function encoderParams(config: ModelConfig, given: StateDict): ParamMap {
  const hierarchical = isHierarchical(config.encoder.family);
  const state = hierarchical ? withStageNorms(config, given) : given;
  const unused = hierarchical ? SWIN_UNUSED_BY_FORWARD : UNUSED_BY_FORWARD;
  return strictVariables('params: encoder state does not match the config', 'params', expectedEncoderShapes(config), state, [...state.keys()], (k) => !unused.has(k));
}

/** Initial values of a fresh parameter (ParamSpec.init) drawn from rng. */
export function initValues(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const init = spec.init;
  if (init.kind === 'ones') out.fill(1);
  else if (init.kind === 'he' || init.kind === 'normal') {
    const std = init.kind === 'he' ? Math.sqrt(2 / init.fanIn) : init.std;
    for (let i = 0; i < n; i++) out[i] = std * rng.normal();
  }
  return out;
}

/** Fresh decoder variables (He normal convs, zero biases, unit norms, std 0.01 classifier) from seed. */
export function decoderParams(config: ModelConfig, seed = 0): ParamMap {
  const rng = makeRng(seed);
  const params: ParamMap = new Map();
  for (const [key, spec] of decoderParamSpecs(config)) params.set(key, newVariable(initValues(spec, rng), spec.shape));
  return params;
}

/** Decoder variables from the `decode_head.*` entries of a state dict (a saved model); strict like encoderParams. */
export function loadDecoderParams(config: ModelConfig, state: StateDict): ParamMap {
  const shapes = new Map([...decoderParamSpecs(config)].map(([k, spec]) => [k, spec.shape]));
  const given = [...state.keys()].filter((k) => k.startsWith(DECODER_PREFIX));
  return strictVariables(`params: decoder state does not match the '${config.decoder}' head`, 'params', shapes, state, given);
}

/**
 * All parameters of a model. `state` holds the encoder under canonical names (inflated to the config: kernel
 * [D, C_in, T, P, P], grid imgSize / P) and, for a saved model (toStateDict), the decoder under `decode_head.*`:
 * a decoder present in the state is loaded, otherwise a fresh one is initialised from seed.
 * With state = null only a fresh decoder is created; the caller adds the encoder (mergeParams(encoderParams(…), …)).
 */
export function createParams(config: ModelConfig, state: StateDict | null, seed = 0): ParamMap {
  if (!state) return decoderParams(config, seed);
  const encoderState: StateDict = new Map([...state].filter(([k]) => !k.startsWith(DECODER_PREFIX)));
  const hasDecoder = encoderState.size < state.size;
  const encoder = encoderParams(config, encoderState);
  return mergeParams(encoder, hasDecoder ? loadDecoderParams(config, state) : decoderParams(config, seed));
}

/** One map from several with disjoint keys (a duplicate key is an error). */
export function mergeParams(...maps: ParamMap[]): ParamMap {
  const out: ParamMap = new Map();
  for (const m of maps) {
    for (const [k, v] of m) {
      if (out.has(k)) throw new Error(`params: duplicate parameter '${k}'`);
      out.set(k, v);
    }
  }
  return out;
}

/** The parameters back on the host, float32, same names and PyTorch layouts (for export / checkpoints). */
export function toStateDict(params: ParamMap): StateDict {
  const out: StateDict = new Map();
  for (const [k, v] of params) out.set(k, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
  return out;
}

/** Disposes every variable of the map. */
export function disposeParams(params: ParamMap): void {
  for (const v of params.values()) v.dispose();
}

/** Trainable variables in map order (the list for tf.variableGrads / an optimizer). */
export const trainableVars = (params: ParamMap): tf.Variable[] => [...params.values()].filter((v) => v.trainable);
