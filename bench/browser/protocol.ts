// Messages between the bench page (main.ts) and its worker (bench.worker.ts), and the row a training step returns.
// Types only: bench/browser.ts (Node) reads the same shapes back from page.evaluate.
import type { BackendInfo, BackendName } from '../../src/train/backend.ts';
import type { MatMulThroughput, MemoryPoint, StepBench } from '../../src/cli/benchCore.ts';
import type { StepShape } from '../../src/cli/benchShapes.ts';

export type BenchRequest =
  | { type: 'backend'; backend: BackendName }
  | { type: 'matmul' }
  | { type: 'step'; shape: StepShape; steps: number; skipAboveMs?: number; oneStepAboveMs?: number };

/** One benchTrainStep, without its model config (the decoder width is what the table needs) and with the memory after the last step only. */
export type PageStep = Omit<StepBench, 'config' | 'memory'> & { decoderWidth: number; memoryAfter: MemoryPoint };

export type BenchReply =
  | { ok: true; type: 'backend'; info: BackendInfo; userAgent: string; crossOriginIsolated: boolean }
  | { ok: true; type: 'matmul'; matmul: MatMulThroughput }
  | { ok: true; type: 'step'; step: PageStep }
  | { ok: false; error: string };

/** What main.ts puts on `window` for the Node side to call with page.evaluate. */
export type BenchCall = (req: BenchRequest) => Promise<BenchReply>;
