// "Watch it learn" (`npm run bench:learn`): the first run of a new user in real Chromium, with the app's own defaults —
// the built app opens on its default sample (Colin27 2 mm, 7 lobes), *Micro ViT (quick try)*, *Train*, nothing touched
// (the same flow as test/e2e/first-run.e2e.ts, here timed). Records every validation the page shows with the wall time
// since Train was clicked, the time to a mean foreground Dice of 0.5, and the machine's load. Target (issue 12): ≥ 0.5
// within 2 minutes of training on a 2-core CPU. Reported, never asserted: bench/RESULTS.md, bench/results-learn.json.
// Env: BENCH_LEARN_RUNS (1), BENCH_OUT (bench/results-learn.json), INFLATESEG_CHROMIUM as the e2e tests. Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openApp, startHarness } from '../test/e2e/harness.ts';
import { firstRun, type SeenValidation } from '../test/e2e/flows.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Math.max(1, Number(process.env.BENCH_LEARN_RUNS ?? 1));
const OUT = process.env.BENCH_OUT ?? path.join(ROOT, 'bench/results-learn.json');
const load1 = () => Number(os.loadavg()[0].toFixed(2));
const commit = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim(); } catch { return 'unknown'; } })();

const h = await startHarness();
const runs: Array<{ seconds: number; state: string; backend: string; toHalf: SeenValidation | null; validations: SeenValidation[]; load: [number, number] }> = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const { page } = await openApp(h);
    await page.setViewportSize({ width: 1400, height: 900 });
    const loadBefore = load1();
    const r = await firstRun(page);
    const backend = (await page.getByTestId('backend').textContent()) ?? '';
    const toHalf = r.validations.find((v) => v.meanDice >= 0.5) ?? null;
    runs.push({ ...r, backend, toHalf, load: [loadBefore, load1()] });
    console.log(`run ${i + 1}: ${r.state} in ${r.seconds.toFixed(1)} s on ${backend}; ` +
      (toHalf ? `Dice ≥ 0.5 at step ${toHalf.step}, ${toHalf.t.toFixed(1)} s after Train` : 'Dice never reached 0.5'));
    for (const v of r.validations) console.log(`  step ${String(v.step).padStart(4)}  ${v.t.toFixed(1).padStart(6)} s  mean Dice ${v.meanDice.toFixed(3)}`);
    await page.close();
  }
} finally {
  await h.close();
}
writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), commit, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, runs }, null, 1) + '\n');
console.log(`wrote ${path.relative(ROOT, OUT)}`);
