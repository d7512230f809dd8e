// Typed messages between the main thread and the training worker: start / pause / resume / stop / evaluate /
// load and export a checkpoint / self-check, and the events a run produces (backend, steps, validation, slice
// previews, state, evaluation, checkpoint).
import type { BackendInfo, BackendName } from '../train/backend.ts';
import type { AnyCheckpointMeta } from '../weights/checkpoint.ts';
import type { VolumePresetName } from '../train/volumeDefaults.ts';
import type { SelfCheckResult } from '../train/selfcheck.ts';
import type { EncoderSpec, InflateOptions } from '../weights/types.ts';
import type { TensorRecord } from './weights.protocol.ts';
import type { Mat4, Vec3, VoxelArray } from '../core/types.ts';
import type { AugmentLevel } from '../data/windows/augment.ts';

export type LossName = 'dice-focal' | 'dice-ce' | 'ce';

export interface TrainConfig {
  /** Optimiser steps to run. */
  steps: number;
  batch: number;
  /** Peak learning rate after warm-up. */
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  schedule: 'linear' | 'cosine';
  loss: LossName;
  ignoreBackground: boolean;
  /** Training augmentation: 'off', 'light' (mild zoom and intensity shift: short runs) or 'paper' (the reference's). */
  augment: AugmentLevel;
  seed: number;
  /** Validate every N steps (0: only at the end). */
  valEvery: number;
  /** Slicing axis of the canonical volume: 2 = axial. */
  axis: 0 | 1 | 2;
  /** Global-norm gradient clipping (the paper: 1.0). */
  clip: number;
  /** Layer-wise learning-rate decay (1 = off). */
  layerDecay: number;
  /** The backend to train on; absent: the automatic choice (src/train/backend.ts AUTO_ORDER). */
  backend?: BackendName;
  /** Channels of the decoder's feature maps (default 64; 16 for micro encoders). */
  decoderWidth?: number;
  /** Segmentation head: 'unetr' (default, light) or 'uper' (UPerNet, as in the paper). */
  decoder?: 'uper' | 'unetr';
  /** Send a checkpoint (with the optimiser state) at each validation, for the page to keep in browser storage. */
  autosave?: boolean;
}

/**
 * The training defaults of the app and the command line before an encoder is chosen: the paper's settings scaled for
 * small batches (AdamW, lr 1e-4, weight decay 0.05, warm-up then linear decay, clipping at 1.0), light augmentation,
 * 500 steps, validation every 50. Once an encoder is converted, steps, lr, warm-up, validation interval and
 * augmentation follow its kind (src/train/defaults.ts: a randomly initialised encoder needs lr 1e-3).
 */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = {
  steps: 500, batch: 2, lr: 1e-4, weightDecay: 0.05, warmupSteps: 20, schedule: 'linear', loss: 'dice-focal', ignoreBackground: false,
  augment: 'light', seed: 0, valEvery: 50, axis: 2, clip: 1, layerDecay: 1,
};

/** What the run records in a checkpoint besides what it knows itself (names and presets come from the page). */
export interface RunLabels {
  /** Class names by label value, background first. */
  classNames: string[];
  /** Where the encoder came from (file or Hub repo). */
  source: string;
  appVersion: string;
}

/**
 * The model a run starts from: a converted encoder (fresh decoder), the volume-based model of a preset from scratch
 * (3D UNETR, issue 16: channels and classes from the data), or the worker's current model (continue).
 */
export type RunStart =
  | { kind: 'encoder'; encoder: EncoderData }
  | { kind: 'volume'; preset: VolumePresetName }
  | { kind: 'continue' };

/** A case's volumes as the worker needs them (canonical grid). */
export interface CaseData {
  id: string;
  split: 'train' | 'val';
  dims: Vec3;
  channels: number;
  spacing: Vec3;
  affine: Mat4;
  image: VoxelArray;
  label: VoxelArray;
}

/** A case's image alone (what a slice prediction needs when the worker has not seen the case). */
export type CaseImage = Pick<CaseData, 'id' | 'dims' | 'channels' | 'spacing' | 'affine' | 'image'>;

export interface EncoderData {
  spec: EncoderSpec;
  options: InflateOptions;
  tensors: TensorRecord[];
}

export type TrainRequest =
  | { type: 'probe'; backend?: BackendName }
  | { type: 'start'; from: RunStart; cases: CaseData[]; numClasses: number; config: TrainConfig; labels: RunLabels }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'evaluate'; cases: CaseData[] }
  /** Makes a checkpoint file the worker's current model (to evaluate it, or continue training it). */
  | { type: 'load'; file: string; bytes: Uint8Array; /** The page's backend choice (absent: automatic), used when no backend was chosen yet. */ backend?: BackendName }
  /** Writes the current model as a checkpoint; with the optimiser state when asked (to resume exactly). */
  | { type: 'export'; optimizer: boolean }
  /** Runs one seeded micro training step on the chosen backend and on cpu, and compares them. */
  | { type: 'selfcheck' }
  /**
   * The current model's prediction of one slice (axis: canonical voxel axis held fixed; index along it), served
   * between training steps. `image`: the case's image, when the worker may not have it (it keeps it for later requests).
   */
  | { type: 'predictSlice'; caseId: string; axis: 0 | 1 | 2; index: number; image?: CaseImage };

export type RunState = 'starting' | 'running' | 'paused' | 'stopped' | 'done' | 'failed' | 'loaded';

/** A checkpoint's description without its tensors (what the page shows after a load or an export). */
export type CheckpointSummary = AnyCheckpointMeta & { file: string; hasOptimizer: boolean; params: number };

export type TrainEvent =
  | { type: 'backend'; info: BackendInfo }
  | { type: 'state'; state: RunState; message?: string }
  | { type: 'step'; step: number; loss: number; lr: number; ms: number; samplesPerSec: number; numTensors: number; numBytes: number }
  | { type: 'validation'; step: number; dice: number[]; meanDice: number }
  /**
   * What validation holds out, sent when a run starts: per case id, the held-out slice indices along `axis` (a single
   * case split by slabs) or 'case' (a validation case). Cases not named are trained on.
   */
  | { type: 'split'; axis: 0 | 1 | 2; heldOut: Record<string, number[] | 'case'> }
  | { type: 'evaluated'; results: Array<{ caseId: string; dice: number[]; meanDice: number; hd95: number[]; meanHd95: number; prediction: Uint8Array }> }
  | { type: 'note'; message: string }
  /** The worker's model now comes from this checkpoint. */
  | { type: 'loaded'; summary: CheckpointSummary }
  /**
   * A checkpoint file: asked for ('export'), written at each validation when `autosave` is on ('autosave', with the
   * optimiser state), or the last good weights after a failed step ('failure').
   */
  | { type: 'checkpoint'; reason: 'export' | 'autosave' | 'failure'; name: string; bytes: Uint8Array; summary: CheckpointSummary }
  | { type: 'selfcheck'; result: SelfCheckResult }
  /**
   * The answer to predictSlice: labels of the slice on the case's canonical grid plane, H×W in the layout of
   * src/data/windows planeOf (x along the lower remaining voxel axis, y along the higher), at model step `step`.
   */
  | { type: 'slicePrediction'; caseId: string; axis: 0 | 1 | 2; index: number; step: number; H: number; W: number; pred: Uint8Array }
  /** predictSlice could not be answered: `missingImage` when the worker lacks the case's image (send it), else why. */
  | { type: 'sliceUnavailable'; caseId: string; axis: 0 | 1 | 2; index: number; missingImage: boolean; reason: string }
  | { type: 'error'; message: string };
