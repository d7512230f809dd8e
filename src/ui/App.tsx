// Page layout: header; a sidebar of folding sections (Dataset, Model, Training settings, Runs); the main area with the
// run bar (Train / Pause / Stop / Evaluate, status), the viewer (ground truth | the model's live prediction) and,
// during and after a run, the curves. The whole page is a drop zone.
import { DatasetPanel } from './DatasetPanel.tsx';
import { ModelPanel } from './ModelPanel.tsx';
import { TrainingPanel } from './TrainingPanel.tsx';
import { BackendBadge } from './BackendBadge.tsx';
import { DropZone } from './DropZone.tsx';
import { Notices } from './Notices.tsx';
import { Viewer } from './Viewer.tsx';
import { PanelBoundary } from './PanelBoundary.tsx';
import { RunsPanel } from './RunsPanel.tsx';
import { AutosaveBanner } from './AutosaveBanner.tsx';
import { Section } from './Section.tsx';
import { RunBar } from './RunBar.tsx';
import { RunCharts } from './RunCharts.tsx';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store/store.ts';
import { runViewShown } from '../store/layout.ts';
import '../store/live.ts';
import './layout.css';
import { useModelChoice } from '../store/volume.ts';

export function App() {
  const choice = useModelChoice();
  const summaries = useStore(useShallow((s) => {
    const cases = s.cases.filter((c) => c.status === 'ready');
    const labelled = cases.filter((c) => c.label).length;
    const enc = s.encoder;
    const t = s.trainConfig;
    return {
      dataset: cases.length ? `${cases.length} case${cases.length > 1 ? 's' : ''}, ${labelled} labelled` : 'nothing loaded',
      model: enc ? `${enc.source.replace(/^.*\//, '')} · ${enc.options.strategy} T${enc.options.T} · ${enc.options.imgSize} px` : 'no encoder',
      volume: `3D UNETR (${choice.preset}, from scratch)`,
      training: `${t.steps.toLocaleString('en')} steps · batch ${t.batch} · lr ${t.lr}`,
      runs: s.runs.length ? `${s.runs.length} finished` : '',
    };
  }));
  const showRun = useStore((s) => runViewShown(s));
  return (
    <DropZone>
      <header className="app-header">
        <h1>InflateSeg</h1>
        <span className="tagline">3D segmentation with pre-trained 2D transformers, in your browser</span>
        <BackendBadge />
        <span className="privacy" title="Files are read by this page only; nothing is uploaded.">
          <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden><path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7zm2 0h4V5a2 2 0 0 0-4 0z" fill="currentColor" /></svg>{' '}
          Your data never leaves this machine
        </span>
      </header>
      <AutosaveBanner />
      <main className="app-main">
        <aside className="sidebar">
          <Section id="dataset" title="Dataset" summary={summaries.dataset}><PanelBoundary name="Dataset"><DatasetPanel /></PanelBoundary></Section>
          <Section id="model" title="Model" summary={choice.kind === 'unetr3d' ? summaries.volume : summaries.model}><PanelBoundary name="Model"><ModelPanel /></PanelBoundary></Section>
          <Section id="training" title="Training settings" summary={summaries.training}><PanelBoundary name="Training"><TrainingPanel /></PanelBoundary></Section>
          <Section id="runs" title="Runs" summary={summaries.runs}><PanelBoundary name="Runs"><RunsPanel /></PanelBoundary></Section>
        </aside>
        <div className={`workspace${showRun ? ' with-run' : ''}`}>
          <PanelBoundary name="Run"><RunBar /></PanelBoundary>
          <PanelBoundary name="Viewer"><Viewer /></PanelBoundary>
          {showRun && <PanelBoundary name="Curves"><RunCharts /></PanelBoundary>}
        </div>
      </main>
      <Notices />
    </DropZone>
  );
}
