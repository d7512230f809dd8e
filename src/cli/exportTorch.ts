// `inflateseg export-torch`: a model checkpoint + its data → a folder ready to continue the run in PyTorch
// (python/inflateseg_torch): the checkpoint, dataset.json (image and label files, the split), the package itself,
// run.sh (the one command: torchrun, DDP) and README.txt. Reads only headers: the volumes are read by PyTorch.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.ts';
import { FORCE_FLAG, OUT_FLAG, readModelFlag, VERSION, type Io } from './common.ts';
import { DataError, pairInputs } from './dataset.ts';
import { collectInputs } from './inputs.ts';
import { existing, toJson, writeAtomic } from './output.ts';
import { casesFromPairing } from '../data/cases.ts';
import { isHierarchical } from '../weights/types.ts';

/** The Python package shipped in the folder (python/inflateseg_torch beside src/). */
const PACKAGE_DIR = fileURLToPath(new URL('../../python/inflateseg_torch/', import.meta.url));
const RESULTS = ['model.safetensors', 'dataset.json', 'run.sh', 'README.txt'];

export const EXPORT_TORCH: CommandSpec = {
  name: 'export-torch',
  summary: 'write a folder that continues a model checkpoint in PyTorch (torchrun, DistributedDataParallel)',
  usage: 'inflateseg export-torch DATA... --model model.safetensors --out DIR [options]',
  positional: { name: 'DATA...', help: 'the images and label maps to train on (paired and split as in train): files, quoted globs or folders' },
  flags: [
    OUT_FLAG,
    { name: 'model', kind: 'string', arg: 'FILE', help: 'the model checkpoint to continue (.safetensors written by the app or inflateseg train; with its optimiser state to continue exactly)' },
    { name: 'steps', kind: 'int', min: 1, max: 100_000_000, arg: 'N', default: 'the checkpoint\'s target, or twice its step when reached', help: 'optimiser steps in total that run.sh trains to (STEPS=N overrides it)' },
    { name: 'val', kind: 'string', arg: 'ID,ID', help: 'case ids to validate on (default: ~20 % of the labelled cases by a stable hash, as train; a single case is split by slab)' },
    { name: 'val-fraction', kind: 'number', min: 0, max: 0.9, arg: 'X', default: '0.2', help: 'share of cases held out for validation' },
    { name: 'copy-data', kind: 'bool', help: 'copy the image and label files into DIR/data (a folder to move to another machine); default: absolute paths' },
    FORCE_FLAG,
  ],
  notes: [
    'Writes DIR/model.safetensors, DIR/dataset.json, DIR/inflateseg_torch/ (the PyTorch package), DIR/run.sh and DIR/README.txt. Then: sh DIR/run.sh (NPROC=processes, STEPS=N, BATCH=windows per step over all processes; needs python3 with torch and nibabel). The result, DIR/model_continued.safetensors, is a checkpoint the app and inflateseg eval / train --resume read.',
  ],
  examples: ['inflateseg export-torch public/samples/itk_kmeans_t1.nii.gz public/samples/itk_kmeans_t1_seg.nii.gz --model runs/try/model.safetensors --out runs/try-torch'],
};

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function exportTorch(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(EXPORT_TORCH, argv);
  if (a.help) { io.out.write(helpText(EXPORT_TORCH)); return 0; }
  const log = (line: string) => io.err.write(line + '\n');

  // --- check the call -------------------------------------------------------------------------------------
  const outDir = a.str('out');
  if (!outDir) throw new UsageError('--out DIR is required (the folder to write)');
  const modelFile = a.str('model');
  if (!modelFile) throw new UsageError('--model FILE is required (the checkpoint to continue)');
  if (a.positional.length === 0) throw new UsageError('no data: give image and label files, quoted globs, or a folder');
  const already = existing(outDir, RESULTS);
  if (already.length && !a.bool('force')) throw new UsageError(`--out ${outDir} already holds ${already.join(', ')}; pass --force to overwrite, or choose another folder`);
  const { checkpoint: ckpt, bytes } = await readModelFlag('model', modelFile,
    'export-torch continues window-based models only (the PyTorch twin has no 3D UNETR; the weights use MONAI\'s UNETR names and load into monai.networks.nets.UNETR: models/CHECKPOINT_FORMAT.md)');
  const { meta } = ckpt;
  const family = meta.config.encoder.family;
  if (isHierarchical(family)) {
    throw new DataError(`${modelFile}: a ${family === 'swin' ? 'Swin' : 'Video Swin'} model; export-torch continues ViT, DeiT, DINO and BEiT models only (the PyTorch twin, python/inflateseg_torch, has no Swin): continue it with inflateseg train --resume or in the app`);
  }
  const steps = a.has('steps') ? a.num('steps', 0) : meta.train.steps > meta.step ? meta.train.steps : 2 * Math.max(1, meta.step);
  if (steps <= meta.step) throw new UsageError(`--steps ${steps}: ${modelFile} is already at step ${meta.step}; set --steps above it`);

  // --- pair and split the data (as train does) ---------------------------------------------------------------
  const files = collectInputs(a.positional, 'data');
  const byPath = new Map(files.map((f) => [f.path, f.file]));
  const pairing = pairInputs(files);
  const labelled = pairing.cases.filter((c) => c.label !== undefined);
  if (labelled.length === 0) throw new DataError(`no image with a label map among the data (${pairing.cases.length} image(s))`);
  const { cases } = casesFromPairing(labelled, a.num('val-fraction', 0.2));
  const valIds = a.str('val')?.split(',').map((s) => s.trim()).filter(Boolean);
  if (valIds?.length) {
    const unknown = valIds.filter((id) => !cases.some((c) => c.id === id));
    if (unknown.length) throw new DataError(`--val: no case named ${unknown.map((u) => `'${u}'`).join(', ')} (cases: ${cases.map((c) => c.id).join(', ')})`);
    for (const c of cases) c.split = valIds.includes(c.id) ? 'val' : 'train';
    if (cases.every((c) => c.split === 'val')) throw new DataError('--val: every case is held out; leave at least one to train on');
  }

  // --- write the folder ----------------------------------------------------------------------------------------
  const copy = a.bool('copy-data');
  const place = (caseId: string, p: string): string => {
    const abs = byPath.get(p) ?? path.resolve(p);
    if (!copy) return abs;
    const rel = path.join('data', caseId.replace(/[^\w.-]+/g, '_'), path.basename(abs));
    mkdirSync(path.join(outDir, path.dirname(rel)), { recursive: true });
    copyFileSync(abs, path.join(outDir, rel));
    return rel;
  };
  const manifest = {
    format: 'inflateseg-dataset/1',
    note: 'written by inflateseg export-torch; paths are absolute or relative to this file; split as the app drew it',
    axis: meta.train.axis,
    cases: cases.map((c) => ({ id: c.id, images: c.imagePaths.map((p) => place(c.id, p)), label: place(c.id, c.labelPath!), split: c.split })),
  };
  const pkg = path.join(outDir, 'inflateseg_torch');
  mkdirSync(pkg, { recursive: true });
  for (const f of readdirSync(PACKAGE_DIR).filter((n) => n.endsWith('.py'))) copyFileSync(path.join(PACKAGE_DIR, f), path.join(pkg, f));
  const written = [
    writeAtomic(outDir, 'model.safetensors', bytes),
    writeAtomic(outDir, 'dataset.json', toJson(manifest)),
    writeAtomic(outDir, 'run.sh', runScript(steps, meta.train.batch)),
    writeAtomic(outDir, 'README.txt', readme(modelFile, meta.step, steps, meta.train.batch, ckpt.optim !== null, manifest.cases.length)),
  ];
  const nVal = cases.filter((c) => c.split === 'val').length;
  log(`${modelFile} at step ${meta.step} (${ckpt.optim ? 'with' : 'without'} optimiser state) → ${outDir}: ${cases.length} case(s), ${cases.length - nVal} training, ${nVal} validation${cases.length === 1 ? ' (a single case is split by slab)' : ''}`);
  log(`continue with: sh ${shellQuote(path.join(outDir, 'run.sh'))}`);
  for (const w of written) io.out.write(`${w}\n`);
  return 0;
}

