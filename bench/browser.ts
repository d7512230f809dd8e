// Training steps inside real Chromium (`npm run bench:browser`): the Node benchmark's code (src/cli/benchCore.ts,
// forced src/train/backend.ts chooseBackend) in a worker of a small page (bench/browser/), built by Vite into a temp
// dir and served by its preview server, one fresh page per backend (wasm, webgl, cpu, webgpu); each backend's plain
// matMul, then the training rows of bench/train.ts where an estimate says a step takes under BENCH_SLOW_S. tfjs's wasm
// in Node runs the same shapes in the same run, each Node row right before the page's wasm row (page vs Node).
// Reported, never asserted: bench/RESULTS.md, bench/results-browser.json.
// Env: BENCH_BROWSER_BACKENDS (wasm,webgl,cpu,webgpu), BENCH_TRAIN_REPS (3), BENCH_SLOW_S (20), BENCH_NODE (1: Node wasm
// rows too; 0: not), BENCH_SHAPES (rows whose label contains one of these, e.g. 'micro,vit_tiny 128'), BENCH_OUT
// (bench/results-browser.json); INFLATESEG_CHROMIUM (/usr/bin/chromium) as the e2e tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import * as tf from '@tensorflow/tfjs';
import { CHROMIUM, DEFAULT_ARGS } from '../test/e2e/harness.ts';
import { chooseBackend, isBackendName, type BackendName } from '../src/train/backend.ts';
import { benchTrainStep, matMulThroughput, type MatMulThroughput } from '../src/cli/benchCore.ts';
import { benchTrainShapes, growthText, mib, shapeFlops, shapeLabel, type BenchEncoder, type BenchSwin, type StepShape } from '../src/cli/benchShapes.ts';
import type { BenchCall, BenchReply, BenchRequest, PageStep } from './browser/protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const env = (k: string, d: string) => (process.env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const BACKENDS = env('BENCH_BROWSER_BACKENDS', 'wasm,webgl,cpu,webgpu');
const REPS = Math.max(1, Number(process.env.BENCH_TRAIN_REPS ?? 3));
const SLOW_MS = 1000 * Number(process.env.BENCH_SLOW_S ?? 20);
const NODE = (process.env.BENCH_NODE ?? '1') !== '0';
const SHAPES = env('BENCH_SHAPES', '');
/** NOTE: a page request that has not answered after this long is given up (the page is closed): a hung backend. */
const ROW_TIMEOUT_MS = Math.max(180_000, 6 * SLOW_MS);
const say = (s: string) => console.log(s);
const f1 = (x: number) => x.toFixed(1);
const load1 = () => Number(os.loadavg()[0].toFixed(2));
/** A row's name; also how rows are matched (a page's reply carries a copy of the shape). */
const label = shapeLabel;
for (const b of BACKENDS) if (!isBackendName(b)) throw new Error(`BENCH_BROWSER_BACKENDS: '${b}' is not a backend (webgpu, wasm, webgl, cpu)`);

// The rows of bench/train.ts: micro 32 px, ViT-Tiny and ViT-Small at 128 and 224 px, both heads, T 5, batch 2.
const TRAIN_SHAPES = benchTrainShapes(SHAPES);

interface Row {
  where: 'node' | 'page';
  backend: string;
  shape: StepShape;
  stepGflop: number;
  /** 1-minute load average when the row started. */
  load1: number;
  decoderWidth?: number; warmupMs?: number[]; ms?: number[]; medianMs?: number; samplesPerSec?: number; gflopsPerSec?: number;
  fractionOfMatMul?: number; memoryAfter?: PageStep['memoryAfter']; growth?: PageStep['growth'];
  /** Not timed: the estimate was over BENCH_SLOW_S, or the first step over twice that. */
  skipped?: string;
  estimateMs?: number;
  /** The backend failed on this row: its message, as the page gave it. */
  error?: string;
}

