// NiftiError: every problem with a NIfTI file, carrying the file name; and small message formatters.
import { FileError } from '../core/errors.ts';

export { fmtInt } from '../core/errors.ts';

/** A problem with one NIfTI file; `message` always starts with the file name. */
export class NiftiError extends FileError {
  override name = 'NiftiError';
}

/** [181, 217, 181] → '181×217×181'. */
export function fmtDims(dims: readonly (number | bigint)[]): string {
  return dims.map(String).join('×');
}