function runScript(steps: number, batch: number): string {
  return `#!/bin/sh
# Continues model.safetensors in PyTorch to STEPS optimiser steps on NPROC processes (DistributedDataParallel:
# NCCL on GPUs, gloo on CPUs) and writes model_continued.safetensors. Written by inflateseg ${VERSION} export-torch.
#   NPROC    processes (default: the GPUs, else 1)
#   STEPS    optimiser steps in total (default ${steps})
#   BATCH    windows per step over all processes, a multiple of NPROC (default ${batch}, the run's)
# Extra arguments go to the trainer (python3 -m inflateseg_torch.train --help).
set -eu
cd "$(dirname "$0")"
PYTHON=\${PYTHON:-python3}
NPROC=\${NPROC:-$("$PYTHON" -c 'import torch; print(max(1, torch.cuda.device_count()))')}
export PYTHONPATH="$PWD\${PYTHONPATH:+:$PYTHONPATH}"
# NOTE: --redirects 1 --tee 1: torch 1.13's torchrun fails on Python 3.11 with its default --redirects 0.
exec "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$NPROC" --redirects 1 --tee 1 \\
  -m inflateseg_torch.train --checkpoint model.safetensors --manifest dataset.json \\
  --steps "\${STEPS:-${steps}}" --batch "\${BATCH:-${batch}}" --out model_continued.safetensors "$@"
`;
}

function readme(model: string, step: number, steps: number, batch: number, optim: boolean, n: number): string {
  return `Continue an InflateSeg run in PyTorch
=====================================

model.safetensors   ${path.basename(model)} at step ${step}${optim ? ', with its AdamW state (the run continues exactly)' : ', without optimiser state (AdamW starts afresh)'}
dataset.json        ${n} case(s): image files, label file and split
inflateseg_torch/   the model, data path and trainer in PyTorch (needs python3 with torch and nibabel)
run.sh              the one command

Run:   sh run.sh                       (all GPUs, or 1 CPU process; to step ${steps}, batch ${batch})
       NPROC=8 BATCH=16 STEPS=25000 sh run.sh
Then:  inflateseg eval IMAGES... --model model_continued.safetensors --out eval
       inflateseg train DATA... --resume model_continued.safetensors --steps N --out more
or import model_continued.safetensors in the app (Import checkpoint...).

The trainer keeps the run's settings (train metadata): learning rate, schedule, loss, augmentation, seed, axis.
BATCH is the batch over all processes; each process takes BATCH / NPROC windows of the same draw, so any NPROC
trains the same batches. A larger batch may want a larger learning rate (--lr X).
`;
}
