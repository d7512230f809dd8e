// Autosave: the latest checkpoint of the current run kept in browser storage (OPFS, else IndexedDB) with a small
// JSON record, offered back after a reload (Resume imports it into the training worker, Discard deletes it).
// One slot: a run's checkpoint replaces the previous one, also a finished run's, which stays until the next run
// writes its first checkpoint (a new run that fails before its first validation does not cost the old one).
import type { CheckpointSummary } from '../workers/train.protocol.ts';
import { getState, useStore, type CaseEntry } from './store.ts';
import { notify } from './actions.ts';
import { importCheckpoint, setTrainConfig } from './train.ts';

/** What is kept beside the checkpoint: enough to describe the run and to say which files to load again. */
export interface AutosaveRecord {
  version: 1;
  /** The checkpoint's file name (as the run named it, e.g. timm_vit_center_T3_step4.safetensors). */
  name: string;
  /** Name of the stored checkpoint file in the autosave folder (OPFS); unused by IndexedDB. */
  file: string;
  step: number;
  /** The run's target number of steps. */
  totalSteps: number;
  /** ISO time the checkpoint was written. */
  savedAt: string;
  /** Where the encoder came from (file or Hub repo). */
  source: string;
  /** Checkpoint size in bytes. */
  bytes: number;
  /** The labelled cases of the dataset when it was saved, with their file names. */
  cases: Array<{ id: string; split: CaseEntry['split']; imageFiles: string[]; labelFile?: string }>;
}

/** A place for the one autosave slot. `put` is atomic: afterwards the old pair or the new one is there, never a mix. */
export interface AutosaveStorage {
  readonly kind: 'opfs' | 'indexeddb' | 'memory';
  put(record: AutosaveRecord, bytes: Uint8Array): Promise<void>;
  /** The stored record and a reader for its checkpoint, or null when the slot is empty. Throws on a broken slot. */
  get(): Promise<{ record: AutosaveRecord; read: () => Promise<Blob> } | null>;
  clear(): Promise<void>;
}

// --- the pure part: records, their validation, missing files -------------------------------------------------

let fileSeq = 0;

/** The record of a checkpoint the run sent, with the dataset as it is now. */
export function makeRecord(name: string, bytes: number, summary: CheckpointSummary, cases: CaseEntry[], file = `ckpt-${Date.now()}-${fileSeq++}.safetensors`): AutosaveRecord {
  return {
    version: 1, name, file, step: summary.step, totalSteps: summary.train.steps, savedAt: summary.created || new Date().toISOString(),
    source: summary.source, bytes,
    cases: cases.filter((c) => c.image && c.label).map((c) => ({ id: c.id, split: c.split, imageFiles: [...c.imageFiles], ...(c.labelFile ? { labelFile: c.labelFile } : {}) })),
  };
}

/** Checks a stored record; a wrong one names the field. */
export function parseRecord(text: string): AutosaveRecord {
  const r = JSON.parse(text) as Partial<AutosaveRecord>;
  const need = (ok: boolean, field: string) => { if (!ok) throw new Error(`autosave record: '${field}' is missing or wrong`); };
  need(r?.version === 1, 'version');
  for (const k of ['name', 'file', 'savedAt', 'source'] as const) need(typeof r[k] === 'string', k);
  for (const k of ['step', 'totalSteps', 'bytes'] as const) need(Number.isFinite(r[k]), k);
  need(Array.isArray(r.cases) && r.cases.every((c) => typeof c?.id === 'string' && Array.isArray(c.imageFiles)), 'cases');
  return r as AutosaveRecord;
}

/** The record's data files that are not loaded now (image and label files, by name). */
export function missingFiles(record: Pick<AutosaveRecord, 'cases'>, cases: CaseEntry[]): string[] {
  const loaded = new Set(cases.flatMap((c) => [...(c.image ? c.imageFiles : []), ...(c.label && c.labelFile ? [c.labelFile] : [])]));
  return record.cases.flatMap((c) => [...c.imageFiles, ...(c.labelFile ? [c.labelFile] : [])]).filter((f) => !loaded.has(f));
}

export const isQuotaError = (err: unknown): boolean =>
  !!err && typeof err === 'object' && 'name' in err && (err.name === 'QuotaExceededError' || err.name === 'NS_ERROR_DOM_QUOTA_REACHED');

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

// --- storage backends ------------------------------------------------------------------------------------------

const DIR = 'inflateseg-autosave';
const RECORD = 'record.json';

type Writable = { write(data: BufferSource | string): Promise<void>; close(): Promise<void>; abort(): Promise<void> };
type WritableHandle = FileSystemFileHandle & { createWritable(): Promise<Writable> };
type IterableDir = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };

/**
 * OPFS: the checkpoint goes to a new file, then record.json (naming it) is replaced; both through createWritable,
 * which writes to a swap file and swaps it in on close. Files the record does not name are removed afterwards.
 */
