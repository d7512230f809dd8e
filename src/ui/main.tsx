// Entry point: mounts the app and, unless the URL says ?sample=none, loads the bundled sample; ?backend= chooses what
// training runs on (webgpu, wasm, webgl, cpu; default automatic), ?hub= points Hub downloads at a mirror.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadSample } from '../store/load.ts';
import { setModelOptions } from '../store/model.ts';
import './styles.css';
import { initAutosave } from '../store/autosave.ts';
import { setTrainConfig } from '../store/train.ts';
import { notify } from '../store/actions.ts';
import { parseBackend } from '../core/backends.ts';

const params = new URLSearchParams(location.search);
// ?backend= before the first render: the badge's first probe already asks for it.
try {
  const backend = parseBackend(params.get('backend'), '?backend=');
  if (backend) setTrainConfig({ backend });
} catch (err) {
  notify('warning', `${err instanceof Error ? err.message : String(err)}; the backend is chosen automatically.`);
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

void initAutosave();
// ?hub=URL points the Hub downloads at a mirror (or a local server in tests).
const hub = params.get('hub');
if (hub) setModelOptions({ hubBaseUrl: hub });
const sample = params.get('sample');
if (sample !== 'none') void loadSample(sample ?? undefined);
