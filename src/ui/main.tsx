// Entry point: mounts the app and, unless the URL says ?sample=none, loads the bundled sample.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadSample } from '../store/load.ts';
import { setModelOptions } from '../store/model.ts';
import './styles.css';
import { initAutosave } from '../store/autosave.ts';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

void initAutosave();
const params = new URLSearchParams(location.search);
// ?hub=URL points the Hub downloads at a mirror (or a local server in tests).
const hub = params.get('hub');
if (hub) setModelOptions({ hubBaseUrl: hub });
const sample = params.get('sample');
if (sample !== 'none') void loadSample(sample ?? undefined);
