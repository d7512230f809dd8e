// Legend of the label overlay: colour, class name, volume per class and a visibility toggle per class; with an
// evaluated prediction, the predicted volume and the Dice of each class beside the ground truth's.
import { activeCase, useStore } from '../store/store.ts';
import { toggleClass } from '../store/actions.ts';
import type { LabelStats } from '../data/labels.ts';
import { className, colorOf } from './classes.ts';

export interface LegendPrediction {
  /** Classes and voxel counts of the predicted label map. */
  stats: LabelStats;
  /** Dice per class (index = class value; NaN when the class is in neither map). */
  dice: number[];
}

export function Legend({ prediction }: { prediction?: LegendPrediction }) {
  const c = useStore((s) => activeCase(s));
  const table = useStore((s) => s.classTable);
  const hidden = useStore((s) => s.hidden);
  const summary = c?.label?.label;
  if (!c?.label || !summary) return null;
  const spacing = c.label.volume.spacing;
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  const truthCount = new Map(summary.classes.map((v, i) => [v, summary.counts[i]]));
  // A class only the prediction has is listed too (it is drawn in the prediction's overlay).
  const classes = prediction ? [...new Set([...summary.classes, ...prediction.stats.classes])].sort((a, b) => a - b) : summary.classes;
  const ml = (n: number | undefined) => ((n ?? 0) * voxelMl).toFixed(1);
  return (
    <table className="legend" data-testid="legend">
      <caption>Classes{table.source !== 'default' ? ` (names from ${table.source})` : ''}</caption>
      <thead>
        {prediction
          ? <tr><th /><th>class</th><th title="Ground truth volume">GT mL</th><th title="Predicted volume">pred. mL</th><th>Dice</th></tr>
          : <tr><th /><th>class</th><th>voxels</th><th>mL</th></tr>}
      </thead>
      <tbody>
        {classes.map((v) => {
          const [r, g, b] = colorOf(table, v);
          const off = hidden.includes(v);
          const d = prediction?.dice[v];
          return (
            <tr key={v} className={off ? 'off' : ''}>
              <td>
                {v === 0 ? null : (
                  <button className="swatch" style={{ background: `rgb(${r},${g},${b})` }} onClick={() => toggleClass(v)} aria-pressed={!off} aria-label={`${off ? 'Show' : 'Hide'} ${className(table, v)}`} />
                )}
              </td>
              <td>{v} · {className(table, v)}</td>
              {prediction ? (
                <>
                  <td className="num">{ml(truthCount.get(v))}</td>
                  <td className="num">{ml(prediction.stats.counts[v])}</td>
                  <td className="num" data-testid={`legend-dice-${v}`}>{v === 0 || d === undefined || Number.isNaN(d) ? '' : d.toFixed(2)}</td>
                </>
              ) : (
                <>
                  <td className="num">{(truthCount.get(v) ?? 0).toLocaleString('en')}</td>
                  <td className="num">{ml(truthCount.get(v))}</td>
                </>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
