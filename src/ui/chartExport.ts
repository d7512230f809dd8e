// Line-chart geometry shared by the on-screen SVG and its PNG export: extents, min/max decimation for drawing,
// the point nearest the pointer, and the export SVG (plot, axis ranges, legend). All pure except `svgToPng`,
// which rasterises an SVG string in the browser (SVG → canvas at 2× → PNG bytes).

export type Point = readonly [number, number];

export interface Extent { x0: number; x1: number; lo: number; hi: number }

/** x and y ranges over every finite point (y bounds may be fixed); null when there is none. Loops, no spread. */
export function extent(series: ReadonlyArray<{ points: readonly Point[] }>, yMin?: number, yMax?: number): Extent | null {
  let x0 = Infinity, x1 = -Infinity, lo = Infinity, hi = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y) || !Number.isFinite(x)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
  }
  if (x0 > x1) return null;
  return { x0, x1, lo: yMin ?? lo, hi: yMax ?? hi };
}

/**
 * The points to draw for one series (x ascending, as steps are) across `columns` columns: every finite point
 * when there are at most 4 per column, else per column its first, lowest, highest and last point in x order,
 * so a spike in the loss stays visible. NOTE: for drawing only; the CSV and the hover read every point.
 */
export function decimate(points: readonly Point[], x0: number, x1: number, columns: number): Point[] {
  const finite = (p: Point) => Number.isFinite(p[0]) && Number.isFinite(p[1]);
  if (points.length <= 4 * columns) return points.filter(finite);
  const out: Point[] = [];
  const span = Math.max(x1 - x0, 1e-12);
  let col = -1, first = -1, last = -1, min = -1, max = -1;
  const flush = () => {
    if (first < 0) return;
    for (const i of [...new Set([first, min, max, last])].sort((a, b) => a - b)) out.push(points[i]);
  };
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!finite(p)) continue;
    const c = Math.min(columns - 1, Math.max(0, Math.floor(((p[0] - x0) / span) * columns)));
    if (c !== col) { flush(); col = c; first = last = min = max = i; continue; }
    last = i;
    if (p[1] < points[min][1]) min = i;
    if (p[1] > points[max][1]) max = i;
  }
  flush();
  return out;
}

/** Index of the point whose x is nearest `x` (binary search; x ascending); -1 for no points. */
export function nearestIndex(points: readonly Point[], x: number): number {
  if (points.length === 0) return -1;
  let a = 0, b = points.length - 1;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (points[m][0] <= x) a = m; else b = m;
  }
  return Math.abs(points[a][0] - x) <= Math.abs(points[b][0] - x) ? a : b;
}

/** True when the points' x values never decrease (so nearestIndex applies). */
export function isAscending(points: readonly Point[]): boolean {
  for (let i = 1; i < points.length; i++) if (points[i][0] < points[i - 1][0]) return false;
  return true;
}

export interface ChartImage {
  /** Series as drawn (decimated points, data coordinates). */
  series: ReadonlyArray<{ name: string; color: string; points: readonly Point[] }>;
  extent: Extent;
  /** Plot size in CSS px (the chart's size on the page). */
  width: number;
  height: number;
  /** One legend entry per series (e.g. 'loss 0.412 @ 200'), drawn in the series' colour. */
  legend: string[];
  /** Axis range labels. */
  formatY: (v: number) => string;
  formatX?: (v: number) => string;
  colors: { background: string; plot: string; text: string };
  /** CSS font family of the page. */
  fontFamily: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number) => String(Math.round(v * 100) / 100);

/**
 * The chart as a standalone SVG document: background, the plot with its series, the y range at the left, the x
 * range below, and the legend wrapped under it. Sizes in CSS px; the document's own size is `scale` times that.
 * NOTE: legend text widths are estimated (0.6 em per character), as a pure function cannot measure text.
 */
export function chartSvg(c: ChartImage, scale = 2): { svg: string; width: number; height: number } {
  const font = 11, left = 46, right = 8, top = 8, axisH = 16, lineH = 15;
  const { x0, x1, lo, hi } = c.extent;
  const width = left + c.width + right;
  // Legend rows: entries packed left to right, wrapped at the document width.
  const rows: Array<Array<{ x: number; text: string; color: string }>> = [[]];
  let cx = 0;
  c.legend.forEach((text, i) => {
    const w = text.length * font * 0.6 + 12;
    if (cx > 0 && left + cx + w > width - right) { rows.push([]); cx = 0; }
    rows[rows.length - 1].push({ x: left + cx, text, color: c.series[i]?.color ?? c.colors.text });
    cx += w;
  });
  const plotBottom = top + c.height;
  const height = plotBottom + axisH + rows.length * lineH + 6;
  // As on the page, the lines keep 4 px from the plot's edges (a curve at its minimum stays visible).
  const inset = 4;
  const sx = (x: number) => left + inset + ((x - x0) / Math.max(1e-12, x1 - x0)) * (c.width - 2 * inset);
  const sy = (y: number) => plotBottom - inset - ((y - lo) / Math.max(1e-12, hi - lo)) * (c.height - 2 * inset);
  const fx = c.formatX ?? ((v: number) => String(v));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * scale}" height="${height * scale}" viewBox="0 0 ${width} ${height}" font-family="${esc(c.fontFamily)}" font-size="${font}">`,
    `<rect width="${width}" height="${height}" fill="${esc(c.colors.background)}"/>`,
    `<rect x="${left}" y="${top}" width="${c.width}" height="${c.height}" rx="4" fill="${esc(c.colors.plot)}"/>`,
    `<g fill="${esc(c.colors.text)}">`,
    `<text x="${left - 4}" y="${top + font}" text-anchor="end">${esc(c.formatY(hi))}</text>`,
    `<text x="${left - 4}" y="${plotBottom}" text-anchor="end">${esc(c.formatY(lo))}</text>`,
    `<text x="${left}" y="${plotBottom + font + 3}">${esc(fx(x0))}</text>`,
    `<text x="${left + c.width}" y="${plotBottom + font + 3}" text-anchor="end">${esc(fx(x1))}</text>`,
    '</g>',
  ];
  for (const s of c.series) {
    const pts = s.points.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ');
    out.push(`<polyline fill="none" stroke="${esc(s.color)}" stroke-width="1.5" stroke-linejoin="round" points="${pts}"/>`);
  }
  rows.forEach((row, r) => {
    for (const e of row) out.push(`<text x="${num(e.x)}" y="${plotBottom + axisH + (r + 1) * lineH - 3}" fill="${esc(e.color)}">${esc(e.text)}</text>`);
  });
  out.push('</svg>');
  return { svg: out.join('\n'), width, height };
}

/** Rasterises an SVG document (its own width/height attributes) to PNG bytes, over `background`. Browser only. */
export async function svgToPng(svg: string, background: string): Promise<Uint8Array> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error(`svgToPng: the browser could not encode a ${canvas.width}×${canvas.height} canvas as PNG.`);
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}
