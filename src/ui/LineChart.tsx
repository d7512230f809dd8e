// A small SVG line chart: one or more series over steps; hover shows the values at the nearest step; CSV and PNG
// export. Thousands of points are decimated for drawing only (the CSV and the hover read every point).
import { useMemo, useRef, useState } from 'react';
import { seriesToCsv } from './csv.ts';
import { chartSvg, decimate, extent, isAscending, nearestIndex, svgToPng, type Point } from './chartExport.ts';
import { downloadBytes } from './download.ts';
import { notify } from '../store/actions.ts';
import './viewer-extra.css';

export interface Series { name: string; color: string; points: Array<[number, number]> }

/** Columns the x range is split into for drawing (the chart is ~300 px wide); at most 4 points each. */
const DRAW_COLUMNS = 300;

export function LineChart({ series, height = 120, yMin, yMax, testId, exportName, format = (v) => v.toPrecision(3) }: {
  series: Series[]; height?: number; yMin?: number; yMax?: number; testId?: string;
  /** Base name of the exported files (default: the test id without 'chart-', e.g. 'loss'). */
  exportName?: string;
  format?: (v: number) => string;
}) {
  const [hover, setHover] = useState<number | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const W = 300, H = height, pad = 4;
  const ext = useMemo(() => extent(series, yMin, yMax), [series, yMin, yMax]);
  const drawn = useMemo(() => (ext ? series.map((s) => decimate(s.points, ext.x0, ext.x1, DRAW_COLUMNS)) : []), [series, ext]);
  const ascending = useMemo(() => series.map((s) => isAscending(s.points)), [series]);
  const sx = (x: number) => (ext ? pad + ((x - ext.x0) / Math.max(1e-9, ext.x1 - ext.x0)) * (W - 2 * pad) : 0);
  // Polyline strings change only with the data, not with the pointer.
  const lines = useMemo(() => {
    if (!ext) return [];
    const kx = (W - 2 * pad) / Math.max(1e-9, ext.x1 - ext.x0), ky = (H - 2 * pad) / Math.max(1e-9, ext.hi - ext.lo);
    return drawn.map((pts) => pts.map(([x, y]) => `${(pad + (x - ext.x0) * kx).toFixed(1)},${(H - pad - (y - ext.lo) * ky).toFixed(1)}`).join(' '));
  }, [drawn, ext, H]);
  const base = exportName ?? testId?.replace(/^chart-/, '') ?? 'chart';

  if (!ext) return <svg className="chart" width="100%" viewBox={`0 0 ${W} ${H}`} data-testid={testId} data-points={0} />;

  const nearest = (i: number): Point | undefined => {
    const pts = series[i].points;
    if (pts.length === 0) return undefined;
    if (hover === null) return pts[pts.length - 1];
    if (ascending[i]) return pts[nearestIndex(pts, hover)];
    return pts.reduce((b, p) => (Math.abs(p[0] - hover) < Math.abs(b[0] - hover) ? p : b), pts[0]);
  };
  const legendText = (i: number) => { const p = nearest(i); return `${series[i].name}${p ? ` ${format(p[1])} @ ${p[0]}` : ''}`; };

  const exportCsv = () => downloadBytes(new TextEncoder().encode(seriesToCsv(series, 'step')), `${base}.csv`, 'text/csv');
  const exportPng = async () => {
    const svg = svgRef.current;
    if (!svg) return;
    const box = svg.getBoundingClientRect();
    const page = getComputedStyle(document.body);
    const plot = getComputedStyle(svg).backgroundColor;
    const image = chartSvg({
      series: series.map((s, i) => ({ name: s.name, color: s.color, points: drawn[i] })),
      extent: ext, width: Math.round(box.width) || W, height: Math.round(box.height) || H,
      legend: series.map((s) => { const p = s.points[s.points.length - 1]; return `${s.name}${p ? ` ${format(p[1])} @ ${p[0]}` : ''}`; }),
      formatY: format,
      colors: { background: page.backgroundColor, plot: plot === 'rgba(0, 0, 0, 0)' ? page.backgroundColor : plot, text: page.color },
      fontFamily: page.fontFamily,
    });
    try {
      downloadBytes(await svgToPng(image.svg, page.backgroundColor), `${base}.png`, 'image/png');
    } catch (err) {
      notify('error', `${base}.png: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  return (
    <div className="chart-wrap">
      <svg ref={svgRef} className="chart" width="100%" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" data-testid={testId}
        data-points={series[0]?.points.length ?? 0} data-drawn={drawn[0]?.length ?? 0}
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const vx = ((e.clientX - r.left) / r.width) * W;
          setHover(ext.x0 + ((vx - pad) / (W - 2 * pad)) * (ext.x1 - ext.x0));
        }}
        onMouseLeave={() => setHover(null)}>
        {series.map((s, i) => (
          drawn[i]?.length === 1
            // A single point (e.g. a run validated once): a round dot, which the non-uniform viewBox scaling keeps round.
            ? <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={6} strokeLinecap="round" vectorEffect="non-scaling-stroke" points={`${lines[i]} ${lines[i]}`} />
            : <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" points={lines[i]} />
        ))}
        {hover !== null && <HoverLine x={sx(nearest(0)?.[0] ?? hover)} H={H} />}
      </svg>
      <div className="chart-legend">
        {series.map((s, i) => <span key={s.name} style={{ color: s.color }}>{legendText(i)}</span>)}
        <span className="muted">range {format(ext.lo)}…{format(ext.hi)}</span>
        <span className="chart-tools">
          <button type="button" title={`Save the ${base} curve${series.length > 1 ? 's' : ''} as CSV (one row per step)`} onClick={exportCsv} data-testid={testId ? `${testId}-csv` : undefined}>CSV</button>
          <button type="button" title="Save the chart as a PNG image (2×)" onClick={() => void exportPng()} data-testid={testId ? `${testId}-png` : undefined}>PNG</button>
        </span>
      </div>
    </div>
  );
}

function HoverLine({ x, H }: { x: number; H: number }) {
  return <line className="chart-hover" x1={x} x2={x} y1={0} y2={H} stroke="#fff4" vectorEffect="non-scaling-stroke" />;
}
