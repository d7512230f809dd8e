// Training worker: a thin switch over TrainRequest; the run itself lives in src/train/run.ts.
import { chooseBackend } from '../train/backend.ts';
import type { TrainEvent, TrainRequest } from './train.protocol.ts';

const post = (e: TrainEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);

self.onmessage = async (ev: MessageEvent<TrainRequest>) => {
  const msg = ev.data;
  try {
    switch (msg.type) {
      case 'probe':
        post({ type: 'backend', info: await chooseBackend(msg.backend) });
        break;
      default:
        post({ type: 'error', message: `the training worker does not handle '${msg.type}' yet` });
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
