// The `inflateseg` command line: dispatches train / eval / inflate / bench / export-torch, turns Ctrl-C into a clean stop, and maps
// outcomes to exit statuses (0 done, 1 failed, 2 bad usage, 130 interrupted). Commands live beside this file and
// run the app's own core (src/train, src/workers' jobs, src/data, src/nifti, src/weights).
import { UsageError } from './args.ts';
import { bench, BENCH } from './bench.ts';
import { Interrupted, VERSION, type Io } from './common.ts';
import { evaluate, EVAL } from './eval.ts';
import { exportTorch, EXPORT_TORCH } from './exportTorch.ts';
import { inflateCommand, INFLATE } from './inflate.ts';
import { train, TRAIN } from './train.ts';

const COMMANDS = {
  train: { spec: TRAIN, run: train },
  eval: { spec: EVAL, run: evaluate },
  inflate: { spec: INFLATE, run: inflateCommand },
  bench: { spec: BENCH, run: bench },
  'export-torch': { spec: EXPORT_TORCH, run: exportTorch },
} as const;

export const USAGE = `inflateseg ${VERSION} — fine-tune inflated 2D ViTs for 3D medical image segmentation (the InflateSeg engine)

Usage: inflateseg <command> [options]

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(13)}${c.spec.summary}`).join('\n')}

Run 'inflateseg <command> --help' for its options. Exit status: 0 done, 1 failed, 2 bad usage, 130 interrupted (Ctrl-C).
`;

/** Node's process as the commands' Io: stdout for results, stderr for the log, SIGINT for Ctrl-C. */
export function processIo(): Io & { dispose(): void } {
  const abort = new AbortController();
  let handler: (() => void) | null = null;
  let count = 0;
  const onSigint = () => {
    count++;
    if (count > 1) {
      process.stderr.write('\nCtrl-C again: quitting without saving\n');
      process.exit(130);
    }
    if (handler) handler();
    else abort.abort(new Interrupted());
  };
  process.on('SIGINT', onSigint);
  return {
    out: process.stdout,
    err: process.stderr,
    signal: abort.signal,
    onInterrupt: (h) => { handler = h; },
    get interrupted() { return count > 0; },
    dispose: () => { process.off('SIGINT', onSigint); },
  };
}

/** Runs one command line (the words after `inflateseg`); returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const cmd = topic ? COMMANDS[topic as keyof typeof COMMANDS] : undefined;
    if (cmd) return cmd.run(['--help'], io);
    (name === undefined ? io.err : io.out).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') { io.out.write(`${VERSION}\n`); return 0; }
  const cmd = COMMANDS[name as keyof typeof COMMANDS];
  try {
    if (!cmd) throw new UsageError(`'${name}' is not a command (${Object.keys(COMMANDS).join(', ')}); see inflateseg --help`);
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof Interrupted || (io.interrupted && io.signal.aborted)) {
      io.err.write('interrupted before anything was written\n');
      return 130;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      io.err.write(`inflateseg ${cmd ? name + ' ' : ''}error: ${message}\n`);
      return 2;
    }
    io.err.write(`inflateseg ${name} error: ${message}\n`);
    if (process.env.INFLATESEG_DEBUG && err instanceof Error && err.stack) io.err.write(err.stack + '\n');
    return 1;
  }
}
