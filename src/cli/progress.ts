// Progress output: on a terminal one status line rewritten in place (steps/s, ETA) with log lines printed above it;
// otherwise plain lines, one per reported step. The rate is over a window of recent steps so a slow first step
// (shader compilation) does not skew the ETA for long.

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Seconds as '42s', '3m05s', '1h02m'. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  if (m < 60) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Steps per second over the last `window` (time, step) marks; null until two marks exist. */
export class RateMeter {
  private marks: Array<{ t: number; step: number }> = [];
  constructor(private readonly window = 20) {}

  mark(step: number, t = performance.now()) {
    this.marks.push({ t, step });
    if (this.marks.length > this.window + 1) this.marks.shift();
  }

  get rate(): number | null {
    if (this.marks.length < 2) return null;
    const a = this.marks[0], b = this.marks[this.marks.length - 1];
    return b.t > a.t ? ((b.step - a.step) * 1000) / (b.t - a.t) : null;
  }

  /** Seconds left to reach `total` at the current rate. */
  eta(total: number): number | null {
    const r = this.rate;
    const last = this.marks[this.marks.length - 1];
    return r && last ? Math.max(0, total - last.step) / r : null;
  }
}

export class Progress {
  private status = '';
  private readonly meter = new RateMeter();
  private lastLogged = -1;

  /**
   * `total`: the last step; `logEvery`: on a non-terminal, print every N-th step (and the last). `start`: the step
   * the run starts from (a resumed run), so the first rate is not counted from 0.
   */
  constructor(private readonly out: Out, private readonly total: number, private readonly logEvery: number, start = 0) {
    this.meter.mark(start);
  }

  get tty(): boolean {
    return !!this.out.isTTY;
  }

  /** A line that stays (above the status line on a terminal). */
  log(line: string) {
    if (this.tty && this.status) this.out.write('\r\x1b[2K');
    this.out.write(line + '\n');
    if (this.tty && this.status) this.out.write(this.status);
  }

  step(step: number, loss: number, lr: number) {
    this.meter.mark(step);
    const rate = this.meter.rate;
    const eta = this.meter.eta(this.total);
    const width = String(this.total).length;
    const text = `step ${String(step).padStart(width)}/${this.total}  loss ${loss.toFixed(4)}  lr ${lr.toExponential(2)}  `
      + `${rate === null ? '…' : rate >= 1 ? rate.toFixed(2) : rate.toPrecision(2)} steps/s  ETA ${eta === null ? '?' : formatDuration(eta)}`;
    if (this.tty) {
      const cols = this.out.columns && this.out.columns > 20 ? this.out.columns : 120;
      this.status = text.length >= cols ? text.slice(0, cols - 1) : text;
      this.out.write('\r\x1b[2K' + this.status);
    } else if (step === this.total || step - this.lastLogged >= this.logEvery || this.lastLogged < 0) {
      this.lastLogged = step;
      this.out.write(text + '\n');
    }
  }

  /** Ends the status line (a terminal keeps the last one). */
  done() {
    if (this.tty && this.status) this.out.write('\n');
    this.status = '';
  }
}
