// `inflateseg train`: data → the app's TrainingRun (src/train/run.ts) on a fresh inflated encoder or a resumed
// checkpoint → model.safetensors (the app's checkpoint format) + metrics.json + metrics.csv in --out.
// Everything is checked (flags, files, grids, encoder) before the first file is written.
import path from 'node:path';
import { tmpdir } from 'node:os';
import { helpText, parseArgs, UsageError, type Args, type CommandSpec } from './args.ts';
import { BACKEND_FLAG, checkInterrupted, chooseEncoder, ENCODER_FLAGS, FORCE_FLAG, inflateOptions, loadEncoder, OUT_FLAG, readAnyModelFlag, useZlib, VERSION, type Io } from './common.ts';
import { classNamesFor, DataError, loadDataset, pairInputs, toCaseData } from './dataset.ts';
import { collectInputs } from './inputs.ts';
import { existing, historyCsv, toJson, writeAtomic } from './output.ts';
import { Progress, formatDuration } from './progress.ts';
import { encodeModelCheckpoint, type AnyCheckpoint } from '../weights/checkpoint.ts';
import { describeVolumeConfig, volumeModelConfig, volumeTrainDefaults, VOLUME_PRESET_NAMES, type VolumePresetName } from '../train/volumeDefaults.ts';
import { DEFAULT_TRAIN_CONFIG, type LossName, type RunState, type TrainConfig, type TrainEvent } from '../workers/train.protocol.ts';
import type { CliBackend } from './backend.ts';
import type { AugmentLevel } from '../data/windows/augment.ts';
import { MICRO_DEFAULTS_SPEC, suggestDefaults } from '../train/defaults.ts';
import type { InflationStrategy } from '../weights/types.ts';

/** The app's training defaults; each one is a flag. */
export const TRAIN_DEFAULTS: Readonly<TrainConfig> = DEFAULT_TRAIN_CONFIG;

