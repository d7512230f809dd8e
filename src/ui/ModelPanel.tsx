// Model panel: choose a pre-trained encoder (preset, Hugging Face id, local checkpoint), the inflation strategy,
// window T, input channels and size; convert in the weights worker with progress and cancel; export the result;
// choose the decoder head and its width for the next training run.
import { useRef, useState } from 'react';
import { useStore } from '../store/store.ts';
import { cancelConversion, convertFromFiles, convertFromHub, convertMicro, exportEncoder, setModelOptions } from '../store/model.ts';
import { chooseModel, setTrainConfig } from '../store/train.ts';
import { useModelChoice } from '../store/volume.ts';
import type { VolumePresetName } from '../train/volumeDefaults.ts';
import { PRESETS } from '../weights/presets.ts';
import { encoderCost, inflationOverhead } from '../weights/flops.ts';
import type { InflationStrategy } from '../weights/types.ts';
import type { TrainConfig } from '../workers/train.protocol.ts';
import { downloadBytes } from './download.ts';
import { NumberField } from './NumberField.tsx';

const STRATEGIES: Array<{ id: InflationStrategy; title: string; note: string }> = [
  { id: 'center', title: 'Centre (inflate)', note: 'The 2D kernel on the centre slice, zeros elsewhere: starts as the 2D model and learns depth. Best in the paper.' },
  { id: 'average', title: 'Average', note: 'The 2D kernel spread evenly over the T slices (I3D-style). Close to centre in the paper.' },
  { id: '2d', title: '2D slices', note: 'One slice at a time (T = 1): the slice-based baseline the paper beats with depth.' },
  { id: 'scratch', title: 'From scratch', note: 'Same architecture, random weights: the paper shows pre-training matters most.' },
];

type DecoderKind = NonNullable<TrainConfig['decoder']>;

const DECODERS: Array<{ id: DecoderKind; title: string; note: string }> = [
  { id: 'unetr', title: 'UNETR-style (light)', note: 'Four tapped blocks, learned upsampling and a small top-down fusion: fast in a browser, the default.' },
  { id: 'uper', title: 'UPerNet (as in the paper)', note: 'Blocks at strides 4/8/16/32, pyramid pooling and an FPN: the paper\'s head, heavier per step.' },
];

/** The width the run picks when none is set (src/train/run.ts: 16 for micro encoders with D < 64, else 64). */
const autoDecoderWidth = (embedDim: number): number => (embedDim < 64 ? 16 : 64);

const FAMILY_NAMES: Record<string, string> = { vit: 'ViT', deit: 'DeiT', dino: 'DINO', beit: 'BEiT', swin: 'Swin', videoswin: 'Video Swin' };

/** What the inflation choices mean for the hierarchical families (METHOD.md, models/CANONICAL_KEYS.md). */
const SWIN_NOTES: Record<'swin' | 'videoswin', string> = {
  swin: 'Swin: the 4×4 patch kernel is inflated as for ViT (centre, average, 2D, scratch); every stage after the embedding stays 2D; sizes are multiples of 32.',
  videoswin: 'Video Swin: the kernel is already 3D (2 slices × 4×4) and is kept: centre and average give the same weights (only the colour steps apply) and T is the slices per window; 2D sums the two slices into one (T = 1); scratch is random weights.',
};

export function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
}

function formatFlops(f: number): string {
  return f >= 1e9 ? `${(f / 1e9).toFixed(2)} GFLOPs` : `${(f / 1e6).toFixed(2)} MFLOPs`;
}

const VOLUME_PRESETS: Array<{ id: VolumePresetName; title: string }> = [
  { id: 'browser', title: 'Browser: 64³ crops, ViT 384 × 8 (a step fits a laptop GPU)' },
  { id: 'monai-btcv', title: 'MONAI BTCV recipe: 96³ crops, ViT-Base 768 × 12' },
  { id: 'micro', title: 'Micro: 32³ crops, width 32 (quick try, tests)' },
];

