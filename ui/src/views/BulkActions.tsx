/**
 * Bulk actions on selected jobs: retry now, cancel, replay (dead jobs). Each runs as a dry run
 * first; the preview says what would happen to each job, and only a confirmation runs it.
 */
import { useState } from 'preact/hooks';

import { api, enc } from '../api.js';
import { ErrorMessage } from '../components.js';
import type { BulkOutcome } from '../types.js';
import { WhoField, useWho } from './Who.js';

export type BulkAction = 'retry' | 'cancel' | 'replay';

const VERB: Record<BulkAction, string> = { retry: 'Retry now', cancel: 'Cancel', replay: 'Replay' };

interface ReplayAnswer {
  dryRun: boolean;
  matched: number;
  replayed: string[];
  failed: { id: string; error: string }[];
}

/** One request for `action` on `ids`; replay goes through the DLQ's replay. */
export async function runBulk(
  queue: string,
  action: BulkAction,
  ids: readonly string[],
  who: string,
  note: string,
  dryRun: boolean,
): Promise<BulkOutcome> {
  const extra = note.trim() === '' ? {} : { note };
  if (action === 'replay') {
    const r = await api<ReplayAnswer>('POST', `/queues/${enc(queue)}/dlq/replay`, {
      ids,
      by: who,
      ...extra,
      dryRun,
    });
    return { dryRun: r.dryRun, matched: r.matched, done: r.replayed, failed: r.failed };
  }
  return api<BulkOutcome>('POST', `/queues/${enc(queue)}/jobs/${action}`, { ids, by: who, ...extra, dryRun });
}

export function BulkActions({
  queue,
  ids,
  onDone,
}: {
  queue: string;
  ids: readonly string[];
  onDone: () => void;
}) {
  const [who, setWho] = useWho();
  const [note, setNote] = useState('');
  const [preview, setPreview] = useState<{ action: BulkAction; outcome: BulkOutcome } | undefined>();
  const [result, setResult] = useState<{ action: BulkAction; outcome: BulkOutcome } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (action: BulkAction, dryRun: boolean) => {
    setError(undefined);
    setBusy(true);
    try {
      const outcome = await runBulk(queue, action, ids, who, note, dryRun);
      if (dryRun) {
        setResult(undefined);
        setPreview({ action, outcome });
      } else {
        setPreview(undefined);
        setResult({ action, outcome });
        onDone();
      }
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const disabled = busy || ids.length === 0 || who.trim() === '';
  return (
    <section class="bulk" aria-labelledby="bulk-title">
      <h2 id="bulk-title">Bulk actions ({ids.length} selected)</h2>
      <div class="fields">
        <WhoField who={who} setWho={setWho} id="bulk-who" />
        <label>
          Note or reason
          <input value={note} onInput={(e) => setNote(e.currentTarget.value)} maxLength={2000} />
        </label>
      </div>
      {!preview && (
        <div class="buttons">
          {(['retry', 'cancel', 'replay'] as const).map((a) => (
            <button key={a} type="button" disabled={disabled} onClick={() => void run(a, true)}>
              {VERB[a]}… (dry run)
            </button>
          ))}
        </div>
      )}
      <ErrorMessage error={error} action="The action failed" />
      {preview && (
        <div class="preview" role="region" aria-label="Dry run result">
          <p>
            <strong>Dry run</strong>: {VERB[preview.action].toLowerCase()} would apply to{' '}
            {preview.outcome.done.length} of {preview.outcome.matched} jobs. Nothing has changed yet.
          </p>
          <Outcome outcome={preview.outcome} />
          <div class="buttons">
            <button
              type="button"
              class="danger"
              disabled={busy || preview.outcome.done.length === 0}
              onClick={() => void run(preview.action, false)}
            >
              Confirm: {VERB[preview.action].toLowerCase()} {preview.outcome.done.length} jobs
            </button>
            <button type="button" onClick={() => setPreview(undefined)}>
              Back
            </button>
          </div>
        </div>
      )}
      {result && (
        <div class="done" role="status">
          <p>
            {VERB[result.action]}: done for {result.outcome.done.length} of {result.outcome.matched} jobs.
          </p>
          <Outcome outcome={result.outcome} />
        </div>
      )}
    </section>
  );
}

export function Outcome({ outcome }: { outcome: BulkOutcome }) {
  return (
    <ul class="outcome">
      {outcome.done.slice(0, 50).map((id) => (
        <li key={id}>
          <code>{id}</code>: ok
        </li>
      ))}
      {outcome.done.length > 50 && <li>… and {outcome.done.length - 50} more</li>}
      {outcome.failed.slice(0, 50).map((f) => (
        <li key={f.id} class="error">
          <code>{f.id}</code>: {f.error}
        </li>
      ))}
    </ul>
  );
}
