/**
 * The archive port: where finished jobs live once retention has evicted them from the backend.
 * `Queue.getJob` (and so the HTTP API, the CLI and the dashboard) asks it when the backend no
 * longer has a job. The implementation is PostgreSQL (`archive/pg-archive.ts`), filled by the
 * archiver (`archive/archiver.ts`); see ARCHITECTURE.md §9.
 * @module
 */
import type { Job } from './types.js';

export interface JobArchive {
  /** The archived job with its attempts, marked `archived: true`, or null. */
  getJob(queue: string, id: string): Promise<Job | null>;
}
