// Command-line inputs → the file list the app's pairing takes: plain files, folders (walked, e.g. an MSD task with
// imagesTr/ + labelsTr/), and globs the shell left alone ('data/*.nii.gz', 'Task*/**/*.nii.gz'). Node fs only.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DroppedFile } from '../data/pairing.ts';
import { UsageError } from './args.ts';

const GLOB_CHARS = /[*?[]/;
/** Folders never walked into (tool caches, VCS). */
const SKIP_DIRS = new Set(['.git', 'node_modules', '__pycache__']);

/** A glob segment as a regular expression: `*` (not '/'), `?`, `[abc]` / `[!abc]`; the rest literal. */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };
const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Every file under `dir`, depth first, in name order (hidden folders and tool caches skipped). */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of listDir(dir)) {
    const p = path.join(dir, name);
    if (isDir(p)) {
      if (!name.startsWith('.') && !SKIP_DIRS.has(name)) out.push(...walk(p));
    } else if (isFile(p)) out.push(p);
  }
  return out;
}

/** Files matching a glob ('**' spans any number of folders, including none). Relative globs resolve from `cwd`. */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const norm = pattern.split(path.sep).join('/');
  const parts = norm.split('/');
  const first = parts.findIndex((p) => GLOB_CHARS.test(p));
  const fixed = parts.slice(0, first).join('/') || (norm.startsWith('/') ? '/' : '.');
  const rest = parts.slice(first);
  const results: string[] = [];
  const visit = (dir: string, i: number) => {
    if (i === rest.length) return;
    const seg = rest[i];
    const last = i === rest.length - 1;
    if (seg === '**') {
      visit(dir, i + 1); // zero folders
      for (const name of listDir(path.resolve(cwd, dir))) {
        const p = dir === '.' ? name : path.join(dir, name);
        if (!name.startsWith('.') && !SKIP_DIRS.has(name) && isDir(path.resolve(cwd, p))) visit(p, i);
      }
      return;
    }
    const re = segmentRegExp(seg);
    for (const name of listDir(path.resolve(cwd, dir))) {
      if (!re.test(name) || (name.startsWith('.') && !seg.startsWith('.'))) continue;
      const p = dir === '.' ? name : path.join(dir, name);
      const abs = path.resolve(cwd, p);
      if (last && isFile(abs)) results.push(p);
      else if (!last && isDir(abs)) visit(p, i + 1);
    }
  };
  visit(fixed, 0);
  return [...new Set(results)].sort();
}

export interface InputFile extends DroppedFile {
  /** Where to read it (absolute). */
  file: string;
}

/**
 * Expands the positional inputs into files for `pairFiles`: the pairing sees each file's path with forward slashes
 * (folder conventions such as imagesTr/labelsTr work on it). Throws a UsageError naming an input that does not
 * exist or matches nothing.
 */
export function collectInputs(inputs: readonly string[], what = 'input', cwd = process.cwd()): InputFile[] {
  const seen = new Set<string>();
  const out: InputFile[] = [];
  const add = (p: string) => {
    const key = path.resolve(cwd, p);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ file: key, path: p.split(path.sep).join('/'), name: path.basename(p) });
  };
  for (const input of inputs) {
    const abs = path.resolve(cwd, input);
    if (isFile(abs)) add(input);
    else if (isDir(abs)) {
      const files = walk(abs).map((f) => path.join(input, path.relative(abs, f)));
      if (files.length === 0) throw new UsageError(`${input}: the folder holds no files`);
      files.forEach(add);
    } else if (GLOB_CHARS.test(input)) {
      const files = expandGlob(input, cwd);
      if (files.length === 0) throw new UsageError(`${input}: no file matches this pattern`);
      files.forEach(add);
    } else {
      throw new UsageError(`${input}: no such file or folder (${what})`);
    }
  }
  return out;
}
