/**
 * The benchmark suite: ReTraced (Redis backend, full attempt history) side by side with BullMQ and
 * Bee-Queue on one redis-server that the suite starts itself (free port, no persistence).
 *
 *   tsx bench/run.ts [--filter name[,name…]] [--systems retraced,bullmq,bee] [--jobs N] [--reps N] [--smoke] [--out dir]
 *
 * For each scenario the systems alternate run by run (r, b, q, r, b, q, …), FLUSHALL between runs;
 * medians and the ratio ReTraced / each peer are reported. See bench/README.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';
import { createAdapter } from './adapters/index.js';
import { Control } from './lib/control.js';
import { CpuMonitor, type CpuTimes } from './lib/cpu.js';
import {
  checkTargets,
  markdownReport,
  markdownSummary,
  ratioChart,
  summarise,
  terminalTable,
  type Machine,
  type Report,
  type RunRecord,
  type SystemInfo,
} from './lib/report.js';
import type { RunOutcome, Scenario, ScenarioContext, Sizes } from './lib/scenario.js';
import { fmtNumber, withTimeout } from './lib/stats.js';
import { nowMs, SYSTEM_LABELS, SYSTEMS, type SystemName } from './lib/types.js';
import { SCENARIOS, sizesFor } from './scenarios.js';

/** Other processes using more cores than this during a run make it "disturbed" (flagged, still counted). */
const QUIET_THRESHOLD = 0.25;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

