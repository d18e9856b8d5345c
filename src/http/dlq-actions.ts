/**
 * DLQ replay and purge for the API: the request body handed to the library's one bulk path
 * (`dlq.replayRequest`, `dlq.purgeRequest`), which checks, bounds and dry-runs exactly as it does
 * for the CLI. Input errors are ValidationErrors named relative to the request body.
 * @module
 */
import type { BulkReplayResult, PurgeReport } from '../dlq.js';
import type { Queue } from '../queue.js';
import type { PurgeBody, ReplayBody } from './schemas.js';

export function replayDead(queue: Queue, body: ReplayBody): Promise<BulkReplayResult> {
  // `limit` bounds a filter; the schema gives it a default, so it arrives with ids too.
  const { limit: _limit, ...withIds } = body;
  return queue.dlq.replayRequest(body.ids === undefined ? body : withIds);
}

export function purgeDead(queue: Queue, body: PurgeBody): Promise<PurgeReport> {
  return queue.dlq.purgeRequest(body);
}
