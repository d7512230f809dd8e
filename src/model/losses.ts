// Segmentation losses on logits [B, H, W, K] and integer labels [B, H, W]: softmax Dice + focal (default),
// Dice + cross-entropy, plain cross-entropy. One-hot labels, log-softmax for stability; each returns a scalar.
import * as tf from '@tensorflow/tfjs';

export type LossKind = 'dice-focal' | 'dice-ce' | 'ce';

export interface LossOptions {
  /** Which loss (default 'dice-focal', the paper's). */
  kind?: LossKind;
  /** Focal exponent γ (default 2). */
  gamma?: number;
  /** Leave class 0 out of the Dice mean (default false: MONAI's include_background = True, as the reference). */
  ignoreBackground?: boolean;
  /** Dice smoothing added to numerator and denominator (default 1e-5, MONAI's smooth_nr = smooth_dr). */
  smooth?: number;
}

function check(logits: tf.Tensor, labels: tf.Tensor): void {
  const [B, H, W] = logits.shape;
  if (logits.rank !== 4 || labels.rank !== 3 || labels.shape[0] !== B || labels.shape[1] !== H || labels.shape[2] !== W) {
    throw new Error(`losses: logits must be [B, H, W, K] and labels [B, H, W], found [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'int32') throw new Error(`losses: labels must be int32 class indices, found ${labels.dtype}`);
}

/**
 * Soft Dice loss, per sample and class: 1 − mean_{b,k} (2·Σ p·y + s) / (Σ p + Σ y + s), over the pixels of each
 * sample (MONAI's DiceLoss with batch = False). A class absent from both prediction and label scores 1.
 */
export function diceLoss(probs: tf.Tensor, onehot: tf.Tensor, ignoreBackground: boolean, smooth: number): tf.Scalar {
  const [B, , , K] = probs.shape;
  let inter = probs.mul(onehot).sum([1, 2]); // [B, K]
  let denom = probs.sum([1, 2]).add(onehot.sum([1, 2]));
  if (ignoreBackground) {
    if (K < 2) throw new Error('losses: ignoreBackground needs at least 2 classes');
    inter = tf.slice(inter, [0, 1], [B, K - 1]);
    denom = tf.slice(denom, [0, 1], [B, K - 1]);
  }
  return tf.scalar(1).sub(inter.mul(2).add(smooth).div(denom.add(smooth)).mean()) as tf.Scalar;
}

/** Cross-entropy: mean over pixels of −log p_label. */
export function crossEntropy(logProbs: tf.Tensor, onehot: tf.Tensor): tf.Scalar {
  return logProbs.mul(onehot).sum(-1).mean().neg() as tf.Scalar;
}

/**
 * Softmax focal loss (Lin et al.): mean over pixels of −(1 − p_label)^γ · log p_label.
 * NOTE: the multi-class (softmax) form, mean over pixels only; MONAI's FocalLoss default is per-channel sigmoid and
 * also averages over classes. An integer γ is applied by repeated products (pow's exponent gradient needs log(1 − p)).
 */
export function focalLoss(logProbs: tf.Tensor, onehot: tf.Tensor, gamma: number): tf.Scalar {
  const logPt = logProbs.mul(onehot).sum(-1); // [B, H, W]
  const q = tf.scalar(1).sub(tf.exp(logPt));
  let mod: tf.Tensor;
  if (Number.isInteger(gamma) && gamma >= 0 && gamma <= 8) {
    mod = tf.onesLike(q);
    for (let i = 0; i < gamma; i++) mod = mod.mul(q);
  } else {
    mod = tf.pow(tf.clipByValue(q, 1e-12, 1), gamma);
  }
  return mod.mul(logPt).mean().neg() as tf.Scalar;
}

/** The configured loss of logits [B, H, W, K] against labels [B, H, W] (int32 in 0…K−1): a scalar. */
export function segLoss(logits: tf.Tensor, labels: tf.Tensor, opts: LossOptions = {}): tf.Scalar {
  check(logits, labels);
  const kind = opts.kind ?? 'dice-focal';
  const K = logits.shape[3] as number;
  // NOTE: float one-hot straight from oneHot: tfjs-webgpu 4.22 turns an int32 one-hot's cast + transpose into an
  // invalid shader (i32 read as f32 in TransposeProgram), which poisons the step with NaN.
  const onehot = tf.oneHot(labels as tf.Tensor3D, K, 1, 0, 'float32');
  const logProbs = tf.logSoftmax(logits, -1);
  if (kind === 'ce') return crossEntropy(logProbs, onehot);
  const dice = diceLoss(tf.exp(logProbs), onehot, opts.ignoreBackground ?? false, opts.smooth ?? 1e-5);
  if (kind === 'dice-ce') return dice.add(crossEntropy(logProbs, onehot));
  if (kind === 'dice-focal') return dice.add(focalLoss(logProbs, onehot, opts.gamma ?? 2));
  throw new Error(`losses: kind must be 'dice-focal', 'dice-ce' or 'ce', found '${String(kind)}'`);
}