const USAGE = `usage: tsx bench/run.ts [options]
  --filter a,b     only these scenarios (exact names, or a prefix such as "process")
  --systems a,b    systems to run: ${SYSTEMS.join(', ')} (default all)
  --jobs N         jobs per scenario (default 10000; delayed = N/5, idle samples = min(300, N/10))
  --reps N         repetitions per system and scenario (default 3)
  --smoke          a quick proof that everything runs: 500 jobs, 1 repetition, never asserts speed
  --out DIR        where reports go (default bench/results)
  --from-json F    no run: rewrite the reports (and a full run's README block) from a saved .json
  --quiet-wait S   before each run, wait up to S seconds (default 20) until other processes use
                   less than ${QUIET_THRESHOLD} cores; runs disturbed anyway are flagged in the report
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

interface Options {
  scenarios: Scenario[];
  systems: SystemName[];
  jobs: number;
  reps: number;
  smoke: boolean;
  out: string;
  quietWaitMs: number;
  fromJson: string | undefined;
  kind: Report['kind'];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string' },
      systems: { type: 'string' },
      jobs: { type: 'string' },
      reps: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      'quiet-wait': { type: 'string' },
      'from-json': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const list = (s: string | undefined): string[] | undefined =>
    s
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const filters = list(values.filter);
  let scenarios = [...SCENARIOS];
  if (filters) {
    // An exact name selects that scenario alone; anything else selects the names it starts.
    const matches = (f: string, name: string): boolean =>
      SCENARIOS.some((s) => s.name === f) ? name === f : name.startsWith(f);
    scenarios = SCENARIOS.filter((s) => filters.some((f) => matches(f, s.name)));
    if (scenarios.length === 0) throw new Error(`--filter ${values.filter} matches no scenario\n${USAGE}`);
  }
  const systemNames = list(values.systems) ?? [...SYSTEMS];
  for (const s of systemNames) {
    if (!SYSTEMS.includes(s as SystemName)) {
      throw new Error(`unknown system "${s}" (known: ${SYSTEMS.join(', ')})`);
    }
  }
  const systems = SYSTEMS.filter((s) => systemNames.includes(s)); // fixed order: r, b, q
  const int = (s: string | undefined, name: string, dflt: number): number => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const smoke = values.smoke === true;
  const jobs = int(values.jobs, 'jobs', smoke ? 500 : 10_000);
  const reps = int(values.reps, 'reps', smoke ? 1 : 3);
  const full = !smoke && !filters && systems.length === SYSTEMS.length && jobs === 10_000 && reps >= 3;
  return {
    scenarios,
    systems,
    jobs,
    reps,
    smoke,
    out: path.resolve(values.out ?? path.join(ROOT, 'bench', 'results')),
    quietWaitMs: seconds(values['quiet-wait'], 20),
    fromJson: values['from-json'],
    kind: smoke ? 'smoke' : full ? 'full' : 'partial',
  };
}

function seconds(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error('--quiet-wait must be a number of seconds ≥ 0');
  return n * 1000;
}

function checkLua(): void {
  const res = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'scripts', 'build-lua.ts'), '--check'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) {
    throw new Error(
      `ReTraced's generated Lua module is missing or stale: run \`npm run build:lua\` first.\n${res.stdout}${res.stderr}`,
    );
  }
}

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function machineInfo(control: Control): Promise<Machine> {
  const cpus = os.cpus();
  let commit = 'unknown commit';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    commit = `commit ${head}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    // not a git checkout
  }
  let msgpackrNative = false;
  try {
    const m = (await import('msgpackr')) as { isNativeAccelerationEnabled?: boolean };
    msgpackrNative = m.isNativeAccelerationEnabled === true;
  } catch {
    // not installed
  }
  const cfg = (await control.client.call('CONFIG', 'GET', 'save')) as string[];
  const aof = (await control.client.call('CONFIG', 'GET', 'appendonly')) as string[];
  const policy = (await control.client.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
  const beeRedis = (() => {
    try {
      const beeDir = path.dirname(require.resolve('bee-queue/package.json'));
      return (createRequire(path.join(beeDir, 'index.js'))('redis/package.json') as { version: string })
        .version;
    } catch {
      return 'unknown';
    }
  })();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: await control.redisVersion(),
    redisConfig: `save "${cfg[1] ?? ''}", appendonly ${aof[1] ?? '?'}, maxmemory-policy ${policy[1] ?? '?'}, local TCP`,
    ioredis: version('ioredis'),
    nodeRedisForBee: beeRedis,
    msgpackrNative,
    retracedCommit: commit,
  };
}

function summaryOfRun(sc: Scenario, out: RunOutcome): string {
  return sc.metrics
    .filter((m) => out.metrics[m.key] !== undefined && (m.summary || sc.metrics.length === 1))
    .map(
      (m) => `${m.label} ${fmtNumber(out.metrics[m.key]!, m.unit)}${m.unit === 'jobs/s' ? '' : ` ${m.unit}`}`,
    )
    .join(', ');
}

async function runOne(
  sc: Scenario,
  system: SystemName,
  rep: number,
  server: RedisServer,
  control: Control,
  sizes: Sizes,
  label: string,
  cpu: CpuMonitor,
): Promise<RunRecord> {
  (globalThis as { gc?: () => void }).gc?.();
  await control.flushAll();
  const adapter = createAdapter(system);
  const cleanups: (() => Promise<void>)[] = [];
  const started = Date.now();
  const ctx: ScenarioContext = {
    system,
    adapter,
    redisUrl: server.url,
    control,
    queue: `bench-${sc.name}-${rep}`,
    sizes,
    rep,
    defer: (fn) => void cleanups.push(fn),
    progress: (m) => log(`${label}   … ${m}`),
    timing: (phase, jobs) => {
      if (phase === 'start') cpuStart = cpu.times();
      else {
        cpuEnd = cpu.times();
        cpuJobs = jobs ?? 0;
      }
    },
  };
  let cpuStart: CpuTimes | undefined;
  let cpuEnd: CpuTimes | undefined;
  let cpuJobs = 0;
  let outcome: RunOutcome | undefined;
  let error: unknown;
  const timeout = sc.timeoutMs(sizes);
  const cpu0 = cpu.snapshot();
  try {
    outcome = await withTimeout(sc.run(ctx), timeout, `timed out after ${timeout} ms`);
  } catch (e) {
    error = e;
  }
  const foreignCores = cpu.foreignCores(cpu0, cpu.snapshot());
  const busy =
    foreignCores !== undefined && foreignCores > QUIET_THRESHOLD
      ? [`disturbed: other processes kept ${foreignCores.toFixed(2)} cores busy on average during this run`]
      : [];
  const load = foreignCores !== undefined ? { foreignCores } : {};
  const cleanupProblems: string[] = [];
  for (const fn of cleanups.reverse()) {
    await withTimeout(fn(), 20_000, 'cleanup timed out').catch((e: unknown) =>
      cleanupProblems.push(String(e)),
    );
  }
  await withTimeout(adapter.close(), 10_000, 'close timed out').catch((e: unknown) =>
    cleanupProblems.push(String(e)),
  );
  const wallMs = Date.now() - started;
  if (!outcome) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      scenario: sc.name,
      system,
      rep,
      valid: false,
      metrics: {},
      problems: [`run failed: ${message}`],
      notes: [...busy, ...cleanupProblems],
      wallMs,
      ...load,
    };
  }
  const cpuMetrics: Record<string, number> = {};
  if (cpuStart && cpuEnd && cpuJobs > 0) {
    const node = ((cpuEnd.nodeMs - cpuStart.nodeMs) / cpuJobs) * 1000;
    const redis = ((cpuEnd.redisMs - cpuStart.redisMs) / cpuJobs) * 1000;
    Object.assign(cpuMetrics, { cpuPer1k: node + redis, cpuNodePer1k: node, cpuRedisPer1k: redis });
  }
  const warnings =
    'warnings' in adapter && Array.isArray(adapter.warnings) ? (adapter.warnings as string[]) : [];
  return {
    scenario: sc.name,
    system,
    rep,
    valid: outcome.problems.length === 0,
    metrics: { ...outcome.metrics, ...cpuMetrics },
    problems: outcome.problems,
    notes: [...busy, ...outcome.notes, ...cleanupProblems, ...warnings.map((w) => `warning: ${w}`)],
    ...(outcome.details ? { details: outcome.details } : {}),
    wallMs,
    ...load,
  };
}

/** One small untimed round per system so that module loading and JIT warm-up are not measured. */
async function warmUp(
  systems: readonly SystemName[],
  server: RedisServer,
  control: Control,
  cpu: CpuMonitor,
): Promise<void> {
  const sc = SCENARIOS.find((s) => s.name === 'process-c10')!;
  for (const system of systems) {
    const rec = await runOne(
      sc,
      system,
      0,
      server,
      control,
      sizesFor(1000, true),
      `[warm-up] ${SYSTEM_LABELS[system]}`,
      cpu,
    );
    if (!rec.valid) log(`[warm-up] ${SYSTEM_LABELS[system]}: ${rec.problems.join('; ')}`);
  }
}

function disturbedNote(report: Report): string {
  const d = report.runs.filter((r) => (r.foreignCores ?? 0) > QUIET_THRESHOLD);
  if (d.length === 0) return '';
  const worst = Math.max(...d.map((r) => r.foreignCores ?? 0));
  return (
    ` **${d.length} of ${report.runs.length} runs were disturbed** by other processes on the machine (up to ` +
    `${worst.toFixed(2)} cores busy): the ratios (systems alternate run by run) and the CPU per job hold up ` +
    'better than the absolute jobs/s.'
  );
}

async function updateReadme(file: string, summaryMd: string, report: Report): Promise<void> {
  const start = '<!-- bench:summary:start -->';
  const end = '<!-- bench:summary:end -->';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const m = report.machine;
  const block = [
    start,
    `Latest full run: **${report.date}** ([report](results/${report.date}.md)), ${m.cores} cores (${m.cpu}), Node ${m.node}, redis-server ${m.redis}; ` +
      report.systems.map((s) => `${s.label} ${s.version}`).join(', ') +
      `. Medians of ${report.reps} runs each; N = ${report.sizes.jobs.toLocaleString('en-US')}.` +
      disturbedNote(report),
    '',
    summaryMd,
    '',
    '![Throughput ratios ReTraced / peer](results/ratios.svg)',
    end,
  ].join('\n');
  let updated = text.slice(0, a) + block + text.slice(b + end.length);
  try {
    // Keep the README as `npm run format` would leave it.
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    updated = await prettier.format(updated, { ...config, filepath: file });
  } catch {
    // prettier is a devDependency: without it the block stays as generated
  }
  writeFileSync(file, updated);
}

/** Prints the summary and writes the reports (and, for a full run into bench/results, the README block). */
async function output(report: Report, scenarios: readonly Scenario[], out: string): Promise<void> {
  const systemNames = report.systems.map((s) => s.name);
  console.log('');
  console.log(terminalTable(report.summary, systemNames));
  if (report.targets.length > 0) {
    console.log('');
    for (const t of report.targets) {
      console.log(`${t.met === null ? '  ' : t.met ? '✓ ' : '✗ '}${t.target}: ${t.measured}`);
    }
  }
  const disturbed = report.runs.filter((r) => (r.foreignCores ?? 0) > QUIET_THRESHOLD);
  if (disturbed.length > 0) {
    console.log(
      `\n${disturbed.length} of ${report.runs.length} runs were disturbed (other processes kept > ${QUIET_THRESHOLD} cores busy): treat their numbers with care.`,
    );
  }
  const invalid = report.runs.filter((r) => !r.valid);
  if (invalid.length > 0) {
    console.log(`\n${invalid.length} INVALID run(s): see the report.`);
    process.exitCode = 1;
  }

  mkdirSync(out, { recursive: true });
  const base = report.kind === 'full' ? report.date : `${report.date}-${report.kind}`;
  const chart = report.kind === 'full' ? 'ratios.svg' : `${base}-ratios.svg`;
  const hasChart =
    systemNames.includes('retraced') && systemNames.length > 1 && report.summary.some((r) => r.metric.chart);
  if (hasChart) {
    const subtitle = [
      `${report.date} · ${report.machine.cores} cores · Node ${report.machine.node} · redis ${report.machine.redis} · ${report.systems.map((s) => `${s.label} ${s.version}`).join(' · ')}`,
      `medians of ${report.reps} runs, N = ${report.sizes.jobs.toLocaleString('en-US')}` +
        (disturbed.length > 0
          ? ` · ${disturbed.length} of ${report.runs.length} runs disturbed by other processes on the machine`
          : ''),
    ];
    writeFileSync(path.join(out, chart), ratioChart(report.summary, systemNames, subtitle));
  }
  writeFileSync(
    path.join(out, `${base}.md`),
    markdownReport(report, scenarios, hasChart ? chart : undefined),
  );
  writeFileSync(path.join(out, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
  log(
    `\nreports: ${path.relative(process.cwd(), path.join(out, `${base}.md`))}, ${base}.json${hasChart ? `, ${chart}` : ''}`,
  );
  if (report.kind === 'full' && path.resolve(out) === path.join(ROOT, 'bench', 'results')) {
    await updateReadme(
      path.join(ROOT, 'bench', 'README.md'),
      markdownSummary(report.summary, systemNames),
      report,
    );
  }
}

/** Rewrites the reports of a saved run with the current summary and report code. */
async function rerender(file: string, out: string): Promise<void> {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const scenarios = SCENARIOS.filter((s) => saved.scenarios.some((x) => x.name === s.name));
  const systemNames = saved.systems.map((s) => s.name);
  const summary = summarise(scenarios, systemNames, saved.runs);
  const targets = systemNames.length === SYSTEMS.length ? checkTargets(summary, saved.sizes) : [];
  await output({ ...saved, summary, targets }, scenarios, out);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (opts.fromJson) return rerender(opts.fromJson, opts.out);
  if (opts.systems.includes('retraced')) checkLua();
  const sizes = sizesFor(opts.jobs, opts.smoke);
  const startedAt = new Date();
  log(
    `bench: ${opts.kind} run, ${opts.scenarios.length} scenarios × ${opts.systems.length} systems × ${opts.reps} reps, N = ${opts.jobs}`,
  );
  const server = await startRedisServer();
  const control = new Control(server.url);
  const stop = async (): Promise<void> => {
    await control.close();
    await server.stop();
  };
  process.once('SIGINT', () => {
    log('interrupted');
    void stop().finally(() => process.exit(130));
  });
  try {
    const machine = await machineInfo(control);
    log(
      `redis-server ${machine.redis} on ${server.url} (persistence off); ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}`,
    );
    const cpu = new CpuMonitor(server.pid);
    await warmUp(opts.systems, server, control, cpu);
    const runs: RunRecord[] = [];
    const total = opts.scenarios.length * opts.systems.length * opts.reps;
    let k = 0;
    for (const sc of opts.scenarios) {
      for (let rep = 1; rep <= opts.reps; rep++) {
        for (const system of opts.systems) {
          k++;
          const label = `[${String(k).padStart(String(total).length)}/${total}] ${sc.name} · ${SYSTEM_LABELS[system]} · rep ${rep}/${opts.reps}`;
          if (opts.quietWaitMs > 0) {
            const q = await cpu.waitForQuiet(QUIET_THRESHOLD, opts.quietWaitMs);
            if (q.waitedMs > 1000) {
              const now = q.foreign === undefined ? '?' : q.foreign.toFixed(2);
              log(
                `${label}   … waited ${(q.waitedMs / 1000).toFixed(0)} s for other processes to quieten (now ${now} cores)`,
              );
            }
          }
          const t0 = nowMs();
          const rec = await runOne(sc, system, rep, server, control, sizes, label, cpu);
          runs.push(rec);
          const took = ((nowMs() - t0) / 1000).toFixed(1);
          const result = rec.valid
            ? summaryOfRun(sc, { metrics: rec.metrics, problems: [], notes: [] })
            : `INVALID: ${rec.problems.join('; ')}`;
          const disturbed =
            rec.foreignCores !== undefined && rec.foreignCores > QUIET_THRESHOLD
              ? ` [disturbed: other processes ${rec.foreignCores.toFixed(2)} cores]`
              : '';
          log(`${label} … ${result} (${took} s)${disturbed}`);
        }
      }
    }
    const systems: SystemInfo[] = opts.systems.map((s) => {
      const a = createAdapter(s);
      return { name: s, label: a.label, version: a.version, settings: a.settings };
    });
    const summary = summarise(opts.scenarios, opts.systems, runs);
    const targets = opts.systems.length === SYSTEMS.length ? checkTargets(summary, sizes) : [];
    const date = startedAt.toISOString().slice(0, 10);
    const report: Report = {
      date,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      kind: opts.kind,
      command: `tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      reps: opts.reps,
      sizes,
      machine,
      systems,
      scenarios: opts.scenarios.map((s) => ({ name: s.name, title: s.title, method: s.method })),
      summary,
      targets,
      runs,
    };
    await output(report, opts.scenarios, opts.out);
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
