// Compare strategies, the paper's ablation in one click: the 2D checkpoint of the encoder in use is converted again
// with each strategy and trained in turn with the same data, T, input size, seed and budget; each run is kept as
// 'compare: <strategy>'. A stop (here or in the training panel), a failed conversion or a failed run ends it.
import { create } from 'zustand';
import type { InflationStrategy } from '../weights/types.ts';
import { getState, useStore, type AppState, type Notice } from './store.ts';
import { cancelConversion, convertAgain, lastConversionSource } from './model.ts';
import { startTraining, startVolumeTraining, stopTraining } from './train.ts';
import { useModelChoice } from './volume.ts';
import { currentRecord, renameRun } from './runs.ts';
import { notify } from './actions.ts';

/** A row of the comparison: an inflation strategy of the encoder in use, or the volume-based model from scratch. */
export type CompareEntry = InflationStrategy | 'unetr3d';

/** What the paper found for each strategy (see /METHOD.md), one line each, in the order they are offered. */
export const STRATEGY_FINDINGS: Array<{ id: CompareEntry; finding: string }> = [
  { id: 'center', finding: 'Centring, the paper\'s default: starts as the 2D model on the centre slice; it beats 2d and scratch for < 1 % more compute.' },
  { id: 'average', finding: 'Averaging (I3D-style): the 2D kernel spread over the T slices, equal to the 2D model on identical slices; the paper\'s alternative to centring.' },
  { id: '2d', finding: 'Slice-based ("w/o depth", T = 1): the same pre-trained encoder, one slice at a time; center beats it.' },
  { id: 'scratch', finding: 'No transfer ("w/o pre-training"): the same architecture from random weights; center beats it.' },
  { id: 'unetr3d', finding: 'Volume-based (UNETR 3D, scratch): the seed\'s third method, a ViT over 3D crops with a 3D decoder, trained from random weights at the Model section\'s size (no encoder needed), predicted by sliding window.' },
];

/** The paper's ablation: inflated, slice-based, no pre-training. */
export const DEFAULT_COMPARE: InflationStrategy[] = ['center', '2d', 'scratch'];

export interface CompareState {
  status: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  strategies: CompareEntry[];
  /** Index of the strategy being converted or trained. */
  index: number;
  phase: 'convert' | 'train';
  /** Why the comparison stopped early. */
  message?: string;
  /** The records of the comparison's runs, in order. */
  recordIds: number[];
}

const idle = (): CompareState => ({ status: 'idle', strategies: [], index: 0, phase: 'convert', recordIds: [] });

// NOTE: the comparison's progress lives in its own small store until the main store has a slice for it.
export const useCompare = create<CompareState>()(idle);
const set = (patch: Partial<CompareState>) => useCompare.setState(patch);

let stopRequested = false;

const runActive = (s: AppState) => s.run.state === 'running' || s.run.state === 'paused' || s.run.state === 'starting' || !!s.run.evaluating;

/** Why a comparison cannot start now (null: it can). */
export function compareBlocker(s: AppState, strategies: CompareEntry[], running = useCompare.getState().status === 'running'): string | null {
  if (running) return 'A comparison is already running.';
  if (strategies.length === 0) return 'Pick at least one strategy to compare.';
  if (runActive(s)) return 'Stop the current run first.';
  if (s.conversion.status === 'converting') return 'Wait for the conversion to finish.';
  const inflated = strategies.some((x) => x !== 'unetr3d');
  if (inflated && (!s.encoder || !lastConversionSource())) return 'Load a pre-trained 2D encoder first (Encoder panel): each strategy is converted from it.';
  if (!s.cases.some((c) => c.image && c.label)) return 'Load at least one image with its label map.';
  return null;
}

/** One line of progress: '2 / 3: 2d, step 40 / 100' (or 'converting' before the run starts). */
export function compareProgress(c: CompareState, run: Pick<AppState['run'], 'steps' | 'totalSteps'>): string {
  const n = c.strategies.length;
  const head = `${Math.min(c.index + 1, n)} / ${n}: ${c.strategies[c.index] ?? ''}`;
  if (c.status !== 'running') return c.status === 'done' ? `${n} / ${n} done` : `${c.status}${c.message ? `: ${c.message}` : ''}`;
  if (c.phase === 'convert') return `${head}, converting`;
  return `${head}, step ${run.steps[run.steps.length - 1]?.step ?? 0} / ${run.totalSteps}`;
}

