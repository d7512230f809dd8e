// Training slice actions: probe and check the backend, start / pause / resume / stop / continue a run, evaluate,
// export and import model checkpoints, and record the worker's events.
import { TrainClient } from '../workers/trainClient.ts';
import { BACKEND_LABEL, type BackendName } from '../core/backends.ts';
import type { BackendInfo } from '../train/backend.ts';
import { DEFAULT_TRAIN_CONFIG, type CaseData, type CheckpointSummary, type RunLabels, type TrainConfig, type TrainEvent, type TrainRequest } from '../workers/train.protocol.ts';
import { getState, setState, type AppState, type CaseEntry } from './store.ts';
import { notify } from './actions.ts';
import { fromCanonical, writeNifti } from '../nifti/index.ts';
import { defaultClassName } from '../data/labels.ts';
import { APP_VERSION } from '../core/version.ts';
import { recordRun } from './runs.ts';
import { saveAutosave } from './autosave.ts';
import { suggestDefaults } from '../train/defaults.ts';
import { defaultVolumePreset, describeVolumeConfig, volumeTrainDefaults, type VolumePresetName } from '../train/volumeDefaults.ts';
import { useModelChoice, volumePresetPicked, type ModelChoice } from './volume.ts';
import { MICRO_NAME } from '../weights/micro.ts';
import type { EncoderSpec, InflationStrategy } from '../weights/types.ts';

let client: TrainClient | null = null;
const train = () => (client ??= new TrainClient(onEvent));

/** Others that follow the worker's events (the live slice prediction, src/store/live.ts), after the store is updated. */
const followers: Array<(e: TrainEvent) => void> = [];
export function followTrainEvents(f: (e: TrainEvent) => void) {
  followers.push(f);
}

/** Sends a request to the training worker (for modules beside this one: the live slice prediction). */
export function sendTrain(req: TrainRequest, transfer: Transferable[] = []) {
  train().send(req, transfer);
}

function patchRun(patch: Partial<ReturnType<typeof getState>['run']>) {
  setState((s) => ({ run: { ...s.run, ...patch } }));
}

/** Waiters for the next checkpoint the worker writes on request (export). */
let exportWaiters: Array<{ resolve: (f: { name: string; bytes: Uint8Array }) => void; reject: (e: Error) => void }> = [];
/** Waiters for the worker to finish loading a checkpoint. */
let loadWaiters: Array<{ resolve: (s: CheckpointSummary) => void; reject: (e: Error) => void }> = [];

function onEvent(e: TrainEvent) {
  record(e);
  for (const f of followers) f(e);
}

function record(e: TrainEvent) {
  const run = getState().run;
  switch (e.type) {
    case 'backend':
      setState({ backend: e.info });
      sayFallback(e.info);
      followBackendPreset(e.info);
      break;
    case 'state':
      patchRun({ state: e.state, message: e.message });
      if (e.state === 'failed' && e.message) notify('error', e.message);
      if (e.state === 'done' || e.state === 'stopped' || e.state === 'failed') recordRun();
      break;
    case 'step': patchRun({ steps: [...run.steps, { step: e.step, loss: e.loss, lr: e.lr, ms: e.ms, samplesPerSec: e.samplesPerSec, numTensors: e.numTensors, numBytes: e.numBytes }] }); break;
    case 'validation': patchRun({ validations: [...run.validations, { step: e.step, dice: e.dice, meanDice: e.meanDice }] }); break;
    case 'split': patchRun({ heldOut: { axis: e.axis, heldOut: e.heldOut } }); break;
    case 'note': patchRun({ notes: [...run.notes, e.message] }); break;
    case 'evaluated': patchRun({ evaluation: e.results, evaluating: false }); break;
    case 'loaded': {
      const m = e.summary;
      setState((st) => ({
        trainConfig: { ...m.train, backend: st.trainConfig.backend, autosave: st.trainConfig.autosave },
        run: { state: 'loaded', totalSteps: m.train.steps, steps: m.history.steps, validations: m.history.validations, notes: [], loaded: m },
      }));
      for (const w of loadWaiters) w.resolve(m);
      loadWaiters = [];
      break;
    }
    case 'checkpoint':
      if (e.reason === 'export') {
        patchRun({ exporting: false });
        for (const w of exportWaiters) w.resolve({ name: e.name, bytes: e.bytes });
        exportWaiters = [];
      } else if (e.reason === 'autosave') {
        void saveAutosave(e.name, e.bytes, e.summary);
      } else {
        patchRun({ recovery: { name: e.name, bytes: e.bytes, summary: e.summary } });
        void saveAutosave(e.name, e.bytes.slice(), e.summary);
      }
      break;
    case 'selfcheck': setState({ backendCheck: { status: 'done', result: e.result } }); break;
    case 'error': {
      notify('error', e.message);
      // A start the worker refused leaves no run behind: say so instead of 'starting' for ever.
      patchRun({ evaluating: false, exporting: false, ...(getState().run.state === 'starting' ? { state: 'failed' as const, message: e.message } : {}) });
      const err = new Error(e.message);
      for (const w of [...exportWaiters, ...loadWaiters]) w.reject(err);
      exportWaiters = [];
      loadWaiters = [];
      if (getState().backendCheck.status === 'running') setState({ backendCheck: { status: 'failed', error: e.message } });
      break;
    }
  }
}

