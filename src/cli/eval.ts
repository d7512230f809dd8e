// `inflateseg eval`: a model checkpoint + images (labels optional) → one predicted .nii.gz per case on the image
// file's own grid and affine (evaluateVolume → fromCanonical → writeNifti, as the app's predictionFile), and with
// labels 3D Dice and HD95 per class in metrics.json / metrics.csv.
import path from 'node:path';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.ts';
import { BACKEND_FLAG, checkInterrupted, FORCE_FLAG, OUT_FLAG, readAnyModelFlag, useZlib, VERSION, type Io } from './common.ts';
import { describeVolumeConfig } from '../train/volumeDefaults.ts';
import { DataError, loadDataset, pairInputs, type LoadedCase } from './dataset.ts';
import { collectInputs } from './inputs.ts';
import { evaluationCsv, existing, toJson, writeAtomic, type CaseResult } from './output.ts';
import { formatDuration } from './progress.ts';
import { fromCanonical, writeNifti } from '../nifti/index.ts';
import type { CaseData } from '../workers/train.protocol.ts';
import type { CliBackend } from './backend.ts';

export const EVAL: CommandSpec = {
  name: 'eval',
  summary: 'predict label maps with a trained model, and score them against labels when given',
  usage: 'inflateseg eval DATA... --model model.safetensors --out DIR [options]',
  positional: { name: 'DATA...', help: 'images, with or without their label maps (paired as in train): files, quoted globs or folders' },
  flags: [
    OUT_FLAG,
    { name: 'model', kind: 'string', arg: 'FILE', help: 'a model checkpoint (.safetensors) written by the app or by inflateseg train' },
    { name: 'batch', kind: 'int', min: 1, max: 4096, arg: 'N', default: 'the checkpoint\'s training batch', help: 'windows per forward pass' },
    BACKEND_FLAG,
    FORCE_FLAG,
  ],
  notes: [
    'Writes DIR/<image>_pred.nii.gz per case (uint8 labels on the image file\'s grid and affine), DIR/metrics.json and DIR/metrics.csv (per case: mean Dice and HD95 in mm over the classes in the label map, then per class; HD95 "Infinity" when a class was never predicted).',
  ],
  examples: ['inflateseg eval public/samples/itk_kmeans_t1.nii.gz public/samples/itk_kmeans_t1_seg.nii.gz --model runs/try/model.safetensors --out runs/try/eval'],
};

/** `<image base>_pred.nii.gz`, as the app names a saved prediction (the first channel file, without `_0000`). */
export function predictionName(imageFile: string): string {
  return `${path.basename(imageFile).replace(/(_0000)?\.nii(\.gz)?$/i, '')}_pred.nii.gz`;
}

/** Prediction file names per case; a clash (same image name in two folders) falls back to the case id. */
function predictionNames(cases: readonly LoadedCase[]): Map<string, string> {
  const names = cases.map((c) => predictionName(c.imageFiles[0]));
  return new Map(cases.map((c, i) => [c.id, names.indexOf(names[i]) !== i || names.lastIndexOf(names[i]) !== i ? `${c.id.replace(/[^\w.-]+/g, '_')}_pred.nii.gz` : names[i]]));
}

