// CSV of chart series: union of steps, full precision, NaN vs missing, RFC 4180 quoting, and a round trip
// through a small RFC 4180 reader written here.
import { describe, expect, it } from 'vitest';
import { csvField, csvNumber, seriesToCsv } from './csv.ts';

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF), to read back what seriesToCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

describe('seriesToCsv', () => {
  it('one row per step over the union of steps, one column per series, empty where a series has no point', () => {
    const csv = seriesToCsv([
      { name: 'loss', points: [[1, 0.5], [2, 0.25], [3, 0.125]] },
      { name: 'mean Dice', points: [[2, 0.75]] },
    ]);
    expect(csv).toBe('step,loss,mean Dice\r\n1,0.5,\r\n2,0.25,0.75\r\n3,0.125,\r\n');
  });

  it('writes numbers with full precision (they read back as the same doubles)', () => {
    const ys = [0.1 + 0.2, 1 / 3, 1e-7, 123456789.12345679, -2.5e-320, Math.PI * 1e21];
    const csv = seriesToCsv([{ name: 'lr', points: ys.map((y, i) => [i + 1, y] as [number, number]) }]);
    const rows = parseCsv(csv).slice(1);
    expect(rows.map((r) => Number(r[1]))).toEqual(ys);
    expect(rows[0][1]).toBe('0.30000000000000004');
  });

  it('keeps NaN (a value that is not a number) apart from a missing point (empty field)', () => {
    const csv = seriesToCsv([
      { name: 'a', points: [[0, NaN], [1, 1]] },
      { name: 'b', points: [[1, Infinity], [2, -Infinity]] },
    ]);
    expect(parseCsv(csv)).toEqual([['step', 'a', 'b'], ['0', 'NaN', ''], ['1', '1', 'Infinity'], ['2', '', '-Infinity']]);
  });

  it('quotes names with commas, quotes, line breaks or edge spaces (RFC 4180) and reads back the same names', () => {
    const names = ['Dice, class 1', 'the "liver"', 'two\nlines', ' padded', 'plain'];
    const csv = seriesToCsv(names.map((name, i) => ({ name, points: [[0, i]] })));
    expect(csv.split('\r\n')[0]).toBe('step,"Dice, class 1","the ""liver""","two\nlines"," padded",plain');
    expect(parseCsv(csv)[0]).toEqual(['step', ...names]);
    expect(parseCsv(csv)[1]).toEqual(['0', '0', '1', '2', '3', '4']);
  });

  it('sorts steps, lets a repeated step keep its later value, and writes -0 as 0', () => {
    const csv = seriesToCsv([{ name: 'loss', points: [[3, 1], [1, 2], [3, 4], [-0, -0]] }], 'x');
    expect(parseCsv(csv)).toEqual([['x', 'loss'], ['0', '0'], ['1', '2'], ['3', '4']]);
  });

  it('an empty chart is a header only; x = NaN is refused with the series name', () => {
    expect(seriesToCsv([{ name: 'loss', points: [] }])).toBe('step,loss\r\n');
    expect(() => seriesToCsv([{ name: 'loss', points: [[NaN, 1]] }])).toThrow(/"loss".*x = NaN/);
  });

  it('handles thousands of points across series quickly', () => {
    const n = 20_000;
    const a = Array.from({ length: n }, (_, i) => [i + 1, Math.exp(-i / 5000)] as [number, number]);
    const b = a.filter(([x]) => x % 50 === 0).map(([x, y]) => [x, 1 - y] as [number, number]);
    const t0 = performance.now();
    const csv = seriesToCsv([{ name: 'loss', points: a }, { name: 'dice', points: b }]);
    expect(performance.now() - t0).toBeLessThan(1000);
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(n + 1);
    expect(rows[50]).toEqual(['50', String(a[49][1]), String(b[0][1])]);
  });
});

describe('csvField / csvNumber', () => {
  it('leaves plain text alone and quotes only what needs it', () => {
    expect(csvField('loss')).toBe('loss');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvNumber(1e21)).toBe('1e+21');
    expect(csvNumber(NaN)).toBe('NaN');
  });
});
