/**
 * What writing a turn's trace costs the thread that answers chat on the embedded database: the
 * recorder (src/turn-traces/turn-trace-recorder.ts) given both halves of question turns shaped as
 * the server makes them (four spans, four log lines, 3.6 kB of JSON), then flushed in its batches
 * of 100, the main thread's CPU counted (PGlite runs there). This build's recorder and schema
 * against another build's (`--baseline <dist>`), each on its own PGlite folder on disk, rounds
 * alternating, in one run. With --let-go, the turns are let go under pressure, as most are in a busy
 * hour: each row without its spans and lines, which the recorder holds.
 *
 * With --engine postgres, each build gets a scratch database of its own on BENCH_DATABASE_URL's
 * server (default postgres://root@127.0.0.1:5432/postgres), written through one connection, whose
 * backend's CPU the report gives beside the client's. The server must run on this machine: the
 * backend's CPU is read from /proc, in 10 ms ticks, hence more turns.
 *
 *   npm run bench:turn-trace-writes -- --baseline ../old/dist [--turns 2000] [--rounds 7] [--let-go]
 *   npm run bench:turn-trace-writes -- --engine postgres --turns 10000 --baseline ../old/dist
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join, resolve } from 'node:path'
import type { Database } from '../src/db/database.js'
import type { TurnRequestHalf, TurnSpanHalf, TurnTraceRecorder } from '../src/turn-traces/turn-trace-recorder.js'
import type { TurnSpan } from '../src/turn-traces/turn-trace.js'
import { benchFlags } from './bench-flags.js'
import { formatTable, machineLine, median, processCpuMs } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'

const flags = benchFlags('bench:turn-trace-writes', {
  turns: { kind: 'count', default: 2000, meaning: 'turns written a round' },
  rounds: { kind: 'count', default: 7, meaning: 'rounds (the first is a warm-up)' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder' },
  'let-go': { kind: 'switch', meaning: 'the turns let go under pressure' },
  engine: { kind: 'choice', choices: ['pglite', 'postgres'], default: 'pglite', meaning: 'the storage engine' }
})
const onServer = flags.engine === 'postgres'
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'
const letGo = flags['let-go'] ? 'pressure' : undefined

interface Build {
  name: string
  db: Database
  /** Removes the build's PGlite folder or drops its scratch database. */
  remove: () => Promise<void>
  /** The server's backend process that writes the rows (postgres). */
  backendPid?: number
  Recorder: typeof TurnTraceRecorder
  cpuMsPerTurn: number[]
  backendCpuMsPerTurn: number[]
}

const SESSION = '5be6af04-372b-440e-b955-b175d0ba3c8f'
const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0')

