// Model checkpoint controls in the training panel: export the model (.safetensors, optionally with the AdamW state),
// import one, continue training it, and after a failed step save or continue from the last good weights.
import { useRef, useState } from 'react';
import { useStore } from '../store/store.ts';
import { continueTraining, exportCheckpoint, importCheckpoint, modelStep } from '../store/train.ts';
import { notify } from '../store/actions.ts';
import { downloadBytes } from './download.ts';
import { describeVolumeConfig } from '../train/volumeDefaults.ts';

const continueOrSay = () => void continueTraining().then((why) => why && notify('error', why));

export function CheckpointControls() {
  const run = useStore((s) => s.run);
  const step = useStore((s) => modelStep(s));
  const steps = useStore((s) => s.trainConfig.steps);
  const [withOptim, setWithOptim] = useState(true);
  const picker = useRef<HTMLInputElement>(null);
  const active = run.state === 'running' || run.state === 'paused' || run.state === 'starting';
  const save = () => void exportCheckpoint(withOptim).then((f) => downloadBytes(f.bytes, f.name), () => {});

  return (
    <div className="checkpoint-controls" data-testid="checkpoint-controls">
      {run.loaded && (
        <p className="loaded-model" data-testid="loaded-model">
          Model from <b>{run.loaded.file}</b>: step {run.loaded.step},{' '}
          {'inflation' in run.loaded
            ? <>{run.loaded.config.encoder.family} D {run.loaded.config.encoder.embedDim} × {run.loaded.config.encoder.depth},{' '}
              {run.loaded.inflation.strategy} T = {run.loaded.config.T}, {run.loaded.config.imgSize} px, {run.loaded.config.decoder} head</>
            : describeVolumeConfig(run.loaded.config)}, {run.loaded.params.toLocaleString('en')} parameters
          {run.loaded.hasOptimizer ? ', optimiser state' : ''}; classes {run.loaded.classNames.slice(1).join(', ')}.
        </p>
      )}
      {run.state === 'failed' && run.recovery && (
        <div className="recovery" role="alert" data-testid="recovery">
          Last good weights: step {run.recovery.summary.step}.{' '}
          <button onClick={() => downloadBytes(run.recovery!.bytes, run.recovery!.name)} data-testid="recovery-save">Save</button>{' '}
          <button className="primary" onClick={continueOrSay} data-testid="recovery-continue">Continue from step {run.recovery.summary.step}</button>
        </div>
      )}
      <div className="button-row">
        {!active && step !== null && run.state !== 'failed' && (
          <button onClick={continueOrSay} disabled={steps <= step} title={steps <= step ? `Set Steps above ${step} to continue` : `Train steps ${step + 1}…${steps}`} data-testid="train-continue">
            Continue to step {Math.max(steps, step)}
          </button>
        )}
        {!active && step !== null && (
          <>
            <button onClick={() => { if (!run.exporting) save(); }} aria-disabled={run.exporting} title="The model as .safetensors: encoder under timm names (Conv3d patch kernel), decoder, config and curves" data-testid="export-checkpoint">
              {run.exporting ? 'Writing…' : 'Export checkpoint'}
            </button>
            <label className="check-inline" title="Include the AdamW moments so that training resumes exactly (about 3× the size)">
              <input type="checkbox" checked={withOptim} onChange={(e) => setWithOptim(e.target.checked)} data-testid="export-optim" /> <span>optimiser state</span>
            </label>
          </>
        )}
        <button onClick={() => picker.current?.click()} disabled={active} title="Load a model checkpoint written by InflateSeg (.safetensors) to evaluate or continue it" data-testid="import-checkpoint">
          Import checkpoint…
        </button>
        <input ref={picker} type="file" accept=".safetensors" hidden data-testid="import-checkpoint-input"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) void importCheckpoint(f, f.name); e.target.value = ''; }} />
      </div>
    </div>
  );
}
