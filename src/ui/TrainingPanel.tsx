// Training settings (steps, batch, learning rate, validation, loss, augmentation; more under a disclosure) and the
// run's notes. The run itself (Train / Pause / Stop, status, curves) lives in the main area: RunBar, RunCharts.
import { useStore } from '../store/store.ts';
import { chooseTrainBackend, setTrainConfig } from '../store/train.ts';
import { BACKEND_LABEL, BACKEND_NAMES, parseBackend } from '../core/backends.ts';
import { NumberField } from './NumberField.tsx';

export function TrainingPanel() {
  const cfg = useStore((s) => s.trainConfig);
  const run = useStore((s) => s.run);
  const active = run.state === 'running' || run.state === 'paused' || run.state === 'starting';
  const checking = useStore((s) => s.backendCheck.status === 'running');
  const why = useStore((s) => s.trainDefaults.why);

  return (
    <section className="panel training-panel" aria-label="Training">
      <h2>Training</h2>
      {why && <p className="hint" data-testid="train-defaults" title="Chosen for the encoder in use (bench/RESULTS.md, Defaults that learn); settings you edit are kept when you load another encoder">Defaults for {why}.</p>}
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
      {run.notes.length > 0 && <ul className="notes">{run.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
    </section>
  );
}
