// Typed messages between the main thread and the training worker: start / pause / resume / stop / evaluate,
// and the events a run produces (backend, steps, validation, slice previews, state, evaluation, checkpoint).
import type { BackendInfo, BackendName } from '../train/backend.ts';
import type { EncoderSpec, InflateOptions } from '../weights/types.ts';
import type { TensorRecord } from './weights.protocol.ts';
import type { Mat4, Vec3, VoxelArray } from '../core/types.ts';

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
  augment: boolean;
  seed: number;
  /** Validate every N steps (0: only at the end). */
  valEvery: number;
  /** Slicing axis of the canonical volume: 2 = axial. */
  axis: 0 | 1 | 2;
  /** Global-norm gradient clipping (the paper: 1.0). */
  clip: number;
  /** Layer-wise learning-rate decay (1 = off). */
  layerDecay: number;
  backend?: BackendName;
  /** Channels of the decoder's feature maps (default 64; 16 for micro encoders). */
  decoderWidth?: number;
}

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

export interface EncoderData {
  spec: EncoderSpec;
  options: InflateOptions;
  tensors: TensorRecord[];
}

export type TrainRequest =
  | { type: 'probe'; backend?: BackendName }
  | { type: 'start'; encoder: EncoderData; cases: CaseData[]; numClasses: number; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'evaluate'; caseIds: string[] };

export type RunState = 'starting' | 'running' | 'paused' | 'stopped' | 'done' | 'failed';

export type TrainEvent =
  | { type: 'backend'; info: BackendInfo }
  | { type: 'state'; state: RunState; message?: string }
  | { type: 'step'; step: number; loss: number; lr: number; ms: number; samplesPerSec: number; numTensors: number; numBytes: number }
  | { type: 'validation'; step: number; dice: number[]; meanDice: number }
  | { type: 'preview'; step: number; caseId: string; axis: number; index: number; size: number; pred: Uint8Array }
  | { type: 'evaluated'; results: Array<{ caseId: string; dice: number[]; meanDice: number; hd95: number[]; meanHd95: number; prediction: Uint8Array }> }
  | { type: 'note'; message: string }
  | { type: 'error'; message: string };
