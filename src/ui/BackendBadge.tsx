// Header badge: what training runs on (WebGPU adapter, WebGL, or CPU), probed in the training worker when idle.
import { useEffect } from 'react';
import { useStore } from '../store/store.ts';
import { probeBackend } from '../store/train.ts';

export function BackendBadge() {
  const b = useStore((s) => s.backend);
  useEffect(() => {
    const idle = (globalThis as { requestIdleCallback?: (f: () => void) => number }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 500));
    idle(() => probeBackend());
  }, []);
  if (!b) return <span className="backend" data-testid="backend">checking GPU…</span>;
  const title = [b.adapter, b.limits ? `max buffer ${(b.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB` : '', ...b.fallbacks].filter(Boolean).join('\n');
  return (
    <span className={`backend ${b.software ? 'software' : ''}`} data-testid="backend" title={title}>
      {b.name === 'webgpu' ? 'WebGPU' : b.name === 'webgl' ? 'WebGL (no WebGPU)' : 'CPU (no GPU backend)'} · {b.adapter}{b.software ? ' (software, slow)' : ''}
    </span>
  );
}
