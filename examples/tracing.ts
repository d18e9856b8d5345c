/**
 * A traced run, printed as a tree: one job that fails twice (retried by the engine), then fails for
 * good and is dead-lettered, then is replayed by a person with a note and succeeds. Run with
 * `npx tsx examples/tracing.ts`. It registers the OpenTelemetry SDK's in-memory exporter (a
 * development dependency); in an application, register your SDK (e.g. @opentelemetry/sdk-node with
 * an OTLP exporter) and ReTraced's spans appear there, nothing else to configure.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

import { MemoryBackend } from '../src/backends/memory/memory-backend.js';
import { PermanentError } from '../src/errors.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);

const backend = new MemoryBackend();
const payments = new Queue('payments', {
  backend,
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 50 } },
});
let fixed = false;
const worker = new Worker(payments, async (job) => {
  await trace.getTracer('app').startActiveSpan('call card provider', async (s) => {
    s.end();
  });
  if (fixed) return { charged: true };
  if (job.attempt < 3) throw Object.assign(new Error('provider timed out'), { code: 'ETIMEDOUT' });
  throw new PermanentError('card expired');
});

const { id } = await payments.add('charge', { card: 'tok_1', amount: 1200 });
const waitFor = async (state: string): Promise<void> => {
  while ((await payments.getJob(id))?.state !== state) await new Promise((r) => setTimeout(r, 10));
};
await waitFor('dead');
fixed = true;
await payments.dlq.replay(id, { by: 'alice', note: 'customer updated the card' });
await waitFor('completed');
await worker.close();

const spans = exporter.getFinishedSpans().sort((a, b) => hr(a.startTime) - hr(b.startTime));
function hr(t: [number, number]): number {
  return t[0] * 1e3 + t[1] / 1e6;
}
const t0 = hr(spans[0]!.startTime);
const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
// `--full`: every attribute, the span kind, trace ids and link attributes (docs/tracing.md).
const full = process.argv.includes('--full');
const kinds = ['internal', 'server', 'client', 'producer', 'consumer'];
function fmt(attrs: Record<string, unknown>, all: boolean): string {
  return Object.entries(attrs)
    .filter(([k]) => all || k.startsWith('retraced.') || k === 'error.type' || k === 'messaging.message.id')
    .map(([k, v]) => `${all ? k : k.replace('retraced.', '')}=${JSON.stringify(v)}`)
    .join(' ');
}
function line(s: ReadableSpan, depth: number): void {
  const pad = '  '.repeat(depth);
  const links = s.links
    .map((l) => `→ link ${byId.get(l.context.spanId)?.name ?? l.context.spanId}`)
    .join(' ');
  const at = `+${(hr(s.startTime) - t0).toFixed(0)} ms`;
  if (full) {
    const trace = s.spanContext().traceId.slice(0, 8);
    console.log(
      `${pad}${s.name}  [${kinds[s.kind] ?? s.kind}] trace ${trace}…  ${at}, ${hr(s.duration).toFixed(1)} ms`,
    );
    const attrs = Object.entries(s.attributes);
    for (const [k, v] of attrs) console.log(`${pad}    ${k} = ${JSON.stringify(v)}`);
    for (const l of s.links) {
      const to = byId.get(l.context.spanId);
      const extra = fmt(l.attributes ?? {}, true);
      console.log(
        `${pad}    → link to ${to?.name ?? '?'} (trace ${l.context.traceId.slice(0, 8)}…)${extra ? ` ${extra}` : ''}`,
      );
    }
    for (const e of s.events) console.log(`${pad}    • event ${e.name} ${fmt(e.attributes ?? {}, true)}`);
    if (s.status.code !== 0) {
      console.log(
        `${pad}    status ${s.status.code === 2 ? 'ERROR' : 'OK'}${s.status.message ? `: ${s.status.message}` : ''}`,
      );
    }
  } else {
    console.log(`${pad}${s.name}  ${at}  ${fmt(s.attributes, false)} ${links}`);
    for (const e of s.events.filter((e) => e.name !== 'exception')) {
      console.log(`${pad}  • ${e.name} ${fmt(e.attributes ?? {}, false)}`);
    }
  }
  for (const child of spans.filter((c) => c.parentSpanContext?.spanId === s.spanContext().spanId)) {
    line(child, depth + 1);
  }
}
for (const s of spans.filter((s) => !s.parentSpanContext)) line(s, 0);
