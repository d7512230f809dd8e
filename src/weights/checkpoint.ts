// The trained-model checkpoint: one .safetensors holding the encoder under timm names (patch kernel in PyTorch
// Conv3d layout [D, C_in, T, P, P]), the decoder under `decode_head.*`, optionally the AdamW state under
// `optim.{m,v,step}.*`, and in `__metadata__` everything needed to rebuild, resume or evaluate the model.
// Pure: typed arrays and JSON only. Metadata values are JSON strings (safetensors allows only string values).
import type { HostTensor } from '../core/types.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ModelKind, VolumeModelConfig } from '../model/volume/config.ts';
import type { TrainConfig } from '../workers/train.protocol.ts';
import { parseSafetensorsHeader, readSafetensors, writeSafetensors } from './formats/safetensors.ts';
import { CheckpointError } from './formats/errors.ts';
import type { InflateOptions, StateDict } from './types.ts';

export const MODEL_FORMAT = 'inflateseg-model/1';

export interface StepRecord { step: number; loss: number; lr: number; ms: number; samplesPerSec: number; numTensors: number; numBytes: number }
export interface ValidationRecord { step: number; dice: number[]; meanDice: number }

/** Everything a checkpoint says about itself besides the tensors. */
export interface CheckpointMeta {
  /** The model: encoder spec (family, sizes, tokens, eps), T, input channels, input size, classes, decoder. */
  config: ModelConfig;
  /** How the 2D encoder was inflated (strategy, T, channels, size, seed). */
  inflation: InflateOptions;
  /** Where the pre-trained encoder came from (file name or Hub repo id). */
  source: string;
  /** The training settings of the run (steps is the run's target, `step` below how far it got). */
  train: TrainConfig;
  /** Optimiser steps taken. */
  step: number;
  /** Class names by label value, background (0) first; length = config.numClasses. */
  classNames: string[];
  /** Intensity preset per training case id (how voxel values were mapped to 0…1). */
  intensity: Record<string, string>;
  /** The grid the model works on: volumes are reoriented to RAS+ and windows run along `axis` (2 = axial). */
  orientation: { space: 'RAS'; axis: 0 | 1 | 2 };
  /** Loss per step and validation Dice per class, as shown in the app. */
  history: { steps: StepRecord[]; validations: ValidationRecord[] };
  appVersion: string;
  /** ISO time of writing. */
  created: string;
}

export interface OptimRecord { step: number; tensors: Record<string, HostTensor> }

export interface ModelCheckpoint {
  meta: CheckpointMeta;
  /** Encoder (timm names) and decoder (`decode_head.*`) weights. */
  weights: StateDict;
  /** AdamW state (`optim.m.*`, `optim.v.*`, `optim.step.*`) when it was saved. */
  optim: OptimRecord | null;
}

/**
 * A volume-based model's metadata (issue 16, `config.model = 'unetr3d'`): the same record without `inflation` (the
 * model is trained from scratch on 3D crops, no 2D encoder is inflated). `orientation.axis` is 2: the crops' D axis.
 */
export type VolumeCheckpointMeta = Omit<CheckpointMeta, 'config' | 'inflation'> & { config: VolumeModelConfig };

/** A volume-based model's checkpoint: weights under MONAI's UNETR state-dict names (models/CHECKPOINT_FORMAT.md). */
export interface VolumeCheckpoint {
  meta: VolumeCheckpointMeta;
  weights: StateDict;
  optim: OptimRecord | null;
}

/** Either kind of model checkpoint. */
export type AnyCheckpoint = ModelCheckpoint | VolumeCheckpoint;
export type AnyCheckpointMeta = CheckpointMeta | VolumeCheckpointMeta;

/** Which model family a checkpoint's config describes; older checkpoints have no `config.model`: 'window'. */
export const modelKindOf = (config: { model?: ModelKind } | ModelConfig | VolumeModelConfig): ModelKind =>
  (config as { model?: ModelKind }).model === 'unetr3d' ? 'unetr3d' : 'window';

export const isVolumeMeta = (meta: AnyCheckpointMeta): meta is VolumeCheckpointMeta => modelKindOf(meta.config) === 'unetr3d';
export const isVolumeCheckpoint = (ckpt: AnyCheckpoint): ckpt is VolumeCheckpoint => isVolumeMeta(ckpt.meta);

