// Layout state: which sidebar sections are open, and whether the run view (live prediction and curves) is shown.
// When a run starts, the settings fold away (Dataset, Model, Training) and the run view comes back; when it ends,
// the Training settings open again for the next run. Either can be reopened or closed by the user at any time.
import { getState, setState, useStore, type AppState, type SectionId } from './store.ts';

const ACTIVE = new Set(['starting', 'running', 'paused']);
const FOLD_ON_START: SectionId[] = ['dataset', 'model', 'training'];

export function setSection(id: SectionId, open: boolean) {
  if (getState().sections[id] !== open) setState((s) => ({ sections: { ...s.sections, [id]: open } }));
}

export const hideRunView = () => setState({ runViewHidden: true });
export const showRunView = () => setState({ runViewHidden: false });

/** Whether the main area shows the run view: from a run's start (or a loaded model) until the user puts it away. */
export function runViewShown(s: Pick<AppState, 'run' | 'runViewHidden'> = getState()): boolean {
  return s.run.state !== 'idle' && !s.runViewHidden;
}

/** Sections folded by the last start, so that the end reopens only what the run closed. */
let folded = new Set<SectionId>();

useStore.subscribe((s, prev) => {
  const now = ACTIVE.has(s.run.state), before = ACTIVE.has(prev.run.state);
  if (now && !before) {
    folded = new Set(FOLD_ON_START.filter((id) => s.sections[id]));
    setState((st) => ({
      sections: { ...st.sections, ...Object.fromEntries(FOLD_ON_START.map((id) => [id, false])) },
      runViewHidden: false,
      // The live prediction is what a run is for: show it unless the user chose how already.
      predictionView: st.predictionView === 'off' ? 'side-by-side' : st.predictionView,
    }));
  } else if (before && !now && folded.has('training')) {
    folded.delete('training');
    setSection('training', true);
  }
});