const RESULTS = ['model.safetensors', 'metrics.json', 'metrics.csv'];
/** Flags that shape a new model: a resumed checkpoint already has them. */
const MODEL_FLAGS = ['encoder', 'strategy', 'T', 'size', 'channels', 'heads', 'hub', 'decoder', 'decoder-width'];

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'fine-tune an inflated 2D ViT, or train the volume-based 3D UNETR from scratch (or continue a checkpoint), on 3D images and label maps',
  usage: 'inflateseg train DATA... --encoder NAME --out DIR [options]\n       inflateseg train DATA... --model unetr3d [--preset browser|monai-btcv|micro] --out DIR [options]\n       inflateseg train DATA... --resume model.safetensors --steps N --out DIR [options]',
  positional: { name: 'DATA...', help: 'images and label maps (.nii, .nii.gz): files, quoted globs, or folders (an MSD-style task with imagesTr/ + labelsTr/). Labels pair with images as in the app: brain.nii.gz + brain_seg.nii.gz (also _label, _labels, _mask, _gt), imagesTr/x.nii.gz + labelsTr/x.nii.gz, _0000/_0001 channel files; a lookup file among them (dataset.json, .txt, .csv) names the classes.' },
  flags: [
    OUT_FLAG,
    { name: 'model', kind: 'string', choices: ['window', 'unetr3d'], default: 'window', help: 'window: an inflated 2D ViT over slice windows (--encoder); unetr3d: the volume-based baseline, UNETR over 3D crops, trained from scratch (MONAI\'s BTCV recipe: Dice + CE, AdamW weight decay 1e-5, lr 1e-4 for monai-btcv, 1e-3 browser, 3e-3 micro, crops by positive/negative label balance, sliding-window validation)' },
    { name: 'preset', kind: 'string', choices: VOLUME_PRESET_NAMES, default: 'browser', help: 'with --model unetr3d: browser (64³ crops, ViT 384 × 8: a step fits a laptop GPU), monai-btcv (MONAI\'s recipe: 96³ crops, ViT-Base 768 × 12) or micro (32³ crops, width 32: tests and quick tries)' },
    ...ENCODER_FLAGS,
    { name: 'resume', kind: 'string', arg: 'FILE', help: 'continue training a model checkpoint (.safetensors written by the app or the CLI) up to --steps; exact when it holds the optimiser state' },
    { name: 'steps', kind: 'int', min: 1, max: 10_000_000, arg: 'N', default: 'by encoder: micro 1500, other random init 2000, pre-trained 500', help: 'optimiser steps in total (a resumed run counts from its checkpoint\'s step)' },
    { name: 'batch', kind: 'int', min: 1, max: 4096, arg: 'N', default: String(TRAIN_DEFAULTS.batch), help: 'windows per step' },
    { name: 'lr', kind: 'number', min: 0, max: 10, arg: 'X', default: 'random init (micro, scratch) 1e-3, pre-trained 1e-4', help: 'peak learning rate (AdamW)' },
    { name: 'weight-decay', kind: 'number', min: 0, max: 10, arg: 'X', default: String(TRAIN_DEFAULTS.weightDecay), help: 'decoupled weight decay' },
    { name: 'warmup', kind: 'int', min: 0, arg: 'N', default: 'random init 50, pre-trained 20', help: 'warm-up steps' },
    { name: 'schedule', kind: 'string', choices: ['linear', 'cosine'], default: TRAIN_DEFAULTS.schedule, help: 'decay after warm-up' },
    { name: 'loss', kind: 'string', choices: ['dice-focal', 'dice-ce', 'ce'], default: TRAIN_DEFAULTS.loss, help: 'training loss' },
    { name: 'seed', kind: 'int', min: 0, max: 2 ** 31 - 1, arg: 'N', default: String(TRAIN_DEFAULTS.seed), help: 'seed of the decoder initialisation and the batches' },
    { name: 'val-every', kind: 'int', min: 0, arg: 'N', default: 'random init 100, pre-trained 50', help: 'validate every N steps (0: at the end only)' },
    { name: 'axis', kind: 'int', min: 0, max: 2, arg: '0|1|2', default: '2, axial', help: 'voxel axis of the RAS+ volume the windows run along' },
    { name: 'decoder', kind: 'string', choices: ['unetr', 'uper'], default: 'unetr', help: 'segmentation head' },
    { name: 'decoder-width', kind: 'int', min: 1, max: 1024, arg: 'N', help: 'channels of the head (default 64; 16 for encoders with D < 64)' },
    { name: 'augment', kind: 'string', choices: ['off', 'light', 'paper'], default: 'light', help: 'training augmentation: off, light (zoom 0.9–1.1, intensity shift: short runs) or paper (zoom 0.5–2, flips, quarter turns, shift: long runs)' },
    { name: 'clip', kind: 'number', min: 0, arg: 'X', default: String(TRAIN_DEFAULTS.clip), help: 'global gradient-norm clipping (0: off)' },
    { name: 'layer-decay', kind: 'number', min: 0.01, max: 1, arg: 'X', default: '1, off', help: 'layer-wise learning-rate decay' },
    { name: 'ignore-background', kind: 'bool', help: 'leave the background class out of the Dice loss' },
    { name: 'val', kind: 'string', arg: 'ID,ID', help: 'case ids to validate on (default: ~20 % of the labelled cases by a stable hash; a single case is split by slab)' },
    { name: 'val-fraction', kind: 'number', min: 0, max: 0.9, arg: 'X', default: '0.2', help: 'share of cases held out for validation' },
    { name: 'optimizer-state', kind: 'bool', default: 'on', help: 'save the AdamW state in the checkpoint, so --resume continues exactly (--no-optimizer-state: a smaller file)' },
    BACKEND_FLAG,
    { name: 'log-every', kind: 'int', min: 1, arg: 'N', help: 'when the output is not a terminal, print every N-th step (default: about 50 lines per run)' },
    FORCE_FLAG,
  ],
  notes: [
    'Writes DIR/model.safetensors (the app imports it: Import checkpoint…), DIR/metrics.json and DIR/metrics.csv (loss per step, validation Dice per class). Ctrl-C stops after the current step and writes them (exit status 130); a second Ctrl-C quits at once without writing. A failed step (NaN loss, out of memory) writes the last good weights and exits with status 1.',
  ],
  examples: [
    'inflateseg train public/samples/itk_kmeans_t1.nii.gz public/samples/itk_kmeans_t1_seg.nii.gz --encoder micro --size 32 --T 3 --steps 20 --out runs/try',
    'inflateseg train Task04_Hippocampus/ --encoder dino-vit-small --T 5 --size 128 --steps 2000 --batch 4 --out runs/hippo',
    'inflateseg train Task04_Hippocampus/ --resume runs/hippo/model.safetensors --steps 4000 --out runs/hippo2',
    'inflateseg train public/samples/itk_kmeans_t1.nii.gz public/samples/itk_kmeans_t1_seg.nii.gz --model unetr3d --preset micro --steps 50 --out runs/unetr',
  ],
};

