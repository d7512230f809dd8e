// Dataset panel: open files or a folder, load a bundled sample, and the list of cases with their splits.
import { useEffect, useRef, useState } from 'react';
import { useStore, type CaseEntry } from '../store/store.ts';
import { removeCase, setActiveCase, setSplit } from '../store/actions.ts';
import { listSamples, loadFiles, loadSample, useCaseAsLabel, type SampleEntry } from '../store/load.ts';
import { filesFromInput } from './files.ts';
import { formatDims, formatSpacing } from './format.ts';

export function DatasetPanel() {
  const cases = useStore((s) => s.cases);
  const activeId = useStore((s) => s.activeId);
  const busy = useStore((s) => s.busy);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const [samples, setSamples] = useState<SampleEntry[]>([]);
  useEffect(() => {
    listSamples().then(setSamples, () => setSamples([]));
  }, []);

  return (
    <section className="panel dataset-panel" aria-label="Dataset">
      <h2>Dataset</h2>
      <p className="hint">Drop NIfTI files (.nii, .nii.gz), their label maps (<code>_seg</code>, <code>_label</code>, <code>_mask</code>, <code>_gt</code>), a class lookup file, or an MSD-style folder anywhere on the page.</p>
      <div className="button-row">
        <button onClick={() => fileInput.current?.click()}>Open files…</button>
        <button onClick={() => folderInput.current?.click()}>Open folder…</button>
      </div>
      <input ref={fileInput} type="file" multiple hidden data-testid="file-input" accept=".nii,.gz,.txt,.lut,.json,.csv,.tsv"
        onChange={(e) => { void loadFiles(filesFromInput(e.target.files)); e.target.value = ''; }} />
      <input ref={folderInput} type="file" multiple hidden data-testid="folder-input"
        {...({ webkitdirectory: '' } as Record<string, string>)}
        onChange={(e) => { void loadFiles(filesFromInput(e.target.files)); e.target.value = ''; }} />
      {samples.length > 0 && (
        <label className="field">
          <span>Bundled samples</span>
          <select data-testid="sample-select" value="" onChange={(e) => e.target.value && void loadSample(e.target.value)}>
            <option value="">Load a sample…</option>
            {samples.map((s) => <option key={s.id} value={s.id}>{s.title}</option>)}
          </select>
        </label>
      )}
      {busy > 0 && <div className="busy" role="status" data-testid="busy">Loading {busy} case{busy > 1 ? 's' : ''}…</div>}
      <ul className="case-list" data-testid="case-list">
        {cases.map((c) => (
          <CaseItem key={c.id} c={c} active={c.id === activeId} others={cases.filter((o) => o.id !== c.id && o.image)} />
        ))}
      </ul>
      {cases.length > 0 && <SplitSummary cases={cases} />}
    </section>
  );
}

function CaseItem({ c, active, others }: { c: CaseEntry; active: boolean; others: CaseEntry[] }) {
  const v = c.image?.volume;
  const classes = c.label?.label?.classes.filter((x) => x !== 0).length;
  return (
    <li className={`case ${active ? 'active' : ''}`} data-testid="case-item" data-case-id={c.id}>
      <button className="case-name" onClick={() => setActiveCase(c.id)} disabled={!c.image} aria-current={active}>
        {c.id}
      </button>
      {c.status === 'loading' && <span className="case-status">{c.phase ?? 'queued'}…</span>}
      {v && (
        <div className="case-meta">
          <span title="voxels (canonical RAS+ order)">{formatDims(v.dims)}{v.channels > 1 ? ` × ${v.channels} ch` : ''}</span>
          <span title="voxel size">{formatSpacing(v.spacing)}</span>
          <span title={`stored as ${c.image!.source.axcodes}, affine from ${c.image!.source.affineSource}`}>{c.image!.source.axcodes}→RAS</span>
          {c.label ? <span className="has-label" title={c.labelFile}>{classes} class{classes === 1 ? '' : 'es'}</span> : <span className="no-label">no label</span>}
        </div>
      )}
      {c.image && (
        <div className="case-actions">
          <label>
            <span className="sr-only">Split of {c.id}</span>
            <select value={c.split} onChange={(e) => setSplit(c.id, e.target.value as CaseEntry['split'])} data-testid="split-select">
              <option value="train">train</option>
              <option value="val">validation</option>
            </select>
          </label>
          {!c.label && others.some((o) => !o.label) && (
            <label>
              <span className="sr-only">Use {c.id} as the label map of</span>
              <select value="" onChange={(e) => e.target.value && void useCaseAsLabel(c.id, e.target.value)} title="Use this volume as the label map of another case">
                <option value="">Use as label of…</option>
                {others.filter((o) => !o.label).map((o) => <option key={o.id} value={o.id}>{o.id}</option>)}
              </select>
            </label>
          )}
          <button className="icon" onClick={() => removeCase(c.id)} aria-label={`Remove ${c.id}`} title="Remove">✕</button>
        </div>
      )}
    </li>
  );
}

function SplitSummary({ cases }: { cases: CaseEntry[] }) {
  const ready = cases.filter((c) => c.image);
  const val = ready.filter((c) => c.split === 'val').length;
  return (
    <p className="split-summary">
      {ready.length - val} training · {val} validation case{val === 1 ? '' : 's'}
      {ready.length === 1 && ' (with one case, training and validation use separate slabs of it)'}
    </p>
  );
}
