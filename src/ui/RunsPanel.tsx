// Runs panel: every finished run of the session (strategy, T, steps, final validation Dice, evaluation, ms/step) with
// their mean validation Dice curves overlaid, and Compare strategies (the paper's ablation in one click).
import { useState } from 'react';
import { useStore, type RunRecord } from '../store/store.ts';
import { clearRuns, deleteRun, diceCurve, renameRun, summarizeRun } from '../store/runs.ts';
import { DEFAULT_COMPARE, STRATEGY_FINDINGS, compareBlocker, compareProgress, compareStrategies, stopCompare, useCompare, type CompareEntry } from '../store/compare.ts';
import { LineChart, type Series } from './LineChart.tsx';
import './runs.css';

const COLORS = ['#4aa3ff', '#f5b94a', '#5fd38d', '#ff6b81', '#b48cff', '#4de0d4', '#ff9f5a', '#d0d36a'];
/** A run keeps its colour while others are hidden or deleted. */
const colorOf = (r: RunRecord) => COLORS[(r.id - 1) % COLORS.length];

const fmt = (x: number | undefined, digits = 3) => (x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(digits) : Number.isNaN(x) ? 'NaN' : '∞');

export function RunsPanel() {
  const runs = useStore((s) => s.runs);
  const [hidden, setHidden] = useState<number[]>([]);
  const toggle = (id: number) => setHidden((h) => (h.includes(id) ? h.filter((x) => x !== id) : [...h, id]));
  const shown = runs.filter((r) => !hidden.includes(r.id));
  const names = runs.map((r) => r.label);
  // LineChart keys series by name: a repeated label gets its run number.
  const series: Series[] = shown.map((r) => ({
    name: names.indexOf(r.label) === names.lastIndexOf(r.label) ? r.label : `#${r.id} ${r.label}`, color: colorOf(r), points: diceCurve(r),
  }));

  return (
    <section className="panel runs-panel" aria-label="Runs">
      <h2>Runs</h2>
      <ComparePanel />
      {runs.length === 0 ? (
        <p className="hint" data-testid="no-runs">Finished runs are kept here (with their curves) to compare.</p>
      ) : (
        <>
          <LineChart testId="runs-chart" yMin={0} yMax={1} series={series} format={(v) => v.toFixed(3)} />
          <div className="runs-table-wrap">
            <table className="legend runs-table" data-testid="runs-table">
              <caption>Final metrics (scroll for more)</caption>
              <thead><tr><th>run</th><th>strategy</th><th>T</th><th>steps</th><th title="Mean validation Dice at the last validation">val Dice</th>
                <th title="Evaluate: 3D mean Dice over the validation volumes">eval Dice</th><th title="Evaluate: mean HD95 (mm)">HD95</th><th title="Median time of one step">ms/step</th><th /></tr></thead>
              <tbody>{runs.map((r) => <RunRow key={r.id} run={r} shown={!hidden.includes(r.id)} onToggle={() => toggle(r.id)} />)}</tbody>
            </table>
          </div>
          <div className="button-row"><button onClick={() => { clearRuns(); setHidden([]); }} data-testid="runs-clear">Clear runs</button></div>
        </>
      )}
    </section>
  );
}

