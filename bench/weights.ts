// Inflation benchmark: ViT-S/16- and ViT-B/16-sized checkpoints in timm layout (generated), read from a Blob,
// mapped to timm names and inflated (center, T = 5, 1 channel, 224 → 128 px), against a plain copy of the same bytes.
import { writeSafetensors } from '../src/weights/formats/index.ts';
import { convertEncoder } from '../src/workers/weights.job.ts';
import { vitState } from '../test/support/vitCheckpoint.ts';

export async function benchWeights(add: (name: string, value: number, unit: string, note?: string) => void) {
  for (const [label, D] of [['ViT-S/16', 384], ['ViT-B/16', 768]] as const) {
    const bytes = writeSafetensors(vitState(D, 12));
    const blob = new Blob([bytes as BlobPart]);
    const MB = bytes.length / 1e6;
    const times: number[] = [];
    let peak = 0;
    for (let r = 0; r < 3; r++) {
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const e = await convertEncoder({ kind: 'files', files: [{ name: 'model.safetensors', blob }] }, { strategy: 'center', T: 5, inChans: 1, imgSize: 128, seed: 0 }, { numHeads: D / 64 }, undefined);
      times.push(performance.now() - t0);
      peak = Math.max(peak, process.memoryUsage().rss - rss0);
      if (e.tensors.length === 0) throw new Error('no tensors');
    }
    times.sort((a, b) => a - b);
    const copy: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      new Uint8Array(await blob.arrayBuffer()).slice();
      copy.push(performance.now() - t0);
    }
    copy.sort((a, b) => a - b);
    add(`inflate ${label} (${MB.toFixed(0)} MB safetensors → 3D, T = 5, 128 px)`, times[1], 'ms', `RSS growth ≤ ${(peak / 1e6).toFixed(0)} MB`);
    add(`plain copy of the same ${MB.toFixed(0)} MB (Blob → bytes → copy)`, copy[1], 'ms');
    add(`ratio inflate / plain copy (${label})`, times[1] / copy[1], '×', 'target ≤ 3');
  }
}
