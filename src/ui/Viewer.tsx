// Viewer panel: axis tabs, the slice canvas (or ground truth | prediction side by side: the model's live prediction of
// the slice in view during and after a run, the whole-volume prediction after an evaluation), slice slider,
// window/level, overlay controls, legend and readout.
import { useMemo, useState } from 'react';
import { activeCase, useStore, type ViewerSlice } from '../store/store.ts';
import { setAxis, setChannel, setOpacity, setPredictionView, setRadiological, setSlice, setWindow, setWindowPreset, toggleLabel } from '../store/actions.ts';
import { WINDOW_PRESETS } from '../store/windows.ts';
import { AXES, FIXED_AXIS, sliceCount } from '../render/slice.ts';
import { labelStats } from '../data/labels.ts';
import { SliceCanvas, type Readout } from './SliceCanvas.tsx';
import { Legend, type LegendPrediction } from './Legend.tsx';
import { formatValue, trim } from './format.ts';
import { useLiveVolume } from './liveVolume.ts';
import './viewer-extra.css';

type PredictionView = ViewerSlice['predictionView'];
const PREDICTION_VIEWS: Array<{ id: PredictionView; label: string; title: string }> = [
  { id: 'off', label: 'Off', title: 'Ground truth only' },
  { id: 'overlay', label: 'Overlay', title: 'The prediction as the overlay instead of the ground truth' },
  { id: 'side-by-side', label: 'Side by side', title: 'Ground truth and prediction side by side' },
];

