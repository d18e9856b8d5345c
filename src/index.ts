/**
 * ReTraced: a job scheduler where retries are data, not magic.
 * @module
 */
export {
  Queue,
  defaultMemoryBackend,
  type AddedJob,
  type AnalyticsOptions,
  type RetryBudgetStatus,
  type BulkJob,
  type ScheduleTemplate,
  type ScheduledResult,
  SearchSources,
  type SearchSource,
} from './queue.js';
export {
  nextRunAfter,
  nextRuns,
  planTick,
  resolveScheduleSpec,
  scheduledJobId,
  MISSED_GRACE_MS,
  TICK_LEDGER_LENGTH,
  type MissedPolicy,
  type OverlapPolicy,
  type ResolvedScheduleSpec,
  type ScheduleSpec,
  type Scheduler,
  type TickPlan,
  type TickRecord,
  type TickSkipReason,
} from './schedule.js';
export {
  analyticsReport,
  suggestAttempts,
  timeHistogram,
  ANALYTICS_DEFAULT_WINDOW_MS,
  ANALYTICS_MAX_WINDOW_MS,
  type AnalyticsGroup,
  type AnalyticsGroupBy,
  type AnalyticsReport,
  type AnalyticsTotals,
  type AttemptRow,
  type AttemptsSuggestion,
  type Breakdown,
  type HistogramBucket,
  type PercentileRange,
  type TimeHistogram,
} from './analytics.js';
export { resolveRetryBudget, budgetPlace, budgetExplanation, type RetryBudget } from './retry-budget.js';
export { ROLLUP_TIME_BOUNDS_MS, type RollupBucket, type RollupResolution } from './rollup.js';
export { SchedulerLoop, type SchedulerLoopOptions } from './scheduler-loop.js';
export { Worker, type ActiveJob, type Handler, type WorkerEventMap, type JobEventBase } from './worker.js';
export {
  DeadLetterQueue,
  MAX_BULK,
  MAX_PATCHED_BYTES,
  maxReplayJobs,
  type BulkOptions,
  type BulkPurgeResult,
  type BulkReplayResult,
  type DlqFilter,
  type DlqTarget,
  type ReplayOptions,
} from './dlq.js';
export { errorLine, lastErrorOf, summariseJob, type ErrorSummary, type JobSummary } from './summary.js';
export {
  computeBackoff,
  planRetry,
  previewPolicy,
  resolveRetryPolicy,
  DEFAULT_RETRY_POLICY,
  type CustomStrategy,
  type DelayResult,
  type PolicyPreview,
  type PreviewStep,
  type RetryPlan,
} from './backoff.js';
export {
  classifyError,
  serializeError,
  storedClassifyOptions,
  DEFAULT_CODE_TABLE,
  type ClassifyOptions,
  type ResolvedClassifyOptions,
  type Classification,
  type CodeTable,
} from './classify.js';
export { errorFingerprint, fingerprintLabel, normaliseMessage } from './fingerprint.js';
export {
  decideAfterFailure,
  interruptedDecision,
  INTERRUPTED_CLASSIFICATION,
  jobClassifier,
  jobResultLimit,
  type FailureDecision,
  type FailureInput,
  type JobClassifier,
} from './decide.js';
export { formatDuration } from './duration.js';
export {
  replayJob,
  whatIfReport,
  type WhatIfOptions,
  type WhatIfReport,
  type WhatIfComparison,
  type ScenarioStats,
  type ClassificationDryRun,
  type JobReplay,
  type Run as WhatIfRun,
} from './whatif.js';
export {
  AuditKinds,
  type AuditKind,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
} from './audit.js';
export { type RadarOptions, type RadarReport, type RadarBurst, type RadarPolicy } from './radar.js';
export { renderTimeline, type TimelineOptions } from './timeline.js';
export {
  RetracedError,
  ValidationError,
  PayloadTooLargeError,
  SourceUnavailableError,
  JobNotFoundError,
  SchedulerNotFoundError,
  InvalidStateError,
  ConflictError,
  BackendClosedError,
  ReplicationError,
  TimeoutError,
  LeaseLostError,
  WorkerClosingError,
  PermanentError,
  TemporaryError,
  RateLimitError,
  type RateLimitErrorOptions,
} from './errors.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory/memory-backend.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export type {
  BucketView,
  GroupFilter,
  GroupView,
  RateLimit,
  RateLimitPauseRecord,
  RateLimits,
  RateLimitSettings,
  RateLimitState,
  RateLimitStateQuery,
  ResolvedRateLimit,
} from './rate-limit.js';
export type { QueueOptions, JobOptions, WorkerOptions } from './options.js';
export type { DedupMode, DedupRequest } from './dedup.js';
export { TRACER_NAME, type TracingOptions, type TraceParentMode } from './tracing.js';
export type {
  Backend,
  DeadFilter,
  DeadPeek,
  DeadSummary,
  DeadGroupStats,
  FinishDecision,
  QueueEvent,
} from './backend.js';
export {
  DeadReasons,
  JobStates,
  type Attempt,
  type AttemptResponse,
  type AttemptOutcome,
  type AttemptTrigger,
  type Backoff,
  type BackoffType,
  type ClassifyOptionsStored,
  type CurrentAttempt,
  type DeadReason,
  type Decision,
  type DelayDetail,
  type ErrorClass,
  type ErrorInfo,
  type EvictionCounts,
  type Jitter,
  type Job,
  type JobOptionsStored,
  type JobState,
  type ManualTrigger,
  type PatchChange,
  type RateLimitPause,
  type RateLimitWait,
  type Refusal,
  type ResolvedRetryPolicy,
  type RetentionSettings,
  type RetryPhase,
  type RetryPolicy,
  type OldestWaiting,
  type StateCounts,
} from './types.js';
export {
  HTTP_JOB_NAME,
  httpTargetHandler,
  resolveHttpTarget,
  resolveHttpTargetOptions,
  signHttpTarget,
  verifyHttpTargetSignature,
  type HttpTarget,
  type HttpTargetOptions,
} from './http-target.js';
export { MAX_BODY_EXCERPT_BYTES, MAX_RESPONSE_BYTES } from './response-record.js';
export { MAX_LOG_BYTES, MAX_LOG_LINES, MAX_LOG_LINE_CHARS, MAX_PROGRESS_BYTES } from './progress.js';
