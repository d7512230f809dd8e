// Chart geometry: extents without spreading huge arrays, decimation that keeps spikes, nearest point by binary
// search, and the export SVG (escaped names, axis range labels, legend rows).
import { describe, expect, it } from 'vitest';
import { chartSvg, decimate, extent, isAscending, nearestIndex, type Point } from './chartExport.ts';

describe('extent', () => {
  it('ranges over finite points only; fixed y bounds win; null when nothing is finite', () => {
    expect(extent([{ points: [[1, 2], [3, NaN], [5, -1]] }, { points: [[0, Infinity]] }])).toEqual({ x0: 1, x1: 5, lo: -1, hi: 2 });
    expect(extent([{ points: [[1, 0.2]] }], 0, 1)).toEqual({ x0: 1, x1: 1, lo: 0, hi: 1 });
    expect(extent([{ points: [[1, NaN]] }])).toBeNull();
  });
  it('handles 500k points (no argument spreading)', () => {
    const pts = Array.from({ length: 500_000 }, (_, i) => [i, Math.sin(i)] as [number, number]);
    expect(extent([{ points: pts }])!.x1).toBe(499_999);
  });
});

describe('decimate', () => {
  it('returns every finite point when there are few', () => {
    expect(decimate([[0, 1], [1, NaN], [2, 3]], 0, 2, 10)).toEqual([[0, 1], [2, 3]]);
  });
  it('keeps at most 4 points per column, in x order, including spikes and both ends', () => {
    const pts: Point[] = Array.from({ length: 10_000 }, (_, i) => [i + 1, 1 + 0.001 * Math.sin(i)]);
    pts[4321] = [4322, 50]; // a spike
    pts[7000] = [7001, -3]; // a dip
    const d = decimate(pts, 1, 10_000, 100);
    expect(d.length).toBeLessThanOrEqual(400);
    expect(d.length).toBeGreaterThan(100);
    expect(d[0]).toEqual(pts[0]);
    expect(d[d.length - 1]).toEqual(pts[pts.length - 1]);
    expect(d).toContainEqual([4322, 50]);
    expect(d).toContainEqual([7001, -3]);
    expect(isAscending(d)).toBe(true);
  });
});

describe('nearestIndex', () => {
  const pts: Point[] = [[1, 0], [2, 0], [4, 0], [8, 0]];
  it('finds the nearest x by binary search, ties to the lower one', () => {
    expect(nearestIndex(pts, -5)).toBe(0);
    expect(nearestIndex(pts, 2.9)).toBe(1);
    expect(nearestIndex(pts, 3)).toBe(1);
    expect(nearestIndex(pts, 3.1)).toBe(2);
    expect(nearestIndex(pts, 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe('chartSvg', () => {
  const base = {
    series: [{ name: 'loss', color: '#4aa3ff', points: [[1, 2], [3, 1]] as Point[] }, { name: 'a<b & "c"', color: 'rgb(1,2,3)', points: [[1, 0]] as Point[] }],
    extent: { x0: 1, x1: 3, lo: 0, hi: 2 },
    width: 300, height: 120,
    legend: ['loss 1.00 @ 3', 'a<b & "c" 0.00 @ 1'],
    formatY: (v: number) => v.toFixed(2),
    colors: { background: 'rgb(17, 20, 24)', plot: 'rgb(34, 41, 51)', text: 'rgb(230, 233, 238)' },
    fontFamily: 'system-ui, "Segoe UI"',
  };
  it('is a standalone SVG at 2× its CSS size, with escaped text, the ranges and one polyline per series', () => {
    const { svg, width, height } = chartSvg(base);
    expect(svg).toMatch(new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" width="${width * 2}" height="${height * 2}" viewBox="0 0 ${width} ${height}"`));
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot; 0.00 @ 1');
    expect(svg).toContain('font-family="system-ui, &quot;Segoe UI&quot;"');
    expect(svg).not.toMatch(/a<b/);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('>2.00</text>');
    expect(svg).toContain('>0.00</text>');
    // The plot spans x 46 … 346 and y 8 … 128 px, lines 4 px inside: (x0, hi) near its top-left corner.
    expect(svg).toContain('points="50,12 342,68"');
    expect(svg).toContain('points="50,124"');
  });
  it('wraps a long legend onto more rows (a taller image)', () => {
    const one = chartSvg(base).height;
    const many = chartSvg({ ...base, legend: Array.from({ length: 12 }, (_, i) => `class ${i} 0.123 @ 200`), series: Array.from({ length: 12 }, () => base.series[0]) }).height;
    expect(many).toBeGreaterThan(one + 30);
  });
});
