/**
 * Replay one dead job from its own page: who, a note and an optional JSON Merge Patch for its data
 * (previewed as a diff), recorded with the manual attempt. A dead job that only the archive holds
 * (retention evicted it from Redis) is restored with its whole history first, then replayed: the
 * API looks ids up in both (POST …/dlq/replay).
 */
import { useState } from 'preact/hooks';

import { diffJson, mergePatch } from '../../../src/patch.js';
import { api, enc } from '../api.js';
import { ErrorMessage, PatchDiff } from '../components.js';
import type { Job, PatchChange } from '../types.js';
import { ReplayFields, useReplayForm } from './Who.js';

interface ReplayAnswer {
  replayed: string[];
  failed: { id: string; error: string }[];
}

export function JobReplay({ queue, job, onDone }: { queue: string; job: Job; onDone: () => void }) {
  const form = useReplayForm('job-replay');
  const [error, setError] = useState<Error | undefined>();
  const [refused, setRefused] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const diff =
    form.patch !== undefined
      ? (diffJson(job.data, mergePatch(job.data, form.patch)) as PatchChange[])
      : undefined;

  const replay = async () => {
    setError(undefined);
    setRefused(undefined);
    setBusy(true);
    try {
      const r = await api<ReplayAnswer>('POST', `/queues/${enc(queue)}/dlq/replay`, {
        ids: [job.id],
        ...form.request,
        dryRun: false,
      });
      const failed = r.failed.find((f) => f.id === job.id);
      if (failed) setRefused(failed.error);
      else onDone();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const noWho = form.fields.who.trim() === '';
  return (
    <section class="bulk job-replay" aria-labelledby="job-replay-title">
      <h2 id="job-replay-title">Replay this job</h2>
      <p class="muted">
        A manual attempt, recorded with who and why, as a replay from the dead-letter queue is.
        {job.archived && ' Retention evicted it from Redis: it is restored from the archive first.'}
      </p>
      <ReplayFields {...form.fields} />
      {diff && <PatchDiff changes={diff} caption={`Patch preview on job ${job.id}`} />}
      <div class="buttons">
        <button type="button" disabled={busy || !form.ready} onClick={() => void replay()}>
          {job.archived ? 'Restore and replay' : 'Replay'}
        </button>
        {noWho && <span class="muted"> say who you are first</span>}
      </div>
      {refused && (
        <p class="error" role="alert">
          Not replayed: {refused}
        </p>
      )}
      <ErrorMessage error={error} action="Could not replay the job" />
    </section>
  );
}
