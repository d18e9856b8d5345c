/**
 * Everything the CLI writes: human tables (default) or JSON (`--json`) on stdout, messages and
 * progress bars on stderr, so `retraced … --json | jq` always gets clean JSON. Colour only when
 * the stream is a terminal and NO_COLOR is unset (FORCE_COLOR forces it). Every line, note and
 * table cell is one line made terminal-safe by {@link render}: whatever a job holds is shown
 * escaped, never obeyed by the terminal.
 * @module
 */
import { formatDuration } from '../duration.js';
import { escapeControls, paint, render, visibleLength, type Colour } from '../terminal.js';

export type { Colour } from '../terminal.js';

export interface Stream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

export class Output {
  readonly json: boolean;
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly colour: boolean;
  readonly colourErr: boolean;

  constructor(options: { json?: boolean; stdout?: Stream; stderr?: Stream } = {}) {
    this.json = options.json === true;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.colour = !this.json && colourEnabled(this.stdout);
    this.colourErr = colourEnabled(this.stderr);
  }

  /** `s` in colour `c` when the stream (stdout, or stderr with `onErr`) shows colours. */
  paint(c: Colour, s: string, onErr = false): string {
    return (onErr ? this.colourErr : this.colour) ? paint(c, s) : s;
  }

  /**
   * One line on stdout, rendered by {@link render}: a line break or any other control character
   * in `text` is shown escaped, so print several lines with several calls.
   */
  line(text = ''): void {
    this.stdout.write(`${render(text, this.colour)}\n`);
  }

  /** One line of message on stderr (notes, warnings, progress): never mixed into stdout data. */
  note(text: string): void {
    this.stderr.write(`${render(text, this.colourErr)}\n`);
  }

  /** One JSON document on stdout. */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** `--json` prints `value`, otherwise `human()` runs. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.data(value);
    else human();
  }

  /** An aligned table; the last column is not padded (it may be long). */
  table(columns: readonly Column[], rows: readonly (readonly string[])[], empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(this.paint('dim', empty));
      return;
    }
    // Escaped first, so that the widths are those of what is shown.
    const cells = rows.map((r) => columns.map((_, i) => escapeControls(r[i] ?? '')));
    const widths = columns.map((c, i) =>
      Math.max(visibleLength(c.header), ...cells.map((r) => visibleLength(r[i] ?? ''))),
    );
    const row = (texts: readonly string[]): string =>
      columns
        .map((c, i) => {
          const cell = texts[i] ?? '';
          if (i === columns.length - 1) return cell;
          const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
          return c.align === 'right' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd();
    this.line(this.paint('bold', row(columns.map((c) => c.header))));
    for (const r of cells) this.line(row(r));
  }

  /**
   * A progress bar on stderr for long operations, redrawn in place on a terminal; elsewhere (logs,
   * CI, pipes) silent until `done`, which prints one summary line in either case.
   */
  progress(total: number, label: string): Progress {
    return new Progress(this.stderr, total, label, this.json);
  }
}

export class Progress {
  readonly #stream: Stream;
  readonly #total: number;
  readonly #label: string;
  readonly #live: boolean;
  readonly #started = Date.now();
  #done = 0;
  #lastDraw = 0;

  constructor(stream: Stream, total: number, label: string, quiet: boolean) {
    this.#stream = stream;
    this.#total = total;
    this.#label = label;
    this.#live = stream.isTTY === true && !quiet && total > 0;
    this.#draw(true);
  }

  advance(n: number): void {
    this.#done = Math.min(this.#total, this.#done + n);
    this.#draw(this.#done === this.#total);
  }

  #draw(force: boolean): void {
    if (!this.#live) return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 80) return;
    this.#lastDraw = now;
    const width = Math.max(10, Math.min(40, (this.#stream.columns ?? 80) - 40));
    const ratio = this.#total === 0 ? 1 : this.#done / this.#total;
    const filled = Math.round(ratio * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    this.#stream.write(
      `\r${render(this.#label, false)} ${bar} ${this.#done}/${this.#total} ${Math.floor(ratio * 100)}%`,
    );
  }

  /** Clears the bar and prints `summary` (with the elapsed time) on stderr. */
  finish(summary: string): void {
    if (this.#live) this.#stream.write('\r\x1b[2K');
    this.#stream.write(`${render(summary, false)} in ${formatDuration(Date.now() - this.#started)}\n`);
  }
}

/** `14:09:42 (3 s ago)`, `2024-05-01 14:09 (3 d ago)`; `in 5 s` for future times. UTC. */
export function when(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  const iso = new Date(ms).toISOString();
  const delta = now - ms;
  const rel =
    Math.abs(delta) < 1000
      ? 'now'
      : delta > 0
        ? `${formatDuration(delta)} ago`
        : `in ${formatDuration(-delta)}`;
  const stamp = Math.abs(delta) < 86_400_000 ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  return `${stamp} (${rel})`;
}

export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
