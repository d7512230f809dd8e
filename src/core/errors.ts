// FileError: the base of every problem with one user file (NIfTI, checkpoint), and the message formatters they share.

/** A problem with one file; `message` always starts with the file name. */
export class FileError extends Error {
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
