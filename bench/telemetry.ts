/**
 * Telemetry benchmark: what tracing, metrics and log export cost, measured next to telemetry off
 * and next to the stock getting-started setup in the same run, so the ratios hold on any machine.
 *
 * POST /v1/chat over HTTP (autocannon, the chat mix of bench/chat.ts, PGlite, NODE_ENV=production,
 * logging set up as src/server.ts does, stdout on /dev/null) on three forked servers:
 *
 *   full   ours: `--import dist/otel/instrumentation.js` as `npm start` loads it, every trace sampled
 *          (OTEL_TRACES_SAMPLER=always_on), OTLP http/protobuf (the default) to a receiver in this
 *          process, metrics on (the SDK's 60 s interval, and one export at shutdown), LOG_LEVEL=info,
 *          so every log line is also an OTLP log record.
 *   off    the same preload with OTEL_SDK_DISABLED=true, LOG_LEVEL=silent.
 *   stock  the getting-started setup: `--require @opentelemetry/auto-instrumentations-node/register`
 *          with its defaults (only the endpoint and OTEL_SERVICE_NAME set, and the cloud resource
 *          detectors left out: see STOCK_DETECTORS), LOG_LEVEL=info. A `--require` hook cannot patch
 *          what the app loads through ESM `import`, so what it actually exported is reported next
 *          to its speed.
 *
 * The three alternate over several rounds (the order rotated, then reversed) so that a noisy
 * neighbour hits them alike; medians per configuration and their ratios to off are reported, with
 * the server's main-thread CPU per request (steadier than throughput on a shared machine) and what
 * the receiver got from each. Goals: full ≥ 80 % of off's throughput, full's p99 ≤ 1.5× off's.
 *
 *   npm run bench:telemetry                                       # 6 rounds × 8 s per configuration, 10 connections
 *   npm run bench:telemetry -- --duration 10 --rounds 3 --connections 20
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import { join } from 'node:path'
import { BENCH_APP_ENV, benchFlags, count, formatTable, machineLine, mb, measureInRounds, median, MIX, ms, percent, SESSIONS, startContender, type Contender, type Row } from './chat-load.js'
import { OtlpCounter, type SenderCount } from './otlp-counter.js'

const THROUGHPUT_GOAL = 0.8
const P99_GOAL = 1.5
const WARM_UP_SECONDS = 2

const { duration, rounds, connections } = benchFlags('bench:telemetry', {
  duration: { default: 8, kind: 'seconds', meaning: 'seconds per round and configuration' },
  rounds: { default: 6, kind: 'count', meaning: 'n' },
  connections: { default: 10, kind: 'count', meaning: 'n' }
})
const roundsOptions = { rounds, duration, connections, warmUpSeconds: WARM_UP_SECONDS }

const times = (ratio: number): string => `${ratio.toFixed(2)}×`

// Our bootstrap as `npm start` preloads it, and the stock hook resolved from here, so the run does not depend on the working directory.
const OURS = new URL('../otel/instrumentation.js', import.meta.url).href
const STOCK = createRequire(import.meta.url).resolve('@opentelemetry/auto-instrumentations-node/register')

// The stock hook's default resource detectors include AWS, Azure, GCP and Alibaba Cloud, which probe
// metadata addresses off this machine (and warn when nothing answers); benchmarks stay on loopback.
// They run once, at start-up, before anything is measured; the local detectors are kept.
const STOCK_DETECTORS = 'env,host,os,process,serviceinstance,container'

type Key = 'full' | 'off' | 'stock'
interface Configuration extends Contender {
  key: Key
  execArgv: string[]
  /** The SDK's variables; the endpoint gets /<key> appended, so the receiver tells the senders apart. */
  otel: Record<string, string>
  level: 'info' | 'silent'
  received?: SenderCount
}

const started = performance.now()
const machine = machineLine()
const receiver = new OtlpCounter()
const endpoint = await receiver.start()
const scratch = await mkdtemp(join(os.tmpdir(), 'parley-bench-telemetry-'))
const configurations: Configuration[] = [
  { key: 'full', name: 'full telemetry (ours)', execArgv: ['--import', OURS], otel: { OTEL_TRACES_SAMPLER: 'always_on' }, level: 'info', served: 0, rows: [] },
  // The endpoint is set here too: anything arriving from off would mean the SDK was not off.
  { key: 'off', name: 'off', execArgv: ['--import', OURS], otel: { OTEL_SDK_DISABLED: 'true' }, level: 'silent', served: 0, rows: [] },
  { key: 'stock', name: 'stock auto-instrumentation', execArgv: ['--require', STOCK], otel: { OTEL_SERVICE_NAME: 'parley', OTEL_NODE_RESOURCE_DETECTORS: STOCK_DETECTORS }, level: 'info', served: 0, rows: [] }
]

