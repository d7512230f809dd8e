// Training slice actions: probe the backend, start / pause / resume / stop a run, record its events.
import { TrainClient } from '../workers/trainClient.ts';
import type { TrainEvent } from '../workers/train.protocol.ts';
import { setState } from './store.ts';
import { notify } from './actions.ts';

let client: TrainClient | null = null;
const train = () => (client ??= new TrainClient(onEvent));

function onEvent(e: TrainEvent) {
  switch (e.type) {
    case 'backend':
      setState({ backend: e.info });
      break;
    case 'error':
      notify('error', e.message);
      break;
    default:
      break;
  }
}

/** Asks the training worker which backend it can use (WebGPU, else WebGL, else cpu) and shows it. */
export function probeBackend() {
  train().send({ type: 'probe' });
}
