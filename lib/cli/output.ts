// Where the commands write: results on stdout, progress and notes on stderr,
// behind a small interface so tests can capture both. The progress bar draws
// only on an interactive stderr and never with --quiet, so piped or CI output
// carries no carriage-return noise.

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether a progress bar may redraw stderr in place. */
  readonly interactive: boolean;
}

export function processOutput(quiet = false): Output {
  return {
    stdout: (t) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    stderr: (t) => void process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    interactive: !quiet && process.stderr.isTTY === true,
  };
}

/** A one-line progress bar on stderr: [#####-----] 12/40 label, eta. */
export class Progress {
  #done = 0;
  #start = Date.now();
  #lastDraw = 0;
  #drawn = false;

  constructor(
    private readonly total: number,
    private readonly enabled: boolean,
    private readonly write: (s: string) => void = (s) => void process.stderr.write(s),
    /** Where, without a bar (piped output), each step that starts is announced as one line. */
    private readonly plain?: (line: string) => void,
  ) {}

  tick(label: string, n = 1): void {
    if (!this.enabled && n === 0 && this.plain) this.plain(`${label} (${Math.min(this.total, this.#done + 1)}/${this.total})`);
    this.#done = Math.min(this.total, this.#done + n);
    if (!this.enabled) return;
    const now = Date.now();
    // Redrawing costs a syscall; ~10 per second is smooth enough and keeps it off the timings.
    // A step that starts (n = 0: "building X") is drawn at once, since it may take seconds.
    if (n > 0 && now - this.#lastDraw < 100 && this.#done < this.total) return;
    this.#lastDraw = now;
    this.write(`\r${renderBar(this.#done, this.total, label, (now - this.#start) / 1000)}\x1b[K`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.enabled && this.#drawn) this.write('\r\x1b[K');
    this.#drawn = false;
  }
}

export function renderBar(done: number, total: number, label: string, elapsedS: number, width = 24): string {
  const frac = total > 0 ? done / total : 1;
  const filled = Math.round(frac * width);
  const eta = done > 0 && done < total ? ` eta ${Math.ceil((elapsedS / done) * (total - done))}s` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label.slice(0, 40)}${eta}`;
}