async function stopServer (configuration: Configuration): Promise<void> {
  const server = configuration.server
  if (server === undefined) return
  if (configuration.key !== 'stock') return await server.stop()
  // The stock hook handles SIGTERM itself (it shuts the SDK down, which flushes what is queued) and
  // never exits afterwards, since the server still listens. So: SIGTERM for the flush, wait until
  // the receiver hears nothing more from it, then SIGKILL.
  server.signal('SIGTERM')
  await receiver.quiet(configuration.key, 1000, 5000)
  await server.kill()
}

try {
  try {
    for (const configuration of configurations) {
      const dataDir = join(scratch, `data-${configuration.key}`)
      await mkdir(dataDir)
      await startContender(configuration, {
        env: { ...BENCH_APP_ENV, LOG_LEVEL: configuration.level, LOG_DIR: join(scratch, `logs-${configuration.key}`), DATA_DIR: dataDir },
        processLogging: true,
        stdout: 'ignore',
        execArgv: configuration.execArgv,
        processEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/${configuration.key}`, ...configuration.otel }
      }, roundsOptions)
    }
    await measureInRounds(configurations, roundsOptions)
  } finally {
    // Stopping flushes each SDK, so everything exported is in before it is counted.
    await Promise.all(configurations.map(stopServer))
  }
  for (const configuration of configurations) configuration.received = receiver.count(configuration.key)
} finally {
  await receiver.stop()
  await rm(scratch, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// The report.

const [full, off, stock] = configurations as [Configuration, Configuration, Configuration]
const summary = (configuration: Configuration) => ({
  rps: median(configuration.rows.map(row => row.rps)),
  p50: median(configuration.rows.map(row => row.p50)),
  p99: median(configuration.rows.map(row => row.p99))
})
const summaries = new Map(configurations.map(configuration => [configuration, summary(configuration)]))
const paired = (a: Configuration, b: Configuration, measure: (row: Row) => number): number => median(a.rows.map((row, round) => measure(row) / measure(b.rows[round]!)))
const rpsRatio = (a: Configuration, b: Configuration): number => summaries.get(a)!.rps / summaries.get(b)!.rps
const p99Ratio = (a: Configuration, b: Configuration): number => summaries.get(a)!.p99 / summaries.get(b)!.p99

console.log(`\nTelemetry benchmark. Machine: ${machine}`)
console.log(`\nPOST /v1/chat, ${connections} connections, ${rounds} round${rounds === 1 ? '' : 's'} × ${duration} s per configuration (order rotated each round, after a ${Math.min(WARM_UP_SECONDS, duration)} s warm-up each),`)
console.log(`${SESSIONS} sessions rotated over ${MIX.length} messages, PGlite, NODE_ENV=production, logging set up as src/server.ts does, server stdout on /dev/null.`)
console.log('  full telemetry (ours): --import dist/otel/instrumentation.js, OTLP http/protobuf to a receiver in this process (127.0.0.1),')
console.log('    OTEL_TRACES_SAMPLER=always_on, metrics on (SDK default 60 s interval, plus the export at shutdown), LOG_LEVEL=info (log records exported too)')
console.log('  off: the same preload with OTEL_SDK_DISABLED=true, LOG_LEVEL=silent')
console.log('  stock auto-instrumentation: --require @opentelemetry/auto-instrumentations-node/register, defaults (only the endpoint,')
console.log(`    OTEL_SERVICE_NAME, and OTEL_NODE_RESOURCE_DETECTORS=${STOCK_DETECTORS} to stay on loopback), LOG_LEVEL=info\n`)
const chatTable = [
  ['configuration', 'req/s per round', 'median req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'req/s vs off', 'p99 vs off'],
  ...configurations.map(configuration => {
    const { rps, p50, p99 } = summaries.get(configuration)!
    return [configuration.name, configuration.rows.map(row => row.rps.toFixed(0)).join(' / '), rps.toFixed(0), ms(p50), ms(p99),
      String(configuration.rows.reduce((sum, row) => sum + row.non2xx, 0)), String(configuration.rows.reduce((sum, row) => sum + row.errors, 0)),
      percent(rpsRatio(configuration, off)), times(p99Ratio(configuration, off))]
  })
]
for (const line of formatTable(chatTable)) console.log(`  ${line}`)

const throughputMet = rpsRatio(full, off) >= THROUGHPUT_GOAL
const p99Met = p99Ratio(full, off) <= P99_GOAL
console.log(`\n  full / off, throughput: ${percent(rpsRatio(full, off))} (median of the per-round ratios: ${percent(paired(full, off, row => row.rps))}); goal ≥ ${percent(THROUGHPUT_GOAL)}: ${throughputMet ? 'met' : 'NOT MET'}`)
console.log(`  full / off, p99: ${times(p99Ratio(full, off))} (${ms(summaries.get(full)!.p99)} against ${ms(summaries.get(off)!.p99)} ms; median of the per-round ratios: ${times(paired(full, off, row => row.p99))}); goal ≤ ${times(P99_GOAL)}: ${p99Met ? 'met' : 'NOT MET'}`)
const cpu = (configuration: Configuration): number => median(configuration.rows.map(row => row.cpuMsPerRequest ?? NaN))
if (!Number.isNaN(cpu(full))) {
  console.log(`  server main-thread CPU per request (median of the rounds): full ${cpu(full).toFixed(2)} ms, off ${cpu(off).toFixed(2)} ms, stock ${cpu(stock).toFixed(2)} ms;`)
  console.log(`    off / full: ${percent(cpu(off) / cpu(full))} (the throughput full would keep if the event loop's CPU were all that limited it)`)
}
console.log(`  full / stock: ${percent(rpsRatio(full, stock))} of the throughput (per round: ${percent(paired(full, stock, row => row.rps))}), p99 ${times(p99Ratio(full, stock))} (per round: ${times(paired(full, stock, row => row.p99))})`)

console.log('\nReceived over OTLP, for every request each server answered (the rounds, the warm-up and the sessions opened first):\n')
const receivedTable = [
  ['configuration', 'requests', 'spans', 'per request', 'log records', 'per request', 'metric exports', 'metrics', 'MB traces / logs / metrics'],
  ...configurations.map(({ name, served, received }) => {
    const { traces, logs, metrics } = received!
    return [name, count(served), count(traces.items), (traces.items / served).toFixed(2), count(logs.items), (logs.items / served).toFixed(2),
      count(metrics.requests), count(metrics.items), `${mb(traces.bytes)} / ${mb(logs.bytes)} / ${mb(metrics.bytes)}`]
  })
]
for (const line of formatTable(receivedTable)) console.log(`  ${line}`)
for (const { name, served, received } of [full, stock]) {
  const scopes = [...received!.traces.scopes].sort((a, b) => b[1] - a[1]).map(([scope, spans]) => `${scope} ${count(spans)} (${(spans / served).toFixed(2)})`)
  console.log(`\n  spans by instrumentation scope (per request), ${name}: ${scopes.length === 0 ? 'none' : scopes.join(', ')}`)
}
console.log(`\nRun time: ${((performance.now() - started) / 1000).toFixed(0)} s`)

const failures: string[] = []
const failedRequests = configurations.filter(configuration => configuration.rows.some(row => row.non2xx + row.errors > 0))
if (failedRequests.length > 0) failures.push(`requests failed on ${failedRequests.map(configuration => configuration.name).join(', ')}: these figures are not a valid measurement`)
if (full.received!.traces.items === 0) failures.push('full telemetry exported no spans: it was not on, and the comparison measures nothing')
if (full.received!.logs.items === 0) failures.push('full telemetry exported no log records: log export was not on')
if (full.received!.metrics.requests === 0) failures.push('full telemetry exported no metrics: metrics were not on')
const fromOff = off.received!
if (fromOff.traces.requests + fromOff.logs.requests + fromOff.metrics.requests > 0) failures.push('the server with OTEL_SDK_DISABLED=true exported telemetry: off was not off')
for (const problem of receiver.rejected) failures.push(`the receiver could not read an export: ${problem}`)
for (const failure of failures) console.log(`\n!!! ${failure} !!!`)
if (failures.length > 0) process.exitCode = 1