/** The last forced-backend fallback told, so that each run's start does not repeat the notice. */
let toldFallback = '';

/** A notice when the chosen backend could not start: which one, why, and what the work runs on instead. */
function sayFallback(info: BackendInfo) {
  const key = info.requested && info.requested !== info.name ? `${info.requested}>${info.name}` : '';
  if (key && key !== toldFallback) {
    const why = info.fallbacks[0]?.replace(/^\w+: /, '') ?? 'no reason given';
    notify('warning', `${BACKEND_LABEL[info.requested!]} could not start (${why}); training uses ${BACKEND_LABEL[info.name]} instead.`);
  }
  toldFallback = key;
}

/** Asks the training worker which backend it can use (the chosen one, else the automatic order) and shows it. */
export function probeBackend() {
  train().send({ type: 'probe', backend: getState().trainConfig.backend });
}

/**
 * Chooses the backend to train on (undefined: automatic) and probes it at once: the badge shows what started, and a
 * notice says so when it could not. The last self-check was of the other backend, so its verdict is cleared.
 */
export function chooseTrainBackend(backend: BackendName | undefined) {
  setState((s) => ({ trainConfig: { ...s.trainConfig, backend }, backend: null, backendCheck: { status: 'idle' } }));
  probeBackend();
}

/** A setting the user chose: it is kept when the next encoder brings its own defaults. */
export function setTrainConfig(patch: Partial<TrainConfig>) {
  setState((s) => ({
    trainConfig: { ...s.trainConfig, ...patch },
    trainDefaults: { ...s.trainDefaults, edited: [...new Set([...s.trainDefaults.edited, ...(Object.keys(patch) as Array<keyof TrainConfig>)])] },
  }));
}

/**
 * The in-plane voxels of the slices a run would see: the active case's (else the first labelled case's) two axes
 * other than the slicing axis. Undefined when no image is loaded.
 */
export function slicePlane(s: AppState = getState()): [number, number] | undefined {
  const c = s.cases.find((x) => x.id === s.activeId && x.image) ?? s.cases.find((x) => x.image && x.label) ?? s.cases.find((x) => x.image);
  const d = c?.image?.volume.dims;
  if (!d) return undefined;
  const [a, b] = [0, 1, 2].filter((k) => k !== s.trainConfig.axis);
  return [d[a], d[b]];
}

/**
 * Takes the training settings suggested for a freshly converted encoder (learning rate, warm-up, steps, validation
 * interval, augmentation: src/train/defaults.ts), except those the user has edited.
 */
