// Legend of the label overlay: colour, class name, voxel count and a visibility toggle per class.
import { activeCase, useStore } from '../store/store.ts';
import { toggleClass } from '../store/actions.ts';
import { className, colorOf } from './classes.ts';

export function Legend() {
  const c = useStore((s) => activeCase(s));
  const table = useStore((s) => s.classTable);
  const hidden = useStore((s) => s.hidden);
  const summary = c?.label?.label;
  if (!c?.label || !summary) return null;
  const spacing = c.label.volume.spacing;
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  return (
    <table className="legend" data-testid="legend">
      <caption>Classes{table.source !== 'default' ? ` (names from ${table.source})` : ''}</caption>
      <thead><tr><th /><th>class</th><th>voxels</th><th>mL</th></tr></thead>
      <tbody>
        {summary.classes.map((v, i) => {
          const [r, g, b] = colorOf(table, v);
          const off = hidden.includes(v);
          return (
            <tr key={v} className={off ? 'off' : ''}>
              <td>
                {v === 0 ? null : (
                  <button className="swatch" style={{ background: `rgb(${r},${g},${b})` }} onClick={() => toggleClass(v)} aria-pressed={!off} aria-label={`${off ? 'Show' : 'Hide'} ${className(table, v)}`} />
                )}
              </td>
              <td>{v} · {className(table, v)}</td>
              <td className="num">{summary.counts[i].toLocaleString('en')}</td>
              <td className="num">{(summary.counts[i] * voxelMl).toFixed(1)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
