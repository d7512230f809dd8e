// Command-line flags: a declarative spec per command, parsed into typed values with every problem reported as a
// UsageError naming the flag; and the --help text made from the same spec. Pure (no fs, no process).

export type FlagKind = 'string' | 'int' | 'number' | 'bool';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  /** Placeholder shown in the help ('N', 'DIR', …). */
  arg?: string;
  /** Shown in the help; values are not defaulted here, commands pick their defaults (they may come from a checkpoint). */
  default?: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Odd integers only (window depth T). */
  odd?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  /** What the positional arguments are; omitted when the command takes none. */
  positional?: { name: string; help: string };
  flags: FlagSpec[];
  examples?: string[];
  /** Extra paragraphs after the flags. */
  notes?: string[];
}

/** A problem with how the command was called (exit status 2). */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagValue = string | number | boolean;

export class Args {
  constructor(readonly values: ReadonlyMap<string, FlagValue>, readonly positional: readonly string[], readonly help: boolean) {}

  /** Whether the flag was given on the command line. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  str(name: string): string | undefined;
  str(name: string, fallback: string): string;
  str(name: string, fallback?: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? fallback : String(v);
  }

  num(name: string): number | undefined;
  num(name: string, fallback: number): number;
  num(name: string, fallback?: number): number | undefined {
    const v = this.values.get(name);
    return v === undefined ? fallback : (v as number);
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Edit distance, for 'did you mean' (flags are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

function convert(spec: FlagSpec, raw: string, command: string): FlagValue {
  const fail = (expected: string) => new UsageError(`--${spec.name} ${JSON.stringify(raw)}: expected ${expected}`, command);
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) throw fail(`one of ${spec.choices.join(', ')}`);
    if (raw === '') throw fail('a value');
    return raw;
  }
  if (spec.kind === 'bool') {
    if (/^(true|yes|1|on)$/i.test(raw)) return true;
    if (/^(false|no|0|off)$/i.test(raw)) return false;
    throw fail('true or false');
  }
  const isInt = spec.kind === 'int';
  if (!(isInt ? INT_RE : NUM_RE).test(raw.trim())) throw fail(isInt ? 'an integer' : 'a number');
  const v = Number(raw);
  const bounds = [spec.min !== undefined ? `≥ ${spec.min}` : '', spec.max !== undefined ? `≤ ${spec.max}` : ''].filter(Boolean).join(' and ');
  const what = `${spec.odd ? 'an odd integer' : isInt ? 'an integer' : 'a number'}${bounds ? ' ' + bounds : ''}`;
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max) || !Number.isFinite(v)) throw fail(what);
  if (spec.odd && v % 2 !== 1) throw fail(what);
  return v;
}

/**
 * Parses `argv` (the words after the command name): `--flag value`, `--flag=value`, `--flag` / `--no-flag` for
 * booleans, `-h` / `--help`, and `--` before positional arguments that start with '-'. Flags may be repeated: the
 * last wins.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Args {
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const values = new Map<string, FlagValue>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (word === '-h' || word === '--help') { help = true; continue; }
    if (!word.startsWith('-') || word === '-') { positional.push(word); continue; }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(word);
    if (!m) throw new UsageError(`${word}: unknown option (flags are written --name; see inflateseg ${spec.name} --help)`, spec.name);
    let name = m[1];
    let inline = m[2];
    let f = byName.get(name);
    if (!f && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'bool' && inline === undefined) {
      name = name.slice(3);
      f = byName.get(name);
      inline = 'false';
    }
    if (!f) {
      const near = spec.flags.map((x) => ({ x, d: distance(name, x.name) })).sort((a, b) => a.d - b.d)[0];
      const hint = near && near.d <= Math.max(2, Math.floor(name.length / 3)) ? ` — did you mean --${near.x.name}?` : '';
      throw new UsageError(`--${name}: unknown option for '${spec.name}'${hint} (see inflateseg ${spec.name} --help)`, spec.name);
    }
    if (f.kind === 'bool' && inline === undefined) { values.set(name, true); continue; }
    if (inline === undefined) {
      const next = argv[i + 1];
      // NOTE: a negative number is a value, not a flag; anything else starting with '-' means the value is missing.
      if (next === undefined || (next.startsWith('-') && !NUM_RE.test(next))) {
        throw new UsageError(`--${name} needs a value (${f.arg ?? f.kind}${f.choices ? `: ${f.choices.join(', ')}` : ''})`, spec.name);
      }
      inline = next;
      i++;
    }
    values.set(name, convert(f, inline, spec.name));
  }
  return new Args(values, positional, help);
}

/** The --help text of a command, from its spec. */
export function helpText(spec: CommandSpec): string {
  const lines = [`inflateseg ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`, ''];
  if (spec.positional) lines.push(`  ${spec.positional.name}`, ...wrap(spec.positional.help, 6), '');
  lines.push('Options:');
  const left = (f: FlagSpec) => `--${f.name}${f.kind === 'bool' ? '' : ` ${f.arg ?? (f.choices ? f.choices.join('|') : f.kind === 'string' ? 'VALUE' : 'N')}`}`;
  const width = Math.min(30, Math.max(...spec.flags.map((f) => left(f).length), 10) + 2);
  for (const f of spec.flags) {
    const extra = [f.default !== undefined ? `default ${f.default}` : ''].filter(Boolean);
    const text = extra.length ? `${f.help} [${extra.join('; ')}]` : f.help;
    const l = `  ${left(f)}`;
    const body = wrap(text, width + 4);
    if (l.length <= width + 2) lines.push(l.padEnd(width + 4) + body[0].trimStart(), ...body.slice(1));
    else lines.push(l, ...body);
  }
  lines.push('  -h, --help'.padEnd(width + 4) + 'this text');
  for (const n of spec.notes ?? []) lines.push('', ...wrap(n, 0));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Wraps text at 100 columns with `indent` spaces before every line. */
function wrap(text: string, indent: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent + line.length + 1 + word.length > 100) { out.push(' '.repeat(indent) + line); line = word; }
    else line = line ? `${line} ${word}` : word;
  }
  out.push(' '.repeat(indent) + line);
  return out;
}
