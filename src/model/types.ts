// The parameter map (canonical name → tf.Variable) shared by encoder, decoder and params, with a strict getter,
// and the declarative description of a parameter to initialise (ParamSpec).
import type * as tf from '@tensorflow/tfjs';

/** Canonical name (timm for the encoder, `decode_head.*` for the decoder) → variable in PyTorch layout. */
export type ParamMap = Map<string, tf.Variable>;

/** How a fresh parameter is initialised: He normal over fanIn, a normal of a given std, zeros or ones. */
export type ParamInit = { kind: 'he'; fanIn: number } | { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamSpec {
  shape: number[];
  init: ParamInit;
}

/** The variable under key, or an error naming the key. */
export function need(params: ParamMap, key: string): tf.Variable {
  const v = params.get(key);
  if (!v) throw new Error(`model: parameter '${key}' is missing from the parameter map`);
  return v;
}