/** Which model family the next run trains: the window model (the encoder below) or the volume-based 3D UNETR. */
function ModelKindChoice({ disabled }: { disabled: boolean }) {
  const choice = useModelChoice();
  return (
    <fieldset className="strategies model-kind" data-testid="model-kind">
      <legend>Model</legend>
      <label className="strategy">
        <input type="radio" name="model-kind" value="window" checked={choice.kind === 'window'} disabled={disabled} onChange={() => chooseModel({ kind: 'window' })} data-testid="model-kind-window" />
        <span><b>Window-based (inflated 2D ViT)</b><small>A pre-trained 2D encoder inflated to windows of T slices (the encoder below).</small></span>
      </label>
      <label className="strategy">
        <input type="radio" name="model-kind" value="unetr3d" checked={choice.kind === 'unetr3d'} disabled={disabled} onChange={() => chooseModel({ kind: 'unetr3d' })} data-testid="model-kind-unetr3d" />
        <span><b>Volume-based (3D UNETR, from scratch)</b><small>UNETR over 3D crops as in MONAI&apos;s BTCV recipe: trained from random weights, predicted by sliding window; no encoder needed.</small></span>
      </label>
      {choice.kind === 'unetr3d' && (
        <label className="field"><span>Size</span>
          <select value={choice.preset} disabled={disabled} onChange={(e) => chooseModel({ preset: e.target.value as VolumePresetName })} data-testid="volume-preset">
            {VOLUME_PRESETS.map((p) => <option key={p.id} value={p.id}>{p.title}</option>)}
          </select>
        </label>
      )}
    </fieldset>
  );
}

