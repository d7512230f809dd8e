// Training slice actions: probe the backend, start / pause / resume / stop a run, evaluate, record its events.
import { TrainClient } from '../workers/trainClient.ts';
import type { CaseData, TrainConfig, TrainEvent } from '../workers/train.protocol.ts';
import { getState, setState } from './store.ts';
import { notify } from './actions.ts';
import { fromCanonical, writeNifti } from '../nifti/index.ts';

let client: TrainClient | null = null;
const train = () => (client ??= new TrainClient(onEvent));

function patchRun(patch: Partial<ReturnType<typeof getState>['run']>) {
  setState((s) => ({ run: { ...s.run, ...patch } }));
}

function onEvent(e: TrainEvent) {
  const run = getState().run;
  switch (e.type) {
    case 'backend': setState({ backend: e.info }); break;
    case 'state':
      patchRun({ state: e.state, message: e.message });
      if (e.state === 'failed' && e.message) notify('error', e.message);
      break;
    case 'step': patchRun({ steps: [...run.steps, { step: e.step, loss: e.loss, lr: e.lr, ms: e.ms, samplesPerSec: e.samplesPerSec, numTensors: e.numTensors, numBytes: e.numBytes }] }); break;
    case 'validation': patchRun({ validations: [...run.validations, { step: e.step, dice: e.dice, meanDice: e.meanDice }] }); break;
    case 'preview': patchRun({ preview: e }); break;
    case 'note': patchRun({ notes: [...run.notes, e.message] }); break;
    case 'evaluated': patchRun({ evaluation: e.results, evaluating: false }); break;
    case 'error': notify('error', e.message); patchRun({ evaluating: false }); break;
  }
}

/** Asks the training worker which backend it can use (WebGPU, else WebGL, else cpu) and shows it. */
export function probeBackend() {
  train().send({ type: 'probe' });
}

export function setTrainConfig(patch: Partial<TrainConfig>) {
  setState((s) => ({ trainConfig: { ...s.trainConfig, ...patch } }));
}

/** Starts a run on the labelled cases with the current encoder. Returns a reason when it cannot start. */
export function startTraining(): string | null {
  const s = getState();
  if (!s.encoder) return 'Load an encoder first (Encoder panel).';
  const labelled = s.cases.filter((c) => c.image && c.label);
  if (labelled.length === 0) return 'Load at least one image with its label map.';
  const channels = s.encoder.options.inChans;
  const bad = labelled.find((c) => c.image!.volume.channels !== channels);
  if (bad) return `${bad.id} has ${bad.image!.volume.channels} channel(s) but the encoder takes ${channels}: set Channels in the Encoder panel and convert again.`;
  const numClasses = Math.max(...labelled.flatMap((c) => c.label!.label!.classes)) + 1;
  // Copies (structured clone) so the viewer keeps its volumes.
  const cases: CaseData[] = labelled.map((c) => ({
    id: c.id, split: c.split, dims: c.image!.volume.dims, channels: c.image!.volume.channels, spacing: c.image!.volume.spacing,
    affine: c.image!.volume.affine, image: c.image!.volume.data, label: c.label!.volume.data,
  }));
  setState((st) => ({ run: { state: 'starting', totalSteps: st.trainConfig.steps, steps: [], validations: [], notes: [] } }));
  train().send({ type: 'start', encoder: { spec: s.encoder.spec, options: s.encoder.options, tensors: s.encoder.tensors }, cases, numClasses, config: s.trainConfig });
  return null;
}

export const pauseTraining = () => train().send({ type: 'pause' });
export const resumeTraining = () => train().send({ type: 'resume' });
export const stopTraining = () => train().send({ type: 'stop' });

export function evaluateValidation() {
  const s = getState();
  const ids = s.cases.filter((c) => c.label && c.split === 'val').map((c) => c.id);
  const target = ids.length ? ids : s.cases.filter((c) => c.label).map((c) => c.id);
  patchRun({ evaluating: true, evaluation: undefined });
  train().send({ type: 'evaluate', caseIds: target });
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
