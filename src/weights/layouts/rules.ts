// Declarative, reversible key-mapping rules: key patterns with named placeholders, and applying an ordered rule list
// to a state dict (rename, merge along dim 0, drop with a reason). Pure: typed arrays only.
import type { HostTensor, VoxelArray } from '../../core/types.ts';
import type { StateDict } from '../types.ts';

/**
 * A key pattern: literal text with placeholders `{i}` (a block index, digits), `{p}` (`weight` or `bias`) and
 * `{*}` (any rest, for drop rules only). The same placeholders in a target pattern take the captured values, so
 * every rename and merge rule reads both ways.
 */
export type Pattern = string;

export type Rule =
  /** source key → canonical key */
  | { kind: 'rename'; from: Pattern; to: Pattern }
  /** several source keys, concatenated in this order along dim 0 → one canonical key (e.g. q, k, v → qkv) */
  | { kind: 'merge'; from: Pattern[]; to: Pattern }
  /** keys the encoder does not use; listed in the report with the reason */
  | { kind: 'drop'; from: Pattern; reason: string };

const SLOTS: Record<string, string> = { '{i}': '(\\d+)', '{p}': '(weight|bias)', '{*}': '(.+)' };

interface Compiled {
  re: RegExp;
  names: string[];
}

const cache = new Map<Pattern, Compiled>();

/** Compiles a pattern to an anchored regular expression and the order of its placeholders. */
export function compile(pattern: Pattern): Compiled {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const names: string[] = [];
  const src = pattern
    .split(/(\{[ip*]\})/)
    .map((part) => {
      if (part in SLOTS) {
        names.push(part);
        return SLOTS[part];
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const c = { re: new RegExp(`^${src}$`), names };
  cache.set(pattern, c);
  return c;
}

/** The placeholder values of `key` under `pattern`, or null when it does not match. */
export function match(pattern: Pattern, key: string): Record<string, string> | null {
  const { re, names } = compile(pattern);
  const m = re.exec(key);
  if (!m) return null;
  const out: Record<string, string> = {};
  names.forEach((n, j) => (out[n] = m[j + 1]));
  return out;
}

/** Fills a pattern's placeholders. */
export function fill(pattern: Pattern, values: Record<string, string>): string {
  return pattern.replace(/\{[ip*]\}/g, (slot) => {
    const v = values[slot];
    if (v === undefined) throw new Error(`key pattern ${pattern}: no value for ${slot}`);
    return v;
  });
}

export interface Applied {
  state: StateDict;
  /** canonical key → the source keys it came from */
  sources: Map<string, string[]>;
  dropped: Array<{ key: string; reason: string }>;
  unknown: string[];
}

/** Applies the ordered rules to every key (first matching rule wins). `where` names the file in errors. */
export function applyRules(tensors: StateDict, rules: Rule[], where: string): Applied {
  const state: StateDict = new Map();
  const sources = new Map<string, string[]>();
  const dropped: Applied['dropped'] = [];
  const unknown: string[] = [];
  const merges = new Map<string, { rule: Extract<Rule, { kind: 'merge' }>; parts: Array<[string, HostTensor] | undefined> }>();

  const put = (key: string, t: HostTensor, from: string[]): void => {
    if (state.has(key)) throw new Error(`${where}: two keys map to ${key}: ${sources.get(key)!.join(', ')} and ${from.join(', ')}`);
    state.set(key, t);
    sources.set(key, from);
  };

  for (const [key, t] of tensors) {
    let done = false;
    for (const rule of rules) {
      if (rule.kind === 'merge') {
        const j = rule.from.findIndex((p) => match(p, key));
        if (j < 0) continue;
        const target = fill(rule.to, match(rule.from[j], key)!);
        const m = merges.get(target) ?? { rule, parts: new Array(rule.from.length).fill(undefined) };
        m.parts[j] = [key, t];
        merges.set(target, m);
      } else {
        const values = match(rule.from, key);
        if (!values) continue;
        if (rule.kind === 'drop') dropped.push({ key, reason: rule.reason });
        else put(fill(rule.to, values), t, [key]);
      }
      done = true;
      break;
    }
    if (!done) unknown.push(key);
  }

  for (const [target, { rule, parts }] of merges) {
    const present = parts.filter((p): p is [string, HostTensor] => p !== undefined);
    if (present.length !== parts.length) {
      const values = match(rule.to, target)!;
      const missing = rule.from.filter((_, j) => !parts[j]).map((p) => fill(p, values));
      throw new Error(`${where}: ${target} is the concatenation of ${rule.from.map((p) => fill(p, values)).join(', ')}, but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
    }
    put(target, concat0(present, where), present.map(([k]) => k));
  }
  return { state, sources, dropped, unknown };
}

/** Concatenates tensors of equal trailing shape along dim 0 (row-major: the data simply follow each other). */
export function concat0(parts: Array<[string, HostTensor]>, where: string): HostTensor {
  const [k0, t0] = parts[0];
  for (const [k, t] of parts) {
    if (t.dtype !== t0.dtype || t.shape.length !== t0.shape.length || t.shape.slice(1).some((d, j) => d !== t0.shape[j + 1])) {
      throw new Error(`${where}: cannot concatenate ${k} [${t.shape}] ${t.dtype} with ${k0} [${t0.shape}] ${t0.dtype}`);
    }
  }
  const total = parts.reduce((s, [, t]) => s + t.data.length, 0);
  const data = new (t0.data.constructor as new (n: number) => VoxelArray)(total);
  let off = 0;
  for (const [, t] of parts) {
    data.set(t.data as never, off);
    off += t.data.length;
  }
  return { dtype: t0.dtype, shape: [parts.reduce((s, [, t]) => s + t.shape[0], 0), ...t0.shape.slice(1)], data };
}

/** Splits a tensor along dim 0 into n equal parts (copies). */
export function split0(t: HostTensor, n: number, key: string): HostTensor[] {
  if (t.shape[0] % n !== 0) throw new Error(`${key}: cannot split dim 0 of [${t.shape}] into ${n} equal parts`);
  const rows = t.shape[0] / n;
  const len = t.data.length / n;
  return Array.from({ length: n }, (_, j) => ({
    dtype: t.dtype,
    shape: [rows, ...t.shape.slice(1)],
    data: t.data.slice(j * len, (j + 1) * len),
  }));
}

/**
 * Runs rename and merge rules backwards: canonical state → source names. Keys no rule produces are reported by
 * throwing (an export must not lose weights silently).
 */
export function reverseRules(state: StateDict, rules: Rule[], target: string): StateDict {
  const out: StateDict = new Map();
  for (const [key, t] of state) {
    let done = false;
    for (const rule of rules) {
      if (rule.kind === 'drop') continue;
      const values = match(rule.to, key);
      if (!values) continue;
      if (rule.kind === 'rename') out.set(fill(rule.from, values), t);
      else split0(t, rule.from.length, key).forEach((part, j) => out.set(fill(rule.from[j], values), part));
      done = true;
      break;
    }
    if (!done) throw new Error(`cannot export ${key} to the ${target} layout: it has no ${target} name`);
  }
  return out;
}