export function applyEncoderDefaults(encoder: { spec2d: EncoderSpec; options: { strategy: InflationStrategy; imgSize: number }; source: string }) {
  const s = getState();
  const suggested = suggestDefaults({
    spec: encoder.spec2d, strategy: encoder.options.strategy, micro: encoder.source === MICRO_NAME, plane: slicePlane(s), imgSize: encoder.options.imgSize,
  });
  const keep = new Set(s.trainDefaults.edited);
  const patch = Object.fromEntries(Object.entries(suggested.train).filter(([k]) => !keep.has(k as keyof TrainConfig)));
  setState((st) => ({ trainConfig: { ...st.trainConfig, ...patch }, trainDefaults: { ...st.trainDefaults, why: suggested.why } }));
}

/** Cases with an image and a label, as the worker takes them (structured-clone copies: the viewer keeps its volumes). */
function labelledCases(s: AppState, which: (c: CaseEntry) => boolean = () => true): CaseData[] {
  return s.cases.filter((c) => c.image && c.label && which(c)).map((c) => ({
    id: c.id, split: c.split, dims: c.image!.volume.dims, channels: c.image!.volume.channels, spacing: c.image!.volume.spacing,
    affine: c.image!.volume.affine, image: c.image!.volume.data, label: c.label!.volume.data,
  }));
}

/** Largest label value over the labelled cases + 1. */
function classCount(s: AppState): number {
  return Math.max(0, ...s.cases.filter((c) => c.label?.label).flatMap((c) => c.label!.label!.classes)) + 1;
}

function runLabels(s: AppState, numClasses: number, source: string): RunLabels {
  return { classNames: Array.from({ length: numClasses }, (_, v) => s.classTable.names[v] ?? defaultClassName(v)), source, appVersion: APP_VERSION };
}

/**
 * Chooses the model family of the next run; the volume model's training settings (src/train/volumeDefaults.ts:
 * Dice + CE, AdamW lr 1e-4, weight decay 1e-5, no clipping) replace those of the window model except the ones the
 * user edited, and the window model's come back from its encoder when it is chosen again.
 */
export function chooseModel(choice: Partial<ModelChoice>, byUser = true) {
  if (byUser && choice.preset) volumePresetPicked.value = true;
  useModelChoice.setState(choice);
  const { kind, preset } = useModelChoice.getState();
  const s = getState();
  if (kind === 'unetr3d') {
    const keep = new Set(s.trainDefaults.edited);
    const patch = Object.fromEntries(Object.entries(volumeTrainDefaults(preset)).filter(([k]) => !keep.has(k as keyof TrainConfig)));
    setState((st) => ({ trainConfig: { ...st.trainConfig, ...patch }, trainDefaults: { ...st.trainDefaults, why: `the volume model (${preset}): Dice + CE, AdamW lr ${volumeTrainDefaults(preset).lr.toExponential(0)}, weight decay 1e-5, as MONAI's BTCV recipe${preset === 'monai-btcv' ? '' : ' with a learning rate for short runs'}` } }));
  } else {
    // The window model's own defaults for what the volume model's changed (loss, weight decay, clipping …).
    const keep = new Set(s.trainDefaults.edited);
    const keys = Object.keys(volumeTrainDefaults(preset)) as Array<keyof TrainConfig>;
    const patch = Object.fromEntries(keys.filter((k) => !keep.has(k)).map((k) => [k, DEFAULT_TRAIN_CONFIG[k]]));
    setState((st) => ({ trainConfig: { ...st.trainConfig, ...patch }, trainDefaults: { ...st.trainDefaults, why: '' } }));
    if (s.encoder) applyEncoderDefaults(s.encoder);
  }
}

/** Offers the volume preset the backend trains in minutes (src/train/volumeDefaults.ts), unless the user picked one. */
export function followBackendPreset(info: BackendInfo) {
  const preset = defaultVolumePreset(info);
  const choice = useModelChoice.getState();
  if (volumePresetPicked.value || choice.preset === preset) return;
  if (choice.kind === 'unetr3d') chooseModel({ preset }, false);
  else useModelChoice.setState({ preset });
}

