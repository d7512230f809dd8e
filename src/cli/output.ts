// What the CLI writes: files made atomically (a temp file in the same folder, then rename, so an interrupted or
// failed run never leaves a half-written file), metrics as JSON and CSV. The CSV/JSON formatting is pure.
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { StepRecord, ValidationRecord } from '../weights/checkpoint.ts';

/** Writes `data` to `dir/name` through a temp file and a rename; creates `dir` when needed. Returns the path. */
export function writeAtomic(dir: string, name: string, data: Uint8Array | string): string {
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`${target}: could not be written (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return target;
}

/** The files among `names` that already exist in `dir` (the CLI refuses to overwrite them without --force). */
export function existing(dir: string, names: readonly string[]): string[] {
  return names.filter((n) => existsSync(path.join(dir, n)));
}

/** JSON with NaN as null and ±Infinity as the strings "Infinity" / "-Infinity" (JSON has neither). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? 'Infinity' : '-Infinity') : v), 2) + '\n';
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; NaN written as 'NaN', missing as ''. */
export function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvRow = (fields: Array<string | number | undefined | null>) => fields.map(csvField).join(',');
/** A class name as part of a column name: 'grey matter' → 'grey_matter'. */
const col = (name: string) => name.trim().replace(/\s+/g, '_');

/**
 * A run's history as CSV: one row per step (union of training steps and validations), training columns, then the
 * validation's mean Dice and Dice per class where a validation happened at that step.
 */
export function historyCsv(history: { steps: StepRecord[]; validations: ValidationRecord[] }, classNames: readonly string[]): string {
  const steps = new Map(history.steps.map((s) => [s.step, s]));
  const vals = new Map(history.validations.map((v) => [v.step, v]));
  const all = [...new Set([...steps.keys(), ...vals.keys()])].sort((a, b) => a - b);
  const header = ['step', 'loss', 'lr', 'ms', 'samples_per_s', 'num_tensors', 'num_bytes', 'val_mean_dice', ...classNames.map((n) => `val_dice_${col(n)}`)];
  const rows = all.map((k) => {
    const s = steps.get(k), v = vals.get(k);
    return csvRow([k, s?.loss, s?.lr, s?.ms, s?.samplesPerSec, s?.numTensors, s?.numBytes, v?.meanDice, ...classNames.map((_, c) => v?.dice[c])]);
  });
  return [csvRow(header), ...rows].join('\n') + '\n';
}

export interface CaseResult {
  caseId: string;
  image: string;
  label?: string;
  prediction: string;
  dice?: number[];
  meanDice?: number;
  hd95?: number[];
  meanHd95?: number;
  ms: number;
}

/** Evaluation results as CSV: one row per case, mean Dice and HD95 (mm), then per class. */
export function evaluationCsv(results: readonly CaseResult[], classNames: readonly string[]): string {
  const header = ['case', 'image', 'label', 'prediction', 'mean_dice', 'mean_hd95_mm', ...classNames.map((n) => `dice_${col(n)}`), ...classNames.slice(1).map((n) => `hd95_mm_${col(n)}`), 'ms'];
  const rows = results.map((r) => csvRow([
    r.caseId, r.image, r.label, r.prediction, r.meanDice, r.meanHd95, ...classNames.map((_, c) => r.dice?.[c]), ...classNames.slice(1).map((_, c) => r.hd95?.[c + 1]), Math.round(r.ms),
  ]));
  return [csvRow(header), ...rows].join('\n') + '\n';
}
