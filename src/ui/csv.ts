// Chart series → CSV text (RFC 4180): one row per x, one column per series. Pure: no DOM, no React.

export interface CsvSeries {
  name: string;
  /** [x, y] pairs; x need not be shared between series nor sorted. */
  points: ReadonlyArray<readonly [number, number]>;
}

/**
 * One field, quoted when it holds a comma, a double quote, CR or LF (RFC 4180 §2.6), with quotes doubled (§2.7).
 * NOTE: a field that starts with a space is also quoted, so spreadsheet software does not trim it.
 */
export function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A number with full precision: the shortest text that reads back as the same double (`String`), so
 * 0.1 + 0.2 is written 0.30000000000000004. NaN is written `NaN` (a value that is not a number, e.g. the Dice of
 * a class absent from both maps), Infinity as `Infinity` / `-Infinity`; all three are read as such by
 * pandas, numpy and R. A missing value (no point at that x) is the empty field.
 */
export function csvNumber(v: number): string {
  return Object.is(v, -0) ? '0' : String(v);
}

/**
 * A table of the series over the union of their x values, ascending: header `xName,name1,name2,…`, then one row
 * per x. Lines end with CRLF (RFC 4180 §2.1), the last one too. When a series has two points at one x, the later
 * one wins (a resumed run that repeats a step).
 */
export function seriesToCsv(series: readonly CsvSeries[], xName = 'step'): string {
  const xs = new Set<number>();
  const columns = series.map((s) => {
    const m = new Map<number, number>();
    for (const [x, y] of s.points) {
      if (Number.isNaN(x)) throw new Error(`seriesToCsv: series "${s.name}" has a point with x = NaN; every point needs an x value.`);
      m.set(x, y);
      xs.add(x);
    }
    return m;
  });
  const rows = [[xName, ...series.map((s) => s.name)].map(csvField).join(',')];
  for (const x of [...xs].sort((a, b) => a - b)) {
    const cells = [csvNumber(x)];
    for (const m of columns) {
      const y = m.get(x);
      cells.push(y === undefined ? '' : csvNumber(y));
    }
    rows.push(cells.join(','));
  }
  return rows.join('\r\n') + '\r\n';
}
