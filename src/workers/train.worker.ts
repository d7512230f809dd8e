// Training worker: a thin switch over TrainRequest; the run lives in src/train/run.ts, evaluation in src/train/evaluate.ts.
import { chooseBackend } from '../train/backend.ts';
import { TrainingRun, caseVolume } from '../train/run.ts';
import { evaluateVolume } from '../train/evaluate.ts';
import type { CaseData, TrainEvent, TrainRequest } from './train.protocol.ts';

const post = (e: TrainEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);
let run: TrainingRun | null = null;
let runState = 'idle';
let cases: CaseData[] = [];

self.onmessage = async (ev: MessageEvent<TrainRequest>) => {
  const msg = ev.data;
  try {
    switch (msg.type) {
      case 'probe':
        post({ type: 'backend', info: await chooseBackend(msg.backend) });
        break;
      case 'start': {
        if (run && ['running', 'paused'].includes(runState)) throw new Error('a run is already in progress; stop it first');
        post({ type: 'backend', info: await chooseBackend(msg.config.backend) });
        run?.dispose();
        cases = msg.cases;
        run = new TrainingRun(msg.encoder, msg.cases, msg.numClasses, msg.config, (e, t) => {
          if (e.type === 'state') runState = e.state;
          post(e, t);
        });
        for (const message of run.notes) post({ type: 'note', message });
        void run.run();
        break;
      }
      case 'pause': run?.pause(); break;
      case 'resume': run?.resume(); break;
      case 'stop': run?.stop(); break;
      case 'evaluate': {
        if (!run) throw new Error('nothing to evaluate: train a model first');
        const results = [];
        for (const id of msg.caseIds) {
          const c = cases.find((x) => x.id === id);
          if (!c) throw new Error(`case ${id} is not in this run`);
          const r = await evaluateVolume(run.params, run.config, caseVolume(c, 'image'), caseVolume(c, 'label'), run.axis, run.batch);
          const m = r.metrics!;
          results.push({ caseId: id, dice: m.dice, meanDice: m.meanDice, hd95: m.hd95, meanHd95: m.meanHd95, prediction: r.prediction });
        }
        post({ type: 'evaluated', results }, results.map((r) => r.prediction.buffer as ArrayBuffer));
        break;
      }
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};

