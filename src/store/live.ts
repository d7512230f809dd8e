// The live slice prediction: asks the training worker for the model's prediction of the slice in view at each
// validation (new weights), when a run ends or a model is loaded, and when the user moves to another slice, axis or
// case (debounced). One request at a time; the latest wanted slice wins, so dragging the slider sends no flood.
import { activeCase, getState, setState, useStore, type AppState } from './store.ts';
import { FIXED_AXIS } from '../render/slice.ts';
import { followTrainEvents, sendTrain } from './train.ts';
import type { TrainEvent } from '../workers/train.protocol.ts';

/** After the last slice/axis/case change, before asking (a slider drag moves through many slices). */
const DEBOUNCE_MS = 120;
/** Run states in which the worker has a model to predict with. */
const HAS_MODEL = new Set(['running', 'paused', 'done', 'stopped', 'loaded']);

interface Want { key: string; caseId: string; axis: 0 | 1 | 2; index: number }

/** The slice the viewer shows, when the live prediction should be asked for it (else null). */
function wanted(s: AppState): Want | null {
  if (!HAS_MODEL.has(s.run.state)) return null;
  const c = activeCase(s);
  if (!c?.image) return null;
  // An evaluated case shows its whole-volume prediction instead.
  if (s.run.evaluation?.some((r) => r.caseId === c.id)) return null;
  const axis = FIXED_AXIS[s.axis], index = s.slice[s.axis];
  return { key: `${c.id}|${axis}|${index}`, caseId: c.id, axis, index };
}

/** The request in flight (its key), what was last answered, and whether the weights changed since. */
let inflight: string | null = null;
let answered: string | null = null;
let stale = true;
let timer: ReturnType<typeof setTimeout> | null = null;

function ask(w: Want, withImage: boolean) {
  const c = activeCase();
  const v = c?.image?.volume;
  if (!v) return;
  inflight = w.key;
  stale = false;
  sendTrain({
    type: 'predictSlice', caseId: w.caseId, axis: w.axis, index: w.index,
    image: withImage ? { id: w.caseId, dims: v.dims, channels: v.channels, spacing: v.spacing, affine: v.affine, image: v.data } : undefined,
  });
}

/** Asks for the slice in view unless its answer is current or a request is in flight (then its answer asks again). */
function pump() {
  if (inflight) return;
  const w = wanted(getState());
  if (!w || (!stale && answered === w.key)) return;
  ask(w, false);
}

/** New weights (a validation, the end of a run, a loaded model): the slice in view is asked for again. */
export function refreshLive() {
  stale = true;
  pump();
}

function onEvent(e: TrainEvent) {
  switch (e.type) {
    case 'validation': refreshLive(); break;
    case 'loaded': refreshLive(); break;
    case 'state':
      // Running (a start: the untrained model; a resume), paused, ended: the weights have moved since the last ask.
      if (e.state === 'running' || e.state === 'paused' || e.state === 'done' || e.state === 'stopped') refreshLive();
      if (e.state === 'failed') inflight = null;
      break;
    case 'error': inflight = null; break; // the worker crashed or refused: nothing in flight answers
    case 'slicePrediction': {
      const key = `${e.caseId}|${e.axis}|${e.index}`;
      if (inflight === key) inflight = null;
      answered = key;
      const { type: _type, ...live } = e;
      setState((s) => ({ run: { ...s.run, live, liveNote: undefined } }));
      pump();
      break;
    }
    case 'sliceUnavailable': {
      const key = `${e.caseId}|${e.axis}|${e.index}`;
      if (inflight === key) inflight = null;
      const w = wanted(getState());
      // The worker has not seen this case (loaded model, a new worker): send the image once with the request.
      if (e.missingImage && w?.key === key) { ask(w, true); break; }
      answered = key;
      setState((s) => ({ run: { ...s.run, liveNote: e.reason } }));
      pump();
      break;
    }
  }
}

followTrainEvents(onEvent);

// The slice in view changed: ask after a short pause (latest wins).
useStore.subscribe((s, prev) => {
  if (s.activeId === prev.activeId && s.axis === prev.axis && s.slice[s.axis] === prev.slice[prev.axis] && s.run.evaluation === prev.run.evaluation) return;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => { timer = null; pump(); }, DEBOUNCE_MS);
});