function stepRow(where: Row['where'], backend: string, b: PageStep, mm: MatMulThroughput, load: number): Row {
  return {
    where, backend, shape: b.shape, stepGflop: b.flops.stepFlops / 1e9, load1: load, decoderWidth: b.decoderWidth, warmupMs: b.warmupMs, ms: b.ms,
    medianMs: b.median, samplesPerSec: b.samplesPerSec, gflopsPerSec: b.gflops, fractionOfMatMul: b.gflops / mm.best,
    memoryAfter: b.memoryAfter, growth: b.growth, skipped: b.skipped,
  };
}

function sayRow(r: Row) {
  const head = `${label(r.shape).padEnd(30)} ${`${r.where} ${r.backend}`.padEnd(12)}`;
  if (r.error) return say(`${head} FAILED: ${r.error}`);
  if (r.medianMs === undefined || (r.skipped && !r.ms?.length)) return say(`${head} ${r.skipped}`);
  say(`${head} ${r.medianMs.toFixed(0).padStart(6)} ms (${r.ms!.map((m) => m.toFixed(0)).join(', ')})  ${r.samplesPerSec!.toFixed(2)} samples/s  ${r.stepGflop.toFixed(2)} GFLOP/step → `
    + `${r.gflopsPerSec!.toFixed(2)} GFLOP/s = ${(100 * r.fractionOfMatMul!).toFixed(1)} % of matMul; ${r.memoryAfter!.numTensors} tensors ${mib(r.memoryAfter!.numBytes)} ${growthText(r.growth!)}; load ${r.load1}`);
}

// --- tfjs's wasm in Node (this process): the reference for the page's wasm and for the estimates ----------------------
const node: { adapter: string; matmul: MatMulThroughput | null } = { adapter: '', matmul: null };
async function nodeWasmRow(shape: StepShape): Promise<Row> {
  if (!node.matmul) {
    node.adapter = (await chooseBackend('wasm')).adapter;
    node.matmul = await matMulThroughput();
    say(`node wasm — ${node.adapter}: plain matMul ${node.matmul.sizes.map((s) => `${s.n}² ${f1(s.gflops)}`).join(', ')} GFLOP/s (best ${f1(node.matmul.best)})`);
  }
  const load = load1();
  const b = await benchTrainStep(shape, { steps: REPS });
  const { config, memory, ...rest } = b;
  return stepRow('node', 'wasm', { ...rest, decoderWidth: config.decoderWidth, memoryAfter: memory[memory.length - 1] }, node.matmul, load);
}

// --- the page ----------------------------------------------------------------------------------------------------
/** Builds bench/browser/ with the app's Vite config (its worker format and defines) into a temp dir and serves it. */
async function serve(): Promise<{ url: string; close(): Promise<void> }> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'inflateseg-bench-browser-'));
  const t0 = Date.now();
  await build({ root: ROOT, logLevel: 'warn', publicDir: false, build: { outDir, emptyOutDir: true, sourcemap: false, rolldownOptions: { input: path.join(ROOT, 'bench/browser/index.html') } } });
  const server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', open: false } });
  say(`built bench/browser/ in ${f1((Date.now() - t0) / 1000)} s`);
  return {
    url: `${server.resolvedUrls!.local[0]}bench/browser/index.html`,
    async close() { await server.close(); rmSync(outDir, { recursive: true, force: true }); },
  };
}

class PageTimeout extends Error {}

