// Weights worker: a thin switch over WeightsRequest; the work lives in weights.job.ts. One AbortController per job.
import { convertEncoder, transferables } from './weights.job.ts';
import type { WeightsEvent, WeightsRequest } from './weights.protocol.ts';

const post = (e: WeightsEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);
const jobs = new Map<number, AbortController>();

self.onmessage = async (ev: MessageEvent<WeightsRequest>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'convert': {
      const ctl = new AbortController();
      jobs.set(msg.id, ctl);
      try {
        const result = await convertEncoder(msg.source, msg.options, msg.hint, ctl.signal, (phase, done, total, detail) =>
          post({ type: 'progress', id: msg.id, phase, done, total, detail }),
        );
        post({ type: 'converted', id: msg.id, result }, transferables(result));
      } catch (err) {
        post({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err), cancelled: ctl.signal.aborted });
      } finally {
        jobs.delete(msg.id);
      }
      break;
    }
    case 'cancel':
      jobs.get(msg.id)?.abort();
      break;
  }
};