export function Viewer() {
  const c = useStore((s) => activeCase(s));
  const axis = useStore((s) => s.axis);
  const slice = useStore((s) => s.slice[s.axis]);
  const windowRange = useStore((s) => s.window);
  const preset = useStore((s) => s.windowPreset);
  const opacity = useStore((s) => s.opacity);
  const showLabel = useStore((s) => s.showLabel);
  const radiological = useStore((s) => s.radiological);
  const channel = useStore((s) => s.channel);
  const evaluation = useStore((s) => s.run.evaluation);
  const view = useStore((s) => s.predictionView);
  const runState = useStore((s) => s.run.state);
  const live = useStore((s) => s.run.live);
  const liveNote = useStore((s) => s.run.liveNote);
  const [readout, setReadout] = useState<Readout | null>(null);
  // Pointer position over one pane (fractions of its box), mirrored as a marker on the other pane.
  const [twin, setTwin] = useState<{ pane: 0 | 1; fx: number; fy: number } | null>(null);

  // The active case's evaluated prediction, when it lies on the case's grid (a reloaded case may differ).
  const result = c?.image ? evaluation?.find((r) => r.caseId === c.id) : undefined;
  const dims = c?.image?.volume.dims;
  const prediction = result && dims && result.prediction.length === dims[0] * dims[1] * dims[2] ? result.prediction : undefined;
  const grid = c?.label?.volume ?? c?.image?.volume;
  const predictedStats = useMemo(() => (prediction && grid ? labelStats({ ...grid, channels: 1, data: prediction, name: `${grid.name} (prediction)` }) : undefined), [prediction, grid]);
  const legendPrediction: LegendPrediction | undefined = predictedStats && result && view !== 'off' ? { stats: predictedStats, dice: result.dice } : undefined;
  // Without an evaluation of this case: the model's live prediction of the slice in view, from a run's start on.
  const liveMode = !prediction && !!c?.image && runState !== 'idle';
  const liveVolume = useLiveVolume(liveMode ? c?.id : undefined, dims, live, FIXED_AXIS[axis], slice);
  const split = useStore((s) => s.run.heldOut);

  if (!c?.image) {
    return (
      <section className="panel viewer-panel empty" aria-label="Viewer">
        <div className="empty-state">Drop a NIfTI volume here, or load a bundled sample.</div>
      </section>
    );
  }
  const v = c.image.volume;
  const n = sliceCount(v.dims, axis);
  const truthMax = c.label?.label ? Math.max(0, ...c.label.label.classes) : 0;
  const maxLabel = Math.max(truthMax, predictedStats ? predictedStats.classes[predictedStats.classes.length - 1] ?? 0 : 0, liveVolume.maxLabel);
  const mode: PredictionView = prediction || liveMode ? view : 'off';
  const shown = mode === 'off' ? undefined : prediction ?? liveVolume.volume;
  // What validation holds out of this case: the caption says whether the model trained on the slice in view.
  const heldEntry = split?.heldOut[c.id];
  const heldSlices = Array.isArray(heldEntry) && split!.axis === FIXED_AXIS[axis] ? heldEntry : undefined;
  const sliceRole = heldEntry === 'case' ? 'validation case' : heldSlices ? (heldSlices.includes(slice) ? 'held-out slice' : 'training slice') : '';
  const liveCaption = liveVolume.volume && live ? `Prediction · step ${live.step}${sliceRole ? ` · ${sliceRole}` : ''}`
    : liveNote ? `Prediction · ${liveNote}`
    : runState === 'starting' ? 'Prediction · the model is being built…'
    : `Prediction · computing slice ${slice + 1}…`;
  const liveTitle = 'The model\'s prediction of this slice as training goes: refreshed at each validation and when you move to another slice. Evaluate predicts the whole volume.';
  const liveAttrs = liveMode ? {
    'data-testid': 'live-prediction', 'data-case': c.id, 'data-axis': axis, 'data-slice': liveVolume.volume ? live?.index : undefined,
    'data-step': liveVolume.volume ? live?.step : undefined, 'data-state': liveVolume.volume ? 'shown' : liveNote ? 'unavailable' : 'computing',
  } : {};
  const diceText = result ? `Dice ${Number.isFinite(result.meanDice) ? result.meanDice.toFixed(2) : '–'}` : '';
  const predictionTitle = result
    ? `Mean Dice ${Number.isFinite(result.meanDice) ? result.meanDice.toFixed(3) : '–'} · mean HD95 ${Number.isNaN(result.meanHd95) ? '–' : Number.isFinite(result.meanHd95) ? `${result.meanHd95.toFixed(1)} mm` : '∞'} (3D, whole volume)`
    : '';

  const pane = (i: 0 | 1, overlay: 'truth' | 'prediction', caption: string, testId: string, title?: string, attrs: Record<string, unknown> = {}) => (
    <figure className="viewer-pane" key={overlay} {...attrs}>
      <figcaption data-testid={`${testId}-caption`} title={title}>{caption}</figcaption>
      <div
        className="pane-canvas"
        onPointerMove={(e) => { const b = e.currentTarget.getBoundingClientRect(); setTwin({ pane: i, fx: (e.clientX - b.left) / b.width, fy: (e.clientY - b.top) / b.height }); }}
        onPointerLeave={() => setTwin(null)}
      >
        <SliceCanvas onReadout={setReadout} overlay={overlay} prediction={shown} predictionVersion={liveVolume.version} maxLabel={maxLabel} testId={testId} />
        {mode === 'side-by-side' && twin && twin.pane !== i && <span className="twin-cursor" style={{ left: `${twin.fx * 100}%`, top: `${twin.fy * 100}%` }} aria-hidden />}
      </div>
    </figure>
  );

  return (
    <section className="panel viewer-panel" aria-label="Viewer">
      <div className="viewer-toolbar">
        <div role="tablist" aria-label="View axis" className="tabs">
          {AXES.map((a) => (
            <button key={a} role="tab" aria-selected={a === axis} className={a === axis ? 'selected' : ''} onClick={() => setAxis(a)} data-testid={`axis-${a}`}>
              {a[0].toUpperCase() + a.slice(1)}
            </button>
          ))}
        </div>
        <span className="case-title" data-testid="viewer-title">{c.id}</span>
        {(prediction || liveMode) && (
          <div role="group" aria-label="Prediction view" className="tabs prediction-view" data-testid="prediction-view" data-value={view}>
            <span className="muted">Prediction</span>
            {PREDICTION_VIEWS.map((p) => (
              <button key={p.id} aria-pressed={p.id === view} className={p.id === view ? 'selected' : ''} title={p.title} onClick={() => setPredictionView(p.id)} data-testid={`prediction-view-${p.id}`}>
                {p.label}
              </button>
            ))}
          </div>
        )}
      </div>
      <div className="viewer-body">
        {mode === 'off' && <SliceCanvas onReadout={setReadout} prediction={shown} maxLabel={maxLabel} />}
        {mode === 'overlay' && (
          <div className="viewer-canvases">
            {prediction ? pane(0, 'prediction', `Prediction · ${diceText}`, 'slice-canvas', predictionTitle) : pane(0, 'prediction', liveCaption, 'slice-canvas', liveTitle, liveAttrs)}
          </div>
        )}
        {mode === 'side-by-side' && (
          <div className="viewer-canvases two">
            {pane(0, 'truth', c.label ? 'Ground truth' : 'Image (no label map)', 'slice-canvas')}
            {prediction
              ? pane(1, 'prediction', `Prediction · ${diceText}`, 'slice-canvas-prediction', predictionTitle)
              : pane(1, 'prediction', liveCaption, 'slice-canvas-prediction', liveTitle, liveAttrs)}
          </div>
        )}
        <aside className="viewer-side">
          <label className="field">
            <span>Slice <output data-testid="slice-value">{slice + 1}</output> / {n}</span>
            <input type="range" min={0} max={n - 1} value={slice} onChange={(e) => setSlice(axis, Number(e.target.value))} aria-label="Slice" data-testid="slice-slider" />
          </label>
          {liveMode && heldSlices && heldSlices.length > 0 && (
            <p className="hint held-out" data-testid="held-out" data-role={sliceRole}>
              Held out from training: slices {sliceRanges(heldSlices)}.{' '}
              {!heldSlices.includes(slice) && (
                <button className="link" onClick={() => setSlice(axis, nearest(heldSlices, slice))} data-testid="goto-held-out"
                  title="Show a slice the model never trains on: its prediction is what validation scores">Show one</button>
              )}
            </p>
          )}
          <label className="field">
            <span>Window</span>
            <select value={preset} onChange={(e) => setWindowPreset(e.target.value)} data-testid="window-preset">
              {WINDOW_PRESETS.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
              {preset === 'custom' && <option value="custom">Custom</option>}
            </select>
          </label>
          <div className="field two">
            <label><span>Low</span><input type="number" value={trim(windowRange.low)} step="any" onChange={(e) => setWindow(Number(e.target.value), windowRange.high)} aria-label="Window low" /></label>
            <label><span>High</span><input type="number" value={trim(windowRange.high)} step="any" onChange={(e) => setWindow(windowRange.low, Number(e.target.value))} aria-label="Window high" /></label>
          </div>
          {v.channels > 1 && (
            <label className="field">
              <span>Channel</span>
              <select value={channel} onChange={(e) => setChannel(Number(e.target.value))}>
                {Array.from({ length: v.channels }, (_, i) => <option key={i} value={i}>channel {i}</option>)}
              </select>
            </label>
          )}
          {c.label && (
            <>
              <label className="field check"><input type="checkbox" checked={showLabel} onChange={toggleLabel} data-testid="show-label" /> Label overlay</label>
              <label className="field">
                <span>Opacity {Math.round(opacity * 100)} %</span>
                <input type="range" min={0} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} aria-label="Overlay opacity" data-testid="opacity" />
              </label>
            </>
          )}
          <label className="field check" title="Radiological: the patient's right is on the screen's left">
            <input type="checkbox" checked={radiological} onChange={(e) => setRadiological(e.target.checked)} /> Radiological (R on left)
          </label>
          <ReadoutBox r={readout} />
          {c.label && <Legend prediction={legendPrediction} />}
        </aside>
      </div>
    </section>
  );
}