/** A question turn's spans, as the span collector gives them (their attributes as a server's). */
function spansOf (n: number): TurnSpan[] {
  const id = (k: number): string => hex(n * 4 + k, 16)
  return [
    { span_id: id(0), name: 'POST /v1/chat', kind: 'server', start_ms: 0, duration_ms: 10.867, status: 'unset', attributes: { 'url.path': '/v1/chat', 'http.route': '/v1/chat', 'url.scheme': 'http', 'fastify.root': '@fastify/otel', 'server.address': 'localhost', 'http.request.method': 'POST', 'network.protocol.version': '1.1', 'http.response.status_code': 200 } },
    { span_id: id(1), parent_span_id: id(0), name: 'chat.turn', kind: 'internal', start_ms: 1.138, duration_ms: 8.602, status: 'unset', attributes: { 'session.id': SESSION, 'parley.turn': n, 'parley.reply.kind': 'answer', 'parley.database_ms': 4.34, 'gen_ai.conversation.id': SESSION } },
    { span_id: id(2), parent_span_id: id(1), name: 'retrieval knowledge-base', kind: 'internal', start_ms: 2.535, duration_ms: 1.16, status: 'unset', attributes: { 'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'knowledge-base', 'gen_ai.request.top_k': 3, 'parley.search.results': 3, 'parley.search.top_score': 6.2298, 'parley.search.top_doc_id': 'console', 'parley.answer.decision': 'answer', 'parley.answer.threshold': 0.5, 'parley.answer.confidence': 0.81, 'parley.answer.coverage': 0.642, 'parley.answer.similarity': 0.911, 'parley.answer.relative_score': 0.601, 'parley.answer.lead': 0.104, 'parley.answer.terms': 2, 'parley.answer.mutual': 1, 'parley.answer.unseen': 0, 'parley.answer.everyday': 1, 'parley.answer.corrected': 0, 'parley.answer.question_recall': 0.5 } },
    { span_id: id(3), parent_span_id: id(1), name: 'reply.persist', kind: 'internal', start_ms: 3.997, duration_ms: 5.395, status: 'unset', attributes: {} }
  ]
}

/** A question turn's four lines, as pino writes them (one JSON text each). */
function linesOf (n: number, traceId: string): string[] {
  const common = { level: 'info', time: '2026-11-27T19:26:51.839Z', service: 'parley', version: '0.1.0', env: 'production', req_id: `1f02398e-3fb4-409b-8bff-${hex(n, 12)}`, trace_id: traceId, span_id: hex(n * 4 + 1, 16), trace_flags: '01', session_id: SESSION }
  return [
    { ...common, module: 'chat', fn: 'handleTurn', input: 'question', length: 27, text: 'what are your opening hours', msg: 'chat.message_received' },
    { ...common, module: 'session_manager', fn: 'resume', turn: n, expires_at: '2026-11-27T19:56:51.842Z', msg: 'session.resumed' },
    { ...common, module: 'chat', fn: 'handleTurn', kind: 'answer', decision: 'answer', sources: 3, results: 3, top_score: 6.2298, top_doc_id: 'console', threshold: 0.5, confidence: 0.81, coverage: 0.642, similarity: 0.911, relative_score: 0.601, lead: 0.104, terms: 2, mutual: 1, unseen: 0, everyday: 1, corrected: 0, question_recall: 0.5, search_ms: 0.9, latency_ms: 8.4, msg: 'chat.reply_sent' },
    { ...common, module: 'http', fn: 'onResponse', method: 'POST', route: '/v1/chat', status: 200, res_bytes: 1490, duration_ms: 11.5, msg: 'request completed' }
  ].map(line => `${JSON.stringify(line)}\n`)
}

async function open (name: string, dist: string): Promise<Build> {
  const { migrate } = await import(resolve(dist, 'src/db/migrations.js')) as typeof import('../src/db/migrations.js')
  const { TurnTraceRecorder } = await import(resolve(dist, 'src/turn-traces/turn-trace-recorder.js')) as typeof import('../src/turn-traces/turn-trace-recorder.js')
  const build = { name, Recorder: TurnTraceRecorder, cpuMsPerTurn: [], backendCpuMsPerTurn: [] }
  if (onServer) {
    const { openPostgresDatabase } = await import(resolve(dist, 'src/db/postgres-database.js')) as typeof import('../src/db/postgres-database.js')
    const scratch = await createScratchDatabase(serverUrl, 'parley_bench_traces')
    // One connection, so that one backend writes every row and its CPU is all of theirs.
    const db = await openPostgresDatabase(scratch.url, 1)
    await migrate(db)
    const { rows: [backend] } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    return { ...build, db, backendPid: backend!.pid, remove: async () => { await db.close(); await scratch.drop() } }
  }
  const { openPGliteDatabase } = await import(resolve(dist, 'src/db/pglite-database.js')) as typeof import('../src/db/pglite-database.js')
  const dataDir = await mkdtemp(join(os.tmpdir(), 'parley-bench-traces-'))
  const db = await openPGliteDatabase(dataDir)
  await migrate(db)
  return { ...build, db, remove: async () => { await db.close(); await rm(dataDir, { recursive: true, force: true }) } }
}

/** A build's backend's CPU so far, ms; it must be the one that wrote every row (a pool of one). */
async function backendCpuMs (build: Build): Promise<number> {
  const { rows: [backend] } = await build.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  if (backend!.pid !== build.backendPid) throw new Error(`${build.name}: the connection was replaced during the run`)
  const used = await processCpuMs(backend!.pid)
  if (used === undefined) throw new Error('the server\'s backend is not readable in /proc: --engine postgres needs the server on this machine')
  return used
}

let written = 0
/**
 * `turns` turns through a new recorder (its timers never started: the flush writes them all); the
 * CPU a turn of this thread and, on postgres, of the build's backend.
 */
async function round (build: Build, turns: number): Promise<{ client: number, backend?: number }> {
  const recorder = new build.Recorder({ db: build.db, maxQueue: turns, retentionDays: 7 })
  const startedAt = new Date()
  const halves = Array.from({ length: turns }, () => {
    const n = written++
    const traceId = hex(n, 32)
    const spans = spansOf(n)
    const span: TurnSpanHalf = { traceId, spans: () => spans, startedAt, durationMs: 10.867, statusCode: 200, sessionId: SESSION, turn: n }
    const request: TurnRequestHalf = { key: traceId, traced: true, sessionId: SESSION, turn: n, statusCode: 200, startedAt, durationMs: 11.5, logs: linesOf(n, traceId), letGo, error: null, parts: { admission_ms: 0.1, database_ms: 4.34, search_ms: 0.9, model_ms: 0 } }
    return { span, request }
  })
  const backendBefore = build.backendPid === undefined ? undefined : await backendCpuMs(build)
  const before = process.threadCpuUsage()
  for (const { span, request } of halves) {
    recorder.addSpans(span)
    recorder.addRequest(request)
  }
  await recorder.flush()
  const used = process.threadCpuUsage(before)
  const client = (used.user + used.system) / 1000 / turns
  return backendBefore === undefined ? { client } : { client, backend: (await backendCpuMs(build) - backendBefore) / turns }
}

const builds = [await open('this build', resolve(import.meta.dirname, '..'))]
if (flags.baseline !== '') builds.push(await open(`baseline (${flags.baseline})`, resolve(flags.baseline)))

const engineName = onServer ? `server PostgreSQL (${serverUrl.replace(/\/\/[^@/]*@/, '//')})` : 'PGlite'
console.log(`Turn trace writes on ${engineName}. Machine: ${machineLine()}`)
const kB = (JSON.stringify(spansOf(1)).length + linesOf(1, hex(1, 32)).join(',').length) / 1000
const held = letGo === undefined ? '' : ', let go under pressure (spans and lines held, not written)'
console.log(`${flags.turns} question turns a round (${kB.toFixed(1)} kB of spans and lines each${held}), ${flags.rounds} rounds, the first a warm-up, builds alternating.\n`)
for (let r = 0; r < flags.rounds; r++) {
  const order = r % 2 === 0 ? builds : [...builds].reverse()
  for (const build of order) {
    const { client, backend } = await round(build, flags.turns)
    if (r === 0) continue
    build.cpuMsPerTurn.push(client)
    if (backend !== undefined) build.backendCpuMsPerTurn.push(backend)
  }
}

const first = builds[0]!
const table = [['build', 'main-thread CPU ms a turn: median', 'min', 'max', 'vs this build',
  ...onServer ? ['backend CPU ms a turn: median', 'min', 'max', 'vs this build'] : [], 'disk kB a turn']]
const spread = (values: number[], of: number[]): string[] => {
  const typical = median(values)
  return [typical.toFixed(3), Math.min(...values).toFixed(3), Math.max(...values).toFixed(3), `${(typical / median(of)).toFixed(2)}×`]
}
for (const build of builds) {
  const { rows: [size] } = await build.db.query<{ bytes: number, turns: number }>(
    "SELECT pg_total_relation_size('turn_traces')::float8 AS bytes, count(*)::int AS turns FROM turn_traces")
  table.push([build.name, ...spread(build.cpuMsPerTurn, first.cpuMsPerTurn),
    ...onServer ? spread(build.backendCpuMsPerTurn, first.backendCpuMsPerTurn) : [],
    (size!.bytes / size!.turns / 1000).toFixed(2)])
  await build.remove()
}
console.log(formatTable(table).join('\n'))
