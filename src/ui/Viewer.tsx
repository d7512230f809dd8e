// Viewer panel: axis tabs, the slice canvas, slice slider, window/level, overlay controls, legend and readout.
import { useState } from 'react';
import { activeCase, useStore } from '../store/store.ts';
import { setAxis, setChannel, setOpacity, setRadiological, setSlice, setWindow, setWindowPreset, toggleLabel } from '../store/actions.ts';
import { WINDOW_PRESETS } from '../store/windows.ts';
import { AXES, sliceCount } from '../render/slice.ts';
import { SliceCanvas, type Readout } from './SliceCanvas.tsx';
import { Legend } from './Legend.tsx';
import { formatValue, trim } from './format.ts';

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
  const [readout, setReadout] = useState<Readout | null>(null);

  if (!c?.image) {
    return (
      <section className="panel viewer-panel empty" aria-label="Viewer">
        <div className="empty-state">Drop a NIfTI volume here, or load a bundled sample.</div>
      </section>
    );
  }
  const v = c.image.volume;
  const n = sliceCount(v.dims, axis);
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
      </div>
      <div className="viewer-body">
        <SliceCanvas onReadout={setReadout} />
        <aside className="viewer-side">
          <label className="field">
            <span>Slice <output data-testid="slice-value">{slice + 1}</output> / {n}</span>
            <input type="range" min={0} max={n - 1} value={slice} onChange={(e) => setSlice(axis, Number(e.target.value))} aria-label="Slice" data-testid="slice-slider" />
          </label>
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
          {c.label && <Legend />}
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
        </>
      ) : (
        <div className="muted">Move the pointer over the image. Wheel: slice · drag with the right button or Shift: window/level.</div>
      )}
    </div>
  );
}