function ReadoutBox({ r }: { r: Readout | null }) {
  return (
    <div className="readout" data-testid="readout" aria-live="off">
      {r ? (
        <>
          <div>voxel <b>{r.voxel.join(', ')}</b></div>
          <div>mm <b>{r.mm.map((x) => x.toFixed(1)).join(', ')}</b></div>
          <div>value <b data-testid="readout-value">{formatValue(r.value)}</b></div>
          {r.label !== undefined && <div>label <b data-testid="readout-label">{r.label}{r.labelName ? ` · ${r.labelName}` : ''}</b></div>}
          {r.predicted !== undefined && (
            <div className={r.label !== undefined && r.label !== r.predicted ? 'readout-miss' : ''}>
              predicted <b data-testid="readout-prediction">{r.predicted}{r.predictedName ? ` · ${r.predictedName}` : ''}</b>
            </div>
          )}
        </>
      ) : (
        <div className="muted">Move the pointer over the image. Wheel: slice · drag with the right button or Shift: window/level.</div>
      )}
    </div>
  );
}

/** 0-based slice indices as the slider numbers them (1-based), consecutive runs joined: '15–20, 40–45'. */
function sliceRanges(indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j > i ? `${sorted[i] + 1}–${sorted[j] + 1}` : `${sorted[i] + 1}`);
    i = j;
  }
  return runs.join(', ');
}

/** The index of `indices` closest to `at`. */
function nearest(indices: readonly number[], at: number): number {
  return indices.reduce((best, i) => (Math.abs(i - at) < Math.abs(best - at) ? i : best), indices[0]);
}
