// Autosave banner: after a reload (or a crash), offers the run kept in browser storage — Resume imports it into the
// training worker (curves back; then Evaluate or Continue), Discard deletes it — and names the data files to load
// again when they are not loaded.
import { useSyncExternalStore } from 'react';
import { useStore } from '../store/store.ts';
import { discardAutosave, dismissAutosave, getAutosaveState, missingFiles, resumeAutosave, subscribeAutosave } from '../store/autosave.ts';
import './autosave.css';

/** 'today 14:03', else '3 Mar 2026, 14:03' (the user's locale). */
function when(iso: string, now = new Date()): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const time = t.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return t.toDateString() === now.toDateString() ? `today ${time}` : t.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** After a resume, keyboard focus goes to the next thing to do (Evaluate) instead of falling to the page. */
const focusNext = () => requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="train-evaluate"]')?.focus());

export function AutosaveBanner() {
  const { offer } = useSyncExternalStore(subscribeAutosave, getAutosaveState);
  const cases = useStore((s) => s.cases);
  const active = useStore((s) => s.run.state === 'running' || s.run.state === 'paused' || s.run.state === 'starting');
  if (!offer || active) return null;
  const r = offer.record;
  const missing = missingFiles(r, cases);
  const loading = cases.some((c) => c.status === 'loading');
  const drop = missing.length > 0 && !loading && (
    <span className="autosave-missing" data-testid="autosave-missing">
      To evaluate or continue it, drop {missing.map((f, i) => <span key={f}>{i > 0 && ', '}<code>{f}</code></span>)} on the page.
    </span>
  );

  if (offer.status === 'resumed') {
    if (!drop) return null;
    return (
      <div className="autosave-banner" role="status" data-testid="autosave-resumed">
        <span>The run is back at step {r.step}.</span>
        {drop}
        <button className="icon" aria-label="Dismiss" onClick={dismissAutosave} data-testid="autosave-dismiss">×</button>
      </div>
    );
  }
  const resuming = offer.status === 'resuming';
  return (
    <div className="autosave-banner" role="region" aria-label="Autosaved run" data-testid="autosave-offer" data-step={r.step}>
      <span>
        A run was saved at step {r.step} ({when(r.savedAt)})
        <span className="autosave-detail"> · {r.source} · {r.step} of {r.totalSteps} steps</span>
      </span>
      {drop}
      <span className="autosave-actions">
        <button className="primary" disabled={resuming} onClick={() => void resumeAutosave().then((ok) => ok && focusNext())} data-testid="autosave-resume">
          {resuming ? 'Resuming…' : 'Resume'}
        </button>
        <button disabled={resuming} onClick={() => void discardAutosave()} data-testid="autosave-discard">Discard</button>
      </span>
    </div>
  );
}
