// Training panel: run settings, Train / Pause / Resume / Stop (space toggles), progress with steps/s and ETA,
// live loss, learning-rate and validation Dice curves, the latest slice prediction, and evaluation results.
import { useEffect, useRef } from 'react';
import { useStore } from '../store/store.ts';
import { chooseTrainBackend, evaluateValidation, modelStep, pauseTraining, predictionFile, resumeTraining, setTrainConfig, startTraining, stopTraining } from '../store/train.ts';
import { BACKEND_LABEL, BACKEND_NAMES, parseBackend } from '../core/backends.ts';
import { CheckpointControls } from './CheckpointControls.tsx';
import { NumberField } from './NumberField.tsx';
import { downloadBytes } from './download.ts';
import { notify } from '../store/actions.ts';
import { LineChart } from './LineChart.tsx';
import { className, colorOf, paletteFor } from './classes.ts';

/** 42 s, 3 min 05 s, 1 h 02 min. */
function formatEta(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

function useSpaceToggle(toggle: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.code !== 'Space' || /^(INPUT|SELECT|TEXTAREA|BUTTON|SUMMARY|A)$/.test(t.tagName)) return;
      e.preventDefault();
      toggle();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggle]);
}

export function TrainingPanel() {
  const cfg = useStore((s) => s.trainConfig);
  const run = useStore((s) => s.run);
  const table = useStore((s) => s.classTable);
  const active = run.state === 'running' || run.state === 'paused' || run.state === 'starting';
  const last = run.steps[run.steps.length - 1];
  const recent = run.steps.slice(-10);
  const rate = recent.length ? recent.length / (recent.reduce((a, s) => a + s.ms, 0) / 1000) : 0;
  const eta = last && rate > 0 ? (run.totalSteps - last.step) / rate : undefined;
  const start = () => { const why = startTraining(); if (why) notify('error', why); };
  const toggle = () => (run.state === 'running' ? pauseTraining() : run.state === 'paused' ? resumeTraining() : !active ? start() : undefined);
  const toggleRef = useRef(toggle);
  toggleRef.current = toggle;
  useSpaceToggle(useRef(() => toggleRef.current()).current);
  const numClasses = run.validations[0]?.dice.length ?? 0;
  const hasModel = useStore((s) => modelStep(s) !== null);
  const checking = useStore((s) => s.backendCheck.status === 'running');

  return (
    <section className="panel training-panel" aria-label="Training">
      <h2>Training</h2>
      <div className="field three">
        <label><span>Steps</span><NumberField integer min={1} max={10_000_000} value={cfg.steps} disabled={active} onCommit={(steps) => setTrainConfig({ steps })} testId="cfg-steps" /></label>
        <label><span>Batch</span><NumberField integer min={1} max={256} value={cfg.batch} disabled={active} onCommit={(batch) => setTrainConfig({ batch })} testId="cfg-batch" /></label>
        <label><span>LR</span><NumberField step="any" min={0} max={10} value={cfg.lr} disabled={active} onCommit={(lr) => setTrainConfig({ lr })} testId="cfg-lr" /></label>
      </div>
      <div className="field three">
        <label><span>Validate every</span><NumberField integer min={0} value={cfg.valEvery} disabled={active} onCommit={(valEvery) => setTrainConfig({ valEvery })} testId="cfg-val" /></label>
        <label><span>Loss</span>
          <select value={cfg.loss} disabled={active} onChange={(e) => setTrainConfig({ loss: e.target.value as typeof cfg.loss })}>
            <option value="dice-focal">Dice + focal</option><option value="dice-ce">Dice + CE</option><option value="ce">CE</option>
          </select>
        </label>
        <label title="Off; light: zoom 0.9–1.1 and an intensity shift (short runs); paper: zoom 0.5–2, flips, quarter turns and shift (long runs)"><span>Augment</span>
          <select value={cfg.augment} disabled={active} onChange={(e) => setTrainConfig({ augment: e.target.value as typeof cfg.augment })} data-testid="cfg-augment">
            <option value="off">off</option><option value="light">light</option><option value="paper">as in the paper</option>
          </select>
        </label>
      </div>
      <details className="more-settings" data-testid="more-settings">
        <summary>More settings</summary>
        <div className="field three">
          <label><span>Weight decay</span><NumberField step="any" min={0} max={10} value={cfg.weightDecay} disabled={active} onCommit={(weightDecay) => setTrainConfig({ weightDecay })} testId="cfg-wd" /></label>
          <label><span>Warm-up steps</span><NumberField integer min={0} value={cfg.warmupSteps} disabled={active} onCommit={(warmupSteps) => setTrainConfig({ warmupSteps })} testId="cfg-warmup" /></label>
          <label><span>Schedule</span>
            <select value={cfg.schedule} disabled={active} onChange={(e) => setTrainConfig({ schedule: e.target.value as typeof cfg.schedule })} data-testid="cfg-schedule">
              <option value="linear">linear decay</option><option value="cosine">cosine</option>
            </select>
          </label>
        </div>
        <div className="field three">
          <label><span>Seed</span><NumberField integer min={0} max={2 ** 31 - 1} value={cfg.seed} disabled={active} onCommit={(seed) => setTrainConfig({ seed })} testId="cfg-seed" /></label>
          <label title="Windows of T slices run along this axis of the RAS+ volume; predictions are 2D slices across it"><span>Slice along</span>
            <select value={cfg.axis} disabled={active} onChange={(e) => setTrainConfig({ axis: Number(e.target.value) as 0 | 1 | 2 })} data-testid="cfg-axis">
              <option value={2}>axial</option><option value={1}>coronal</option><option value={0}>sagittal</option>
            </select>
          </label>
          <label title="Layer-wise learning-rate decay: block i of L gets lr · decay^(L − i); 1 = off"><span>Layer decay</span>
            <NumberField min={0.1} max={1} step={0.05} value={cfg.layerDecay} disabled={active} onCommit={(layerDecay) => setTrainConfig({ layerDecay })} testId="cfg-layer-decay" />
          </label>
        </div>
        <div className="field three">
          <label title="Global gradient-norm clipping (the paper: 1.0); 0 = off"><span>Clip norm</span>
            <NumberField step="any" min={0} max={1000} value={cfg.clip} disabled={active} onCommit={(clip) => setTrainConfig({ clip })} testId="cfg-clip" />
          </label>
          <label className="check-inline" title="Leave the background class out of the Dice part of the loss"><span>Ignore background</span>
            <input type="checkbox" checked={cfg.ignoreBackground} disabled={active} onChange={(e) => setTrainConfig({ ignoreBackground: e.target.checked })} data-testid="cfg-ignore-bg" />
          </label>
          <label title="What training runs on. Auto: a hardware WebGPU adapter, else WebAssembly on the CPU (faster than a software WebGPU adapter), else WebGL, else plain JavaScript. Also ?backend= in the address."><span>Backend</span>
            <select value={cfg.backend ?? 'auto'} disabled={active || checking} onChange={(e) => chooseTrainBackend(parseBackend(e.target.value) ?? undefined)} data-testid="cfg-backend">
              <option value="auto">Auto</option>
              {BACKEND_NAMES.map((b) => <option key={b} value={b}>{BACKEND_LABEL[b]}</option>)}
            </select>
          </label>
        </div>
      </details>
      <div className="button-row">
        {/* One button that changes role, so keyboard focus stays on it (Train → Pause → Resume). */}
        <button className={run.state === 'running' ? '' : 'primary'} onClick={toggle} disabled={run.state === 'starting'}
          data-testid={run.state === 'running' ? 'train-pause' : run.state === 'paused' ? 'train-resume' : active ? 'train-starting' : 'train-start'}>
          {run.state === 'running' ? 'Pause' : run.state === 'paused' ? 'Resume' : active ? 'Starting…' : 'Train'}
        </button>
        {active && <button onClick={stopTraining} data-testid="train-stop">Stop</button>}
        {!active && hasModel && run.state !== 'failed' && <button onClick={() => { if (!run.evaluating) evaluateValidation(); }} aria-disabled={run.evaluating} data-testid="train-evaluate">{run.evaluating ? 'Evaluating…' : 'Evaluate'}</button>}
      </div>
      <CheckpointControls />
      <div className="run-status" data-testid="run-status" data-state={run.state}>
        {run.state}{last ? ` · step ${last.step}/${run.totalSteps} · ${rate.toFixed(2)} steps/s${eta !== undefined ? ` · ETA ${formatEta(eta)}` : ''} · ${last.numTensors} tensors, ${(last.numBytes / 2 ** 20).toFixed(1)} MiB` : ''}
      </div>
      {run.totalSteps > 0 && <progress max={run.totalSteps} value={last?.step ?? 0} style={{ width: '100%' }} />}
      {run.steps.length > 0 && (
        <>
          <LineChart testId="chart-loss" series={[{ name: 'loss', color: '#4aa3ff', points: run.steps.map((s) => [s.step, s.loss]) }]} />
          <LineChart testId="chart-lr" height={60} series={[{ name: 'lr', color: '#f5b94a', points: run.steps.map((s) => [s.step, s.lr]) }]} format={(v) => v.toExponential(1)} />
        </>
      )}
      {run.validations.length > 0 && (
        <LineChart testId="chart-dice" yMin={0} yMax={1} series={[
          { name: 'mean Dice', color: '#ffffff', points: run.validations.map((v) => [v.step, v.meanDice]) },
          ...Array.from({ length: Math.max(0, numClasses - 1) }, (_, i) => {
            const c = i + 1; const [r, g, b] = colorOf(table, c);
            return { name: className(table, c), color: `rgb(${r},${g},${b})`, points: run.validations.map((v) => [v.step, v.dice[c]] as [number, number]) };
          }),
        ]} format={(v) => v.toFixed(3)} />
      )}
      {run.preview && <Preview pred={run.preview.pred} size={run.preview.size} caption={`${run.preview.caseId}, slice ${run.preview.index}, step ${run.preview.step}`} />}
      {run.notes.length > 0 && <ul className="notes">{run.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
      {run.evaluation && (
        <table className="legend" data-testid="evaluation">
          <caption>Evaluation (3D, whole volumes)</caption>
          <thead><tr><th>case</th><th>mean Dice</th><th>mean HD95 (mm)</th><th /></tr></thead>
          <tbody>{run.evaluation.map((r) => (
            <tr key={r.caseId}>
              <td>{r.caseId}</td><td className="num">{r.meanDice.toFixed(3)}</td><td className="num">{Number.isFinite(r.meanHd95) ? r.meanHd95.toFixed(1) : '∞'}</td>
              <td><button className="icon" title="Save the predicted segmentation (.nii.gz, on the image file's grid)" data-testid="export-prediction"
                onClick={() => void predictionFile(r.caseId).then((f) => f && downloadBytes(f.bytes, f.name, 'application/gzip'))}>.nii.gz</button></td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function Preview({ pred, size, caption }: { pred: Uint8Array; size: number; caption: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const table = useStore((s) => s.classTable);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const max = Math.max(0, ...pred);
    const pal = paletteFor(table, max);
    const img = new ImageData(size, size);
    // The sampler's plane has H along the higher voxel axis: flip rows so superior/anterior is up.
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const v = pred[(size - 1 - y) * size + x], o = (y * size + x) * 4;
      img.data[o] = v ? pal[v * 3] : 0; img.data[o + 1] = v ? pal[v * 3 + 1] : 0; img.data[o + 2] = v ? pal[v * 3 + 2] : 0; img.data[o + 3] = 255;
    }
    c.getContext('2d')!.putImageData(img, 0, 0);
  }, [pred, size, table]);
  return <figure className="preview"><canvas ref={ref} width={size} height={size} data-testid="preview" /><figcaption>{caption}</figcaption></figure>;
}