/** The run's settings: the defaults, then a resumed checkpoint's, then the flags given. */
function trainConfig(a: Args, base: TrainConfig): TrainConfig {
  const cfg: TrainConfig = { ...base };
  if (a.has('steps')) cfg.steps = a.num('steps', 0);
  if (a.has('batch')) cfg.batch = a.num('batch', 0);
  if (a.has('lr')) cfg.lr = a.num('lr', 0);
  if (a.has('weight-decay')) cfg.weightDecay = a.num('weight-decay', 0);
  if (a.has('warmup')) cfg.warmupSteps = a.num('warmup', 0);
  if (a.has('schedule')) cfg.schedule = a.str('schedule') as TrainConfig['schedule'];
  if (a.has('loss')) cfg.loss = a.str('loss') as LossName;
  if (a.has('seed')) cfg.seed = a.num('seed', 0);
  if (a.has('val-every')) cfg.valEvery = a.num('val-every', 0);
  if (a.has('axis')) cfg.axis = a.num('axis', 2) as 0 | 1 | 2;
  if (a.has('decoder')) cfg.decoder = a.str('decoder') as 'unetr' | 'uper';
  if (a.has('decoder-width')) cfg.decoderWidth = a.num('decoder-width');
  if (a.has('augment')) cfg.augment = a.str('augment') as AugmentLevel;
  if (a.has('clip')) cfg.clip = a.num('clip', 1);
  if (a.has('layer-decay')) cfg.layerDecay = a.num('layer-decay', 1);
  if (a.has('ignore-background')) cfg.ignoreBackground = a.bool('ignore-background');
  if (a.has('backend')) cfg.backend = a.str('backend') as CliBackend;
  // NOTE: autosave sends a checkpoint to the page at each validation; the CLI writes its own at the end.
  delete cfg.autosave;
  return cfg;
}

