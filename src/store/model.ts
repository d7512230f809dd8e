// Model slice actions: pick an encoder (preset, Hub id, local checkpoint), convert + inflate it in the weights
// worker, convert the same 2D source again (other strategy), cancel, export. A failed conversion leaves the previous
// encoder in place.
import { WeightsClient, ConversionError } from '../workers/weightsClient.ts';
import type { ConvertOptions, WeightsSource } from '../workers/weights.protocol.ts';
import { applyEncoderDefaults, slicePlane } from './train.ts';
import type { LayoutHint } from '../weights/layouts/index.ts';
import { encodeEncoder } from '../weights/export.ts';
import { MICRO_NAME } from '../weights/micro.ts';
import { getState, setState, type ModelOptions } from './store.ts';
import { notify } from './actions.ts';

let client: WeightsClient | null = null;
const weights = () => (client ??= new WeightsClient());
/** The checkpoint of the encoder in use (the last conversion that succeeded), to convert it again with other options. */
let lastSource: { source: WeightsSource; hint?: LayoutHint; label: string } | null = null;

export function setModelOptions(patch: Partial<ModelOptions>) {
  setState((s) => ({ modelOptions: { ...s.modelOptions, ...patch } }));
}

/**
 * Converts and inflates an encoder; resolves when done (or failed: the message goes to the notices). The training
 * settings then follow the new encoder's kind (applyEncoderDefaults), unless `keepTrainSettings` (a comparison keeps
 * one budget for every strategy).
 */
export async function convert(source: WeightsSource, hint?: LayoutHint, { keepTrainSettings = false } = {}): Promise<boolean> {
  const s = getState();
  if (s.conversion.status === 'converting') cancelConversion();
  const o = s.modelOptions;
  const options: ConvertOptions = {
    strategy: o.strategy, T: o.strategy === '2d' ? 1 : o.T, inChans: o.inChans, imgSize: o.imgSize ?? 224, seed: 0,
    ...(o.imgSize === null ? { autoSize: { plane: slicePlane(s) } } : {}),
  };
  const label = source.kind === 'hub' ? source.repo : source.kind === 'micro' ? MICRO_NAME : source.files.map((f) => f.name).join(' + ');
  const job = weights().convert(source, options, hint, (phase, done, total, detail) =>
    setState((st) => ({ conversion: { ...st.conversion, phase, done, total, detail } })),
  );
  setState({ conversion: { status: 'converting', source: label, jobId: job.id, phase: source.kind === 'hub' ? 'download' : 'read', done: 0, total: 0 } });
  try {
    const encoder = await job.done;
    lastSource = { source, hint, label };
    setState({ encoder, conversion: { status: 'idle' } });
    if (!keepTrainSettings) applyEncoderDefaults(encoder);
    notify('info', `${label}: encoder ready (${encoder.params.toLocaleString('en')} parameters, ${encoder.options.strategy}, T = ${encoder.options.T}).`, label);
    return true;
  } catch (err) {
    const cancelled = err instanceof ConversionError && err.cancelled;
    const message = err instanceof Error ? err.message : String(err);
    setState({ conversion: cancelled ? { status: 'idle' } : { status: 'failed', source: label, error: message } });
    const keep = getState().encoder ? ` The previous encoder (${getState().encoder!.source}) is still in use.` : '';
    notify(cancelled ? 'info' : 'error', cancelled ? `${label}: conversion cancelled.${keep}` : `${message}${keep}`, label);
    return false;
  }
}

/** The name (file names or Hub id) of the 2D checkpoint that `convertAgain` would convert, if any. */
export const lastConversionSource = (): string | null => lastSource?.label ?? null;

/** Converts the last 2D checkpoint again, after applying `patch` to the model options (e.g. another strategy). */
export function convertAgain(patch: Partial<ModelOptions> = {}): Promise<boolean> {
  if (!lastSource) return Promise.resolve(false);
  setModelOptions(patch);
  return convert(lastSource.source, lastSource.hint, { keepTrainSettings: true });
}

export function cancelConversion() {
  const { conversion } = getState();
  if (conversion.status === 'converting' && conversion.jobId !== undefined) weights().cancel(conversion.jobId);
}

export function convertFromHub(repo: string, hint?: LayoutHint) {
  return convert({ kind: 'hub', repo: repo.trim(), baseUrl: getState().modelOptions.hubBaseUrl }, hint);
}

export function convertFromFiles(files: Array<{ name: string; blob: Blob }>) {
  return convert({ kind: 'files', files });
}

/** The current encoder as a .safetensors file (timm names, Conv3d patch kernel, config in __metadata__). */
export function exportEncoder(): { name: string; bytes: Uint8Array } | null {
  const e = getState().encoder;
  if (!e) return null;
  const bytes = encodeEncoder(e.tensors, e.spec, e.options, { source: e.source, spec2d: e.spec2d });
  const base = e.source.split('/').pop()!.replace(/\.(safetensors|pth|pt|bin)$/i, '');
  return { name: `${base}_inflated_${e.options.strategy}_T${e.options.T}.safetensors`, bytes };
}

/** The built-in micro ViT (random init, no download): for a quick try of the whole flow. */
export function convertMicro() {
  return convert({ kind: 'micro' });
}
