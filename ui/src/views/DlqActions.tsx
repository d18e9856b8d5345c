/**
 * Replay or purge the dead jobs matching a filter. Replay takes who, a note and an optional JSON
 * Merge Patch for the data, previewed as a diff on a sample job. Both run as a dry run first and
 * only a confirmation runs them for real. With the archive as a source, a replay restores the
 * archived matches into Redis first; purge acts on the dead jobs Redis holds only, so it is
 * offered with the Redis source alone.
 */
import { useState } from 'preact/hooks';

import { diffJson, mergePatch } from '../../../src/patch.js';
import { api, enc } from '../api.js';
import { ErrorMessage, PatchDiff } from '../components.js';
import { useLoad } from '../hooks.js';
import type { BulkOutcome, Job, PatchChange } from '../types.js';
import { Outcome } from './BulkActions.js';
import type { DlqFilter, DlqSource } from './DeadLetters.js';
import { ReplayFields, useReplayForm } from './Who.js';

interface ReplayAnswer {
  dryRun: boolean;
  matched: number;
  replayed: string[];
  failed: { id: string; error: string }[];
}
interface PurgeAnswer {
  dryRun: boolean;
  purged: number;
  ids?: string[];
}

type Action = 'replay' | 'purge';

export function DlqActions({
  queue,
  filter,
  source,
  sampleId,
  onDone,
}: {
  queue: string;
  filter: DlqFilter;
  source: DlqSource;
  sampleId: string | undefined;
  onDone: () => void;
}) {
  const form = useReplayForm('dlq');
  const [preview, setPreview] = useState<{ action: Action; outcome: BulkOutcome } | undefined>();
  const [result, setResult] = useState<{ action: Action; outcome: BulkOutcome } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const sample = useLoad(
    () =>
      sampleId ? api<Job>('GET', `/queues/${enc(queue)}/jobs/${enc(sampleId)}`) : Promise.resolve(undefined),
    `${queue}/${sampleId ?? ''}`,
  );
  const body: { filter: object; ids?: undefined; source?: DlqSource } = {
    filter: { ...filter, ...(filter.reason ? { reason: filter.reason.split(',') } : {}) },
    ...(source !== 'live' ? { source } : {}),
  };
  let diff: PatchChange[] | undefined;
  if (form.patch !== undefined && sample.data) {
    diff = diffJson(sample.data.data, mergePatch(sample.data.data, form.patch)) as PatchChange[];
  }

  /** A dry run targets the filter; the confirmed run targets exactly the ids the dry run listed. */
  const run = async (action: Action, dryRun: boolean) => {
    setError(undefined);
    setBusy(true);
    const target = dryRun ? body : { ids: preview?.outcome.done ?? [] };
    try {
      let outcome: BulkOutcome;
      if (action === 'replay') {
        const r = await api<ReplayAnswer>('POST', `/queues/${enc(queue)}/dlq/replay`, {
          ...target,
          ...form.request,
          dryRun,
        });
        outcome = { dryRun: r.dryRun, matched: r.matched, done: r.replayed, failed: r.failed };
      } else {
        const { source: _source, ...purgeTarget } = target as typeof body;
        const r = await api<PurgeAnswer>('POST', `/queues/${enc(queue)}/dlq/purge`, {
          ...purgeTarget,
          dryRun,
        });
        outcome = { dryRun: r.dryRun, matched: r.purged, done: r.ids ?? target.ids ?? [], failed: [] };
      }
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

  const scope = Object.keys(filter).length === 0 ? 'every dead job' : 'the dead jobs matching the filter';
  return (
    <section class="bulk" aria-labelledby="dlq-actions-title">
      <h2 id="dlq-actions-title">Replay or purge {scope}</h2>
      <ReplayFields {...form.fields} />
      {diff && sample.data && <PatchDiff changes={diff} caption={`Patch preview on job ${sample.data.id}`} />}
      {!preview && (
        <div class="buttons">
          <button type="button" disabled={busy || !form.ready} onClick={() => void run('replay', true)}>
            Replay… (dry run)
          </button>
          <button
            type="button"
            disabled={busy || source !== 'live'}
            title={
              source !== 'live'
                ? 'Purge deletes dead jobs Redis holds: choose the Redis source (the archive keeps history until its own retention)'
                : undefined
            }
            onClick={() => void run('purge', true)}
          >
            Purge… (dry run)
          </button>
        </div>
      )}
      <ErrorMessage error={error} action="The action failed" />
      {preview && (
        <div class="preview" role="region" aria-label="Dry run result">
          <p>
            <strong>Dry run</strong>: {preview.action} would apply to {preview.outcome.done.length} dead jobs
            {preview.action === 'replay' ? ` of ${preview.outcome.matched}` : ''}. Nothing has changed yet.
          </p>
          <Outcome outcome={preview.outcome} />
          <div class="buttons">
            <button
              type="button"
              class="danger"
              disabled={busy || preview.outcome.done.length === 0}
              onClick={() => void run(preview.action, false)}
            >
              Confirm: {preview.action} {preview.outcome.done.length} jobs
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
            {result.action === 'replay'
              ? `Replayed ${result.outcome.done.length} of ${result.outcome.matched} jobs.`
              : `Purged ${result.outcome.matched} jobs.`}
          </p>
          {result.action === 'replay' && <Outcome outcome={result.outcome} />}
        </div>
      )}
    </section>
  );
}
