/**
 * OpenTelemetry traces, through `@opentelemetry/api` only: with no SDK registered every call here is
 * the API's no-op, nothing is stored with a job and nothing is recorded. With an SDK, following the
 * messaging semantic conventions:
 * - `send <queue>` (PRODUCER) for each `add` / `addBulk` call; its context travels with every job the
 *   call adds (W3C `traceparent`, `tracestate`, stored with the job);
 * - `process <queue>` (CONSUMER) for **each attempt**, from the moment the handler starts to the
 *   backend's answer to its finish; linked to the producer's context (default) or its child
 *   (`tracing: { parent: 'child' }`); the handler runs inside it, so the spans it makes are its
 *   children. Attributes: `messaging.*`, `error.type` on failure, and ReTraced's own
 *   (`retraced.attempt`, `retraced.trigger`, `retraced.error_class`, `retraced.rule`, the manual
 *   replay's `retraced.manual.by` / `.note`); the decision is a span event (`retraced.retry` with the
 *   delay and its explanation, `retraced.dead`, `retraced.done`).
 *
 * The job carries a context only when the producer's span was sampled (recording), so a process
 * without an SDK pays nothing per job in Redis.
 * @module
 */
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';

import type { FinishDecision } from './backend.js';
import type { AttemptTrigger, ErrorClass, ManualTrigger } from './types.js';

/** The instrumentation scope's name (`trace.getTracer(TRACER_NAME)`). */
export const TRACER_NAME = 'retraced';
/** `messaging.system`: not one of the registry's well-known values, so the library's own name. */
export const MESSAGING_SYSTEM = 'retraced';

/** How a job's attempts relate to the span that added it. */
export type TraceParentMode = 'link' | 'child';

export interface TracingOptions {
  /** Make spans at all. @default true (no-ops unless an OpenTelemetry SDK is registered) */
  readonly enabled?: boolean;
  /**
   * `link`: each attempt's span starts its own trace and links to the producer's span (the messaging
   * conventions' default: an attempt may run days later, in another service's trace); `child`: each
   * attempt's span is a child of the producer's span, one trace per job. @default 'link'
   */
  readonly parent?: TraceParentMode;
}

/** The carrier stored with a job: W3C trace context headers. */
type Carrier = Record<string, string>;

const setter: TextMapSetter<Carrier> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};
const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Whether a tracer provider (an SDK) is registered: without one the API's global proxy has no
 * delegate, and every span it makes is a non-recording no-op (checked per call: an SDK may be
 * registered at any time, and the proxy then delegates to it at once).
 */
function tracerRegistered(): boolean {
  const provider = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => Tracer | undefined };
  return (
    typeof provider.getDelegateTracer !== 'function' || provider.getDelegateTracer(TRACER_NAME) !== undefined
  );
}

/**
 * Whether an attempt's span could do anything. With no tracer registered the span would be a
 * non-recording no-op, which matters only as the carrier of the producer's context: in `child`
 * mode a job with a carrier still runs its handler inside that context. Otherwise the worker skips
 * the span altogether (no context, attributes or span objects per attempt).
 */
export function attemptSpanNeeded(carrier: string | undefined, mode: TraceParentMode): boolean {
  return (carrier !== undefined && mode === 'child') || tracerRegistered();
}

/**
 * The context to store with a job added under `ctx`, as JSON text, or undefined when there is
 * nothing worth carrying (no recording span). The registered propagator writes it; with none
 * registered (the API's default is a no-op), the span's own `traceparent` is written, so traces
 * join even when the application did not set a propagator.
 */
