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
 *   no collector  `npm start`'s defaults where nothing listens: the preload, every OTEL_* variable
 *          unset but the endpoint, which points at a closed port on 127.0.0.1, LOG_LEVEL=info.
 *   stock  the getting-started setup: `--require @opentelemetry/auto-instrumentations-node/register`
 *          with its defaults (only the endpoint and OTEL_SERVICE_NAME set, and the cloud resource
 *          detectors left out: see STOCK_DETECTORS), LOG_LEVEL=info. A `--require` hook cannot patch
 *          what the app loads through ESM `import`, so what it actually exported is reported next
 *          to its speed.
 *
 * The three alternate over several rounds (the order rotated, then reversed) so that a noisy
 * neighbour hits them alike; medians per configuration and their ratios to off are reported, with
 * the server's CPU per request (main thread, steadier than throughput on a shared machine, and all
 * its threads, the log router's worker among them) and what the receiver got from each. Goals:
 * full ≥ 80 % of off's throughput, full's p99 ≤ 1.5× off's.
 *
 * With --baseline, another build's full, no-collector and off servers (its dist/bench/chat-server.js
 * and dist/otel/instrumentation.js) take part in the same rounds, each build's compared with its own off.
 *
 *   npm run bench:telemetry                                       # 6 rounds × 8 s per configuration, 10 connections
 *   npm run bench:telemetry -- --duration 10 --rounds 3 --connections 20
 *   npm run bench:telemetry -- --baseline /tmp/main/dist --stock no --duration 5 --rounds 4
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo } from 'node:net'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, count, formatTable, machineLine, mb, measureInRounds, median, MIX, ms, percent, SESSIONS, startContender, type Contender, type Row } from './chat-load.js'
import { OtlpCounter, type SenderCount } from './otlp-counter.js'

const THROUGHPUT_GOAL = 0.8
const P99_GOAL = 1.5
const WARM_UP_SECONDS = 2

const { duration, rounds, connections, baseline, stock: withStock } = benchFlags('bench:telemetry', {
  duration: { default: 8, kind: 'seconds', meaning: 'seconds per round and configuration' },
  rounds: { default: 6, kind: 'count', meaning: 'n' },
  connections: { default: 10, kind: 'count', meaning: 'n' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder' },
  stock: { kind: 'choice', choices: ['yes', 'no'], default: 'yes', meaning: 'whether the stock setup is measured too' }
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

type Kind = 'full' | 'off' | 'unheard' | 'stock'
interface Configuration extends Contender {
  /** Tells the senders apart at the receiver: the kind, and the build's suffix. */
  key: string
  kind: Kind
  build: 'this' | 'baseline'
  /** The build's dist/bench/chat-server.js, for a baseline. */
  script?: string
  execArgv: string[]
  /** The SDK's variables; the endpoint gets /<key> appended, so the receiver tells the senders apart. */
  otel: Record<string, string>
  level: 'info' | 'silent'
  /** The OTLP endpoint, when not the receiver. */
  endpoint?: string
  received?: SenderCount
}

const started = performance.now()
const machine = machineLine()
const receiver = new OtlpCounter()
const endpoint = await receiver.start()
const scratch = await mkdtemp(join(os.tmpdir(), 'parley-bench-telemetry-'))
// Where nothing listens, as localhost:4318 is for `npm start` without a collector: a port just freed.
const closedPort = await new Promise<number>(resolve => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resolve(port))
  })
})
const ourConfigurations = (build: Configuration['build'], preload: string, script?: string): Configuration[] => {
  const suffix = build === 'this' ? '' : ' (baseline)'
  const key = (kind: Kind): string => build === 'this' ? kind : `${kind}-baseline`
  // A function: each configuration has rows of its own.
  const common = () => ({ build, script, execArgv: ['--import', preload], served: 0, rows: [] })
  return [
    { ...common(), kind: 'full', key: key('full'), name: `full telemetry (ours)${suffix}`, otel: { OTEL_TRACES_SAMPLER: 'always_on' }, level: 'info' },
    { ...common(), kind: 'unheard', key: key('unheard'), name: `no collector${suffix}`, otel: {}, level: 'info', endpoint: `http://127.0.0.1:${closedPort}` },
    // The endpoint is set here too: anything arriving from off would mean the SDK was not off.
    { ...common(), kind: 'off', key: key('off'), name: `off${suffix}`, otel: { OTEL_SDK_DISABLED: 'true' }, level: 'silent' }
  ]
}
const baselineDist = baseline === '' ? undefined : resolve(baseline)
const configurations: Configuration[] = [
  ...ourConfigurations('this', OURS),
  ...(baselineDist === undefined
    ? []
    : ourConfigurations('baseline', pathToFileURL(join(baselineDist, 'otel/instrumentation.js')).href, join(baselineDist, 'bench/chat-server.js'))),
  ...(withStock === 'yes'
    ? [{ key: 'stock', kind: 'stock', build: 'this', name: 'stock auto-instrumentation', execArgv: ['--require', STOCK], otel: { OTEL_SERVICE_NAME: 'parley', OTEL_NODE_RESOURCE_DETECTORS: STOCK_DETECTORS }, level: 'info', served: 0, rows: [] } satisfies Configuration]
    : [])
]

