// Loading actions: dropped or picked files and the bundled sample → cases in the store, parsed off the main thread.
import { NiftiClient } from '../workers/niftiClient.ts';
import { labelStem, niftiBaseName, pairFiles } from '../data/pairing.ts';
import { checkSameGrid, defaultSplit, stackChannels } from '../data/cases.ts';
import { parseLookupFile } from '../data/labels.ts';
import { getState, setState, type CaseEntry, type ClassTable } from './store.ts';
import { notify, resetView, setActiveCase, updateCase } from './actions.ts';
import { convertFromFiles } from './model.ts';
import { importCheckpoint } from './train.ts';
import { isModelCheckpointFile } from '../weights/checkpoint.ts';
import type { LoadedVolume, VolumeRole } from '../workers/nifti.protocol.ts';

/** A file with its path relative to what was dropped (folders keep their structure, e.g. imagesTr/x.nii.gz). */
export interface InputFile {
  path: string;
  file: File;
}

let client: NiftiClient | null = null;
/** The original file of each single-file case, kept outside the store so it can be re-read as a label. */
const sourceFiles = new Map<string, Blob>();
const nifti = () => (client ??= new NiftiClient());

const baseName = (path: string) => path.split('/').pop() ?? path;
const CHECKPOINT = /\.(safetensors|pth|pt|bin|ckpt)$/i;

/** Loads every file the user dropped or picked: pairs images with labels, parses lookups, reports problems by file. */
export async function loadFiles(files: InputFile[]): Promise<void> {
  // Model checkpoints written by InflateSeg go to the training worker; other checkpoints (and their config / shard
  // index) to the weights worker; the rest is data.
  const models: InputFile[] = [];
  for (const f of files) if (/\.safetensors$/i.test(f.path) && (await isModelCheckpointFile(f.file))) models.push(f);
  for (const f of models) await importCheckpoint(f.file, baseName(f.path));
  files = files.filter((f) => !models.includes(f));
  const checkpoints = files.filter((f) => CHECKPOINT.test(f.path));
  if (checkpoints.length > 0) {
    const sidecars = files.filter((f) => /(^|\/)(config\.json|[^/]*\.index\.json)$/i.test(f.path));
    void convertFromFiles([...checkpoints, ...sidecars].map((f) => ({ name: baseName(f.path), blob: f.file })));
    const taken = new Set([...checkpoints, ...sidecars]);
    files = files.filter((f) => !taken.has(f));
  }
  if (files.length === 0) return;
  const byPath = new Map(files.map((f) => [f.path, f.file]));
  const pairing = pairFiles(files.map((f) => ({ path: f.path, name: baseName(f.path) })));
  for (const note of pairing.notes) notify('info', note);
  for (const path of pairing.ignored) if (!isJunk(path)) notify('warning', `${baseName(path)}: not a NIfTI image or a class lookup file; ignored.`, baseName(path));

  let lookupTable: ClassTable | null = null;
  for (const path of pairing.lookups) {
    try {
      lookupTable = await readLookup(byPath.get(path)!, baseName(path));
      notify('info', `${baseName(path)}: ${Object.keys(lookupTable.names).length} class names loaded.`, baseName(path));
    } catch (err) {
      notify('error', message(err), baseName(path));
    }
  }
  if (lookupTable) setState({ classTable: mergeTables(getState().classTable, lookupTable) });

  // A label whose image was loaded earlier (a drop of the label alone) joins that case.
  const leftovers: string[] = [];
  for (const path of pairing.unpaired) {
    const target = findCaseForLabel(baseName(path));
    if (target) await attachLabel(target.id, byPath.get(path)!, baseName(path));
    else leftovers.push(path);
  }

  const jobs = pairing.cases.map((pc) =>
    loadCase(
      uniqueId(pc.id),
      pc.images.map((p) => ({ name: baseName(p), file: byPath.get(p)! })),
      pc.label ? { name: baseName(pc.label), file: byPath.get(pc.label)! } : undefined,
    ),
  );
  for (const path of leftovers) jobs.push(loadCase(uniqueId(niftiBaseName(baseName(path))), [{ name: baseName(path), file: byPath.get(path)! }], undefined));
  const added = await Promise.all(jobs);
  assignDefaultSplits(added.filter((id): id is string => id !== null));
}

/** New labelled cases get the deterministic default split; cases the user already placed keep theirs. */
function assignDefaultSplits(newIds: string[]) {
  const labelled = getState().cases.filter((c) => c.label).map((c) => c.id);
  const { splits } = defaultSplit(labelled);
  const fresh = new Set(newIds);
  setState((s) => ({ cases: s.cases.map((c) => (fresh.has(c.id) && splits[c.id] ? { ...c, split: splits[c.id] } : c)) }));
}

function isJunk(path: string) {
  const n = baseName(path);
  return n.startsWith('.') || n === 'Thumbs.db';
}

function uniqueId(id: string) {
  const ids = new Set(getState().cases.map((c) => c.id));
  if (!ids.has(id)) return id;
  let n = 2;
  while (ids.has(`${id} (${n})`)) n++;
  return `${id} (${n})`;
}

function findCaseForLabel(labelName: string): CaseEntry | undefined {
  const stem = (labelStem(labelName) ?? niftiBaseName(labelName)).toLowerCase();
  return getState().cases.find((c) => c.image && !c.label && c.imageFiles.some((f) => niftiBaseName(f).replace(/_0000$/, '').toLowerCase() === stem));
}

async function readLookup(file: File, name: string): Promise<ClassTable> {
  const t = parseLookupFile(new Uint8Array(await file.arrayBuffer()), name);
  for (const note of t.notes) notify('info', `${name}: ${note}`, name);
  return { source: name, names: t.names, colors: t.colors };
}