export function carrierText(ctx: Context): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc) || !(sc.traceFlags & TraceFlags.SAMPLED)) return undefined;
  const carrier: Carrier = {};
  propagation.inject(ctx, carrier, setter);
  if (carrier['traceparent'] === undefined) {
    carrier['traceparent'] =
      `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    if (sc.traceState) carrier['tracestate'] = sc.traceState.serialize();
  }
  return JSON.stringify(carrier);
}

/** The producer's context from a job's stored carrier; undefined when absent or unreadable. */
export function contextFromCarrier(text: string | undefined): Context | undefined {
  if (!text) return undefined;
  let carrier: Carrier;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    carrier = parsed as Carrier;
  } catch {
    return undefined;
  }
  const extracted = propagation.extract(context.active(), carrier, getter);
  if (trace.getSpanContext(extracted)) return extracted;
  // No propagator registered: read the traceparent ourselves.
  const m = TRACEPARENT.exec(carrier['traceparent'] ?? '');
  if (!m) return undefined;
  const sc: SpanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: parseInt(m[3] as string, 16),
    isRemote: true,
  };
  return trace.isSpanContextValid(sc) ? trace.setSpanContext(context.active(), sc) : undefined;
}

/**
 * Runs `send` inside a `send <queue>` PRODUCER span, handing it the carrier text to store with the
 * jobs (undefined when not recording). Ends the span with the outcome; the job ids (known after the
 * add) are set by `ids`.
 */
export async function traceSend<T>(
  queue: string,
  count: number,
  send: (carrier: string | undefined) => Promise<T>,
  ids: (result: T) => readonly string[],
): Promise<T> {
  // No tracer: the span would not record, and nothing would be carried.
  if (!tracerRegistered()) return send(undefined);
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.destination.name': queue,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
  };
  if (count !== 1) attributes['messaging.batch.message_count'] = count;
  const span = tracer().startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, attributes });
  if (!span.isRecording()) {
    span.end();
    return send(undefined);
  }
  const ctx = trace.setSpan(context.active(), span);
  try {
    const result = await context.with(ctx, () => send(carrierText(ctx)));
    const added = ids(result);
    if (added.length === 1) span.setAttribute('messaging.message.id', added[0] as string);
    return result;
  } catch (e) {
    span.setAttribute('error.type', errorType(e));
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}

function errorType(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? code : e.name;
  }
  return '_OTHER';
}

/** What a worker knows of an attempt when its handler starts. */
export interface AttemptStart {
  readonly queue: string;
  readonly jobId: string;
  readonly name: string;
  readonly attempt: number;
  readonly trigger: AttemptTrigger;
  readonly manual: ManualTrigger | undefined;
  /** The job's stored carrier (JSON text), if the producer's span was recording. */
  readonly carrier: string | undefined;
  readonly workerId: string;
  readonly driftMs: number;
}

/**
 * One attempt's `process <queue>` span. `run` runs the handler inside it; `end` records the outcome
 * and the decision and ends it, exactly once (later calls do nothing), so no path (a retry, a
 * refusal after a lost lease, a timeout, a worker closing) leaves a span open or lets one leak into
 * the next job.
 */
export class AttemptSpan {
  readonly #span: Span;
  readonly #ctx: Context;
  #ended = false;

  constructor(start: AttemptStart, mode: TraceParentMode) {
    const producer = contextFromCarrier(start.carrier);
    const links: Link[] = [];
    // An attempt never nests under whatever happened to be active in the worker's loop.
    let parent = trace.deleteSpan(context.active());
    if (producer) {
      if (mode === 'child') parent = producer;
      else links.push({ context: trace.getSpanContext(producer) as SpanContext });
    }
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.destination.name': start.queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': start.jobId,
      'messaging.consumer.group.name': start.queue,
      'retraced.job.name': start.name,
      'retraced.attempt': start.attempt,
      'retraced.trigger': start.trigger,
      'retraced.worker.id': start.workerId,
      'retraced.drift_ms': start.driftMs,
    };
    if (start.manual) {
      attributes['retraced.manual.by'] = start.manual.by;
      if (start.manual.note !== undefined) attributes['retraced.manual.note'] = start.manual.note;
      if (start.manual.patch) attributes['retraced.manual.patched'] = true;
    }
    this.#span = tracer().startSpan(
      `process ${start.queue}`,
      { kind: SpanKind.CONSUMER, attributes, links },
      parent,
    );
    this.#ctx = trace.setSpan(parent, this.#span);
  }

  /**
   * Runs `fn` (the handler) with this attempt's span active. Without an SDK (the API's no-op span,
   * an invalid context) the handler is called directly: nothing to propagate, and its errors' stacks
   * carry no frames of ours (stored stacks are part of the attempt records' size).
   */
  run<T>(fn: () => T): T {
    if (!trace.isSpanContextValid(this.#span.spanContext())) return fn();
    return context.with(this.#ctx, fn);
  }

  /**
   * Ends the span with how the attempt ended. `failure` for a failed, timed-out or interrupted
   * attempt; `decision` as the backend accepted it; `refused` when the backend refused the finish
   * (the lease was lost: another attempt owns the job now).
   */
  end(outcome: {
    readonly outcome: string;
    readonly failure?: {
      readonly error: unknown;
      readonly errorClass?: ErrorClass | undefined;
      readonly rule?: string | undefined;
    };
    readonly decision?: FinishDecision;
    readonly nextDueAt?: number | undefined;
    readonly refused?: string;
  }): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (!span.isRecording()) {
      span.end();
      return;
    }
    span.setAttribute('retraced.outcome', outcome.outcome);
    const f = outcome.failure;
    if (f) {
      span.setAttribute('error.type', errorType(f.error));
      if (f.errorClass) span.setAttribute('retraced.error_class', f.errorClass);
      if (f.rule) span.setAttribute('retraced.rule', f.rule);
      if (f.error instanceof Error) span.recordException(f.error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: f.error instanceof Error ? f.error.message : String(f.error),
      });
    }
    const d = outcome.decision;
    if (outcome.refused !== undefined) {
      span.addEvent('retraced.refused', { 'retraced.reason': outcome.refused });
    } else if (d?.action === 'retry') {
      const attrs: Attributes = {
        'retraced.delay_ms': d.delayMs,
        'retraced.delay_source': d.source,
        'retraced.explanation': d.explanation,
      };
      if (outcome.nextDueAt !== undefined) attrs['retraced.next_due_at'] = outcome.nextDueAt;
      span.addEvent('retraced.retry', attrs);
    } else if (d?.action === 'dead') {
      span.addEvent('retraced.dead', { 'retraced.reason': d.reason, 'retraced.explanation': d.explanation });
    } else if (d?.action === 'done') {
      span.addEvent('retraced.done');
    }
    span.end();
  }
}
