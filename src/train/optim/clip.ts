// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_ (norm type 2). Tensors in, tensors out:
// call inside tf.tidy, or dispose the results.
import * as tf from '@tensorflow/tfjs';

/** √(Σ over all gradients of Σ g²), a scalar. */
export function globalNorm(grads: Iterable<tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    let sum: tf.Scalar = tf.scalar(0);
    for (const g of grads) sum = sum.add(tf.sum(tf.square(g)));
    return tf.sqrt(sum);
  });
}

/**
 * Scales every gradient by min(1, maxNorm / (norm + 1e-6)) and returns the scaled gradients with the norm before
 * clipping (torch's clip_coef, including its 1e-6 and the clamp at 1, so gradients under the limit come back as is
 * up to a multiplication by 1).
 */
export function clipByGlobalNorm(
  grads: ReadonlyMap<string, tf.Tensor>, maxNorm = 1.0,
): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm ${maxNorm}, expected > 0.`);
  const names = [...grads.keys()];
  // NOTE: tf.tidy keeps tensors found in arrays and plain objects, not in a Map: return an array, build the Map after.
  const [norm, ...scaled] = tf.tidy(() => {
    const n = globalNorm(grads.values());
    const coef = tf.minimum(tf.div(maxNorm, tf.add(n, 1e-6)), 1);
    return [n, ...names.map((name) => tf.mul(grads.get(name)!, coef))];
  });
  return { grads: new Map(names.map((name, i) => [name, scaled[i]])), norm: norm as tf.Scalar };
}
