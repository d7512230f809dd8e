// The one zustand store, built from slices: dataset (cases), viewer (what is shown), notices (messages).
import { create } from 'zustand';
import type { LoadPhase, LoadedVolume } from '../workers/nifti.protocol.ts';
import type { Axis } from '../render/slice.ts';
import type { ConvertPhase, ConvertedEncoder } from '../workers/weights.protocol.ts';
import type { InflationStrategy } from '../weights/types.ts';
import { DEFAULT_HUB } from '../weights/hub.ts';
import type { BackendInfo } from '../train/backend.ts';
import { DEFAULT_TRAIN_CONFIG, type CheckpointSummary, type RunState, type TrainConfig, type TrainEvent } from '../workers/train.protocol.ts';
import type { SelfCheckResult } from '../train/selfcheck.ts';

export type Split = 'train' | 'val';

export interface CaseEntry {
  id: string;
  /** File name(s) of the image (one per channel file) and of the label map. */
  imageFiles: string[];
  labelFile?: string;
  image?: LoadedVolume;
  label?: LoadedVolume;
  split: Split;
  status: 'loading' | 'ready' | 'failed';
  phase?: LoadPhase;
}

export interface ClassTable {
  /** Where the names came from: a file name, or 'default'. */
  source: string;
  names: Record<number, string>;
  colors?: Record<number, [number, number, number]>;
}

export interface Notice {
  id: number;
  level: 'error' | 'warning' | 'info';
  /** The file the message is about, when there is one. */
  file?: string;
  message: string;
}

export interface DatasetSlice {
  cases: CaseEntry[];
  activeId: string | null;
  classTable: ClassTable;
  busy: number;
}

export interface ViewerSlice {
  axis: Axis;
  /** Slice index per axis, on the active case's canonical grid. */
  slice: Record<Axis, number>;
  window: { low: number; high: number };
  windowPreset: string;
  opacity: number;
  showLabel: boolean;
  radiological: boolean;
  channel: number;
  /** Label values hidden in the overlay. */
  hidden: number[];
  /**
   * How an evaluated case's predicted label map is shown: not at all, as the overlay instead of the ground truth,
   * or ground truth and prediction side by side.
   */
  predictionView: 'off' | 'overlay' | 'side-by-side';
}

export interface NoticeSlice {
  notices: Notice[];
}

export interface ModelOptions {
  strategy: InflationStrategy;
  /** Slices per window. */
  T: number;
  /** Input channels (modalities). */
  inChans: number;
  /**
   * In-plane input size (px); null: automatic, chosen at conversion from the encoder and the loaded data
   * (src/train/defaults.ts suggestImgSize).
   */
  imgSize: number | null;
  /** Base URL of the Hugging Face Hub (configurable for mirrors and tests). */
  hubBaseUrl: string;
}

export interface ConversionState {
  status: 'idle' | 'converting' | 'failed';
  source?: string;
  phase?: ConvertPhase;
  done?: number;
  total?: number;
  detail?: string;
  error?: string;
  jobId?: number;
}

export interface ModelSlice {
  modelOptions: ModelOptions;
  conversion: ConversionState;
  /** The encoder in use (inflated, timm names); kept when a later conversion fails or is cancelled. */
  encoder: ConvertedEncoder | null;
}

/** The model's prediction of one slice, live during and after a run (src/store/live.ts; the worker's slicePrediction). */
export type LiveSlice = Omit<Extract<TrainEvent, { type: 'slicePrediction' }>, 'type'>;

/** Sidebar sections that fold (src/ui/App.tsx). */
export type SectionId = 'dataset' | 'model' | 'training' | 'runs';

export interface LayoutSlice {
  /** Which sidebar sections are open; Dataset, Model and Training fold when a run starts (src/store/layout.ts). */
  sections: Record<SectionId, boolean>;
  /** The user put the run view (curves) away; a new run brings it back. */
  runViewHidden: boolean;
}

export const initialLayout = (): LayoutSlice => ({ sections: { dataset: true, model: true, training: true, runs: true }, runViewHidden: false });

export interface StepPoint { step: number; loss: number; lr: number; ms: number; samplesPerSec: number; numTensors: number; numBytes: number }
export interface ValidationPoint { step: number; dice: number[]; meanDice: number }
export type Evaluation = Extract<TrainEvent, { type: 'evaluated' }>['results'];

