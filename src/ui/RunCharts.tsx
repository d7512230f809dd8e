// The run's curves under the viewer, large enough to read: loss, learning rate, and validation Dice per class (the
// class colours and names, the mean in white), each with its latest value; the run's notes below.
import { useStore } from '../store/store.ts';
import { hideRunView } from '../store/layout.ts';
import { LineChart } from './LineChart.tsx';
import { className, colorOf } from './classes.ts';

export function RunCharts() {
  const run = useStore((s) => s.run);
  const table = useStore((s) => s.classTable);
  const numClasses = run.validations[0]?.dice.length ?? 0;
  return (
    <section className="panel run-charts" aria-label="Curves" data-testid="run-charts">
      <figure className="run-chart">
        <figcaption>Loss</figcaption>
        {run.steps.length > 0
          ? <LineChart testId="chart-loss" height={150} series={[{ name: 'loss', color: '#4aa3ff', points: run.steps.map((s) => [s.step, s.loss]) }]} />
          : <p className="chart-empty muted">The first step is on its way…</p>}
      </figure>
      <figure className="run-chart">
        <figcaption>Learning rate</figcaption>
        {run.steps.length > 0
          ? <LineChart testId="chart-lr" height={150} series={[{ name: 'lr', color: '#f5b94a', points: run.steps.map((s) => [s.step, s.lr]) }]} format={(v) => v.toExponential(1)} />
          : <p className="chart-empty muted">Warm-up, then decay.</p>}
      </figure>
      <figure className="run-chart wide">
        <figcaption>Validation Dice per class <span className="muted">(held-out slices)</span>
          <button type="button" className="icon run-charts-hide" onClick={hideRunView} title="Put the curves away (a new run, or Show curves, brings them back)" data-testid="hide-run-view">Hide curves</button>
        </figcaption>
        {run.validations.length > 0 ? (
          <LineChart testId="chart-dice" height={150} yMin={0} yMax={1} series={[
            { name: 'mean Dice', color: '#ffffff', points: run.validations.map((v) => [v.step, v.meanDice]) },
            ...Array.from({ length: Math.max(0, numClasses - 1) }, (_, i) => {
              const c = i + 1; const [r, g, b] = colorOf(table, c);
              return { name: className(table, c), color: `rgb(${r},${g},${b})`, points: run.validations.map((v) => [v.step, v.dice[c]] as [number, number]) };
            }),
          ]} format={(v) => v.toFixed(3)} />
        ) : <p className="chart-empty muted">At the first validation: Dice of each class on the held-out slices.</p>}
      </figure>
    </section>
  );
}