async function stopServer (configuration: Configuration): Promise<void> {
  const server = configuration.server
  if (server === undefined) return
  if (configuration.kind !== 'stock') return await server.stop()
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
        script: configuration.script,
        processEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: configuration.endpoint ?? `${endpoint}/${configuration.key}`, ...configuration.otel }
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

const of = (build: Configuration['build'], kind: Kind): Configuration | undefined =>
  configurations.find(configuration => configuration.build === build && configuration.kind === kind)
const full = of('this', 'full')!
const off = of('this', 'off')!
const stock = of('this', 'stock')
const offOf = (configuration: Configuration): Configuration => of(configuration.build, 'off')!
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
console.log(`  no collector: the same preload with npm start's defaults, the endpoint a closed port (127.0.0.1:${closedPort}), LOG_LEVEL=info`)
console.log('  off: the same preload with OTEL_SDK_DISABLED=true, LOG_LEVEL=silent')
if (baselineDist !== undefined) console.log(`  (baseline): the same three of the build in ${baselineDist}, each compared with its own off`)
if (stock !== undefined) {
  console.log('  stock auto-instrumentation: --require @opentelemetry/auto-instrumentations-node/register, defaults (only the endpoint,')
  console.log(`    OTEL_SERVICE_NAME, and OTEL_NODE_RESOURCE_DETECTORS=${STOCK_DETECTORS} to stay on loopback), LOG_LEVEL=info`)
}
console.log('')
const cpu = (configuration: Configuration, measure: (row: Row) => number | undefined): number =>
  median(configuration.rows.map(row => measure(row) ?? NaN))
const mainCpu = (configuration: Configuration): number => cpu(configuration, row => row.cpuMsPerRequest)
const processCpu = (configuration: Configuration): number => cpu(configuration, row => row.processCpuMsPerRequest)
const logWorkerCpu = (configuration: Configuration): number => cpu(configuration, row => row.logWorkerCpuMsPerRequest)
const cpuText = (value: number): string => Number.isNaN(value) ? '–' : value.toFixed(3)
const chatTable = [
  ['configuration', 'req/s per round', 'median req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'req/s vs its off', 'per round', 'p99 vs its off',
    'CPU ms / request: main thread', 'log worker', 'all threads'],
  ...configurations.map(configuration => {
    const { rps, p50, p99 } = summaries.get(configuration)!
    const against = configuration.kind === 'stock' ? off : offOf(configuration)
    return [configuration.name, configuration.rows.map(row => row.rps.toFixed(0)).join(' / '), rps.toFixed(0), ms(p50), ms(p99),
      String(configuration.rows.reduce((sum, row) => sum + row.non2xx, 0)), String(configuration.rows.reduce((sum, row) => sum + row.errors, 0)),
      percent(rpsRatio(configuration, against)), percent(paired(configuration, against, row => row.rps)), times(p99Ratio(configuration, against)),
      cpuText(mainCpu(configuration)), cpuText(logWorkerCpu(configuration)), cpuText(processCpu(configuration))]
  })
]
for (const line of formatTable(chatTable)) console.log(`  ${line}`)

