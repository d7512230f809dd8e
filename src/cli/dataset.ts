// The CLI's data: input files → the app's pairing (pairFiles) and split (casesFromPairing) → volumes read by the
// NIfTI worker's job (loadVolume: parse + canonical RAS+), image and label checked on one grid (gridProblem),
// class names from any lookup file among the inputs. Every problem names the file.
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pairFiles, type Pairing } from '../data/pairing.ts';
import { casesFromPairing, gridProblem, stackChannels, type Split } from '../data/cases.ts';
import { defaultClassName, parseLookupFile } from '../data/labels.ts';
import { loadVolume } from '../workers/nifti.job.ts';
import type { LoadedVolume, VolumeRole } from '../workers/nifti.protocol.ts';
import type { CaseData } from '../workers/train.protocol.ts';
import type { InputFile } from './inputs.ts';

export interface LoadedCase {
  id: string;
  split: Split;
  /** Image files as given (one per channel). */
  imageFiles: string[];
  labelFile?: string;
  image: LoadedVolume;
  label?: LoadedVolume;
}

export interface Dataset {
  cases: LoadedCase[];
  /** Names by label value from the lookup files among the inputs (may be empty). */
  names: Record<number, string>;
  /** Largest label value over the labelled cases + 1 (0 when no case has a label). */
  numClasses: number;
  notes: string[];
}

export interface DatasetOptions {
  /** Only labelled cases are kept (training); otherwise unlabelled images are kept too (prediction). */
  labelledOnly: boolean;
  /** Share of labelled cases held out for validation (the app's default split). */
  valFraction: number;
  /** Case ids to validate on instead of the default split. */
  valIds?: string[];
  /** False when the split does not matter (prediction): no split notes, no split in the log. */
  split?: boolean;
  log?: (line: string) => void;
}

/** A problem with the data (exit status 1), as opposed to a usage error. */
export class DataError extends Error {
  override name = 'DataError';
}

/** Pairs the input files as the app does when they are dropped on the page. */
export function pairInputs(files: readonly InputFile[]): Pairing {
  return pairFiles(files.map((f) => ({ path: f.path, name: f.name })));
}

async function load(file: InputFile, role: VolumeRole): Promise<LoadedVolume> {
  return loadVolume(await openAsBlob(file.file), file.path, role);
}


/** Reads every paired case (images and labels), checks the grids, draws the split, gathers class names. */
export async function loadDataset(files: readonly InputFile[], pairing: Pairing, opts: DatasetOptions): Promise<Dataset> {
  const log = opts.log ?? (() => {});
  const byPath = new Map(files.map((f) => [f.path, f]));
  const notes = [...pairing.notes];
  const paired = opts.labelledOnly ? pairing.cases.filter((c) => c.label !== undefined) : pairing.cases;
  if (opts.labelledOnly && paired.length < pairing.cases.length) {
    const skipped = pairing.cases.filter((c) => c.label === undefined).map((c) => c.image);
    notes.push(`${skipped.length} image(s) without a label are not trained on: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  }
  const { cases: split, notes: splitNotes } = casesFromPairing(paired, opts.valFraction);
  if (opts.split !== false) notes.push(...splitNotes);
  if (opts.valIds?.length) {
    const ids = new Set(split.map((c) => c.id));
    const unknown = opts.valIds.filter((id) => !ids.has(id));
    if (unknown.length) throw new DataError(`--val: no case named ${unknown.map((u) => `'${u}'`).join(', ')} (cases: ${[...ids].join(', ')})`);
    for (const c of split) c.split = opts.valIds.includes(c.id) ? 'val' : 'train';
    if (split.every((c) => c.split === 'val')) throw new DataError('--val: every case is held out; leave at least one to train on');
  }

  // --- read the volumes (one case at a time: images, then its label) ---------------------------------------
  const cases: LoadedCase[] = [];
  for (const c of split) {
    const images = await Promise.all(c.imagePaths.map((p) => load(byPath.get(p)!, 'image')));
    const image = images.length === 1 ? images[0] : { ...images[0], volume: stackChannels(images.map((r) => r.volume)) };
    const out: LoadedCase = { id: c.id, split: c.split, imageFiles: c.imagePaths, image };
    if (c.labelPath) {
      const label = await load(byPath.get(c.labelPath)!, 'label');
      const problem = gridProblem(image.volume, label.volume);
      if (problem) throw new DataError(problem);
      out.label = label;
      out.labelFile = c.labelPath;
    }
    if (image.volume.nonFinite > 0) notes.push(`${image.volume.name}: ${image.volume.nonFinite} NaN/Inf voxels were set to 0.`);
    log(`  ${c.id}: ${c.imagePaths.join(' + ')}${c.labelPath ? ` + ${c.labelPath}` : ''} (${image.volume.dims.join('×')}${image.volume.channels > 1 ? `×${image.volume.channels}` : ''}, ${image.source.axcodes}→RAS, ${!c.labelPath ? 'no label' : opts.split === false ? 'labelled' : c.split})`);
    cases.push(out);
  }

  // --- class names from lookup files --------------------------------------------------------------------------
  let names: Record<number, string> = {};
  for (const p of pairing.lookups) {
    try {
      const t = parseLookupFile(new Uint8Array(await readFile(byPath.get(p)!.file)), p);
      names = { ...names, ...t.names };
      notes.push(`class names from ${p}`, ...t.notes);
    } catch (err) {
      notes.push(`${p}: not used as a class lookup (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  const labelled = cases.filter((c) => c.label?.label);
  const numClasses = labelled.length ? Math.max(0, ...labelled.flatMap((c) => c.label!.label!.classes)) + 1 : 0;
  return { cases, names, numClasses, notes };
}

/** Class names by label value, background first: the lookup's where given, else the app's defaults. */
export function classNamesFor(names: Record<number, string>, numClasses: number): string[] {
  return Array.from({ length: numClasses }, (_, v) => names[v] ?? defaultClassName(v));
}

/** A labelled case as the training run takes it (the same record the app's store sends to the worker). */
export function toCaseData(c: LoadedCase): CaseData {
  const v = c.image.volume;
  if (!c.label) throw new Error(`${c.id}: no label`);
  return { id: c.id, split: c.split, dims: v.dims, channels: v.channels, spacing: v.spacing, affine: v.affine, image: v.data, label: c.label.volume.data };
}