export async function evaluate(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(EVAL, argv);
  if (a.help) { io.out.write(helpText(EVAL)); return 0; }
  const log = (line: string) => io.err.write(line + '\n');

  // --- check the call -------------------------------------------------------------------------------------
  const outDir = a.str('out');
  if (!outDir) throw new UsageError('--out DIR is required (where the predictions and metrics go)');
  const modelFile = a.str('model');
  if (!modelFile) throw new UsageError('--model FILE is required (a model checkpoint .safetensors)');
  if (a.positional.length === 0) throw new UsageError('no data: give image files (and their labels to score), quoted globs, or a folder');
  const files = collectInputs(a.positional, 'data');
  const { checkpoint: ckpt } = await readAnyModelFlag('model', modelFile);
  const { config } = ckpt.meta;

  // --- read and check the data --------------------------------------------------------------------------------
  useZlib();
  const pairing = pairInputs(files);
  if (pairing.cases.length === 0) throw new DataError(`no image among the data${pairing.notes.length ? ':\n  ' + pairing.notes.join('\n  ') : ''}`);
  const names = predictionNames(pairing.cases.map((c) => ({ id: c.id, imageFiles: c.images }) as LoadedCase));
  const already = existing(outDir, ['metrics.json', 'metrics.csv', ...names.values()]);
  if (already.length && !a.bool('force')) throw new UsageError(`--out ${outDir} already holds ${already.join(', ')}; pass --force to overwrite, or choose another folder`);
  log(`reading ${pairing.cases.length} case(s)…`);
  const ds = await loadDataset(files, pairing, { labelledOnly: false, valFraction: 0, split: false, log });
  for (const n of ds.notes) log(`  note: ${n}`);
  checkInterrupted(io);
  for (const c of ds.cases) {
    if (c.image.volume.channels !== config.inChans) throw new DataError(`${c.imageFiles.join(' + ')} has ${c.image.volume.channels} channel(s) but ${modelFile} takes ${config.inChans}`);
    const top = c.label?.label?.classes.at(-1) ?? 0;
    if (top >= config.numClasses) throw new DataError(`${c.labelFile} has label value ${top} but ${modelFile} predicts ${config.numClasses} classes (0…${config.numClasses - 1})`);
  }

  // --- backend and model (as the training worker loads a checkpoint) ------------------------------------------
  const { startBackend, describeBackend } = await import('./backend.ts');
  const { makeRun, evaluateCaseWith } = await import('../train/anyRun.ts');
  const info = await startBackend(a.str('backend') as CliBackend | undefined);
  log(`backend: ${describeBackend(info)}`);
  for (const f of info.fallbacks) log(`  skipped ${f}`);
  const { meta } = ckpt;
  const run = makeRun({ kind: 'model', checkpoint: ckpt }, [], config.numClasses, meta.train,
    { classNames: meta.classNames, source: meta.source, appVersion: meta.appVersion }, () => {});
  const batch = a.num('batch', meta.train.batch);
  const model = 'inflation' in meta
    ? `${meta.config.encoder.family} D ${meta.config.encoder.embedDim} × ${meta.config.encoder.depth}, ${meta.inflation.strategy} T = ${meta.config.T}, ${meta.config.imgSize} px, ${config.numClasses} classes, axis ${run.axis}`
    : `${describeVolumeConfig(meta.config)}, sliding window with overlap 0.25`;
  log(`model: ${modelFile} (step ${meta.step}, ${model})`);

  // --- predict, write, score ----------------------------------------------------------------------------------
  io.onInterrupt(() => log('Ctrl-C: stopping after this case (Ctrl-C again quits at once)'));
  const results: CaseResult[] = [];
  try {
    for (const c of ds.cases) {
      if (io.interrupted) break;
      const t0 = performance.now();
      const v = c.image.volume;
      // NOTE: the same CaseData → Volume path as the training worker's 'evaluate'; `label` is unused for the image.
      const data: CaseData = { id: c.id, split: c.split, dims: v.dims, channels: v.channels, spacing: v.spacing, affine: v.affine, image: v.data, label: c.label?.volume.data ?? new Uint8Array(0) };
      const r = await evaluateCaseWith(run, data, c.label !== undefined && c.label !== null, batch);
      const stored = fromCanonical({ dims: v.dims, data: r.prediction, affine: v.affine, name: `${c.id} prediction` }, c.image.source);
      const nifti = await writeNifti({ dims: stored.dims, channels: 1, data: stored.data, affine: stored.affine, description: 'InflateSeg prediction' });
      const file = writeAtomic(outDir, names.get(c.id)!, nifti);
      const m = r.metrics;
      const res: CaseResult = { caseId: c.id, image: c.imageFiles.join(' + '), label: c.labelFile, prediction: file, ms: performance.now() - t0 };
      if (m) Object.assign(res, { dice: m.dice, meanDice: m.meanDice, hd95: m.hd95, meanHd95: m.meanHd95 });
      results.push(res);
      log(`  ${c.id}: ${m ? `mean Dice ${m.meanDice.toFixed(4)}, HD95 ${m.meanHd95.toFixed(2)} mm` : 'no label'} (${formatDuration(res.ms / 1000)}) → ${file}`);
    }
  } finally {
    io.onInterrupt(null);
    run.dispose();
  }
  const scored = results.filter((r) => r.meanDice !== undefined && !Number.isNaN(r.meanDice));
  const mean = scored.length ? scored.reduce((s, r) => s + r.meanDice!, 0) / scored.length : NaN;
  const written = [
    writeAtomic(outDir, 'metrics.json', toJson({
      command: 'eval', version: VERSION, model: modelFile, step: meta.step, interrupted: io.interrupted,
      backend: { name: info.name, adapter: info.adapter, software: info.software }, classNames: meta.classNames, meanDice: mean, cases: results,
    })),
    writeAtomic(outDir, 'metrics.csv', evaluationCsv(results, meta.classNames)),
  ];
  if (scored.length) log(`mean Dice over ${scored.length} labelled case(s): ${mean.toFixed(4)}`);
  for (const r of results) io.out.write(`${r.prediction}\n`);
  for (const w of written) io.out.write(`${w}\n`);
  return io.interrupted ? 130 : 0;
}
