// The volume model's loss: logits [B, D, H, W, K] against labels [B, D, H, W] (int32), as the 2D losses of
// src/model/losses.ts over every voxel of each sample (MONAI's BTCV recipe: DiceCELoss(to_onehot_y, softmax), i.e.
// kind 'dice-ce'). The volume is folded to [B, D·H, W, K]: the Dice sums per sample and class and the CE mean run
// over the same voxels, so the value is exactly the 3D one.
import type * as tf from '@tensorflow/tfjs';
import { segLoss, type LossOptions } from '../losses.ts';

export function volumeLoss(logits: tf.Tensor, labels: tf.Tensor, opts: LossOptions = { kind: 'dice-ce' }): tf.Scalar {
  const [B, D, H, W, K] = logits.shape;
  if (logits.rank !== 5 || labels.rank !== 4 || labels.shape.some((s, i) => s !== logits.shape[i])) {
    throw new Error(`volumeLoss: logits must be [B, D, H, W, K] and labels [B, D, H, W], found [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`);
  }
  return segLoss(logits.reshape([B, D * H, W, K]), labels.reshape([B, D * H, W]), opts);
}
