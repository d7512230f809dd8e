// Entry point: mounts the app and, unless the URL says ?sample=none, loads the bundled sample.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadSample } from '../store/load.ts';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

const sample = new URLSearchParams(location.search).get('sample');
if (sample !== 'none') void loadSample(sample ?? undefined);
