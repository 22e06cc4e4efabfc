/**
 * The runner's [progress] lines (jobs/runner/sparkjobs_runner/progress.py), shown on stderr while
 * Spark works: on a terminal one line that rewrites itself, cleared before any other line; in a
 * log (not a terminal) a plain line at most every `plainEveryMs`. stdout is never touched, so
 * `--json` still prints exactly one object there.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export class ProgressLine {
  private shown = false;
  private lastPlain = -Infinity;

  constructor(
    private readonly out: ProgressStream,
    private readonly plainEveryMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A [progress] line from the runner. */
  update(line: string): void {
    const text = line.replace(/^\[progress\]\s*/, "");
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns || 120) - 1); // a terminal of no known size (0 columns): 120
      this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.shown = true;
    } else if (this.now() - this.lastPlain >= this.plainEveryMs) {
      this.out.write(`[progress] ${text}\n`);
      this.lastPlain = this.now();
    }
  }

  /** Any other line: the progress line goes first, so the two never share a line. */
  write(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
  }

  clear(): void {
    if (!this.shown) return;
    this.out.write("\r\x1b[2K");
    this.shown = false;
  }
}
