// CheckpointError: every problem with a checkpoint file (safetensors, PyTorch zip, pickle), carrying the file name;
// the abort error every reader rejects with; and small message formatters.

import { FileError } from '../../core/errors.ts';

export { fmtInt } from '../../core/errors.ts';

/** A problem with one checkpoint file; `message` always starts with the file name. */
export class CheckpointError extends FileError {
  override name = 'CheckpointError';
}

/** The error a reader rejects with when its AbortSignal fires: a DOMException named 'AbortError', as fetch() uses. */
export function abortError(file: string): DOMException {
  return new DOMException(`${file}: reading was aborted`, 'AbortError');
}

/** Throws the abort error when the signal has fired (call before and after every await). */
export function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw abortError(file);
}

/** [768, 3, 16, 16] → '[768, 3, 16, 16]'. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Up to `max` items quoted and joined, with '… (N more)' after. */
export function fmtList(items: readonly string[], max = 8): string {
  const shown = items.slice(0, max).map((s) => `'${s}'`).join(', ');
  return items.length > max ? `${shown}, … (${items.length - max} more)` : shown;
}
