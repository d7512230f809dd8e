// Module-level actions on the store: viewer controls, case selection and splits, notices.
import { activeCase, getState, setState, type CaseEntry, type Notice, type Split, type ViewerSlice } from './store.ts';
import { sliceCount, type Axis } from '../render/slice.ts';
import { WINDOW_PRESETS } from './windows.ts';

let noticeId = 1;

export function notify(level: Notice['level'], message: string, file?: string): number {
  const id = noticeId++;
  setState((s) => ({ notices: [...s.notices, { id, level, message, file }] }));
  return id;
}

export function dismissNotice(id: number) {
  setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

export function updateCase(id: string, patch: Partial<CaseEntry>) {
  setState((s) => ({ cases: s.cases.map((c) => (c.id === id ? { ...c, ...patch } : c)) }));
}

/** Shows a case: centres the slices and picks the display window from its summary. */
export function setActiveCase(id: string) {
  const c = getState().cases.find((x) => x.id === id);
  if (!c) return;
  setState({ activeId: id });
  if (c.image) resetView();
}

export function removeCase(id: string) {
  setState((s) => {
    const cases = s.cases.filter((c) => c.id !== id);
    const activeId = s.activeId === id ? (cases.find((c) => c.image)?.id ?? null) : s.activeId;
    return { cases, activeId };
  });
  const c = activeCase();
  if (c?.image) resetView();
}

export function setSplit(id: string, split: Split) {
  updateCase(id, { split });
}

export function resetView() {
  const c = activeCase();
  if (!c?.image) return;
  const { dims } = c.image.volume;
  const s = getState();
  const slice = { axial: Math.floor(dims[2] / 2), coronal: Math.floor(dims[1] / 2), sagittal: Math.floor(dims[0] / 2) };
  const summary = c.image.image;
  const preset = summary?.modality === 'ct' ? 'ct-abdomen' : 'auto';
  setState({ slice, channel: Math.min(s.channel, c.image.volume.channels - 1), windowPreset: preset, window: windowFor(preset) });
}

export function windowFor(preset: string): { low: number; high: number } {
  const summary = activeCase()?.image?.image;
  const p = WINDOW_PRESETS.find((w) => w.id === preset);
  if (p?.range) return { ...p.range };
  if (!summary) return { low: 0, high: 1 };
  if (preset === 'minmax') return { low: summary.min, high: summary.max };
  return { low: summary.p005, high: summary.p995 };
}

export function setWindowPreset(preset: string) {
  setState({ windowPreset: preset, window: windowFor(preset) });
}

export function setWindow(low: number, high: number) {
  setState({ window: { low, high }, windowPreset: 'custom' });
}

/** Window/level drag: dx widens/narrows the window, dy moves the level (like most radiology viewers). */
export function dragWindow(dx: number, dy: number) {
  const { low, high } = getState().window;
  const summary = activeCase()?.image?.image;
  const span = summary ? Math.max(summary.max - summary.min, 1e-6) : 1;
  const width = Math.max((high - low) * Math.exp(dx / 200), span * 1e-4);
  const level = (low + high) / 2 - (dy / 400) * span;
  setWindow(level - width / 2, level + width / 2);
}

export function setAxis(axis: Axis) {
  setState({ axis });
}

export function setSlice(axis: Axis, index: number) {
  const c = activeCase();
  if (!c?.image) return;
  const n = sliceCount(c.image.volume.dims, axis);
  const clamped = Math.max(0, Math.min(n - 1, Math.round(index)));
  setState((s) => ({ slice: { ...s.slice, [axis]: clamped } }));
}

export function stepSlice(delta: number) {
  const s = getState();
  setSlice(s.axis, s.slice[s.axis] + delta);
}

export function setOpacity(opacity: number) {
  setState({ opacity: Math.max(0, Math.min(1, opacity)) });
}

export function toggleLabel() {
  setState((s) => ({ showLabel: !s.showLabel }));
}

export function setRadiological(radiological: boolean) {
  setState({ radiological });
}

export function setChannel(channel: number) {
  setState({ channel });
}

export function toggleClass(value: number) {
  setState((s) => ({ hidden: s.hidden.includes(value) ? s.hidden.filter((v) => v !== value) : [...s.hidden, value] }));
}

/** How an evaluated case's prediction is shown: off, as the overlay instead of the ground truth, or side by side. */
export function setPredictionView(predictionView: ViewerSlice['predictionView']) {
  setState({ predictionView });
}