export function opfsStorage(root: () => Promise<FileSystemDirectoryHandle>): AutosaveStorage {
  const dir = async () => (await root()).getDirectoryHandle(DIR, { create: true });
  const writeFile = async (d: FileSystemDirectoryHandle, name: string, data: BufferSource | string) => {
    const w = await ((await d.getFileHandle(name, { create: true })) as WritableHandle).createWritable();
    try {
      await w.write(data);
      await w.close();
    } catch (err) {
      await w.abort().catch(() => {});
      throw err;
    }
  };
  const prune = async (d: FileSystemDirectoryHandle, keep: string[]) => {
    for await (const k of (d as IterableDir).keys()) if (!keep.includes(k)) await d.removeEntry(k).catch(() => {});
  };
  return {
    kind: 'opfs',
    async put(record, bytes) {
      const d = await dir();
      try {
        await writeFile(d, record.file, bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        await d.removeEntry(record.file).catch(() => {});
        throw err;
      }
      await writeFile(d, RECORD, JSON.stringify(record));
      await prune(d, [RECORD, record.file]);
    },
    async get() {
      const d = await dir();
      let text: string;
      try {
        text = await (await (await d.getFileHandle(RECORD)).getFile()).text();
      } catch (err) {
        if ((err as { name?: string }).name === 'NotFoundError') return null;
        throw err;
      }
      const record = parseRecord(text);
      const handle = await d.getFileHandle(record.file).catch((err: unknown) => {
        throw new Error(`the checkpoint file ${record.file} named by ${RECORD} is missing`, { cause: err });
      });
      return { record, read: () => handle.getFile() };
    },
    async clear() {
      await (await root()).removeEntry(DIR, { recursive: true }).catch((err: { name?: string }) => { if (err.name !== 'NotFoundError') throw err; });
    },
  };
}

/** IndexedDB: record and checkpoint (as a Blob) under one key, written in one transaction. */
export function indexedDbStorage(idb: IDBFactory): AutosaveStorage {
  const STORE = 'slot', KEY = 'current';
  const open = () => new Promise<IDBDatabase>((resolve, reject) => {
    const req = idb.open(DIR, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const tx = async <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const t = db.transaction(STORE, mode);
        const req = f(t.objectStore(STORE));
        t.oncomplete = () => resolve(req.result);
        t.onerror = () => reject(t.error ?? req.error);
        t.onabort = () => reject(t.error ?? new Error('autosave: IndexedDB transaction aborted'));
      });
    } finally {
      db.close();
    }
  };
  return {
    kind: 'indexeddb',
    put: async (record, bytes) => { await tx('readwrite', (s) => s.put({ record, blob: new Blob([bytes as BlobPart]) }, KEY)); },
    async get() {
      const v = await tx('readonly', (s) => s.get(KEY) as IDBRequest<{ record: unknown; blob: Blob } | undefined>);
      if (!v) return null;
      return { record: parseRecord(JSON.stringify(v.record)), read: async () => v.blob };
    },
    clear: async () => { await tx('readwrite', (s) => s.delete(KEY)); },
  };
}

/** OPFS where it can be written from the page (createWritable), else IndexedDB, else nothing. */
export function browserStorage(): AutosaveStorage | null {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  const handle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  if (nav?.storage?.getDirectory && handle && 'createWritable' in handle.prototype) return opfsStorage(() => nav.storage.getDirectory());
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  return idb ? indexedDbStorage(idb) : null;
}

// --- state the banner shows -----------------------------------------------------------------------------------

export interface AutosaveState {
  /** Where autosaves go; null when the browser offers neither OPFS nor IndexedDB. */
  storage: AutosaveStorage['kind'] | null;
  /** An autosave found at startup: offered until resumed, discarded or replaced by a new run's checkpoint. */
  offer: { record: AutosaveRecord; status: 'offered' | 'resuming' | 'resumed' } | null;
  /** The last checkpoint written in this session. */
  saved: { step: number; at: string } | null;
}

let storage: AutosaveStorage | null = null;
let stopWatching: (() => void) | null = null;
let state: AutosaveState = { storage: null, offer: null, saved: null };
const listeners = new Set<() => void>();

function patch(p: Partial<AutosaveState>) {
  state = { ...state, ...p };
  for (const l of listeners) l();
}