const OPTIM = 'optim.';
const JSON_KEYS = ['config', 'train', 'step', 'class_names', 'intensity', 'orientation', 'history'] as const;

/** Writes a checkpoint (window or volume model). Tensor order: weights as given, then optimiser state. */
export function encodeModelCheckpoint(ckpt: AnyCheckpoint): Uint8Array {
  const { meta } = ckpt;
  const entries: Array<[string, HostTensor]> = [...ckpt.weights];
  if (entries.some(([k]) => k.startsWith(OPTIM))) throw new Error(`checkpoint: weight names may not start with '${OPTIM}'`);
  if (ckpt.optim) entries.push(...Object.entries(ckpt.optim.tensors));
  return writeSafetensors(entries, {
    format: MODEL_FORMAT,
    config: JSON.stringify(meta.config),
    ...('inflation' in meta ? { inflation: JSON.stringify(meta.inflation) } : {}),
    source: meta.source,
    train: JSON.stringify(meta.train),
    step: JSON.stringify(meta.step),
    class_names: JSON.stringify(meta.classNames),
    intensity: JSON.stringify(meta.intensity),
    orientation: JSON.stringify(meta.orientation),
    history: JSON.stringify(meta.history),
    app_version: meta.appVersion,
    created: meta.created,
    ...(ckpt.optim ? { optim_step: JSON.stringify(ckpt.optim.step) } : {}),
  });
}

/** True when a safetensors `__metadata__` is an InflateSeg model checkpoint (not a bare encoder, not a foreign file). */
export const isModelCheckpoint = (metadata: Record<string, string> | undefined): boolean => metadata?.format === MODEL_FORMAT;

/**
 * Whether a file is an InflateSeg model checkpoint, from its header alone (two small reads). Anything unreadable
 * answers false: the file then goes to the encoder converter, which reports what is wrong with it.
 */
export async function isModelCheckpointFile(file: Blob): Promise<boolean> {
  try {
    if (file.size < 8) return false;
    const len = new DataView(await file.slice(0, 8).arrayBuffer()).getUint32(0, true);
    if (len <= 0 || len > 100_000_000 || 8 + len > file.size) return false;
    const head = new Uint8Array(await file.slice(0, 8 + len).arrayBuffer());
    return isModelCheckpoint(parseSafetensorsHeader(head, 'file', file.size).metadata);
  } catch {
    return false;
  }
}

/**
 * Reads a window-based model checkpoint; a volume-based one (config.model 'unetr3d') is refused naming the file, for
 * the readers that only know the window model (export-torch, the PyTorch twin's tests). `what` completes the message.
 */
export async function decodeModelCheckpoint(source: Blob | Uint8Array, file: string, what = 'this reader takes window-based models only'): Promise<ModelCheckpoint> {
  const ckpt = await decodeAnyCheckpoint(source, file);
  if (isVolumeCheckpoint(ckpt)) throw new CheckpointError(file, `a volume-based model (3D UNETR, preset ${ckpt.meta.config.preset}): ${what}`);
  return ckpt;
}

