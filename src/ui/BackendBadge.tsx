// Header badge: what training runs on (WebGPU adapter, WebAssembly, WebGL or CPU) and why (its title), probed in the
// training worker when idle, and the backend self-check (Check: one micro training step here and on the CPU,
// compared) with its verdict.
import { useEffect } from 'react';
import { BACKEND_LABEL as LABEL } from '../core/backends.ts';
import type { BackendInfo } from '../train/backend.ts';
import type { SelfCheckResult } from '../train/selfcheck.ts';
import { useStore, type AppState } from '../store/store.ts';
import { checkBackend, probeBackend } from '../store/train.ts';
import './backend-check.css';

/** The badge's text, e.g. 'WebGPU · nvidia …', 'WebAssembly (CPU, SIMD, 1 thread)', 'CPU · JavaScript (CPU)'. */
export function badgeText(b: BackendInfo): string {
  if (b.name === 'wasm') return `WebAssembly (${b.adapter})`;
  return `${LABEL[b.name]} · ${b.adapter}${b.software && b.name !== 'cpu' ? ' (software, slow)' : ''}`;
}

/** The badge's tooltip: what runs the work, why earlier backends were skipped, and how to choose another. */
export function badgeTitle(b: BackendInfo): string {
  const what = b.name === 'wasm' ? `Training runs on the CPU through WebAssembly (${b.adapter}).`
    : b.name === 'cpu' ? 'Training runs on the CPU in plain JavaScript (slow).'
      : `Training runs on ${LABEL[b.name]}: ${b.adapter}.`;
  const forced = b.requested
    ? b.requested === b.name ? `${LABEL[b.name]} was chosen in Training → More settings → Backend (or ?backend=).` : `${LABEL[b.requested]} was asked for but could not start.`
    : 'Chosen automatically: a hardware WebGPU adapter, else WebAssembly, else WebGL, else CPU.';
  const limits = b.limits ? `max buffer ${(b.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB` : '';
  const skipped = b.fallbacks.map((f) => `skipped ${f}`);
  return [what, forced, limits, ...skipped].filter(Boolean).join('\n');
}

/** 3e-6 style: one significant digit; 0 and NaN as such. */
const sci = (v: number): string => (v === 0 ? '0' : Number.isFinite(v) ? v.toExponential(0) : String(v));

/** The one-line verdict of a check, e.g. 'WebGPU matches cpu (max rel. diff 3e-6)' or what differs. */
export function describeCheck(r: SelfCheckResult): string {
  const max = Math.max(...Object.values(r.diffs)); // NaN if any is
  if (r.ok) return `${LABEL[r.backend]} matches cpu (max rel. diff ${sci(max)})`;
  const more = r.failures.length > 1 ? ` (+${r.failures.length - 1} more)` : '';
  return `${LABEL[r.backend]} differs from cpu: ${r.failures[0] ?? `max rel. diff ${sci(max)}`}${more}. Training here may give wrong results; another backend or browser may help.`;
}

/** Every quantity with its tolerance and the step times, for the tooltip. */
function details(r: SelfCheckResult): string {
  const rows = (Object.keys(r.diffs) as (keyof SelfCheckResult['diffs'])[]).map((k) => `${k}: ${sci(r.diffs[k])} (tolerance ${sci(r.tolerances[k])})`);
  return [...rows, `worst gradient: ${r.worst}`, ...r.failures, `step: ${Math.round(r.stepMs.backend)} ms on ${r.backend}, ${Math.round(r.stepMs.cpu)} ms on cpu`].join('\n');
}

function CheckResult({ check }: { check: AppState['backendCheck'] }) {
  if (check.status === 'idle') return null;
  if (check.status === 'running') return <span className="backend-check-result running" data-testid="backend-check-result" data-status="running">checking…</span>;
  if (check.status === 'failed' || !check.result) {
    return <span className="backend-check-result bad" data-testid="backend-check-result" data-status="failed" data-ok="false">⚠ check could not run: {check.error ?? 'no result'}</span>;
  }
  const r = check.result;
  return (
    <span className={`backend-check-result ${r.ok ? 'good' : 'bad'}`} data-testid="backend-check-result" data-status="done" data-ok={String(r.ok)} title={details(r)}>
      {r.ok ? '✓ ' : '⚠ '}{describeCheck(r)}
    </span>
  );
}

export function BackendBadge() {
  const b = useStore((s) => s.backend);
  const check = useStore((s) => s.backendCheck);
  const runState = useStore((s) => s.run.state);
  useEffect(() => {
    const idle = (globalThis as { requestIdleCallback?: (f: () => void) => number }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 500));
    idle(() => probeBackend());
  }, []);
  if (!b) return <span className="backend" data-testid="backend">checking backend…</span>;
  const training = runState === 'running' || runState === 'paused' || runState === 'starting';
  const running = check.status === 'running';
  return (
    <span className="backend-group">
      <span className={`backend ${b.software ? 'software' : ''}`} data-testid="backend" data-backend={b.name} title={badgeTitle(b)}>
        {badgeText(b)}
      </span>
      <button
        type="button"
        className="backend-check"
        data-testid="backend-check"
        onClick={checkBackend}
        disabled={running || training}
        aria-busy={running}
        title={training ? 'Stop the run to check the backend' : `Run one small training step on ${LABEL[b.name]} and on the CPU and compare them (seconds; longer on a software GPU)`}
      >
        {running ? 'Checking…' : 'Check'}
      </button>
      <span role="status" aria-live="polite"><CheckResult check={check} /></span>
    </span>
  );
}
