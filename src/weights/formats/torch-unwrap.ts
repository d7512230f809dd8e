// Finding the state dict inside an unpickled PyTorch checkpoint: unwrap {'model'|'state_dict'|'teacher'|…: sd},
// collect a whole pickled nn.Module, and strip 'module.' / 'backbone.' prefixes. Pure: works on the pickle's values.
import { CheckpointError, fmtList } from './errors.ts';
import { PyObject } from './pickle.ts';

export interface FoundStateDict<T> {
  /** Tensors under their final names, in the checkpoint's order. */
  tensors: Map<string, T>;
  /** Where the state dict was found, e.g. "['teacher']" or "top level". */
  nested: string;
  /** Keys (at the wrapper levels and in the state dict) that hold something other than tensors. */
  extras: string[];
  notes: string[];
}

/**
 * Wrapper keys, most preferred first.
 * NOTE: DINO's full checkpoints hold 'student' and 'teacher'; DINO's own evaluation loads 'teacher', so do we.
 */
const WRAPPERS = ['teacher', 'state_dict', 'model_state_dict', 'model', 'module', 'student'];

const isDict = (v: unknown): v is Map<unknown, unknown> => v instanceof Map;

/** Deepest nesting of modules or wrapper dicts followed (real models nest a few dozen levels). */
export const MAX_NESTING = 1000;

/**
 * The parameters and persistent buffers of a pickled nn.Module (its __dict__ holds _parameters, _buffers, _modules).
 * NOTE: a pickle's memo can make a module its own descendant, and a crafted one can nest without end: both are
 * refused (`seen`, MAX_NESTING) instead of overflowing the stack.
 */
function moduleTensors(obj: PyObject, prefix: string, out: Map<unknown, unknown>, file: string, seen = new Set<PyObject>()): void {
  if (seen.has(obj)) throw new CheckpointError(file, `the pickled module at '${prefix.replace(/\.$/, '') || '(top)'}' contains itself — a corrupt or crafted checkpoint`);
  if (seen.size >= MAX_NESTING) throw new CheckpointError(file, `pickled modules nest deeper than ${MAX_NESTING} levels — a corrupt or crafted checkpoint`);
  seen.add(obj);
  const state = obj.state;
  if (!isDict(state)) return;
  const skip = state.get('_non_persistent_buffers_set');
  for (const field of ['_parameters', '_buffers']) {
    const m = state.get(field);
    if (!isDict(m)) continue;
    for (const [k, v] of m) {
      if (v === null || (field === '_buffers' && skip instanceof Set && skip.has(k))) continue;
      out.set(prefix + String(k), v);
    }
  }
  const children = state.get('_modules');
  if (isDict(children)) for (const [k, v] of children) if (v instanceof PyObject) moduleTensors(v, `${prefix}${String(k)}.`, out, file, seen);
  seen.delete(obj);
}

/** Strips `prefix` when every key has it. */
function stripAll<T>(tensors: Map<string, T>, prefix: string): Map<string, T> | undefined {
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith(prefix))) return undefined;
  return new Map([...tensors].map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * Locates the state dict in `root` (the unpickled object), keeps the entries for which isTensor holds, and strips
 * wrapper prefixes. Throws when there are no tensors at all.
 */
export function findStateDict<T>(root: unknown, isTensor: (v: unknown) => v is T, file: string): FoundStateDict<T> {
  const notes: string[] = [];
  const extras: string[] = [];
  const path: string[] = [];
  /** The dicts walked through, to notice a wrapper that holds itself. */
  const walked: unknown[] = [];
  let cur = root;
  if (cur instanceof PyObject) {
    const collected = new Map<unknown, unknown>();
    moduleTensors(cur, '', collected, file);
    if (collected.size === 0) {
      throw new CheckpointError(file, `holds a pickled ${cur.className} object, not a state dict — save model.state_dict() instead`);
    }
    notes.push(`${file}: a whole pickled module (${cur.className}); its parameters and buffers were collected`);
    cur = collected;
  }
  for (;;) {
    if (!isDict(cur)) {
      const what = cur instanceof PyObject ? cur.className : Array.isArray(cur) ? 'list/tuple' : typeof cur;
      throw new CheckpointError(file, `expected a dict of tensors${path.length ? ` under ${path.map((p) => `['${p}']`).join('')}` : ''}, found a ${what}`);
    }
    const dict: Map<unknown, unknown> = cur;
    const key = WRAPPERS.find((k) => isDict(dict.get(k)));
    if (key === undefined || [...dict.values()].some(isTensor)) break;
    if (path.length >= MAX_NESTING || dict.get(key) === dict || path.some((_, i) => walked[i] === dict.get(key))) {
      throw new CheckpointError(file, `the wrapper dicts ${path.length >= MAX_NESTING ? `nest deeper than ${MAX_NESTING} levels` : `refer back to themselves at ['${key}']`} — a corrupt or crafted checkpoint`);
    }
    walked.push(dict);
    if (key === 'teacher' && dict.has('student')) notes.push(`${file}: DINO-style checkpoint with 'student' and 'teacher': using 'teacher' (as DINO's evaluation does)`);
    for (const k of dict.keys()) if (k !== key) extras.push(path.length ? `${path.join('.')}.${String(k)}` : String(k));
    path.push(key);
    cur = dict.get(key);
  }
  let tensors = new Map<string, T>();
  for (const [k, v] of cur as Map<unknown, unknown>) {
    if (typeof k === 'string' && isTensor(v)) tensors.set(k, v);
    else extras.push(path.length ? `${path.join('.')}.${String(k)}` : String(k));
  }
  if (tensors.size === 0) {
    const keys = [...(cur as Map<unknown, unknown>).keys()].map(String);
    throw new CheckpointError(file, `no tensors found${path.length ? ` under ${path.map((p) => `['${p}']`).join('')}` : ''}; keys: ${fmtList(keys) || '(none)'}`);
  }

  const stripped = stripAll(tensors, 'module.');
  if (stripped) {
    tensors = stripped;
    notes.push(`${file}: removed the 'module.' prefix (DataParallel) from every key`);
  }
  const backbone = stripAll(tensors, 'backbone.');
  if (backbone) {
    tensors = backbone;
    notes.push(`${file}: removed the 'backbone.' prefix from every key`);
  } else {
    // NOTE: self-supervised checkpoints (DINO, iBOT) keep the encoder under 'backbone.' beside a projection head
    // ('head.…'); segmentation checkpoints beside 'decode_head.…'. Keep the encoder, drop the heads, and say so.
    const inBackbone = [...tensors.keys()].filter((k) => k.startsWith('backbone.'));
    const others = [...tensors.keys()].filter((k) => !k.startsWith('backbone.'));
    if (inBackbone.length && others.every((k) => /^[^.]*head\./.test(k))) {
      tensors = new Map(inBackbone.map((k) => [k.slice('backbone.'.length), tensors.get(k)!]));
      notes.push(`${file}: kept the ${inBackbone.length} 'backbone.' tensors without the prefix; dropped ${others.length} head tensors (${fmtList(others, 3)})`);
    }
  }
  return { tensors, nested: path.length ? path.map((p) => `['${p}']`).join('') : 'top level', extras, notes };
}