/** One finished run, kept for comparison (curves, settings, final metrics). */
export interface RunRecord {
  id: number;
  /** A short name, e.g. 'center T5 · 200 steps'. */
  label: string;
  state: 'done' | 'stopped' | 'failed';
  /** Encoder source and inflation (strategy, T, size, channels). */
  encoder: { source: string; strategy: string; T: number; imgSize: number };
  config: TrainConfig;
  steps: StepPoint[];
  validations: ValidationPoint[];
  /** Whole-volume evaluation, when the run was evaluated. */
  evaluation?: Array<{ caseId: string; dice: number[]; meanDice: number; hd95: number[]; meanHd95: number }>;
  endedAt: string;
}

export interface TrainSlice {
  /** What the training worker runs on, once probed. */
  backend: BackendInfo | null;
  trainConfig: TrainConfig;
  /**
   * The settings chosen for the encoder in use (src/train/defaults.ts) and why, shown beside the settings; fields the
   * user edited (`edited`) are kept when another encoder is converted.
   */
  trainDefaults: { why: string; edited: Array<keyof TrainConfig> };
  run: {
    state: RunState | 'idle';
    message?: string;
    totalSteps: number;
    steps: StepPoint[];
    validations: ValidationPoint[];
    /** What the run's validation holds out (slices of a single case, or whole cases): the viewer marks them. */
    heldOut?: Omit<Extract<TrainEvent, { type: 'split' }>, 'type'>;
    notes: string[];
    evaluation?: Evaluation;
    evaluating?: boolean;
    /** The checkpoint the worker's model came from (after an import), shown in the panel. */
    loaded?: CheckpointSummary;
    /** After a failed step: the last good weights as a checkpoint file, to save or continue from. */
    recovery?: { name: string; bytes: Uint8Array; summary: CheckpointSummary };
    /** An export is being written by the worker. */
    exporting?: boolean;
    /** The model's latest prediction of the slice in view (or of the last slice asked for). */
    live?: LiveSlice;
    /** Why the slice in view has no live prediction (e.g. the model takes 2 channels), when the worker said so. */
    liveNote?: string;
  };
  /** Every finished run of this session (and restored ones), oldest first. */
  runs: RunRecord[];
  /** The last backend self-check (GPU vs cpu parity of one micro training step). */
  backendCheck: { status: 'idle' | 'running' | 'done' | 'failed'; result?: SelfCheckResult; error?: string };
}

export const initialTrain = (): TrainSlice => ({
  backend: null,
  backendCheck: { status: 'idle' },
  runs: [],
  trainConfig: { ...DEFAULT_TRAIN_CONFIG },
  trainDefaults: { why: '', edited: [] },
  run: { state: 'idle', totalSteps: 0, steps: [], validations: [], notes: [] },
});

export const initialModel = (): ModelSlice => ({
  modelOptions: { strategy: 'center', T: 5, inChans: 1, imgSize: null, hubBaseUrl: DEFAULT_HUB },
  conversion: { status: 'idle' },
  encoder: null,
});

export type AppState = DatasetSlice & ViewerSlice & NoticeSlice & ModelSlice & TrainSlice & LayoutSlice;

export const initialDataset = (): DatasetSlice => ({ cases: [], activeId: null, classTable: { source: 'default', names: {} }, busy: 0 });
export const initialViewer = (): ViewerSlice => ({
  axis: 'axial',
  slice: { axial: 0, coronal: 0, sagittal: 0 },
  window: { low: 0, high: 1 },
  windowPreset: 'auto',
  opacity: 0.5,
  showLabel: true,
  radiological: true,
  channel: 0,
  hidden: [],
  predictionView: 'side-by-side',
});

export const useStore = create<AppState>()(() => ({ ...initialDataset(), ...initialViewer(), ...initialModel(), ...initialTrain(), ...initialLayout(), notices: [] }));

export const getState = useStore.getState;
export const setState = useStore.setState;

export function activeCase(s: Pick<AppState, 'cases' | 'activeId'> = getState()): CaseEntry | undefined {
  return s.cases.find((c) => c.id === s.activeId);
}