const throughputMet = rpsRatio(full, off) >= THROUGHPUT_GOAL
const p99Met = p99Ratio(full, off) <= P99_GOAL
console.log(`\n  full / off, throughput: ${percent(rpsRatio(full, off))} (median of the per-round ratios: ${percent(paired(full, off, row => row.rps))}); goal ≥ ${percent(THROUGHPUT_GOAL)}: ${throughputMet ? 'met' : 'NOT MET'}`)
console.log(`  full / off, p99: ${times(p99Ratio(full, off))} (${ms(summaries.get(full)!.p99)} against ${ms(summaries.get(off)!.p99)} ms; median of the per-round ratios: ${times(paired(full, off, row => row.p99))}); goal ≤ ${times(P99_GOAL)}: ${p99Met ? 'met' : 'NOT MET'}`)
for (const build of ['this', 'baseline'] as const) {
  const [buildFull, buildOff, buildUnheard] = [of(build, 'full'), of(build, 'off'), of(build, 'unheard')]
  if (buildFull === undefined || buildOff === undefined || buildUnheard === undefined || Number.isNaN(mainCpu(buildFull))) continue
  const over = (configuration: Configuration): string => [mainCpu, logWorkerCpu, processCpu]
    .map(measure => (measure(configuration) - measure(buildOff)).toFixed(3)).join(' / ')
  console.log(`  ${build === 'this' ? 'this build' : 'the baseline'}, CPU per request over its off's (main thread / log worker / all threads): ` +
    `full ${over(buildFull)} ms, no collector ${over(buildUnheard)} ms; off / full, main thread: ${percent(mainCpu(buildOff) / mainCpu(buildFull))}`)
}
if (stock !== undefined) console.log(`  full / stock: ${percent(rpsRatio(full, stock))} of the throughput (per round: ${percent(paired(full, stock, row => row.rps))}), p99 ${times(p99Ratio(full, stock))} (per round: ${times(paired(full, stock, row => row.p99))})`)

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
for (const { name, served, received } of configurations.filter(configuration => configuration.kind === 'full' || configuration.kind === 'stock')) {
  const scopes = [...received!.traces.scopes].sort((a, b) => b[1] - a[1]).map(([scope, spans]) => `${scope} ${count(spans)} (${(spans / served).toFixed(2)})`)
  console.log(`\n  spans by instrumentation scope (per request), ${name}: ${scopes.length === 0 ? 'none' : scopes.join(', ')}`)
}
console.log(`\nRun time: ${((performance.now() - started) / 1000).toFixed(0)} s`)

const failures: string[] = []
const failedRequests = configurations.filter(configuration => configuration.rows.some(row => row.non2xx + row.errors > 0))
if (failedRequests.length > 0) failures.push(`requests failed on ${failedRequests.map(configuration => configuration.name).join(', ')}: these figures are not a valid measurement`)
for (const { name, kind, received } of configurations) {
  if (kind === 'full' && received!.traces.items === 0) failures.push(`${name} exported no spans: it was not on, and the comparison measures nothing`)
  if (kind === 'full' && received!.logs.items === 0) failures.push(`${name} exported no log records: log export was not on`)
  if (kind === 'full' && received!.metrics.requests === 0) failures.push(`${name} exported no metrics: metrics were not on`)
  const { traces, logs, metrics } = received!
  if (kind === 'off' && traces.requests + logs.requests + metrics.requests > 0) failures.push(`${name}, with OTEL_SDK_DISABLED=true, exported telemetry: off was not off`)
}
for (const problem of receiver.rejected) failures.push(`the receiver could not read an export: ${problem}`)
for (const failure of failures) console.log(`\n!!! ${failure} !!!`)
if (failures.length > 0) process.exitCode = 1