export async function train(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(TRAIN, argv);
  if (a.help) { io.out.write(helpText(TRAIN)); return 0; }
  const log = (line: string) => io.err.write(line + '\n');

  // --- check the call -------------------------------------------------------------------------------------
  const outDir = a.str('out');
  if (!outDir) throw new UsageError('--out DIR is required (where model.safetensors and the metrics go)');
  if (a.positional.length === 0) throw new UsageError('no data: give image and label files, quoted globs, or a folder');
  const resume = a.str('resume');
  const volume = a.str('model') === 'unetr3d';
  if (!resume && !volume && !a.has('encoder')) throw new UsageError('--encoder NAME, --model unetr3d or --resume FILE is required');
  if (resume) {
    const clash = [...MODEL_FLAGS, 'model', 'preset'].filter((f) => a.has(f));
    if (clash.length) throw new UsageError(`--resume continues a saved model; ${clash.map((f) => `--${f}`).join(', ')} cannot change it (train a new model with --encoder or --model unetr3d instead)`);
  } else if (volume) {
    const clash = MODEL_FLAGS.filter((f) => a.has(f));
    if (clash.length) throw new UsageError(`--model unetr3d is trained from scratch at its preset's crop size; ${clash.map((f) => `--${f}`).join(', ')} belong to the window model (choose the size with --preset)`);
  } else if (a.has('preset')) {
    throw new UsageError('--preset chooses the size of --model unetr3d; the window model takes --encoder, --size and --T');
  }
  const preset = a.str('preset', 'browser') as VolumePresetName;
  const already = existing(outDir, RESULTS);
  if (already.length && !a.bool('force')) throw new UsageError(`--out ${outDir} already holds ${already.join(', ')}; pass --force to overwrite, or choose another folder`);
  const files = collectInputs(a.positional, 'data');
  const choice = resume || volume ? null : await chooseEncoder(a);
  let ckpt: AnyCheckpoint | null = null;
  if (resume) {
    ckpt = (await readAnyModelFlag('resume', resume)).checkpoint;
  }
  // NOTE: a new run takes the defaults of its encoder's kind (micro, random init, pre-trained: src/train/defaults.ts);
  // the input size follows the data once it is read.
  const suggested = choice ? suggestDefaults({ spec: MICRO_DEFAULTS_SPEC, strategy: a.str('strategy', 'center') as InflationStrategy, micro: choice.source.kind === 'micro' }) : null;
  const cfg = trainConfig(a, ckpt ? { ...TRAIN_DEFAULTS, ...ckpt.meta.train, backend: undefined } : volume ? { ...TRAIN_DEFAULTS, ...volumeTrainDefaults(preset) } : { ...TRAIN_DEFAULTS, ...suggested!.train });
  if (ckpt && cfg.steps <= ckpt.meta.step) throw new UsageError(`--steps ${cfg.steps}: ${resume} is already at step ${ckpt.meta.step}; set --steps above it to continue`);
  const valIds = a.str('val')?.split(',').map((s) => s.trim()).filter(Boolean);

  // --- read and check the data --------------------------------------------------------------------------------
  useZlib();
  const pairing = pairInputs(files);
  if (!pairing.cases.some((c) => c.label)) {
    throw new DataError(`no image with a label map among the data (${pairing.cases.length} image(s), unpaired labels: ${pairing.unpaired.join(', ') || 'none'})${pairing.notes.length ? '\n  ' + pairing.notes.join('\n  ') : ''}`);
  }
  const t0 = performance.now();
  log(`reading ${pairing.cases.filter((c) => c.label).length} labelled case(s)…`);
  const ds = await loadDataset(files, pairing, { labelledOnly: true, valFraction: a.num('val-fraction', 0.2), valIds, log });
  for (const n of ds.notes) log(`  note: ${n}`);
  checkInterrupted(io);
  const channels = ds.cases[0].image.volume.channels;
  const odd = ds.cases.find((c) => c.image.volume.channels !== channels);
  if (odd) throw new DataError(`${odd.imageFiles.join(' + ')} has ${odd.image.volume.channels} channel(s) but ${ds.cases[0].imageFiles.join(' + ')} has ${channels}; every case needs the same channels`);
  const want = ckpt ? ckpt.meta.config.inChans : a.num('channels', channels);
  if (want !== channels) throw new DataError(`${ckpt ? `${resume} takes` : '--channels'} ${want} channel(s) but ${ds.cases[0].imageFiles.join(' + ')} has ${channels}`);
  if (ckpt && ckpt.meta.config.numClasses !== ds.numClasses) {
    throw new DataError(`${resume} predicts ${ckpt.meta.config.numClasses} classes but the label maps hold values up to ${ds.numClasses - 1}; use labels with the same classes, or train a new model`);
  }
  log(`data read in ${formatDuration((performance.now() - t0) / 1000)}: ${ds.cases.length} case(s), ${ds.numClasses} classes`);

  // --- backend, encoder, run ----------------------------------------------------------------------------------
  const { startBackend, describeBackend } = await import('./backend.ts');
  const { makeRun } = await import('../train/anyRun.ts');
  const info = await startBackend(a.str('backend') as CliBackend | undefined);
  log(`backend: ${describeBackend(info)}`);
  for (const f of info.fallbacks) log(`  skipped ${f}`);
  checkInterrupted(io);
  let source: Parameters<typeof makeRun>[0];
  let encoderName: string;
  if (ckpt) {
    source = { kind: 'model', checkpoint: ckpt };
    encoderName = ckpt.meta.source;
    log(`resuming ${resume} at step ${ckpt.meta.step}${ckpt.optim ? ' with its optimiser state' : ' (no optimiser state: AdamW starts afresh)'}`);
  } else if (volume) {
    source = { kind: 'volume', config: volumeModelConfig(preset, channels, ds.numClasses) };
    encoderName = `UNETR 3D ${preset} (scratch)`;
  } else {
    const dims = ds.cases[0].image.volume.dims;
    const plane = [0, 1, 2].filter((k) => k !== cfg.axis).map((k) => dims[k]) as [number, number];
    const e = await loadEncoder(a, choice!, inflateOptions(a, channels, cfg.seed, plane), io);
    source = { kind: 'encoder', encoder: { spec: e.spec, options: e.options, tensors: e.tensors } };
    encoderName = e.source;
  }
  checkInterrupted(io);
  const classNames = ckpt ? ckpt.meta.classNames : classNamesFor(ds.names, ds.numClasses);
  const startStep = ckpt?.meta.step ?? 0;
  const progress = new Progress(io.err, cfg.steps, a.num('log-every', Math.max(1, Math.ceil((cfg.steps - startStep) / 50))), startStep);
  let state = 'starting' as RunState;
  let failure = '';
  const emit = (e: TrainEvent) => {
    if (e.type === 'step') progress.step(e.step, e.loss, e.lr);
    else if (e.type === 'validation') {
      const per = e.dice.slice(1).map((d, i) => `${classNames[i + 1] ?? i + 1} ${Number.isNaN(d) ? '–' : d.toFixed(3)}`).join(', ');
      progress.log(`validation at step ${e.step}: mean Dice ${e.meanDice.toFixed(4)}${per ? ` (${per})` : ''}`);
    } else if (e.type === 'state') {
      state = e.state;
      if (e.state === 'failed') failure = e.message ?? 'the run failed';
    } else if (e.type === 'note') progress.log(`note: ${e.message}`);
    else if (e.type === 'error') progress.log(`error: ${e.message}`);
  };
  const run = makeRun(source, ds.cases.map(toCaseData), ds.numClasses, cfg, { classNames, source: encoderName, appVersion: VERSION }, emit);
  for (const n of run.notes) log(`note: ${n}`);
  io.onInterrupt(() => {
    progress.log('Ctrl-C: stopping after this step and saving (Ctrl-C again quits without saving)');
    run.stop();
  });
  const model = 'imgSize' in run.config ? `${run.config.imgSize} px, T = ${run.config.T}, ${run.config.decoder} head` : describeVolumeConfig(run.config);
  log(`training steps ${startStep + 1}…${cfg.steps}, batch ${cfg.batch}, lr ${cfg.lr}, ${model}`);
  const tRun = performance.now();
  try {
    await run.run();
  } finally {
    progress.done();
    io.onInterrupt(null);
  }

  // --- write the results --------------------------------------------------------------------------------------
  const checkpoint = await run.checkpoint(a.has('optimizer-state') ? a.bool('optimizer-state') : true);
  const elapsed = (performance.now() - tRun) / 1000;
  const written = [
    writeOrRescue(outDir, 'model.safetensors', encodeModelCheckpoint(checkpoint), log),
    writeAtomic(outDir, 'metrics.json', toJson({
      command: 'train', version: VERSION, state, ...(failure ? { failure } : {}), step: checkpoint.meta.step, elapsedSeconds: elapsed,
      backend: { name: info.name, adapter: info.adapter, software: info.software }, source: encoderName,
      model: checkpoint.meta.config, inflation: 'inflation' in checkpoint.meta ? checkpoint.meta.inflation : null, train: cfg, classNames,
      cases: ds.cases.map((c) => ({ id: c.id, split: c.split, images: c.imageFiles, label: c.labelFile })),
      intensity: checkpoint.meta.intensity, history: checkpoint.meta.history,
    })),
    writeAtomic(outDir, 'metrics.csv', historyCsv(checkpoint.meta.history, classNames)),
  ];
  run.dispose();
  const last = checkpoint.meta.history.validations.at(-1);
  log(`${state === 'done' ? 'done' : state} at step ${checkpoint.meta.step} in ${formatDuration(elapsed)}${last ? `; last validation mean Dice ${last.meanDice.toFixed(4)} (step ${last.step})` : ''}`);
  if (failure) log(`error: ${failure}\n  ${path.join(outDir, 'model.safetensors')} holds the last good weights (step ${checkpoint.meta.step}); continue with --resume`);
  for (const w of written) io.out.write(`${w}\n`);
  return state === 'failed' ? 1 : state === 'stopped' ? 130 : 0;
}

/**
 * Writes the trained model; when --out cannot take it (disk full, no permission, a folder in the way), the weights
 * go to the system's temp folder instead and the log says where, so hours of training are not lost to a failed
 * write. Throws only when both writes fail, naming both.
 */
export function writeOrRescue(dir: string, name: string, bytes: Uint8Array, log: (line: string) => void, rescueDir = tmpdir()): string {
  try {
    return writeAtomic(dir, name, bytes);
  } catch (err) {
    const first = err instanceof Error ? err.message : String(err);
    try {
      const rescued = writeAtomic(rescueDir, `inflateseg-rescued-${process.pid}-${name}`, bytes);
      log(`error: ${first}\n  the trained model was written to ${rescued} instead; move it where you want it (it is a complete checkpoint)`);
      return rescued;
    } catch (again) {
      throw new Error(`${first}; writing it to ${rescueDir} failed too (${again instanceof Error ? again.message : String(again)}): the trained weights are lost`, { cause: again });
    }
  }
}
