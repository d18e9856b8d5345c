/**
 * Bulk actions on jobs: retry now, cancel, replay (dead jobs), on the selected rows or on every job
 * matching the current filters (at most {@link MATCHING_LIMIT} per run). Each runs as a dry run
 * first; the preview says what would happen to each job, and only a confirmation runs it, on
 * exactly the jobs the preview listed.
 */
import { useState } from 'preact/hooks';

import { api, enc } from '../api.js';
import { ErrorMessage } from '../components.js';
import type { BulkOutcome } from '../types.js';
import { WhoField, useWho } from './Who.js';

export type BulkAction = 'retry' | 'cancel' | 'replay';

const VERB: Record<BulkAction, string> = { retry: 'Retry now', cancel: 'Cancel', replay: 'Replay' };

/** Most jobs one run on "everything matching" takes (the API's bound); `more` says if others match. */
export const MATCHING_LIMIT = 1000;

/** The jobs view's filters as the API's bulk actions take them (numbers as numbers). */
export type JobFilter = Readonly<Record<string, string | number>>;

/** Which jobs: these ids, or every job matching a filter. */
export type BulkTarget = { readonly ids: readonly string[] } | { readonly filter: JobFilter };

/** One request for `action` on `target`. */
export async function runBulk(
  queue: string,
  action: BulkAction,
  target: BulkTarget,
  who: string,
  note: string,
  dryRun: boolean,
): Promise<BulkOutcome> {
  const extra = note.trim() === '' ? {} : { note };
  const which = 'ids' in target ? { ids: target.ids } : { filter: target.filter, limit: MATCHING_LIMIT };
  return api<BulkOutcome>('POST', `/queues/${enc(queue)}/jobs/${action}`, {
    ...which,
    by: who,
    ...extra,
    dryRun,
  });
}

type Scope = 'selected' | 'matching';

export function BulkActions({
  queue,
  ids,
  filter,
  onDone,
}: {
  queue: string;
  ids: readonly string[];
  /** The current filters: what "every matching job" means. */
  filter: JobFilter;
  onDone: () => void;
}) {
  const [who, setWho] = useWho();
  const [note, setNote] = useState('');
  const [scope, setScope] = useState<Scope>('selected');
  const [preview, setPreview] = useState<
    { action: BulkAction; scope: Scope; outcome: BulkOutcome } | undefined
  >();
  const [result, setResult] = useState<{ action: BulkAction; outcome: BulkOutcome } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (action: BulkAction, target: BulkTarget, dryRun: boolean) => {
    setError(undefined);
    setBusy(true);
    try {
      const outcome = await runBulk(queue, action, target, who, note, dryRun);
      if (dryRun) {
        setResult(undefined);
        setPreview({ action, scope, outcome });
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

  const target: BulkTarget = scope === 'selected' ? { ids } : { filter };
  const disabled = busy || (scope === 'selected' && ids.length === 0) || who.trim() === '';
  return (
    <section class="bulk" aria-labelledby="bulk-title">
      <h2 id="bulk-title">
        Bulk actions ({scope === 'selected' ? `${ids.length} selected` : 'every job matching the filters'})
      </h2>
      <fieldset class="scope">
        <legend>Act on</legend>
        <label>
          <input
            type="radio"
            name="bulk-scope"
            value="selected"
            checked={scope === 'selected'}
            onChange={() => {
              setScope('selected');
              setPreview(undefined);
            }}
          />
          the selected jobs ({ids.length})
        </label>
        <label>
          <input
            type="radio"
            name="bulk-scope"
            value="matching"
            checked={scope === 'matching'}
            onChange={() => {
              setScope('matching');
              setPreview(undefined);
            }}
          />
          every job matching the filters (up to {MATCHING_LIMIT} per run)
        </label>
      </fieldset>
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
            <button key={a} type="button" disabled={disabled} onClick={() => void run(a, target, true)}>
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
            {preview.outcome.done.length} of {preview.outcome.matched}
            {preview.scope === 'matching' ? ' matching' : ''} jobs. Nothing has changed yet.
            {preview.outcome.more &&
              ` More jobs may match: this run takes the first ${preview.outcome.matched}; run it again for the next ones.`}
          </p>
          <Outcome outcome={preview.outcome} />
          <div class="buttons">
            <button
              type="button"
              class="danger"
              disabled={busy || preview.outcome.done.length === 0}
              // Exactly the jobs the dry run listed, whatever has matched since.
              onClick={() => void run(preview.action, { ids: preview.outcome.done }, false)}
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
