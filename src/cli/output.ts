/**
 * Everything the CLI writes: human tables (default) or JSON (`--json`) on stdout, messages and
 * progress bars on stderr, so `retraced … --json | jq` always gets clean JSON. Colour only when
 * the stream is a terminal and NO_COLOR is unset (FORCE_COLOR forces it).
 * @module
 */
import { formatDuration } from '../duration.js';

export interface Stream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const ANSI = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof ANSI;

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

  paint(c: Colour, s: string, onErr = false): string {
    return (onErr ? this.colourErr : this.colour) ? `\x1b[${ANSI[c]}m${s}\x1b[0m` : s;
  }

  /** A line on stdout, terminal-safe (see {@link terminalSafe}). */
  line(text = ''): void {
    this.stdout.write(`${terminalSafe(text, this.colour)}\n`);
  }

  /** A message on stderr (notes, warnings, progress): never mixed into stdout data. */
  note(text: string): void {
    this.stderr.write(`${terminalSafe(text, this.colourErr)}\n`);
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
    const widths = columns.map((c, i) =>
      Math.max(visible(c.header), ...rows.map((r) => visible(r[i] ?? ''))),
    );
    const render = (cells: readonly string[]): string =>
      columns
        .map((c, i) => {
          const cell = cells[i] ?? '';
          if (i === columns.length - 1) return cell;
          const pad = ' '.repeat((widths[i] ?? 0) - visible(cell));
          return c.align === 'right' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd();
    this.line(this.paint('bold', render(columns.map((c) => c.header))));
    for (const r of rows) this.line(render(r));
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
    this.#stream.write(`\r${this.#label} ${bar} ${this.#done}/${this.#total} ${Math.floor(ratio * 100)}%`);
  }

  /** Clears the bar and prints `summary` (with the elapsed time) on stderr. */
  finish(summary: string): void {
    if (this.#live) this.#stream.write('\r\x1b[2K');
    this.#stream.write(`${summary} in ${formatDuration(Date.now() - this.#started)}\n`);
  }
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
const CONTROL = /\x1b\[(?:0|1|2|3[1-6])m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text for a person's terminal: control characters other than newline and tab (which job data,
 * names, error messages and reasons may hold) are shown escaped, as `\u001b`, never sent raw: a
 * raw ESC, CR or C1 control could clear the screen, rewrite earlier lines, retitle the window or
 * write the clipboard. The CLI's own colours (the SGR codes `paint` uses) pass when colour is on.
 */
export function terminalSafe(text: string, colour: boolean): string {
  return text.replace(CONTROL, (m) =>
    m.length > 1 && colour
      ? m
      : [...m].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  );
}

// eslint-disable-next-line no-control-regex -- ANSI escapes are exactly what is measured away
const ESCAPES = /\x1b\[[0-9;]*m/g;
function visible(s: string): number {
  return s.replace(ESCAPES, '').length;
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