type RunEnd = { state: 'done' | 'stopped' | 'failed'; message?: string };

/**
 * Resolves when the run started next ends. A start the worker refuses leaves the run in 'starting' with an error
 * notice: that counts as a failure too.
 */
function untilRunEnds(): { ended: Promise<RunEnd>; cancel: () => void } {
  let cancel = () => {};
  const ended = new Promise<RunEnd>((resolve) => {
    const unsubscribe = useStore.subscribe((s, prev) => {
      const { state, message } = s.run;
      if (state !== prev.run.state && (state === 'done' || state === 'stopped' || state === 'failed')) {
        unsubscribe();
        resolve({ state, message });
      } else if (state === 'starting' && s.notices !== prev.notices) {
        // NOTE: the worker's 'error' event does not end a run that never started; its notice is the only trace.
        const fresh: Notice | undefined = s.notices.find((n) => n.level === 'error' && !prev.notices.includes(n));
        if (fresh) { unsubscribe(); resolve({ state: 'failed', message: fresh.message }); }
      }
    });
    cancel = unsubscribe;
  });
  return { ended, cancel };
}

function finish(status: CompareState['status'], message?: string): CompareState['status'] {
  set({ status, message });
  if (status === 'failed' && message) notify('error', `Compare strategies: ${message}`);
  return status;
}

/** Converts and trains each strategy in turn; resolves with how the comparison ended. */
export async function compareStrategies(strategies: CompareEntry[]): Promise<CompareState['status']> {
  const why = compareBlocker(getState(), strategies);
  if (why) { notify('error', `Compare strategies: ${why}`); return 'failed'; }
  stopRequested = false;
  set({ ...idle(), status: 'running', strategies: [...strategies] });
  // NOTE: each row trains its own model family whatever the Model choice; the choice comes back at the end.
  const choice = useModelChoice.getState().kind;
  try {
    return await compareRows(strategies);
  } finally {
    useModelChoice.setState({ kind: choice });
  }
}

async function compareRows(strategies: CompareEntry[]): Promise<CompareState['status']> {
  for (const [index, strategy] of strategies.entries()) {
    if (strategy === 'unetr3d') {
      // --- the volume model from scratch, with the same data, settings, budget and seed ------------------------
      set({ index, phase: 'train' });
      useModelChoice.setState({ kind: 'unetr3d' });
      const end = await trainRow(strategy, () => startVolumeTraining());
      if (end) return end;
      continue;
    }
    useModelChoice.setState({ kind: 'window' });
    // --- convert the same 2D checkpoint with this strategy (same T, channels and size) ------------------------
    set({ index, phase: 'convert' });
    const ok = await convertAgain({ strategy });
    if (stopRequested) return finish('stopped');
    if (!ok) return finish('failed', `converting with ${strategy} failed (see the message above).`);
    const enc = getState().encoder!;
    if (enc.options.strategy !== strategy) {
      return finish('failed', `${enc.source} is an encoder already inflated (${enc.options.strategy}): load the 2D checkpoint to compare strategies.`);
    }

    // --- train with the current settings, until the run ends ---------------------------------------------------
    set({ phase: 'train' });
    const end = await trainRow(strategy, startTraining);
    if (end) return end;
  }
  return finish('done');
}

/** Starts one row's run and waits for its end; names its record. Returns how the comparison ended when it did. */
async function trainRow(strategy: CompareEntry, start: () => string | null): Promise<CompareState['status'] | null> {
  const { ended, cancel } = untilRunEnds();
  const refused = start();
  if (refused) { cancel(); return finish('failed', refused); }
  const end = await ended;
  // The training actions record the run before this continues (same task): name it.
  const record = currentRecord();
  if (record) {
    renameRun(record.id, `compare: ${strategy}`);
    set({ recordIds: [...useCompare.getState().recordIds, record.id] });
  }
  if (end.state === 'stopped' || stopRequested) return finish('stopped');
  if (end.state === 'failed') return finish('failed', `${strategy}: ${end.message ?? 'the run failed'}`);
  return null;
}

/** Stops the comparison: the conversion or run under way is cancelled or stopped, no further strategy starts. */
export function stopCompare() {
  if (useCompare.getState().status !== 'running') return;
  stopRequested = true;
  const s = getState();
  if (s.conversion.status === 'converting') cancelConversion();
  if (runActive(s)) stopTraining();
}
