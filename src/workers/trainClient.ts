// Main-thread client of the training worker: sends typed requests, forwards events to one listener.
import type { TrainEvent, TrainRequest } from './train.protocol.ts';

export class TrainClient {
  private worker: Worker | null = null;

  constructor(private readonly onEvent: (e: TrainEvent) => void) {}

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'train' });
      this.worker.onmessage = (ev: MessageEvent<TrainEvent>) => this.onEvent(ev.data);
      this.worker.onerror = (ev) => {
        this.onEvent({ type: 'error', message: `the training worker crashed: ${ev.message || 'out of memory or a lost GPU device?'}` });
        this.worker?.terminate();
        this.worker = null;
      };
    }
    return this.worker;
  }

  send(req: TrainRequest, transfer: Transferable[] = []) {
    this.w.postMessage(req, transfer);
  }

  terminate() {
    this.worker?.terminate();
    this.worker = null;
  }
}
