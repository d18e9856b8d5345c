/**
 * The contract every backend must pass, unchanged. A backend's test file calls
 * `runBackendConformance` with a way to get its backend; every case runs on every backend.
 */
import { describe } from 'vitest';

import { analyticsCases } from './analytics.case.js';
import { archiveCases } from './archive.case.js';
import { Harness, type ConformanceTarget } from './context.js';
import { dedupCases } from './dedup.case.js';
import { progressCases } from './progress.case.js';
import { deliveryCases } from './delivery.case.js';
import { dlqBulkCases } from './dlq-bulk.case.js';
import { dlqCases } from './dlq.case.js';
import { inputCases } from './input.case.js';
import { lifecycleCases } from './lifecycle.case.js';
import { multiQueueCases } from './multi-queue.case.js';
import { priorityCases } from './priority.case.js';
import { radarCases, whatIfCases } from './radar.case.js';
import { rateLimitCases } from './rate-limit.case.js';
import { rateLimitViewCases } from './rate-limit-view.case.js';
import { restoreCases } from './restore.case.js';
import { retentionCases } from './retention.case.js';
import { retriesCases } from './retries.case.js';
import { retryBudgetCases } from './retry-budget.case.js';
import { searchCases } from './search.case.js';
import { schedulerCases } from './schedulers.case.js';
import { workerRegistryCases } from './workers.case.js';
import { explainCases } from './explain.case.js';
import { httpTargetCases } from './http-target.case.js';

export type { ConformanceTarget };

export function runBackendConformance(target: ConformanceTarget): void {
  describe(`backend conformance: ${target.name}`, () => {
    const h = new Harness(target);
    lifecycleCases(h);
    retriesCases(h);
    deliveryCases(h);
    dlqCases(h);
    dlqBulkCases(h);
    inputCases(h);
    retentionCases(h);
    archiveCases(h);
    restoreCases(h);
    searchCases(h);
    priorityCases(h);
    radarCases(h);
    rateLimitCases(h);
    rateLimitViewCases(h);
    whatIfCases(h);
    schedulerCases(h);
    analyticsCases(h);
    retryBudgetCases(h);
    multiQueueCases(h);
    workerRegistryCases(h);
    dedupCases(h);
    explainCases(h);
    progressCases(h);
    httpTargetCases(h);
  });
}
