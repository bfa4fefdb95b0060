/**
 * Where a chat turn's main-thread CPU goes: one forked server under the chat load of bench/chat.ts,
 * its main thread profiled over the measured run only (the inspector's sampling profiler, as
 * `node --cpu-prof` uses, started after the warm-up), then the profile summarised by area (HTTP and Fastify, logging, spans,
 * metrics, the database driver, PGlite's WASM, search, JSON…) and by function, with the server's
 * main-thread CPU per request over the measured run.
 *
 *   npm run bench:profile                                  # telemetry off, PGlite, 15 s, 10 connections
 *   npm run bench:profile -- --telemetry full --database postgres --duration 25
 *   npm run bench:profile -- --keep /tmp/profiles          # keeps the .cpuprofile (for Chrome DevTools)
 *   npm run bench:profile -- --env '{"MAX_TURNS_IN_FLIGHT":"4"}'   # more of the app's environment
 *   npm run bench:profile -- --database postgres --refusals --connections 50 --env '{"LOG_LEVEL":"info"}'
 *
 * --refusals profiles turns refused at the door alone, as past capacity: once the sessions are
 * open and warm, the scratch database is taken away (its connections ended, the database renamed),
 * so every turn is refused with 503 before its body is read (reason "database"; a turn refused for
 * the latency goal takes the same path: the refusal door, its headers, log line and metrics).
 *
 * off: the preload with OTEL_SDK_DISABLED=true, LOG_LEVEL=silent. full: the preload as `npm start`
 * loads it, every trace sampled, OTLP to a receiver in this process, LOG_LEVEL=info. Both log as
 * src/server.ts does (setUpProcessLogging), stdout on /dev/null. postgres: a scratch database on
 * BENCH_DATABASE_URL's server (default postgres://root@127.0.0.1:5432/test), dropped afterwards.
 * Only the main thread is profiled: the log router's worker is not in it. Profiling itself costs a
 * few per cent of CPU, in the CPU-per-request figure too: compare it with bench:telemetry's.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, formatTable, machineLine, mainThreadCpuMs, measure, ms, prepare, startServer } from './chat-load.js'
import { OtlpCounter } from './otlp-counter.js'
import { createScratchDatabase, type ScratchDatabase } from './server-database.js'

const flags = benchFlags('bench:profile', {
  telemetry: { kind: 'choice', choices: ['off', 'full'], default: 'off', meaning: 'telemetry off or full' },
  database: { kind: 'choice', choices: ['pglite', 'postgres'], default: 'pglite', meaning: 'the storage engine' },
  duration: { kind: 'seconds', default: 15, meaning: 'seconds measured' },
  connections: { kind: 'count', default: 10, meaning: 'connections' },
  top: { kind: 'count', default: 40, meaning: 'functions listed' },
  keep: { kind: 'text', default: '', meaning: 'a folder to keep the .cpuprofile in' },
  env: { kind: 'text', default: '{}', meaning: '\'{"MAX_TURNS_IN_FLIGHT":"4"}\'' },
  refusals: { kind: 'switch', meaning: 'profile turns refused at the door (with --database postgres)' }
})
const { telemetry, database, duration, connections, top, refusals } = flags
const parseEnv = (text: string): Record<string, string> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && Object.values(parsed).every(value => typeof value === 'string') ? parsed as Record<string, string> : undefined
  } catch {
    return undefined
  }
}
const extraEnv = parseEnv(flags.env)
if (extraEnv === undefined) {
  console.error(`--env must be a JSON object of strings, not ${flags.env}`)
  process.exit(1)
}
if (refusals && database !== 'postgres') {
  console.error('--refusals needs --database postgres: it takes the server\'s database away')
  process.exit(1)
}

const INSTRUMENTATION = new URL('../otel/instrumentation.js', import.meta.url).href
const scratch = await mkdtemp(join(os.tmpdir(), 'parley-bench-profile-'))
const profileDir = flags.keep === '' ? join(scratch, 'profile') : flags.keep
await mkdir(profileDir, { recursive: true })
const receiver = new OtlpCounter()
const endpoint = await receiver.start()
let scratchDatabase: ScratchDatabase | undefined
let cpuMsPerRequest: number | undefined
let row: Awaited<ReturnType<typeof measure>>
let profilePath: string
try {
  if (database === 'postgres') scratchDatabase = await createScratchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test', 'parley_profile')
  const storage: Record<string, string> = scratchDatabase === undefined ? { DATA_DIR: join(scratch, 'data') } : { DATABASE_URL: scratchDatabase.url }
  const server = await startServer({
    env: { ...BENCH_APP_ENV, ...storage, LOG_LEVEL: telemetry === 'full' ? 'info' : 'silent', LOG_DIR: join(scratch, 'logs'), ...extraEnv },
    processLogging: true,
    stdout: 'ignore',
    execArgv: ['--import', INSTRUMENTATION],
    processEnv: telemetry === 'full' ? { OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/server`, OTEL_TRACES_SAMPLER: 'always_on' } : { OTEL_SDK_DISABLED: 'true' }
  })
  try {
    const sessions = await prepare(server.port)
    process.stderr.write(`warming up for ${Math.min(3, duration)} s…\n`)
    await measure({ target: 'warm-up', port: server.port, sessions, seconds: Math.min(3, duration), connections })
    if (refusals) {
      process.stderr.write('taking the database away…\n')
      await scratchDatabase!.takeAway()
      await refusingTurns(server.port)
      await measure({ target: 'warm-up', port: server.port, sessions, seconds: Math.min(3, duration), connections })
    }
    process.stderr.write(`measuring for ${duration} s…\n`)
    await server.startProfile()
    const cpuBefore = await mainThreadCpuMs(server.pid)
    row = await measure({ target: telemetry, port: server.port, sessions, seconds: duration, connections })
    const cpuAfter = await mainThreadCpuMs(server.pid)
    profilePath = join(profileDir, `parley-${telemetry}-${database}-${new Date().toISOString().replaceAll(':', '-')}.cpuprofile`)
    await server.stopProfile(profilePath)
    if (cpuBefore !== undefined && cpuAfter !== undefined && row.requests > 0) cpuMsPerRequest = (cpuAfter - cpuBefore) / row.requests
  } finally {
    await server.stop()
  }
} finally {
  await receiver.stop()
  await scratchDatabase?.drop()
}

/** Resolves once /ready says the database does not answer: from then on every turn is refused at the door. */
async function refusingTurns (port: number): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 503) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error('the server still reads the database 20 s after it was taken away')
}

