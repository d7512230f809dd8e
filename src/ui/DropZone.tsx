// The whole page accepts dropped files and folders; an overlay shows while something is dragged over it.
import { useRef, useState, type ReactNode } from 'react';
import { loadFiles } from '../store/load.ts';
import { notify } from '../store/actions.ts';
import { filesFromDrop } from './files.ts';

export function DropZone({ children }: { children: ReactNode }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const hasFiles = (e: React.DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  return (
    <div
      className="drop-root"
      data-testid="drop-root"
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        filesFromDrop(e.dataTransfer)
          .then(loadFiles)
          .catch((err: unknown) => notify('error', `Could not read the dropped files: ${err instanceof Error ? err.message : String(err)}`));
      }}
    >
      {children}
      {over && (
        <div className="drop-overlay" aria-hidden>
          <div>Drop NIfTI volumes, label maps, class lookup files or a dataset folder</div>
        </div>
      )}
    </div>
  );
}
