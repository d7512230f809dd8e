// One training step — forward, loss, backward, AdamW update — on tensors the caller builds; shared by the training run
// (src/train/run.ts) and the step benchmark (src/cli/benchCore.ts), so the benchmark times exactly what training runs.
import * as tf from '@tensorflow/tfjs';
import { forward, segLoss, trainableVars, type ModelConfig } from '../model/index.ts';
import type { ParamMap } from '../model/types.ts';
import type { AdamW } from './optim/adamw.ts';
import type { TrainConfig } from '../workers/train.protocol.ts';

/** Makes the step function of one model and optimiser: (x [B, T, S, S, C], y [B, S, S] int32, lr) → the loss (a scalar the caller disposes). */
export function makeTrainStep(params: ParamMap, config: ModelConfig, opt: AdamW, loss: Pick<TrainConfig, 'loss' | 'ignoreBackground'>) {
  const trainable = trainableVars(params);
  // tf.variableGrads keys its gradients by variable name; the optimiser wants the parameter map's (timm) names.
  const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
  return (x: tf.Tensor5D, y: tf.Tensor3D, lr: number): tf.Scalar => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => segLoss(forward(params, config, x), y, { kind: loss.loss, ignoreBackground: loss.ignoreBackground }), trainable);
    opt.step(params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g])), lr);
    return value;
  });
}
