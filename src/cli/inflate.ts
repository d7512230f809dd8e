// `inflateseg inflate`: a 2D encoder → the inflated 3D encoder as the app exports it (encodeEncoder: timm names,
// Conv3d patch kernel [D, C_in, T, P, P], config in __metadata__), which `train --encoder FILE` or the app loads as is.
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.ts';
import { chooseEncoder, ENCODER_FLAGS, FORCE_FLAG, inflateOptions, loadEncoder, OUT_FLAG, type Io } from './common.ts';
import { existing, writeAtomic } from './output.ts';
import { encodeEncoder } from '../weights/export.ts';
import { inflationOverhead } from '../weights/flops.ts';

export const INFLATE: CommandSpec = {
  name: 'inflate',
  summary: 'convert a 2D ViT checkpoint to the inflated 3D encoder (no training)',
  usage: 'inflateseg inflate --encoder NAME --out DIR [--strategy S] [--T N] [--size PX] [--channels N]',
  flags: [
    OUT_FLAG,
    ...ENCODER_FLAGS.map((f) => (f.name === 'channels' ? { ...f, default: '1' } : f)),
    { name: 'seed', kind: 'int', min: 0, max: 2 ** 31 - 1, arg: 'N', default: '0', help: 'seed of the random initialisation (--strategy scratch)' },
    FORCE_FLAG,
  ],
  notes: ['Writes DIR/encoder.safetensors: timm names, the patch kernel as a PyTorch Conv3d weight, the encoder config in its metadata.'],
  examples: ['inflateseg inflate --encoder dino-vit-small --T 5 --size 128 --out encoders/dino-s-T5'],
};

export async function inflateCommand(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(INFLATE, argv);
  if (a.help) { io.out.write(helpText(INFLATE)); return 0; }
  if (a.positional.length) throw new UsageError(`inflate takes no data (${a.positional[0]}); give the encoder with --encoder`);
  const outDir = a.str('out');
  if (!outDir) throw new UsageError('--out DIR is required (where encoder.safetensors goes)');
  if (!a.has('encoder')) throw new UsageError('--encoder is required (micro, a preset, a Hub repo id or a checkpoint file)');
  const already = existing(outDir, ['encoder.safetensors']);
  if (already.length && !a.bool('force')) throw new UsageError(`--out ${outDir} already holds encoder.safetensors; pass --force to overwrite, or choose another folder`);
  const options = inflateOptions(a, 1, a.num('seed', 0));
  const e = await loadEncoder(a, await chooseEncoder(a), options, io);
  const o = e.options;
  io.err.write(`  a window of ${o.T} slice(s) costs ${(100 * inflationOverhead(e.spec, o.imgSize, o.inChans, o.T)).toFixed(2)} % more compute than one slice\n`);
  const file = writeAtomic(outDir, 'encoder.safetensors', encodeEncoder(e.tensors, e.spec, e.options, { source: e.source, spec2d: e.spec2d }));
  io.out.write(`${file}\n`);
  return 0;
}