function RunRow({ run: r, shown, onToggle }: { run: RunRecord; shown: boolean; onToggle: () => void }) {
  const [editing, setEditing] = useState<string | null>(null);
  const sum = summarizeRun(r);
  const commit = () => { if (editing !== null) renameRun(r.id, editing); setEditing(null); };
  return (
    <tr className={shown ? '' : 'off'} data-testid="run-row" data-id={r.id} data-strategy={r.encoder.strategy} data-t={r.encoder.T}
      data-state={r.state} data-steps={r.steps.length} data-validations={r.validations.length}
      title={`${r.encoder.source}, ${r.encoder.imgSize} px · ${r.config.steps} steps planned, batch ${r.config.batch}, lr ${r.config.lr}, seed ${r.config.seed} · ended ${r.state} at ${r.endedAt}`}>
      <td className="run-name">
        <input type="checkbox" checked={shown} onChange={onToggle} aria-label={`Show ${r.label} on the chart`} data-testid="run-show" />
        <span className="run-swatch" style={{ background: colorOf(r) }} />
        {editing === null ? (
          <span className="run-label" onDoubleClick={() => setEditing(r.label)} title="Double-click to rename" data-testid="run-label">{r.label}</span>
        ) : (
          <input type="text" className="run-rename" value={editing} autoFocus onChange={(e) => setEditing(e.target.value)} onBlur={commit}
            onKeyDown={(e) => { if (e.key === 'Enter') commit(); if (e.key === 'Escape') setEditing(null); }} data-testid="run-rename" />
        )}
      </td>
      <td>{r.encoder.strategy}</td>
      <td className="num">{r.encoder.T}</td>
      <td className="num">{sum.steps}</td>
      <td className="num" data-testid="run-dice">{fmt(sum.finalDice)}</td>
      <td className="num">{fmt(sum.evalDice)}</td>
      <td className="num">{fmt(sum.evalHd95, 1)}</td>
      <td className="num">{fmt(sum.msPerStep, 0)}</td>
      <td><button className="icon" onClick={() => deleteRun(r.id)} title="Delete this run" aria-label={`Delete ${r.label}`} data-testid="run-delete">×</button></td>
    </tr>
  );
}

function ComparePanel() {
  const c = useCompare();
  const running = c.status === 'running';
  const [picked, setPicked] = useState<CompareEntry[]>(DEFAULT_COMPARE);
  const order = STRATEGY_FINDINGS.map((f) => f.id);
  const chosen = order.filter((id) => picked.includes(id));
  const blocker = useStore((s) => compareBlocker(s, chosen, running));
  const progress = useStore((s) => compareProgress(c, s.run));
  const cfg = useStore((s) => s.trainConfig);
  const T = useStore((s) => s.modelOptions.T);
  const runs = useStore((s) => s.runs);
  const results = c.recordIds.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunRecord => !!r);
  const flip = (id: CompareEntry) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  return (
    <fieldset className="compare" data-testid="compare">
      <legend>Compare strategies (the paper's ablation)</legend>
      {STRATEGY_FINDINGS.map((f) => (
        <label key={f.id} className="compare-strategy">
          <input type="checkbox" checked={picked.includes(f.id)} disabled={running} onChange={() => flip(f.id)} data-testid={`compare-pick-${f.id}`} />
          <span><b>{f.id}</b><small>{f.finding}</small></span>
        </label>
      ))}
      <p className="hint">Each one is converted from the same 2D checkpoint and trained with the Training settings: T = {T}, {cfg.steps} steps, batch {cfg.batch}, seed {cfg.seed}{picked.includes('unetr3d') ? '; unetr3d is the 3D UNETR at the Model section\'s size, from scratch, with the same settings' : ''}.</p>
      <div className="button-row">
        {!running && <button className="primary" disabled={!!blocker} title={blocker ?? `Train ${chosen.join(', ')} in turn`}
          onClick={() => void compareStrategies(chosen)} data-testid="compare-strategies">Compare strategies</button>}
        {running && <button onClick={stopCompare} data-testid="compare-stop">Stop comparison</button>}
      </div>
      {blocker && !running && <p className="hint" data-testid="compare-blocker">{blocker}</p>}
      {c.status !== 'idle' && <div className="compare-progress" data-testid="compare-progress" data-status={c.status}>{progress}</div>}
      {results.length > 0 && (
        <table className="legend" data-testid="compare-table">
          <caption>Comparison</caption>
          <thead><tr><th>strategy</th><th>T</th><th>val Dice</th><th>eval Dice</th></tr></thead>
          <tbody>{results.map((r) => { const s = summarizeRun(r); return (
            <tr key={r.id} data-strategy={r.encoder.strategy}><td>{r.encoder.strategy}</td><td className="num">{r.encoder.T}</td><td className="num">{fmt(s.finalDice)}</td><td className="num">{fmt(s.evalDice)}</td></tr>
          ); })}</tbody>
        </table>
      )}
    </fieldset>
  );
}
