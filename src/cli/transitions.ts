/**
 * One line per job transition of a Worker, for `retraced worker` (and `dev --verbose`): started,
 * completed, retrying (with the error, its class and the delay's explanation), dead-lettered,
 * refused, lease lost, stalled jobs recovered. NDJSON objects with `--json`.
 * @module
 */
import { formatDuration } from '../duration.js';
import type { ErrorInfo } from '../types.js';
import type { Worker } from '../worker.js';
import type { Colour, Output } from './output.js';

interface Failure {
  readonly error: ErrorInfo;
  readonly errorClass: string;
  readonly rule: string;
  readonly outcome: string;
}

export function printTransitions<D>(w: Worker<D>, out: Output): void {
  // A failure is reported together with what was decided after it (retrying or dead).
  const failures = new Map<string, Failure>();
  const key = (e: { queue: string; id: string; attempt: number }): string =>
    `${e.queue}/${e.id}#${e.attempt}`;
  const emit = (
    event: string,
    colour: Colour,
    e: { queue: string; id: string; name: string; attempt: number },
    text: string,
    fields: object,
  ): void => {
    if (out.json) {
      out.line(
        JSON.stringify({
          at: new Date().toISOString(),
          event,
          queue: e.queue,
          id: e.id,
          name: e.name,
          attempt: e.attempt,
          ...fields,
        }),
      );
      return;
    }
    const time = new Date().toISOString().slice(11, 23);
    out.line(
      `${out.paint('dim', time)} ${out.paint(colour, event.padEnd(9))} ${e.queue} ${e.id} ${JSON.stringify(e.name)} #${e.attempt} ${text}`.trimEnd(),
    );
  };
  const failureText = (f: Failure | undefined): string =>
    f
      ? `${f.outcome === 'timed_out' ? 'timed out: ' : ''}${f.error.name}: ${f.error.message}${f.error.code ? ` [${f.error.code}]` : ''} (${f.errorClass}, ${f.rule}) `
      : '';

  w.on('active', (e) =>
    emit('active', 'blue', e, `${e.trigger}, drift ${formatDuration(e.driftMs)}`, {
      trigger: e.trigger,
      driftMs: e.driftMs,
    }),
  );
  w.on('completed', (e) =>
    emit('completed', 'green', e, `in ${formatDuration(e.durationMs)}`, {
      durationMs: Math.round(e.durationMs),
    }),
  );
  w.on('failed', (e) =>
    failures.set(key(e), {
      error: e.error,
      errorClass: e.errorClass,
      rule: e.rule,
      outcome: e.outcome,
    }),
  );
  w.on('retrying', (e) => {
    const f = failures.get(key(e));
    failures.delete(key(e));
    emit(
      'retrying',
      'yellow',
      e,
      `${failureText(f)}→ retry in ${formatDuration(e.delayMs)}: ${e.explanation}`,
      {
        ...(f ?? {}),
        delayMs: e.delayMs,
        nextDueAt: e.nextDueAt,
        explanation: e.explanation,
      },
    );
  });
  w.on('dead', (e) => {
    const f = failures.get(key(e));
    failures.delete(key(e));
    emit('dead', 'red', e, `${failureText(f)}→ dead-letter (${e.reason}): ${e.explanation}`, {
      ...(f ?? {}),
      reason: e.reason,
      explanation: e.explanation,
    });
  });
  w.on('refused', (e) => {
    failures.delete(key(e));
    emit('refused', 'magenta', e, 'late result refused: the lease had been lost', {});
  });
  w.on('lease-lost', (e) =>
    emit('lease-lost', 'magenta', e, 'lease lost (expired or cancelled): handler signal aborted', {}),
  );
  w.on('stalled', (e) => {
    if (out.json) {
      out.line(
        JSON.stringify({
          at: new Date().toISOString(),
          event: 'stalled',
          queue: e.queue,
          recovered: e.recovered,
        }),
      );
    } else {
      out.line(
        `${out.paint('dim', new Date().toISOString().slice(11, 23))} ${out.paint('magenta', 'stalled'.padEnd(9))} ${e.queue} recovered ${e.recovered} job${e.recovered === 1 ? '' : 's'} whose lease expired`,
      );
    }
  });
}
