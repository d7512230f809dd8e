// The run bar at the top of the main area: Train / Pause / Resume (space toggles) / Stop / Evaluate, the status line
// (step, steps/s, ETA), progress, the latest validation Dice, the model checkpoint controls and the evaluation table.
// It stays in view while the settings are folded away.
import { useEffect, useRef } from 'react';
import { useStore } from '../store/store.ts';
import { evaluateValidation, modelStep, pauseTraining, predictionFile, resumeTraining, startTraining, stopTraining } from '../store/train.ts';
import { runViewShown, showRunView } from '../store/layout.ts';
import { convertMicro } from '../store/model.ts';
import { notify } from '../store/actions.ts';
import { CheckpointControls } from './CheckpointControls.tsx';
import { downloadBytes } from './download.ts';
import { useModelChoice } from '../store/volume.ts';

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

export function RunBar() {
  const run = useStore((s) => s.run);
  const hasModel = useStore((s) => modelStep(s) !== null);
  const shown = useStore((s) => runViewShown(s));
  const active = run.state === 'running' || run.state === 'paused' || run.state === 'starting';
  const last = run.steps[run.steps.length - 1];
  const recent = run.steps.slice(-10);
  const rate = recent.length ? recent.length / (recent.reduce((a, s) => a + s.ms, 0) / 1000) : 0;
  const eta = last && rate > 0 ? (run.totalSteps - last.step) / rate : undefined;
  const val = run.validations[run.validations.length - 1];
  const volume = useModelChoice((c) => c.kind === 'unetr3d');
  const noEncoder = useStore((s) => !s.encoder && s.conversion.status !== 'converting' && !s.run.loaded) && !volume;
  const start = () => { const why = startTraining(); if (why) notify('error', why); };
  const toggle = () => (run.state === 'running' ? pauseTraining() : run.state === 'paused' ? resumeTraining() : !active ? start() : undefined);
  const toggleRef = useRef(toggle);
  toggleRef.current = toggle;
  useSpaceToggle(useRef(() => toggleRef.current()).current);

  return (
    <section className="panel run-bar" aria-label="Run">
      <div className="run-bar-row">
        {/* One button that changes role, so keyboard focus stays on it (Train → Pause → Resume). */}
        <button className={run.state === 'running' || (noEncoder && !active) ? '' : 'primary'} onClick={toggle} disabled={run.state === 'starting'} title="Space: train, pause, resume"
          data-testid={run.state === 'running' ? 'train-pause' : run.state === 'paused' ? 'train-resume' : active ? 'train-starting' : 'train-start'}>
          {run.state === 'running' ? 'Pause' : run.state === 'paused' ? 'Resume' : active ? 'Starting…' : 'Train'}
        </button>
        {active && <button onClick={stopTraining} data-testid="train-stop">Stop</button>}
        {noEncoder && !active && (
          <button className="primary" onClick={() => void convertMicro()} data-testid="runbar-micro"
            title="A tiny randomly initialised ViT made on the spot (nothing to download), with settings that learn in about a minute on a CPU; pre-trained encoders are in the Model section">
            Micro ViT (quick try)
          </button>
        )}
        {noEncoder && !active && <span className="muted">or pick a pre-trained encoder under Model, then Train</span>}
        {!active && hasModel && run.state !== 'failed' && (
          <button onClick={() => { if (!run.evaluating) evaluateValidation(); }} aria-disabled={run.evaluating} title="Predict every slice of the validation cases and score them in 3D (Dice, HD95)" data-testid="train-evaluate">
            {run.evaluating ? 'Evaluating…' : 'Evaluate'}
          </button>
        )}
        <div className="run-progress">
          <div className="run-status" data-testid="run-status" data-state={run.state} aria-live="off">
            {run.state}{last ? ` · step ${last.step}/${run.totalSteps} · ${rate.toFixed(2)} steps/s${eta !== undefined && active ? ` · ETA ${formatEta(eta)}` : ''}` : ''}
            {last && <span className="muted" title="Tensors and memory held by tfjs after the step (flat when nothing leaks)">{` · ${last.numTensors} tensors, ${(last.numBytes / 2 ** 20).toFixed(1)} MiB`}</span>}
          </div>
          {run.totalSteps > 0 && <progress max={run.totalSteps} value={last?.step ?? 0} aria-label="Training progress" />}
        </div>
        {val && (
          <div className="latest-dice" data-testid="latest-dice" data-step={val.step} data-mean-dice={val.meanDice}
            title="Mean Dice over the foreground classes on the held-out validation slices, at the latest validation">
            <span className="muted">val Dice</span> <b>{Number.isFinite(val.meanDice) ? val.meanDice.toFixed(3) : '–'}</b> <span className="muted">@ {val.step}</span>
          </div>
        )}
        {!shown && run.state !== 'idle' && <button onClick={showRunView} data-testid="show-run-view">Show curves</button>}
      </div>
      <CheckpointControls />
      {run.evaluation && (
        <table className="legend evaluation" data-testid="evaluation">
          <caption>Evaluation (3D, whole volumes; shown in the viewer)</caption>
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
