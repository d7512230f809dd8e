// Runs slice actions: every finished run is kept (encoder, settings, curves, final metrics) for comparison, and
// the record of the worker's current model gets the whole-volume evaluation when Evaluate finishes. Pure summaries
// (label, final Dice, evaluation means, ms per step) for the runs table.
import { getState, setState, useStore, type AppState, type RunRecord } from './store.ts';
import type { TrainConfig } from '../workers/train.protocol.ts';
import { useModelChoice } from './volume.ts';
import { volumeModelConfig } from '../train/volumeDefaults.ts';

type RunEncoder = RunRecord['encoder'];
type Run = AppState['run'];

const ENDED = ['done', 'stopped', 'failed'] as const;
type Ended = (typeof ENDED)[number];
const isEnded = (s: Run['state']): s is Ended => (ENDED as readonly string[]).includes(s);

// --- pure parts -----------------------------------------------------------------------------------------------

/**
 * The encoder a run starts from: an imported checkpoint's (continue after an import or a failure), the run it
 * continues (its steps are kept), else the converted encoder in use.
 */
export function runEncoder(run: Run, encoder: AppState['encoder'], continued: RunEncoder | null): RunEncoder | null {
  if (run.loaded) {
    const m = run.loaded;
    // NOTE: a volume model (3D UNETR) records 'unetr3d' as its strategy and its crop's D and H as T and size.
    return 'inflation' in m ? { source: m.source, strategy: m.inflation.strategy, T: m.config.T, imgSize: m.config.imgSize } : { source: m.source, strategy: 'unetr3d', T: m.config.crop[0], imgSize: m.config.crop[1] };
  }
  if (run.steps.length > 0 && continued) return continued;
  const choice = useModelChoice.getState();
  if (choice.kind === 'unetr3d') {
    const crop = volumeModelConfig(choice.preset, 1, 2).crop;
    return { source: `UNETR 3D ${choice.preset} (scratch)`, strategy: 'unetr3d', T: crop[0], imgSize: crop[1] };
  }
  if (!encoder) return null;
  return { source: encoder.source, strategy: encoder.options.strategy, T: encoder.options.T, imgSize: encoder.options.imgSize };
}

/** The last optimiser step a record reached (0 when it took none). */
export const lastStep = (r: Pick<RunRecord, 'steps'>): number => r.steps[r.steps.length - 1]?.step ?? 0;

/** A short default name: 'center T5 · 200 steps', with the state when the run did not finish. */
export function runLabel(r: Pick<RunRecord, 'encoder' | 'steps' | 'state'>): string {
  const model = r.encoder.strategy === 'unetr3d' ? `UNETR 3D ${r.encoder.T}³` : `${r.encoder.strategy} T${r.encoder.T}`;
  return `${model} · ${lastStep(r)} steps${r.state === 'done' ? '' : ` · ${r.state}`}`;
}

export interface RunSummary {
  steps: number;
  /** Mean validation Dice at the last validation (undefined: never validated). */
  finalDice?: number;
  /** Whole-volume evaluation, averaged over the evaluated cases (undefined: not evaluated). */
  evalDice?: number;
  evalHd95?: number;
  /** Median time of one optimiser step (the median leaves out the first step's shader compilation). */
  msPerStep?: number;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The numbers the runs table shows for one record. */
export function summarizeRun(r: RunRecord): RunSummary {
  const ev = r.evaluation?.length ? r.evaluation : undefined;
  return {
    steps: lastStep(r),
    finalDice: r.validations[r.validations.length - 1]?.meanDice,
    evalDice: ev && mean(ev.map((e) => e.meanDice)),
    evalHd95: ev && mean(ev.map((e) => e.meanHd95)),
    msPerStep: r.steps.length ? median(r.steps.map((s) => s.ms)) : undefined,
  };
}

/** Mean validation Dice over steps, as chart points. */
export const diceCurve = (r: RunRecord): Array<[number, number]> => r.validations.map((v) => [v.step, v.meanDice]);

/** The next free record id (records may be restored from elsewhere, so ids continue after the largest). */
export const nextRunId = (runs: RunRecord[]): number => runs.reduce((m, r) => Math.max(m, r.id), 0) + 1;

// --- what a run started from, watched in the store -------------------------------------------------------------

/** Runs started this session; a run is recorded once (a later call for the same run updates its record). */
let started = 0;
let recordedRun = -1;
/** The encoder and settings of the run in progress, taken when it starts (the panels may change during it). */
let startedWith: { encoder: RunEncoder | null; config: TrainConfig } | null = null;
/** The record whose model is the worker's model now (null after a new start or an imported checkpoint). */
let modelRecord: number | null = null;

useStore.subscribe((s, prev) => {
  if (s.run.state !== prev.run.state) {
    if (s.run.state === 'starting') {
      started++;
      startedWith = { encoder: runEncoder(s.run, s.encoder, startedWith?.encoder ?? null), config: s.trainConfig };
      modelRecord = null;
    } else if (s.run.state === 'loaded') {
      modelRecord = null;
    }
  }
  if (s.run.evaluation && s.run.evaluation !== prev.run.evaluation && modelRecord !== null) {
    const evaluation = s.run.evaluation.map(({ caseId, dice, meanDice, hd95, meanHd95 }) => ({ caseId, dice, meanDice, hd95, meanHd95 }));
    const id = modelRecord;
    setState((st) => ({ runs: st.runs.map((r) => (r.id === id ? { ...r, evaluation } : r)) }));
  }
});

// --- actions --------------------------------------------------------------------------------------------------

/** Called by the training actions when a run ends (done, stopped or failed): keeps it in the run list. */
export function recordRun(): RunRecord | null {
  const s = getState();
  const { run } = s;
  if (!isEnded(run.state)) return null;
  const encoder = startedWith?.encoder ?? runEncoder(run, s.encoder, null) ?? { source: 'unknown', strategy: 'unknown', T: 0, imgSize: 0 };
  const body = {
    state: run.state, encoder, config: startedWith?.config ?? s.trainConfig,
    steps: run.steps, validations: run.validations, endedAt: new Date().toISOString(),
  };
  if (recordedRun === started && modelRecord !== null) {
    // The same run again (a second end state): update its record, keeping its name and evaluation.
    const id = modelRecord;
    setState((st) => ({ runs: st.runs.map((r) => (r.id === id ? { ...r, ...body } : r)) }));
    return getState().runs.find((r) => r.id === id) ?? null;
  }
  const record: RunRecord = { id: nextRunId(s.runs), label: runLabel(body), ...body };
  recordedRun = started;
  modelRecord = record.id;
  setState((st) => ({ runs: [...st.runs, record] }));
  return record;
}

/** The record of the worker's current model (the last run, once it ended), if there is one. */
export function currentRecord(): RunRecord | undefined {
  return modelRecord === null ? undefined : getState().runs.find((r) => r.id === modelRecord);
}

export function renameRun(id: number, label: string) {
  const name = label.trim();
  if (!name) return;
  setState((s) => ({ runs: s.runs.map((r) => (r.id === id ? { ...r, label: name } : r)) }));
}

export function deleteRun(id: number) {
  setState((s) => ({ runs: s.runs.filter((r) => r.id !== id) }));
  if (modelRecord === id) modelRecord = null;
}

export function clearRuns() {
  setState({ runs: [] });
  modelRecord = null;
}
