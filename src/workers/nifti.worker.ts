// NIfTI worker: a thin switch over NiftiRequest; the work lives in nifti.job.ts.
import { loadVolume } from './nifti.job.ts';
import type { NiftiEvent, NiftiRequest } from './nifti.protocol.ts';

const post = (e: NiftiEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);

self.onmessage = async (ev: MessageEvent<NiftiRequest>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'load': {
      try {
        const result = await loadVolume(msg.file, msg.name, msg.role, (phase) => post({ type: 'progress', id: msg.id, phase }));
        post({ type: 'loaded', id: msg.id, result }, [result.volume.data.buffer as ArrayBuffer]);
      } catch (err) {
        post({ type: 'failed', id: msg.id, name: msg.name, message: err instanceof Error ? err.message : String(err) });
      }
      break;
    }
  }
};