/** Starts a run of the volume model (3D UNETR at the chosen preset, from scratch) on the labelled cases. */
export function startVolumeTraining(preset: VolumePresetName = useModelChoice.getState().preset): string | null {
  const s = getState();
  const cases = labelledCases(s);
  if (cases.length === 0) return 'Load at least one image with its label map.';
  const bad = cases.find((c) => c.channels !== cases[0].channels);
  if (bad) return `${bad.id} has ${bad.channels} channel(s) but ${cases[0].id} has ${cases[0].channels}: every case needs the same channels.`;
  const numClasses = classCount(s);
  setState((st) => ({ run: { state: 'starting', totalSteps: st.trainConfig.steps, steps: [], validations: [], notes: [] } }));
  train().send({ type: 'start', from: { kind: 'volume', preset }, cases, numClasses, config: s.trainConfig, labels: runLabels(s, numClasses, `UNETR 3D ${preset} (scratch)`) });
  return null;
}

/** Starts a run on the labelled cases with the current encoder (or the volume model when chosen). Returns a reason when it cannot start. */
export function startTraining(): string | null {
  if (useModelChoice.getState().kind === 'unetr3d') return startVolumeTraining();
  const s = getState();
  if (!s.encoder) return 'Load an encoder first (Encoder panel).';
  const cases = labelledCases(s);
  if (cases.length === 0) return 'Load at least one image with its label map.';
  const channels = s.encoder.options.inChans;
  const bad = cases.find((c) => c.channels !== channels);
  if (bad) return `${bad.id} has ${bad.channels} channel(s) but the encoder takes ${channels}: set Channels in the Encoder panel and convert again.`;
  const numClasses = classCount(s);
  setState((st) => ({ run: { state: 'starting', totalSteps: st.trainConfig.steps, steps: [], validations: [], notes: [] } }));
  train().send({
    type: 'start', from: { kind: 'encoder', encoder: { spec: s.encoder.spec, options: s.encoder.options, tensors: s.encoder.tensors } },
    cases, numClasses, config: s.trainConfig, labels: runLabels(s, numClasses, s.encoder.source),
  });
  return null;
}

/** The step the worker's model is at (last run, or loaded checkpoint), or null when there is none. */
export function modelStep(s: AppState = getState()): number | null {
  const r = s.run;
  if (r.state === 'failed') return r.recovery?.summary.step ?? null;
  if (r.state === 'loaded') return r.loaded?.step ?? null;
  if (r.state === 'done' || r.state === 'stopped') return r.steps[r.steps.length - 1]?.step ?? r.loaded?.step ?? 0;
  return null;
}

/**
 * Continues training the worker's model (a finished, stopped or loaded one; after a failure, the last good weights,
 * in a fresh worker so a lost GPU device is replaced) up to the Steps setting, with the current settings (a lower
 * batch after running out of memory, for example). Returns a reason when it cannot.
 */
