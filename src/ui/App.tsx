// Page layout: header, dataset panel, viewer, notices; the whole page is a drop zone.
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

export function App() {
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
          <PanelBoundary name="Dataset"><DatasetPanel /></PanelBoundary>
          <PanelBoundary name="Model"><ModelPanel /></PanelBoundary>
          <PanelBoundary name="Training"><TrainingPanel /></PanelBoundary>
          <PanelBoundary name="Runs"><RunsPanel /></PanelBoundary>
        </aside>
        <PanelBoundary name="Viewer"><Viewer /></PanelBoundary>
      </main>
      <Notices />
    </DropZone>
  );
}