/** Reads a model checkpoint of either kind (tensors are views of `source` when it is an aligned Uint8Array); problems name the file. */
export async function decodeAnyCheckpoint(source: Blob | Uint8Array, file: string): Promise<AnyCheckpoint> {
  const st = await readSafetensors(source, file);
  const md = st.metadata ?? {};
  if (!isModelCheckpoint(md)) {
    throw new CheckpointError(file, `not an InflateSeg model checkpoint (metadata format is ${md.format ? `'${md.format}'` : 'missing'}, expected '${MODEL_FORMAT}')`);
  }
  const parsed: Record<string, unknown> = {};
  for (const k of JSON_KEYS) {
    if (md[k] === undefined) throw new CheckpointError(file, `checkpoint metadata lacks '${k}'`);
    try {
      parsed[k] = JSON.parse(md[k]);
    } catch (err) {
      throw new CheckpointError(file, `checkpoint metadata '${k}' is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }
  const volume = modelKindOf((parsed.config ?? {}) as ModelConfig) === 'unetr3d';
  if (!volume) {
    if (md.inflation === undefined) throw new CheckpointError(file, `checkpoint metadata lacks 'inflation'`);
    try {
      parsed.inflation = JSON.parse(md.inflation);
    } catch (err) {
      throw new CheckpointError(file, `checkpoint metadata 'inflation' is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }
  const common = {
    source: md.source ?? file,
    train: upgradeTrainConfig(parsed.train as TrainConfig),
    step: parsed.step as number,
    classNames: parsed.class_names as string[],
    intensity: parsed.intensity as Record<string, string>,
    orientation: parsed.orientation as CheckpointMeta['orientation'],
    history: historyFrom(parsed.history, file),
    appVersion: md.app_version ?? 'unknown',
    created: md.created ?? '',
  };
  if (!Number.isInteger(common.step) || common.step < 0) throw new CheckpointError(file, `checkpoint step is ${String(common.step)}, expected an integer ≥ 0`);
  let meta: AnyCheckpointMeta;
  if (volume) {
    const config = parsed.config as VolumeModelConfig;
    // NOTE: the fields a reader needs; the model checks the rest (src/model/volume/presets.ts validateVolumeConfig) when it is built.
    const int = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
    if (!(Array.isArray(config.crop) && config.crop.length === 3 && config.crop.every(int)) || !int(config.inChans) || !int(config.numClasses)) {
      throw new CheckpointError(file, `checkpoint config of the 3D UNETR lacks its crop [D, H, W], input channels or class count`);
    }
    meta = { config, ...common };
  } else {
    meta = { config: parsed.config as ModelConfig, inflation: parsed.inflation as InflateOptions, ...common };
    if (!meta.config?.encoder || !Number.isInteger(meta.config.numClasses)) throw new CheckpointError(file, `checkpoint config lacks the encoder or the class count`);
  }
  const weights: StateDict = new Map();
  const optimTensors: Record<string, HostTensor> = {};
  for (const [name, t] of st.tensors) {
    if (t.dtype !== 'float32') throw new CheckpointError(file, `tensor ${name} is ${t.dtype}, expected float32`);
    if (name.startsWith(OPTIM)) optimTensors[name] = t;
    else weights.set(name, t);
  }
  const hasOptim = Object.keys(optimTensors).length > 0;
  if (hasOptim && md.optim_step === undefined) throw new CheckpointError(file, `optimiser tensors without 'optim_step' in the metadata`);
  const optim = hasOptim ? { step: JSON.parse(md.optim_step) as number, tensors: optimTensors } : null;
  return isVolumeMeta(meta) ? { meta, weights, optim } : { meta, weights, optim };
}

/** JSON writes NaN (a Dice with no voxels of the class anywhere) as null: read it back as NaN. */
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

function historyFrom(h: unknown, file: string): CheckpointMeta['history'] {
  const r = h as Partial<CheckpointMeta['history']> | null;
  if (!r || !Array.isArray(r.steps) || !Array.isArray(r.validations)) throw new CheckpointError(file, `checkpoint history must hold 'steps' and 'validations' lists`);
  return {
    steps: r.steps.map((s) => ({ step: num(s.step), loss: num(s.loss), lr: num(s.lr), ms: num(s.ms), samplesPerSec: num(s.samplesPerSec), numTensors: num(s.numTensors), numBytes: num(s.numBytes) })),
    validations: r.validations.map((v) => ({ step: num(v.step), dice: (v.dice ?? []).map(num), meanDice: num(v.meanDice) })),
  };
}

/**
 * A file name for a checkpoint: `<source>_<strategy>_T<T>_step<N>.safetensors`; a volume model's
 * `unetr3d_<preset>_<D>x<H>x<W>_step<N>.safetensors`.
 */
export function checkpointName(meta: Pick<CheckpointMeta, 'source' | 'inflation' | 'step'> | Pick<VolumeCheckpointMeta, 'config' | 'step'>): string {
  if (!('inflation' in meta)) return `unetr3d_${meta.config.preset}_${meta.config.crop.join('x')}_step${meta.step}.safetensors`;
  const base = meta.source.split(' + ')[0].split('/').pop()!.replace(/\.(safetensors|pth|pt|bin)$/i, '').replace(/[^\w.-]+/g, '_') || 'model';
  return `${base}_${meta.inflation.strategy}_T${meta.inflation.T}_step${meta.step}.safetensors`;
}

/**
 * Training settings written by older versions: `augment` was a boolean (true: the reference's augmentations), now
 * a level ('off' | 'light' | 'paper').
 */
function upgradeTrainConfig(train: TrainConfig): TrainConfig {
  const augment = train.augment as TrainConfig['augment'] | boolean;
  return typeof augment === 'boolean' ? { ...train, augment: augment ? 'paper' : 'off' } : train;
}