/** One request to the page's worker; a reply that does not come within `ms` closes the page. */
async function call(page: Page, req: BenchRequest, ms = ROW_TIMEOUT_MS): Promise<BenchReply> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new PageTimeout(`no answer after ${ms / 1000} s`)), ms); });
  try {
    return await Promise.race([page.evaluate((r) => (window as unknown as { benchCall: BenchCall }).benchCall(r), req), timeout]);
  } catch (err) {
    if (err instanceof PageTimeout) await page.close().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

interface BackendRecord { backend: string; adapter?: string; software?: boolean; info?: unknown; matmul?: MatMulThroughput; error?: string; pageErrors: string[]; seconds: number }

/**
 * One backend in a fresh page: start it, its matMul, then each row unless estimated over SLOW_MS. NOTE: the estimate
 * is the larger of (a) the reference time (Node wasm, else this run's page wasm) × this backend's slowdown against it
 * on the largest row with the same head run so far (1 before any; per head: WebGL runs the micro UPerNet step 140×
 * slower than wasm, the UNETR one 6×), and (b) the step's counted FLOPs at half this backend's best plain
 * matMul rate (the ViT rows reach 24–60 % of it; micro rows ~1–10 %, so (a) from a micro row alone is far too low:
 * SwiftShader WebGPU's ViT-Tiny 128 px step was estimated at 11 s from its micro row and took 45 s). Micro rows always
 * run, all their timed steps even after a slow first step (WebGL and WebGPU compile their shaders there): they calibrate (a).
 */
async function pageBackend(
  browser: Browser, url: string, backend: BackendName, rows: Row[], refMs: (s: StepShape) => number | undefined, beforeRow?: (s: StepShape) => Promise<void>,
): Promise<BackendRecord> {
  const t0 = Date.now();
  const rec: BackendRecord = { backend, pageErrors: [], seconds: 0 };
  const page = await browser.newPage();
  page.on('pageerror', (e) => rec.pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') rec.pageErrors.push(m.text()); });
  const failAll = (error: string, from = 0) => {
    for (const shape of TRAIN_SHAPES.slice(from)) rows.push({ where: 'page', backend, shape, stepGflop: shapeFlops(shape).stepFlops / 1e9, load1: load1(), error });
    say(`page ${backend}: ${error}`);
  };
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const started = await call(page, { type: 'backend', backend });
    if (!started.ok || started.type !== 'backend') throw new Error(started.ok ? 'unexpected reply' : started.error);
    rec.info = started.info;
    rec.adapter = started.info.adapter;
    rec.software = started.info.software;
    const mmReply = await call(page, { type: 'matmul' });
    if (!mmReply.ok || mmReply.type !== 'matmul') throw new Error(`matMul: ${mmReply.ok ? 'unexpected reply' : mmReply.error}`);
    const mm = rec.matmul = mmReply.matmul;
    say(`\npage ${backend} — ${rec.adapter}${rec.software ? ' (software)' : ''}, ${started.crossOriginIsolated ? '' : 'not '}cross-origin isolated: plain matMul ${mm.sizes.map((s) => `${s.n}² ${f1(s.gflops)}`).join(', ')} GFLOP/s (best ${f1(mm.best)})`);
    const slowdown = new Map<string, number>();
    for (const [i, shape] of TRAIN_SHAPES.entries()) {
      await beforeRow?.(shape);
      const ref = refMs(shape);
      const flops = shapeFlops(shape).stepFlops;
      const estimate = Math.max(ref === undefined ? 0 : ref * (slowdown.get(shape.decoder) ?? 1), (flops / (0.5 * mm.best * 1e9)) * 1000);
      const base: Row = { where: 'page', backend, shape, stepGflop: flops / 1e9, load1: load1(), estimateMs: estimate };
      if (shape.encoder !== 'micro' && estimate > SLOW_MS) {
        const r = { ...base, skipped: `skipped: > ${SLOW_MS / 1000} s/step (estimated ${f1(estimate / 1000)} s)` };
        rows.push(r);
        sayRow(r);
        continue;
      }
      let reply: BenchReply;
      try {
        reply = await call(page, { type: 'step', shape, steps: REPS, skipAboveMs: 2 * SLOW_MS, oneStepAboveMs: shape.encoder === 'micro' ? undefined : 5000 });
      } catch (err) {
        if (!(err instanceof PageTimeout)) throw err;
        rows.push({ ...base, error: `timed out: ${err.message}` });
        failAll(`not run: the page was closed after ${label(shape)} timed out`, i + 1);
        break;
      }
      const r: Row = reply.ok && reply.type === 'step' ? stepRow('page', backend, reply.step, mm, base.load1) : { ...base, error: reply.ok ? 'unexpected reply' : reply.error };
      r.estimateMs = estimate;
      rows.push(r);
      sayRow(r);
      if (ref !== undefined && r.medianMs !== undefined && !r.skipped) slowdown.set(shape.decoder, r.medianMs / ref);
    }
  } catch (err) {
    rec.error = err instanceof Error ? err.message : String(err);
    failAll(`backend did not start: ${rec.error}`, rows.filter((r) => r.where === 'page' && r.backend === backend).length);
  } finally {
    await page.close().catch(() => {});
    rec.seconds = (Date.now() - t0) / 1000;
  }
  return rec;
}

// --- the table -----------------------------------------------------------------------------------------------------
const NAMES: Record<BenchEncoder | BenchSwin, string> = { micro: 'micro ViT', vit_tiny: 'ViT-Tiny/16', vit_small: 'ViT-Small/16', vit_base: 'ViT-Base/16', swin_tiny: 'Swin-T', swin_micro: 'micro Swin' };
function cell(r: Row | undefined, withPct: boolean): string {
  if (!r) return '—';
  if (r.error) return `failed: ${r.error.length > 60 ? `${r.error.slice(0, 57)}…` : r.error}`;
  if (r.medianMs === undefined || (r.skipped && !r.ms?.length)) return r.estimateMs !== undefined && r.skipped?.includes('estimated') ? `skipped (est. ${r.estimateMs >= 1e4 ? (r.estimateMs / 1000).toFixed(0) : f1(r.estimateMs / 1000)} s)` : r.skipped ?? '—';
  return `${r.medianMs.toFixed(0)}${withPct ? ` (${(100 * r.fractionOfMatMul!).toFixed(1)} %)` : ''}`;
}
function table(rows: Row[], backends: string[]): string {
  const cols = backends.map((b) => `page ${b} ms (% of matMul)`);
  const lines = [
    `| model, px | head | GFLOP / step | ${NODE ? 'Node wasm ms (% of matMul) | ' : ''}${cols.join(' | ')} | page wasm / Node wasm | tensors / MiB held |`,
    `|${' --- |'.repeat(3 + (NODE ? 1 : 0) + cols.length + 2)}`,
  ];
  for (const s of TRAIN_SHAPES) {
    const find = (where: string, b: string) => rows.find((r) => r.where === where && r.backend === b && label(r.shape) === label(s));
    const node = find('node', 'wasm');
    const page = find('page', 'wasm');
    const ratio = node?.medianMs !== undefined && page?.medianMs !== undefined && !page.skipped ? `${(page.medianMs / node.medianMs).toFixed(2)}×` : '—';
    const held = [node, ...backends.map((b) => find('page', b))].find((r) => r?.memoryAfter);
    lines.push(`| ${NAMES[s.encoder]}, ${s.size} | ${s.decoder === 'uper' ? 'UPerNet' : 'UNETR'} w${s.encoder === 'micro' ? 16 : 64} | ${shapeFlops(s).stepFlops / 1e9 < 1 ? (shapeFlops(s).stepFlops / 1e9).toFixed(3) : (shapeFlops(s).stepFlops / 1e9).toFixed(2)} | `
      + `${NODE ? `${cell(node, true)} | ` : ''}${backends.map((b) => cell(find('page', b), true)).join(' | ')} | ${ratio} | ${held?.memoryAfter ? `${held.memoryAfter.numTensors} / ${(held.memoryAfter.numBytes / 2 ** 20).toFixed(1)}` : '—'} |`);
  }
  return lines.join('\n');
}

// --- the run ------------------------------------------------------------------------------------------------------
const git = (...args: string[]) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return ''; } };
const t0 = Date.now();
tf.enableProdMode(); // NOTE: only silences tfjs's console advice in Node (the page keeps the app's settings)
const chromiumVersion = (() => {
  try { return execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch (err) { return `(${CHROMIUM} --version failed: ${err instanceof Error ? err.message : String(err)})`; }
})();
const machine: Record<string, unknown> = {
  cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, chromium: chromiumVersion, chromiumPath: CHROMIUM, chromiumArgs: DEFAULT_ARGS,
  date: new Date().toISOString(), loadStart: os.loadavg(), commit: git('rev-parse', '--short', 'HEAD'),
  uncommitted: git('status', '--porcelain', '--', 'src/train', 'src/model', 'src/cli', 'src/weights', 'bench/browser', 'bench/browser.ts').split('\n').filter(Boolean),
};
say(`bench:browser — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}, ${chromiumVersion}, commit ${machine.commit}, load ${os.loadavg().map(f1).join(' ')}; `
  + `backends ${BACKENDS.join(', ')}${NODE ? ' + Node wasm' : ''}; ${REPS} timed steps; rows over ${SLOW_MS / 1000} s/step skipped`);
const server = await serve();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: DEFAULT_ARGS });
machine.browserVersion = browser.version();
const rows: Row[] = [];
const backends: BackendRecord[] = [];
const ref = (where: 'node' | 'page') => (s: StepShape) => rows.find((r) => r.where === where && r.backend === 'wasm' && label(r.shape) === label(s) && !r.skipped && !r.error)?.medianMs;
const refMs = (s: StepShape) => ref('node')(s) ?? ref('page')(s);
try {
  // NOTE: with wasm in the page, each Node wasm row runs right before the page's same row, so that a change in the
  // machine's load hits both alike; otherwise the Node rows run first (the estimates' reference).
  const nodeRow = async (shape: StepShape) => { const r = await nodeWasmRow(shape); rows.push(r); sayRow(r); };
  const interleave = NODE && BACKENDS.includes('wasm');
  if (NODE && !interleave) for (const shape of TRAIN_SHAPES) await nodeRow(shape);
  for (const b of BACKENDS) {
    backends.push(await pageBackend(browser, server.url, b as BackendName, rows, refMs, b === 'wasm' && interleave ? nodeRow : undefined));
    // The Node rows the page's wasm did not get to (it failed or timed out), before the next backend's estimates.
    if (b === 'wasm' && interleave) for (const s of TRAIN_SHAPES) if (!rows.some((r) => r.where === 'node' && label(r.shape) === label(s))) await nodeRow(s);
  }
} finally {
  await browser.close();
  await server.close();
}
machine.loadEnd = os.loadavg();
machine.seconds = (Date.now() - t0) / 1000;
const pageBackends = backends.map((b) => b.backend);
const results = {
  machine, settings: { reps: REPS, slowS: SLOW_MS / 1000, backends: BACKENDS, node: NODE, shapes: SHAPES },
  node: NODE ? node : null, page: backends, rows,
};
const file = path.resolve(ROOT, process.env.BENCH_OUT ?? 'bench/results-browser.json');
writeFileSync(file, JSON.stringify(results, null, 1) + '\n');
say(`\n${NODE ? `Node wasm: ${node.adapter}, matMul best ${f1(node.matmul?.best ?? 0)} GFLOP/s\n` : ''}${backends.map((b) => `page ${b.backend}: ${b.adapter ?? `failed: ${b.error}`}${b.software ? ' (software)' : ''}${b.matmul ? `, matMul best ${f1(b.matmul.best)} GFLOP/s` : ''}, ${f1(b.seconds)} s${b.pageErrors.length ? `; page errors: ${b.pageErrors.join(' | ')}` : ''}`).join('\n')}\n`);
say(table(rows, pageBackends));
say(`\nload ${(machine.loadStart as number[]).map(f1).join(' ')} at the start, ${os.loadavg().map(f1).join(' ')} at the end; ${(machine.seconds as number).toFixed(0)} s; wrote ${path.relative(ROOT, file)}`);
process.exit(0);
