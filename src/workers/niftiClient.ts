// Main-thread client of the NIfTI worker: one promise per file, progress callbacks, buffers transferred.
import type { LoadPhase, LoadedVolume, NiftiEvent, NiftiRequest, VolumeRole } from './nifti.protocol.ts';

interface Pending {
  resolve: (v: LoadedVolume) => void;
  reject: (e: Error) => void;
  onPhase?: (p: LoadPhase) => void;
}

/** Parses NIfTI files off the main thread. Several workers share the load when files are dropped together. */
export class NiftiClient {
  private workers: Worker[] = [];
  private next = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(private readonly poolSize = Math.max(1, Math.min(2, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1))) {}

  private worker(): Worker {
    if (this.workers.length < this.poolSize) {
      const w = new Worker(new URL('./nifti.worker.ts', import.meta.url), { type: 'module', name: 'nifti' });
      w.onmessage = (ev: MessageEvent<NiftiEvent>) => this.onEvent(ev.data);
      w.onerror = (ev) => this.failAll(`the NIfTI worker crashed: ${ev.message || 'unknown error'}`);
      this.workers.push(w);
      return w;
    }
    return this.workers[this.next++ % this.workers.length];
  }

  load(file: Blob, name: string, role: VolumeRole, onPhase?: (p: LoadPhase) => void): Promise<LoadedVolume> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onPhase });
      const req: NiftiRequest = { type: 'load', id, file, name, role };
      this.worker().postMessage(req);
    });
  }

  private onEvent(e: NiftiEvent) {
    const p = this.pending.get(e.id);
    if (!p) return;
    switch (e.type) {
      case 'progress': p.onPhase?.(e.phase); break;
      case 'loaded': this.pending.delete(e.id); p.resolve(e.result); break;
      case 'failed': this.pending.delete(e.id); p.reject(new Error(e.message)); break;
    }
  }

  private failAll(message: string) {
    for (const [id, p] of this.pending) { p.reject(new Error(message)); this.pending.delete(id); }
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
