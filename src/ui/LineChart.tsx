// A small SVG line chart: one or more series over steps, hover shows the values at the nearest step.
import { useState } from 'react';

export interface Series { name: string; color: string; points: Array<[number, number]> }

export function LineChart({ series, height = 120, yMin, yMax, testId, format = (v) => v.toPrecision(3) }: {
  series: Series[]; height?: number; yMin?: number; yMax?: number; testId?: string; format?: (v: number) => string;
}) {
  const [hover, setHover] = useState<number | null>(null);
  const W = 300, H = height, pad = 4;
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (all.length === 0) return <svg className="chart" width="100%" viewBox={`0 0 ${W} ${H}`} data-testid={testId} data-points={0} />;
  const x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  const lo = yMin ?? Math.min(...all.map((p) => p[1])), hi = yMax ?? Math.max(...all.map((p) => p[1]));
  const sx = (x: number) => pad + ((x - x0) / Math.max(1e-9, x1 - x0)) * (W - 2 * pad);
  const sy = (y: number) => H - pad - ((y - lo) / Math.max(1e-9, hi - lo)) * (H - 2 * pad);
  const nearest = (s: Series) => (hover === null ? undefined : s.points.reduce((b, p) => (Math.abs(p[0] - hover) < Math.abs(b[0] - hover) ? p : b), s.points[0]));
  return (
    <div className="chart-wrap">
      <svg className="chart" width="100%" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" data-testid={testId} data-points={series[0]?.points.length ?? 0}
        onMouseMove={(e) => { const r = e.currentTarget.getBoundingClientRect(); setHover(x0 + ((e.clientX - r.left) / r.width) * (x1 - x0)); }}
        onMouseLeave={() => setHover(null)}>
        {series.map((s) => (
          <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={1.5} vectorEffect="non-scaling-stroke"
            points={s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')} />
        ))}
        {hover !== null && <line x1={sx(hover)} x2={sx(hover)} y1={0} y2={H} stroke="#fff4" />}
      </svg>
      <div className="chart-legend">
        {series.map((s) => { const p = nearest(s) ?? s.points[s.points.length - 1]; return <span key={s.name} style={{ color: s.color }}>{s.name}{p ? ` ${format(p[1])} @ ${p[0]}` : ''}</span>; })}
        <span className="muted">range {format(lo)}…{format(hi)}</span>
      </div>
    </div>
  );
}
