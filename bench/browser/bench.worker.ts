// The bench page's worker: runs the Node benchmark's own code (src/cli/benchCore.ts) on the backend the app's training
// worker would start (src/train/backend.ts chooseBackend, forced, no fallback), one request at a time.
import { chooseBackend } from '../../src/train/backend.ts';
import { benchTrainStep, matMulThroughput } from '../../src/cli/benchCore.ts';
import type { BenchReply, BenchRequest } from './protocol.ts';

async function handle(req: BenchRequest): Promise<BenchReply> {
  switch (req.type) {
    case 'backend':
      return { ok: true, type: 'backend', info: await chooseBackend(req.backend), userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated };
    case 'matmul':
      return { ok: true, type: 'matmul', matmul: await matMulThroughput() };
    case 'step': {
      const b = await benchTrainStep(req.shape, { steps: req.steps, skipAboveMs: req.skipAboveMs, oneStepAboveMs: req.oneStepAboveMs });
      const { shape, config, flops, warmupMs, ms, median, samplesPerSec, gflops, memory, growth, skipped } = b;
      return { ok: true, type: 'step', step: { shape, decoderWidth: config.decoderWidth, flops, warmupMs, ms, median, samplesPerSec, gflops, memoryAfter: memory[memory.length - 1], growth, skipped } };
    }
  }
}

self.onmessage = async (ev: MessageEvent<BenchRequest>) => {
  let reply: BenchReply;
  try {
    reply = await handle(ev.data);
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  self.postMessage(reply);
};