// ---------------------------------------------------------------------------------------------
// The profile: self time per function, then per area.

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const profile = JSON.parse(await readFile(profilePath, 'utf8')) as Profile
if (flags.keep === '') await rm(scratch, { recursive: true, force: true })
const nodes = new Map(profile.nodes.map(node => [node.id, node]))
const selfMicros = new Map<number, number>()
// timeDeltas[i] is the time before sample i; the time a sample stands for is the next one's delta.
for (let i = 0; i < profile.samples.length; i++) {
  const micros = profile.timeDeltas[i + 1] ?? 0
  selfMicros.set(profile.samples[i]!, (selfMicros.get(profile.samples[i]!) ?? 0) + micros)
}

// The first rule whose pattern matches the function's script (or, for built-ins, its name) names its area.
const AREAS: Array<[string, RegExp]> = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['(program): V8 and native code outside JS', /^\(program\)$/],
  ['PGlite WASM', /^wasm:|@electric-sql\/pglite/],
  ['database driver (pg)', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|pgpass)\//],
  ['otel spans (SDK, instrumentations, context)', /@opentelemetry\/(sdk-trace|api\/|core|context-async-hooks|instrumentation|semantic)|@fastify\/otel|import-in-the-middle|require-in-the-middle|shimmer|src\/telemetry\/context-manager/],
  ['otel metrics (SDK)', /@opentelemetry\/sdk-metrics|@opentelemetry\/exporter-prometheus/],
  ['otel export (OTLP encoding, exporters)', /@opentelemetry\/(otlp|exporter|resources|sdk-logs|sdk-node)|protobufjs/],
  ['pino and log transport', /node_modules\/(pino|thread-stream|sonic-boom|pino-std-serializers|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)\//],
  ['app logging (src/logging)', /\/src\/logging\//],
  ['app telemetry (src/telemetry, plugins/metrics)', /\/src\/telemetry\/(metrics|spans|prometheus-names)|\/plugins\/metrics|\/plugins\/trace-id/],
  ['search (src/search)', /\/src\/search\/|node_modules\/(stemmer|fastest-levenshtein)\//],
  ['app chat, sessions, commands, db glue', /\/src\/(chat|sessions|commands|db|health|audit)\/|\/plugins\//],
  ['fastify and its plugins', /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|fast-uri|ajv|ajv-formats|fast-deep-equal|json-schema-traverse|secure-json-parse|abstract-logging|process-warning|toad-cache|rfdc|fast-querystring|proxy-addr|content-type|fastq|reusify|@lukeed|typebox)\//],
  ['node http, net, streams', /^node:(_http|http|net|stream|internal\/(http|streams|stream_base|net|js_stream))|^node:internal\/(http|streams|stream_base_commons|net)/],
  ['node async hooks, timers, promises', /^node:(async_hooks|internal\/(async_hooks|async_local_storage|timers|process\/task_queues|process\/promises))/],
  ['node crypto', /^node:(crypto|internal\/crypto)/],
  ['node other', /^node:/],
  ['app other', /\/dist\//],
  ['other node_modules', /node_modules/]
]
const JSON_BUILTINS = /^(JSON\.)?(stringify|parse)$|^JSONStringify|^JSONParse/

function area (node: ProfileNode): string {
  const { url, functionName } = node.callFrame
  if (url === '') {
    if (JSON_BUILTINS.test(functionName)) return 'JSON (built-in)'
    for (const [name, pattern] of AREAS) if (pattern.test(functionName)) return name
    return 'built-ins (V8, no script)'
  }
  const path = url.replace(/^file:\/\//, '')
  for (const [name, pattern] of AREAS) if (pattern.test(path)) return name
  return 'other'
}

const shortUrl = (url: string): string => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')
const byArea = new Map<string, number>()
const byFunction = new Map<string, { micros: number, area: string }>()
let total = 0
let idle = 0
for (const [id, micros] of selfMicros) {
  const node = nodes.get(id)!
  const name = area(node)
  total += micros
  if (name === 'idle') { idle += micros; continue }
  byArea.set(name, (byArea.get(name) ?? 0) + micros)
  const { functionName, url, lineNumber } = node.callFrame
  const key = `${functionName === '' ? '(anonymous)' : functionName} ${url === '' ? '' : `${shortUrl(url)}:${lineNumber + 1}`}`
  const entry = byFunction.get(key) ?? { micros: 0, area: name }
  entry.micros += micros
  byFunction.set(key, entry)
}
const busy = total - idle
const share = (micros: number): string => `${(micros / busy * 100).toFixed(1)} %`

console.log(`\nProfile${refusals ? ' of refused turns alone' : ''}: telemetry ${telemetry}, ${database}, ${connections} connections, ${duration} s measured${flags.env === '{}' ? '' : `, ${flags.env}`}. Machine: ${machineLine()}`)
console.log(`  ${row!.rps.toFixed(0)} req/s, p50 ${ms(row!.p50)} ms, p99 ${ms(row!.p99)} ms, ${row!.non2xx} non-2xx, ${row!.errors} errors`)
if (cpuMsPerRequest !== undefined) console.log(`  main-thread CPU per request over the measured run: ${cpuMsPerRequest.toFixed(3)} ms`)
console.log(`  profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (idle left out of the shares below)${flags.keep === '' ? '' : `; kept at ${profilePath}`}\n`)
const areaTable = [['area', 'self ms', 'share of busy'], ...[...byArea].sort((a, b) => b[1] - a[1]).map(([name, micros]) => [name, (micros / 1000).toFixed(0), share(micros)])]
for (const line of formatTable(areaTable)) console.log(`  ${line}`)
console.log('')
const functionTable = [['function', 'area', 'self ms', 'share'], ...[...byFunction].sort((a, b) => b[1].micros - a[1].micros).slice(0, top).map(([name, { micros, area }]) => [name.slice(0, 110), area.split(' ')[0]!, (micros / 1000).toFixed(0), share(micros)])]
for (const line of formatTable(functionTable)) console.log(`  ${line}`)
if (refusals ? row!.non2xx < row!.requests : row!.non2xx + row!.errors > 0) {
  console.log(refusals
    ? '\n!!! some turns were answered: the profile is not of refusals alone !!!'
    : '\n!!! requests failed: the profile is not of the ordinary turn !!!')
  process.exitCode = 1
}