export function ModelPanel() {
  const opts = useStore((s) => s.modelOptions);
  const conv = useStore((s) => s.conversion);
  const enc = useStore((s) => s.encoder);
  const trainCfg = useStore((s) => s.trainConfig);
  const runState = useStore((s) => s.run.state);
  const training = runState === 'running' || runState === 'paused' || runState === 'starting';
  const decoder = trainCfg.decoder ?? 'unetr';
  const autoWidth = enc ? autoDecoderWidth(enc.spec.embedDim) : undefined;
  const [preset, setPreset] = useState(PRESETS[0]?.repo ?? '');
  const [repo, setRepo] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const busy = conv.status === 'converting';
  const pct = conv.total ? Math.round((100 * (conv.done ?? 0)) / conv.total) : undefined;
  const spec = enc?.spec;
  // Compute of the encoder in use, at its own input size, channels and window.
  const eo = enc?.options;
  const overhead = spec && eo ? inflationOverhead(spec, eo.imgSize, eo.inChans, eo.T) : undefined;
  const cost = spec && eo ? encoderCost(spec, eo.imgSize, eo.inChans, eo.T) : undefined;
  // The Swin note follows the encoder in use, else the preset picked.
  const familyNow = spec?.family ?? PRESETS.find((p) => p.repo === preset)?.family;
  const swinFamily = familyNow === 'swin' || familyNow === 'videoswin' ? familyNow : undefined;

  return (
    <section className="panel model-panel" aria-label="Model">
      <ModelKindChoice disabled={training} />
      <h2>Encoder</h2>
      {!enc && !busy && <p className="hint" data-testid="no-encoder">No encoder yet: pick a pre-trained one below, or drop a checkpoint (.safetensors, .pth, .bin) on the page.</p>}
      {busy && (
        <div className="progress" role="status" data-testid="conversion-progress">
          <div>{conv.source}: {conv.phase}{conv.detail ? ` ${conv.detail}` : ''}{pct !== undefined ? ` ${pct} %` : '…'}</div>
          <progress max={100} value={pct} />
          <button onClick={cancelConversion} data-testid="conversion-cancel">Cancel</button>
        </div>
      )}

      {enc && spec && (
        <div className="encoder-card" data-testid="encoder-card">
          <div className="encoder-title">{enc.source}</div>
          <dl>
            <dt>Family</dt><dd data-testid="encoder-family">{FAMILY_NAMES[spec.family]} · {spec.layout}</dd>
            {spec.swin ? (
              <><dt>Size</dt><dd data-testid="encoder-stages">C {spec.embedDim}–{spec.embedDim * 2 ** (spec.swin.depths.length - 1)} · stages {spec.swin.depths.join('-')} · heads {spec.swin.heads.join('-')} · window {spec.swin.window.join('×')} · patch {spec.swin.patchDepth > 1 ? `${spec.swin.patchDepth}×` : ''}{spec.patchSize}×{spec.patchSize}</dd>
                <dt>Tokens</dt><dd>{enc.spec2d.grid.join('×')} → {spec.grid.join('×')} at stage 0, strides {spec.swin.depths.map((_, s) => spec.patchSize * 2 ** s).join('/')}</dd></>
            ) : (
              <><dt>Size</dt><dd>D {spec.embedDim} · {spec.depth} blocks · {spec.numHeads} heads · patch {spec.patchSize}</dd>
                <dt>Tokens</dt><dd>{enc.spec2d.grid.join('×')} → {spec.grid.join('×')}{spec.hasClsToken ? ' + cls' : ''}{spec.hasDistToken ? ' + dist' : ''}</dd></>
            )}
            <dt>Patch kernel</dt><dd data-testid="encoder-kernel">[{enc.tensors.find((t) => t.name === 'patch_embed.proj.weight')?.shape.join(', ')}]</dd>
            <dt>Strategy</dt><dd>{enc.options.strategy}, T = {enc.options.T}</dd>
            <dt>Parameters</dt><dd data-testid="encoder-params">{formatCount(enc.params)}</dd>
            {cost && <><dt>Compute</dt><dd data-testid="encoder-compute">{formatFlops(2 * cost.totalMacs)} / window{overhead !== undefined && eo!.T > 1 ? ` (+${(overhead * 100).toFixed(2)} % over one slice)` : ''}</dd></>}
            <dt>Keys</dt><dd>{enc.report.used} used, {enc.report.renamed} renamed, {enc.report.dropped.length} dropped</dd>
          </dl>
          {enc.report.dropped.length > 0 && (
            <details><summary>Dropped keys</summary><ul className="dropped">{enc.report.dropped.map((d) => <li key={d.key}><code>{d.key}</code> {d.reason}</li>)}</ul></details>
          )}
          {enc.notes.length > 0 && <ul className="notes">{enc.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
          <button onClick={() => { const f = exportEncoder(); if (f) downloadBytes(f.bytes, f.name); }} data-testid="encoder-export">Export inflated weights (.safetensors)</button>
        </div>
      )}
      <label className="field">
        <span>Pre-trained preset (downloaded from the Hugging Face Hub when you ask)</span>
        <select value={preset} onChange={(e) => setPreset(e.target.value)} data-testid="preset-select">
          {PRESETS.map((p) => <option key={p.repo} value={p.repo}>{p.title}</option>)}
        </select>
      </label>
      <button disabled={busy || !preset} onClick={() => void convertFromHub(preset, { family: PRESETS.find((p) => p.repo === preset)?.family })} data-testid="preset-load">
        Download and inflate
      </button>
      <label className="field">
        <span>…or any Hub model id</span>
        <input type="text" value={repo} placeholder="timm/vit_small_patch16_224.dino" onChange={(e) => setRepo(e.target.value)} aria-label="Hugging Face model id" data-testid="hub-id"
          onKeyDown={(e) => { if (e.key === 'Enter' && repo.trim()) void convertFromHub(repo); }} />
      </label>
      <div className="button-row">
        <button disabled={busy || !repo.trim()} onClick={() => void convertFromHub(repo)} data-testid="hub-load">Load id</button>
        <button disabled={busy} onClick={() => fileInput.current?.click()}>Open checkpoint…</button>
        <button disabled={busy} onClick={() => void convertMicro()} data-testid="micro-encoder"
          title="A tiny ViT (D 32, depth 2, patch 8) with random weights, made here: nothing is downloaded. For trying the app in seconds — it is not pre-trained.">
          Micro ViT (quick try)
        </button>
      </div>
      <input ref={fileInput} type="file" multiple hidden accept=".safetensors,.pth,.pt,.bin,.ckpt,.json" data-testid="checkpoint-input"
        onChange={(e) => { const fs = Array.from(e.target.files ?? []); if (fs.length) void convertFromFiles(fs.map((f) => ({ name: f.name, blob: f }))); e.target.value = ''; }} />

      <fieldset className="strategies">
        <legend>Inflation</legend>
        {swinFamily && <p className="hint" data-testid="swin-inflation-note">{SWIN_NOTES[swinFamily]}</p>}
        {STRATEGIES.map((s) => (
          <label key={s.id} className="strategy">
            <input type="radio" name="strategy" value={s.id} checked={opts.strategy === s.id} onChange={() => setModelOptions({ strategy: s.id })} />
            <span><b>{s.title}</b><small>{s.note}</small></span>
          </label>
        ))}
      </fieldset>
      <div className="field three">
        <label><span>Window T</span>
          <NumberField integer min={1} max={15} step={2} value={opts.strategy === '2d' ? 1 : opts.T} disabled={opts.strategy === '2d'} onCommit={(T) => setModelOptions({ T })} testId="opt-T" />
        </label>
        <label><span>Channels</span>
          <NumberField integer min={1} max={8} value={opts.inChans} onCommit={(inChans) => setModelOptions({ inChans })} testId="opt-channels" />
        </label>
        <label><span>Size (px)</span>
          <input type="number" min={16} max={1024} step={16} value={opts.imgSize ?? ''} placeholder="auto" data-testid="opt-size"
            title="Empty: automatic — the data's in-plane size, rounded to the patch size, up to the encoder's own size (64 px for the micro ViT)"
            onChange={(e) => { const v = Math.round(Number(e.target.value)); setModelOptions({ imgSize: e.target.value.trim() === '' || !(v >= 1) ? null : v }); }} />
        </label>
      </div>
      <details className="advanced">
        <summary>Hub address</summary>
        <label className="field"><span>Base URL (a mirror, or a local server)</span>
          <input type="url" value={opts.hubBaseUrl} onChange={(e) => setModelOptions({ hubBaseUrl: e.target.value })} data-testid="hub-base" />
        </label>
      </details>
      <p className="hint">Changing these applies at the next conversion.</p>

      <h2>Decoder</h2>
      <label className="field">
        <span>Head</span>
        <select value={decoder} disabled={training} onChange={(e) => setTrainConfig({ decoder: e.target.value as DecoderKind })} data-testid="cfg-decoder">
          {DECODERS.map((d) => <option key={d.id} value={d.id} title={d.note}>{d.title}</option>)}
        </select>
      </label>
      <ul className="hint" data-testid="decoder-notes">
        {DECODERS.map((d) => <li key={d.id}><b>{d.title}</b>: {d.note}</li>)}
      </ul>
      <label className="field">
        <span>Decoder width (channels; empty = automatic: {autoWidth ? `${autoWidth} for this encoder` : '16 for micro encoders with D < 64, else 64'}; the paper uses 256 for real models)</span>
        <input type="number" min={1} max={1024} step={1} value={trainCfg.decoderWidth ?? ''} placeholder={autoWidth ? `auto (${autoWidth})` : 'auto'} disabled={training} data-testid="cfg-decoder-width"
          onChange={(e) => setTrainConfig({ decoderWidth: e.target.value.trim() === '' ? undefined : Math.max(1, Math.round(Number(e.target.value))) })} />
      </label>
      <p className="hint">{training ? 'Locked while a run is active.' : 'Applies at the next training run.'}</p>

    </section>
  );
}
