// Training worker: a thin switch over TrainRequest; the run lives in src/train/run.ts, evaluation in
// src/train/evaluate.ts, the checkpoint format in src/weights/checkpoint.ts, the self-check in src/train/selfcheck.ts.
import { chooseBackend } from '../train/backend.ts';
import { imageVolume } from '../train/run.ts';
import { evaluateCaseWith, makeRun, summarizeAny, type AnyRun, type AnySource } from '../train/anyRun.ts';
import { volumeModelConfig } from '../train/volumeDefaults.ts';
import { selfCheck } from '../train/selfcheck.ts';
import { checkpointName, decodeAnyCheckpoint, encodeModelCheckpoint } from '../weights/checkpoint.ts';
import type { RunState, TrainEvent, TrainRequest } from './train.protocol.ts';
import type { Volume } from '../nifti/types.ts';
import { inOrder } from './inOrder.ts';

const post = (e: TrainEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);
/** The worker's current model: the run being trained, the last one, or one loaded from a checkpoint. */
let run: AnyRun | null = null;
let runState: RunState | 'idle' = 'idle';
/** Case images by id, for live slice predictions: the current run's, and those sent with a request since it started. */
const images = new Map<string, Volume>();
const busy = () => runState === 'running' || runState === 'paused' || runState === 'starting';
const emit = (e: TrainEvent, t?: Transferable[]) => {
  if (e.type === 'state') runState = e.state;
  post(e, t);
};

async function handle(msg: TrainRequest): Promise<void> {
  try {
    switch (msg.type) {
      case 'probe':
        post({ type: 'backend', info: await chooseBackend(msg.backend, { fallback: true }) });
        break;
      case 'start': {
        if (busy()) throw new Error('a run is already in progress; stop it first');
        post({ type: 'backend', info: await chooseBackend(msg.config.backend, { fallback: true }) });
        let source: AnySource;
        if (msg.from.kind === 'encoder') source = { kind: 'encoder', encoder: msg.from.encoder };
        else if (msg.from.kind === 'volume') {
          if (msg.cases.length === 0) throw new Error('no labelled case to train the volume model on');
          source = { kind: 'volume', config: volumeModelConfig(msg.from.preset, msg.cases[0].channels, msg.numClasses) };
        } else if (run) source = { kind: 'model', checkpoint: await run.checkpoint(true) };
        else throw new Error('there is no model to continue: train one or load a checkpoint');
        const next = makeRun(source, msg.cases, msg.numClasses, msg.config, msg.labels, emit);
        // NOTE: only this run's cases are kept: a case removed from the page (a 157 MB CT, say) is not held for ever.
        images.clear();
        for (const c of msg.cases) images.set(c.id, imageVolume(c));
        run?.dispose();
        run = next;
        for (const message of run.notes) post({ type: 'note', message });
        void run.run();
        break;
      }
      case 'pause': run?.pause(); break;
      case 'resume': run?.resume(); break;
      case 'stop': run?.stop(); break;
      case 'evaluate': {
        if (!run) throw new Error('nothing to evaluate: train a model or load a checkpoint first');
        if (busy()) throw new Error('stop or finish the run before evaluating');
        const results = [];
        for (const c of msg.cases) {
          const r = await evaluateCaseWith(run, c);
          const m = r.metrics!;
          results.push({ caseId: c.id, dice: m.dice, meanDice: m.meanDice, hd95: m.hd95, meanHd95: m.meanHd95, prediction: r.prediction });
        }
        post({ type: 'evaluated', results }, results.map((r) => r.prediction.buffer as ArrayBuffer));
        break;
      }
      case 'load': {
        if (busy()) throw new Error(`${msg.file}: stop the run before loading a checkpoint`);
        const ckpt = await decodeAnyCheckpoint(msg.bytes, msg.file);
        // NOTE: the page's choice, not the checkpoint's: a backend forced where it was trained may not exist here.
        if (!run) post({ type: 'backend', info: await chooseBackend(msg.backend, { fallback: true }) });
        const next = makeRun({ kind: 'model', checkpoint: ckpt }, [], ckpt.meta.config.numClasses, ckpt.meta.train,
          { classNames: ckpt.meta.classNames, source: ckpt.meta.source, appVersion: ckpt.meta.appVersion }, emit);
        run?.dispose();
        run = next;
        runState = 'loaded';
        post({ type: 'loaded', summary: summarizeAny(ckpt, msg.file) });
        break;
      }
      case 'export': {
        if (!run) throw new Error('nothing to export: train a model or load a checkpoint first');
        if (runState === 'running') throw new Error('pause or stop the run before exporting');
        const ckpt = await run.checkpoint(msg.optimizer);
        const bytes = encodeModelCheckpoint(ckpt);
        const name = checkpointName(ckpt.meta);
        post({ type: 'checkpoint', reason: 'export', name, bytes, summary: summarizeAny(ckpt, name) }, [bytes.buffer as ArrayBuffer]);
        break;
      }
      case 'predictSlice': {
        const { caseId, axis, index } = msg;
        if (msg.image) images.set(caseId, imageVolume(msg.image));
        const image = images.get(caseId);
        const unavailable = (missingImage: boolean, reason: string) => post({ type: 'sliceUnavailable', caseId, axis, index, missingImage, reason });
        if (!run) { unavailable(false, 'no model yet'); break; }
        if (!image) { unavailable(true, `${caseId}: the worker has no image for this case`); break; }
        try {
          const r = await run.predictSlice(image, axis, index);
          post({ type: 'slicePrediction', caseId, axis, index, step: r.step, H: r.H, W: r.W, pred: r.pred }, [r.pred.buffer as ArrayBuffer]);
        } catch (err) {
          unavailable(false, err instanceof Error ? err.message : String(err));
        }
        break;
      }
      case 'selfcheck':
        if (busy()) throw new Error('the backend check runs between runs: pause is not enough, stop the run first');
        post({ type: 'selfcheck', result: await selfCheck() });
        break;
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * One request at a time, in arrival order (a run goes on in the background between requests).
 * NOTE: handlers await (backend start, checkpoint decoding, GPU reads). When they overlapped, two of them could
 * choose the backend at once (the badge's 'probe' and the 'load' of a Resume clicked right after a reload):
 * tf.setBackend('webgpu') called again before the first call's device was ready makes that first call return false,
 * so it fell back to webgl while the second finished on webgpu, leaving tfjs with kernels looked up for 'webgl' but
 * run on the WebGPU backend: every Evaluate then failed ("Cannot read properties of undefined (reading 'get')").
 */
const handleInOrder = inOrder(handle, (err) => post({ type: 'error', message: String(err) }));
self.onmessage = (ev: MessageEvent<TrainRequest>) => void handleInOrder(ev.data);