export async function continueTraining(): Promise<string | null> {
  const s = getState();
  const from = modelStep(s);
  if (from === null) return 'There is no model to continue: train one or import a checkpoint.';
  if (s.trainConfig.steps <= from) return `The model is at step ${from}: set Steps above ${from} to continue.`;
  const cases = labelledCases(s);
  if (cases.length === 0) return 'Load at least one image with its label map.';
  const source = s.run.loaded?.source ?? s.run.recovery?.summary.source ?? s.encoder?.source ?? 'unknown';
  const numClasses = classCount(s);
  const { recovery } = s.run;
  if (s.run.state === 'failed' && recovery) {
    client?.terminate(); // a fresh worker (and GPU device) for the last good weights
    try {
      await loadCheckpointBytes(recovery.name, recovery.bytes.slice());
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  const st = getState();
  setState({ run: { ...st.run, state: 'starting', totalSteps: st.trainConfig.steps, evaluation: undefined, recovery: undefined } });
  train().send({ type: 'start', from: { kind: 'continue' }, cases, numClasses, config: st.trainConfig, labels: runLabels(st, numClasses, source) });
  return null;
}

export const pauseTraining = () => train().send({ type: 'pause' });
export const resumeTraining = () => train().send({ type: 'resume' });
export const stopTraining = () => train().send({ type: 'stop' });

/** Evaluates the model on the validation cases (all labelled cases when none is marked for validation). */
export function evaluateValidation() {
  const s = getState();
  const val = labelledCases(s, (c) => c.split === 'val');
  const cases = val.length ? val : labelledCases(s);
  if (cases.length === 0) { notify('error', 'Load an image with its label map to evaluate on.'); return; }
  patchRun({ evaluating: true, evaluation: undefined });
  train().send({ type: 'evaluate', cases });
}

/** The worker's model as a .safetensors checkpoint (with the AdamW state when `optimizer`, to resume exactly). */
export function exportCheckpoint(optimizer: boolean): Promise<{ name: string; bytes: Uint8Array }> {
  const s = getState();
  if (s.run.state === 'failed' && s.run.recovery) return Promise.resolve({ name: s.run.recovery.name, bytes: s.run.recovery.bytes });
  patchRun({ exporting: true });
  return new Promise((resolve, reject) => {
    exportWaiters.push({ resolve, reject });
    train().send({ type: 'export', optimizer });
  });
}

function loadCheckpointBytes(name: string, bytes: Uint8Array): Promise<CheckpointSummary> {
  return new Promise((resolve, reject) => {
    loadWaiters.push({ resolve, reject });
    train().send({ type: 'load', file: name, bytes, backend: getState().trainConfig.backend }, [bytes.buffer as ArrayBuffer]);
  });
}

/**
 * Makes a model checkpoint file (written by InflateSeg) the worker's model: its curves come back, and it can be
 * evaluated or trained further. A file that is not one gives a message naming it; the current model stays.
 */
export async function importCheckpoint(file: Blob, name: string): Promise<boolean> {
  const s = getState();
  if (['running', 'paused', 'starting'].includes(s.run.state)) {
    notify('error', `${name}: stop the current run before importing a checkpoint.`, name);
    return false;
  }
  try {
    const m = await loadCheckpointBytes(name, new Uint8Array(await file.arrayBuffer()));
    const names = m.classNames.slice(1).join(', ');
    const model = 'inflation' in m
      ? `${m.config.encoder.family} D ${m.config.encoder.embedDim}×${m.config.encoder.depth}, ${m.inflation.strategy} T = ${m.config.T}, ${m.config.imgSize} px`
      : describeVolumeConfig(m.config);
    notify('info', `${name}: model loaded (step ${m.step}, ${model}, classes: ${names}${m.hasOptimizer ? '; optimiser state included' : ''}).`, name);
    return true;
  } catch {
    return false; // the worker's error event already told the user
  }
}

/** Runs the backend self-check in the training worker (one micro step on the backend and on cpu, compared). */
export function checkBackend() {
  if (getState().backendCheck.status === 'running') return;
  setState({ backendCheck: { status: 'running' } });
  train().send({ type: 'selfcheck' });
}

/**
 * The evaluated prediction of a case as a .nii.gz on the image file's own grid: the canonical (RAS+) label map
 * is put back in the stored voxel order, with the source affine (the in-plane resize was undone by assembly).
 */
export async function predictionFile(caseId: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  const s = getState();
  const r = s.run.evaluation?.find((e) => e.caseId === caseId);
  const c = s.cases.find((x) => x.id === caseId);
  if (!r || !c?.image) return null;
  const canonical = c.image.volume;
  const stored = fromCanonical({ dims: canonical.dims, data: r.prediction, affine: canonical.affine, name: `${caseId} prediction` }, c.image.source);
  const bytes = await writeNifti({ dims: stored.dims, channels: 1, data: stored.data, affine: stored.affine, description: 'InflateSeg prediction' });
  const base = c.imageFiles[0].replace(/(_0000)?\.nii(\.gz)?$/i, '');
  return { name: `${base}_pred.nii.gz`, bytes };
}
