// The bench page: starts one worker (training runs in a worker in the app too) and gives the Node side
// `window.benchCall(request)`, one request in flight at a time.
import type { BenchCall, BenchReply, BenchRequest } from './protocol.ts';

const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
let pending: ((r: BenchReply) => void) | null = null;
worker.onmessage = (ev: MessageEvent<BenchReply>) => { const p = pending; pending = null; p?.(ev.data); };
worker.onerror = (ev) => { const p = pending; pending = null; p?.({ ok: false, error: `worker error: ${ev.message || 'unknown (failed to load?)'}` }); };

const benchCall: BenchCall = (req: BenchRequest) => {
  if (pending) return Promise.resolve({ ok: false, error: 'bench page: a request is already running' });
  return new Promise<BenchReply>((resolve) => { pending = resolve; worker.postMessage(req); });
};
(window as unknown as { benchCall: BenchCall }).benchCall = benchCall;
document.body.dataset.ready = 'true';
