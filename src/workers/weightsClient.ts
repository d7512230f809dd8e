// Main-thread client of the weights worker: convert (with progress) and cancel; tensors arrive transferred.
import type { ConvertOptions, ConvertPhase, ConvertedEncoder, WeightsEvent, WeightsRequest, WeightsSource } from './weights.protocol.ts';
import type { LayoutHint } from '../weights/layouts/index.ts';

export class ConversionError extends Error {
  constructor(message: string, readonly cancelled: boolean) {
    super(message);
    this.name = 'ConversionError';
  }
}

interface Job {
  resolve: (r: ConvertedEncoder) => void;
  reject: (e: Error) => void;
  onProgress?: (phase: ConvertPhase, done: number, total: number, detail?: string) => void;
}

export class WeightsClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private jobs = new Map<number, Job>();

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./weights.worker.ts', import.meta.url), { type: 'module', name: 'weights' });
      this.worker.onmessage = (ev: MessageEvent<WeightsEvent>) => this.onEvent(ev.data);
      this.worker.onerror = (ev) => {
        for (const j of this.jobs.values()) j.reject(new ConversionError(`the weights worker crashed: ${ev.message || 'out of memory?'}`, false));
        this.jobs.clear();
        this.worker?.terminate();
        this.worker = null;
      };
    }
    return this.worker;
  }

  /** Starts a conversion; returns its id (for cancel) and the promise of the result. */
  convert(source: WeightsSource, options: ConvertOptions, hint: LayoutHint | undefined, onProgress?: Job['onProgress']): { id: number; done: Promise<ConvertedEncoder> } {
    const id = this.nextId++;
    const done = new Promise<ConvertedEncoder>((resolve, reject) => this.jobs.set(id, { resolve, reject, onProgress }));
    const req: WeightsRequest = { type: 'convert', id, source, options, hint };
    this.w.postMessage(req);
    return { id, done };
  }

  cancel(id: number) {
    this.worker?.postMessage({ type: 'cancel', id } satisfies WeightsRequest);
  }

  private onEvent(e: WeightsEvent) {
    const j = this.jobs.get(e.id);
    if (!j) return;
    switch (e.type) {
      case 'progress': j.onProgress?.(e.phase, e.done, e.total, e.detail); break;
      case 'converted': this.jobs.delete(e.id); j.resolve(e.result); break;
      case 'failed': this.jobs.delete(e.id); j.reject(new ConversionError(e.message, e.cancelled)); break;
    }
  }
}