function mergeTables(a: ClassTable, b: ClassTable): ClassTable {
  return { source: b.source, names: { ...a.names, ...b.names }, colors: b.colors ?? a.colors };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function loadOne(file: File | Blob, name: string, role: VolumeRole, caseId: string): Promise<LoadedVolume> {
  return nifti().load(file, name, role, (phase) => updateCase(caseId, { phase }));
}

/** Parses a case's image (and label) and adds it; a bad label is reported and dropped, the image stays. */
async function loadCase(id: string, images: { name: string; file: Blob }[], label: { name: string; file: Blob } | undefined): Promise<string | null> {
  const entry: CaseEntry = { id, imageFiles: images.map((i) => i.name), labelFile: label?.name, split: 'train', status: 'loading' };
  setState((s) => ({ cases: [...s.cases, entry], busy: s.busy + 1 }));
  if (images.length === 1) sourceFiles.set(id, images[0].file);
  try {
    const [imageResults, labelResult] = await Promise.all([
      Promise.all(images.map((i) => loadOne(i.file, i.name, 'image', id))),
      label ? loadOne(label.file, label.name, 'label', id).catch((err: unknown) => err as Error) : Promise.resolve(undefined),
    ]);
    const image = imageResults.length === 1 ? imageResults[0] : { ...imageResults[0], volume: stackChannels(imageResults.map((r) => r.volume)) };
    reportNonFinite(image);
    let labelVol: LoadedVolume | undefined;
    if (labelResult instanceof Error) {
      notify('error', `${labelResult.message} The image ${images[0].name} is loaded without labels.`, label?.name);
    } else if (labelResult) {
      const problem = gridProblem(image, labelResult);
      if (problem) notify('error', `${problem} The label is not used; ${images[0].name} is loaded without labels.`, label?.name);
      else labelVol = labelResult;
    }
    updateCase(id, { image, label: labelVol, labelFile: labelVol ? label?.name : undefined, status: 'ready', phase: undefined });
    if (!getState().activeId || !activeHasImage()) setActiveCase(id);
    return id;
  } catch (err) {
    notify('error', message(err));
    setState((s) => ({ cases: s.cases.filter((c) => c.id !== id) }));
    return null;
  } finally {
    setState((s) => ({ busy: s.busy - 1 }));
  }
}

function activeHasImage() {
  const s = getState();
  return !!s.cases.find((c) => c.id === s.activeId)?.image;
}

function gridProblem(image: LoadedVolume, label: LoadedVolume): string | null {
  try {
    const r = checkSameGrid(image.volume, label.volume);
    return typeof r === 'string' ? r : null;
  } catch (err) {
    return message(err);
  }
}

function reportNonFinite(v: LoadedVolume) {
  if (v.volume.nonFinite > 0) notify('warning', `${v.volume.name}: ${v.volume.nonFinite.toLocaleString('en')} NaN/Inf voxels were set to 0.`, v.volume.name);
}


/** Uses another file as the label of a case (explicit assignment in the UI, or a label dropped on its own). */
export async function attachLabel(caseId: string, file: Blob, name: string): Promise<void> {
  const c = getState().cases.find((x) => x.id === caseId);
  if (!c?.image) return;
  setState((s) => ({ busy: s.busy + 1 }));
  try {
    const label = await loadOne(file, name, 'label', caseId);
    const problem = gridProblem(c.image, label);
    if (problem) {
      notify('error', `${problem} ${c.image.volume.name} keeps its previous labels.`, name);
      return;
    }
    updateCase(caseId, { label, labelFile: name });
    notify('info', `${name} is now the label map of ${c.id}.`, name);
  } catch (err) {
    notify('error', message(err), name);
  } finally {
    setState((s) => ({ busy: s.busy - 1 }));
    updateCase(caseId, { phase: undefined });
  }
}

/** Makes the image of case `fromId` the label map of case `toId` (the UI's explicit assignment); `fromId` disappears. */
export async function useCaseAsLabel(fromId: string, toId: string): Promise<void> {
  const from = getState().cases.find((c) => c.id === fromId);
  const file = from && sourceFiles.get(fromId);
  if (!from || !file) return;
  await attachLabel(toId, file, from.imageFiles[0]);
  if (getState().cases.find((c) => c.id === toId)?.labelFile === from.imageFiles[0]) {
    setState((s) => ({ cases: s.cases.filter((c) => c.id !== fromId) }));
  }
}


/** Bundled samples: public/samples/index.json lists them; the first one is shown on first start. */
export interface SampleEntry {
  id: string;
  title: string;
  image: string;
  label?: string;
  classes?: string;
  description?: string;
}

export async function listSamples(): Promise<SampleEntry[]> {
  const res = await fetch(`${import.meta.env.BASE_URL}samples/index.json`);
  if (!res.ok) throw new Error(`samples/index.json: HTTP ${res.status}`);
  const j = (await res.json()) as { cases: SampleEntry[] };
  return j.cases;
}

export async function loadSample(id?: string): Promise<void> {
  try {
    const samples = await listSamples();
    const s = samples.find((x) => x.id === id) ?? samples[0];
    const base = `${import.meta.env.BASE_URL}samples/`;
    const get = async (rel: string) => {
      const r = await fetch(base + rel);
      if (!r.ok) throw new Error(`${rel}: HTTP ${r.status} while loading the bundled sample`);
      return new File([await r.blob()], rel.split('/').pop()!);
    };
    const files = [s.image, ...(s.label ? [s.label] : []), ...(s.classes ? [s.classes] : [])];
    const loaded = await Promise.all(files.map(get));
    await loadFiles(loaded.map((file) => ({ path: file.name, file })));
    resetView();
  } catch (err) {
    notify('error', `Could not load the bundled sample: ${message(err)}`);
  }
}
