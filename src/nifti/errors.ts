// NiftiError: every problem with a NIfTI file, carrying the file name; and small message formatters.

/** A problem with one NIfTI file; `message` always starts with the file name. */
export class NiftiError extends Error {
  override name = 'NiftiError';
  constructor(
    /** File name the problem is about. */
    readonly file: string,
    /** What is wrong and what was expected (without the file name). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** 14221234 → '14,221,234' (fixed locale so messages are the same everywhere). */
export function fmtInt(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

/** [181, 217, 181] → '181×217×181'. */
export function fmtDims(dims: readonly (number | bigint)[]): string {
  return dims.map(String).join('×');
}