export const getAutosaveState = (): AutosaveState => state;
export function subscribeAutosave(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// --- actions ---------------------------------------------------------------------------------------------------

/**
 * Turns autosave on for the next runs and looks for an autosave from an earlier visit (offered by the banner).
 * `use` replaces the browser's storage (tests).
 */
export async function initAutosave(use: AutosaveStorage | null = browserStorage()): Promise<void> {
  storage = use;
  pendingSave = null;
  persistAsked = false;
  warned = false;
  state = { storage: use?.kind ?? null, offer: null, saved: null };
  setTrainConfig({ autosave: true });
  // NOTE: importing a checkpoint replaces the train config with the checkpoint's, which lacks `autosave` when it
  // was written before autosave existed: unset means on (only an explicit false turns it off).
  stopWatching?.();
  stopWatching = useStore.subscribe((s) => { if (s.trainConfig.autosave === undefined) setTrainConfig({ autosave: true }); });
  if (!use) return;
  try {
    const found = await use.get();
    if (found) patch({ offer: { record: found.record, status: 'offered' } });
  } catch (err) {
    notify('warning', `The autosaved run could not be read (${message(err)}); it was discarded.`);
    await use.clear().catch(() => {});
  }
}

let pendingSave: { name: string; bytes: Uint8Array; summary: CheckpointSummary; done: Array<() => void> } | null = null;
/** The queue is being written out (by one drain loop at a time). */
let writing = false;
let persistAsked = false;
/** A storage problem was already reported (until the next successful write). */
let warned = false;

/**
 * Keeps the latest checkpoint of the current run in browser storage. Checkpoints that arrive while one is being
 * written wait, and only the newest of them is written. Never throws: storage problems become a notice and
 * training goes on.
 */
export function saveAutosave(name: string, bytes: Uint8Array, summary: CheckpointSummary): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = [...(pendingSave?.done ?? []), resolve];
    pendingSave = { name, bytes, summary, done };
    if (!writing) void drain();
  });
}

async function drain(): Promise<void> {
  writing = true;
  try {
    while (pendingSave) {
      const job = pendingSave;
      pendingSave = null;
      await writeOne(job.name, job.bytes, job.summary);
      for (const d of job.done) d();
    }
  } finally {
    writing = false; // in the same turn as the last look at the queue: nothing can slip in between
  }
}

async function writeOne(name: string, bytes: Uint8Array, summary: CheckpointSummary): Promise<void> {
  if (!storage) {
    warnOnce(`Autosave is not available in this browser (no OPFS or IndexedDB): export a checkpoint to keep the run.`);
    return;
  }
  askPersistence();
  try {
    const record = makeRecord(name, bytes.byteLength, summary, getState().cases);
    try {
      await storage.put(record, bytes);
    } catch (err) {
      if (!isQuotaError(err)) throw err;
      // NOTE: the slot's previous checkpoint is the likeliest thing filling the quota, and it is being replaced.
      await storage.clear();
      await storage.put(record, bytes);
    }
    warned = false;
    patch({ saved: { step: record.step, at: record.savedAt }, offer: state.offer?.status === 'offered' ? null : state.offer });
  } catch (err) {
    warnOnce(isQuotaError(err)
      ? `Autosave: the browser has no room for the checkpoint of step ${summary.step} (${mb(bytes.byteLength)}). Training goes on, but this run will not be offered back after a reload: export a checkpoint to keep it, or free this site's storage.`
      : `Autosave: the checkpoint of step ${summary.step} could not be stored (${message(err)}). Training goes on; export a checkpoint to keep it.`);
  }
}

function warnOnce(text: string) {
  if (warned) return;
  warned = true;
  notify('warning', text);
}

/** Asks once per visit that the browser keep this site's storage under pressure (it may say no; autosave still works). */
function askPersistence() {
  if (persistAsked) return;
  persistAsked = true;
  const s = (globalThis as { navigator?: Navigator }).navigator?.storage;
  if (!s?.persist) return;
  void (async () => {
    try {
      if (!(await s.persisted?.())) await s.persist();
    } catch { /* a refusal changes nothing: the autosave is kept as long as the browser keeps site data */ }
  })();
}

/** Resume: the autosaved checkpoint becomes the worker's model (curves back; Evaluate or Continue next). */
export async function resumeAutosave(): Promise<boolean> {
  const offer = state.offer;
  if (!storage || !offer || offer.status === 'resuming') return false;
  patch({ offer: { ...offer, status: 'resuming' } });
  let ok = false;
  try {
    const found = await storage.get();
    if (!found) throw new Error('it is no longer in browser storage');
    ok = await importCheckpoint(await found.read(), found.record.name);
  } catch (err) {
    notify('error', `The autosaved run could not be resumed: ${message(err)}`);
  }
  patch({ offer: { ...offer, status: ok ? 'resumed' : 'offered' } });
  return ok;
}

/** Discard: deletes the autosave. */
export async function discardAutosave(): Promise<void> {
  patch({ offer: null });
  try {
    await storage?.clear();
  } catch (err) {
    notify('error', `The autosaved run could not be deleted: ${message(err)}`);
  }
}

/** Hides the note shown after a resume. */
export function dismissAutosave() {
  if (state.offer?.status === 'resumed') patch({ offer: null });
}
