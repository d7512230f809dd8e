// A sidebar section that folds: a <details> whose summary is the section's title and a one-line summary of its
// state (what is loaded, the model, the run settings), so that a folded sidebar still says what is set.
import type { ReactNode } from 'react';
import { useStore, type SectionId } from '../store/store.ts';
import { setSection } from '../store/layout.ts';

export function Section({ id, title, summary, children }: { id: SectionId; title: string; summary?: string; children: ReactNode }) {
  const open = useStore((s) => s.sections[id]);
  return (
    <details className="section" open={open} onToggle={(e) => setSection(id, e.currentTarget.open)} data-testid={`section-${id}`}>
      <summary data-section={id}>
        <span className="section-title">{title}</span>
        {summary && <span className="section-summary" title={summary}>{summary}</span>}
      </summary>
      {children}
    </details>
  );
}
