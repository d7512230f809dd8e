// Either kind of run behind one factory: the window model's TrainingRun (an inflated encoder, or a window
// checkpoint) or the volume model's VolumeTrainingRun (3D UNETR from scratch, or a 'unetr3d' checkpoint), chosen by
// the source (a checkpoint by its config.model). Used by the training worker and the CLI.
import { TrainingRun, caseVolume, type Emit, type ModelSource } from './run.ts';
import { summarizeCheckpoint } from './runLoop.ts';
import { VolumeTrainingRun, type VolumeSource } from './volumeRun.ts';
import { isVolumeCheckpoint, type AnyCheckpoint } from '../weights/checkpoint.ts';
import type { CaseData, CheckpointSummary, RunLabels, TrainConfig } from '../workers/train.protocol.ts';
import type { VolumeEvaluation } from './evaluate.ts';
import { evaluateVolume } from './evaluate.ts';

export type AnyRun = TrainingRun | VolumeTrainingRun;

/** What a run is built from: an encoder, a fresh volume config, or a checkpoint of either kind. */
export type AnySource =
  | Extract<ModelSource, { kind: 'encoder' }>
  | Extract<VolumeSource, { kind: 'volume' }>
  | { kind: 'model'; checkpoint: AnyCheckpoint };

export function makeRun(source: AnySource, cases: CaseData[], numClasses: number, cfg: TrainConfig, labels: RunLabels, emit: Emit): AnyRun {
  if (source.kind === 'volume') return new VolumeTrainingRun(source, cases, numClasses, cfg, labels, emit);
  if (source.kind === 'model' && isVolumeCheckpoint(source.checkpoint)) {
    return new VolumeTrainingRun({ kind: 'model', checkpoint: source.checkpoint }, cases, numClasses, cfg, labels, emit);
  }
  return new TrainingRun(source as ModelSource, cases, numClasses, cfg, labels, emit);
}

/** A checkpoint's description for the page, either kind. */
export const summarizeAny = (ckpt: AnyCheckpoint, file: string): CheckpointSummary => summarizeCheckpoint(ckpt, file);

/**
 * One case predicted whole and scored: the window model slice by slice along its axis, the volume model by sliding
 * window. `batch`: windows per forward pass (default the run's evalBatch).
 */
export function evaluateCaseWith(run: AnyRun, c: CaseData, withLabel = true, batch = run.evalBatch): Promise<VolumeEvaluation> {
  const image = caseVolume(c, 'image'), label = withLabel ? caseVolume(c, 'label') : null;
  if (run instanceof VolumeTrainingRun) return run.evaluateVolume(image, label, undefined, batch);
  return evaluateVolume(run.params, run.config, image, label, run.axis, batch);
}
