/**
 * Load benchmark: what Parley answers as load grows past what it can, next to the limits of the
 * same machine, in one run, so the ratios hold on any machine.
 *
 * 1. The limits. A chat turn's database work is two statements, each its own transaction: SELECT
 *    the session (SessionManager.get), then one statement that counts the turn (UPDATE
 *    turn_count + 1, last_activity_at) and inserts the user's and the bot's message
 *    (SessionManager.recordTurn), with a reply and sources of a typical answer's size. On server
 *    PostgreSQL, pgbench runs them (`-f`, `-M extended` like pg's unnamed statements) on a scratch
 *    database with the app's schema, each client in a session of its own, at 1, 4, 16 and 50
 *    clients (`-j 2`). On PGlite, one process runs them in a plain loop, on a temp folder on disk
 *    (as the app's default DATA_DIR) and in memory (memory://).
 * 2. Parley, forked (bench/chat-server.ts) with the app's default overload policy
 *    (TURN_LATENCY_GOAL_MS=1000, MAX_TURNS_IN_FLIGHT auto: 1 on PGlite, 32 on
 *    PostgreSQL), logging as src/server.ts sets it up (info, to the log files; stdout on
 *    /dev/null), the telemetry preload with OTEL_SDK_DISABLED=true, and BENCH_APP_ENV's caps no
 *    benchmark reaches; POST /v1/chat with the `npm run bench` mix:
 *    - closed loops of 1, 4, 16 and 50 clients, each client in a session of its own, sending its
 *      next turn when its previous answer came back; capacity = the best answered/s of these;
 *    - an open loop at 0.5, 1, 2 and 3× capacity: requests evenly spaced whatever comes back, over
 *      as many sockets as it takes, latency counted from when a request was due;
 *    - the 2× open loop again, each refused turn sent again as the chat page does (after
 *      Retry-After, stretched by up to a fifth, for 30 s in all), then nothing new: a spike as its
 *      users live it, each turn counted once, with its last answer and the time from when it was
 *      due to it, and the requests it took;
 *    - a burst of --burst turns (1,500) sent at once, each on a connection opened beforehand and
 *      in a session of its own (the client's and the server's file limits are checked first;
 *      Node.js raises its soft limit to the hard one by itself).
 *    Each reports answered/s (200s ended within the step), the refused share (503) and how many
 *    refusals came only after waiting in line (a latency goal or more after being due), every other
 *    status or socket error, p50/p99 of the answered, p99 of the refusals (and, in an open loop,
 *    from when the generator sent them: its own lateness, the machine's, left out), the server's peak RSS
 *    (VmHWM, reset at each step), its longest event-loop stall (every request that arrived
 *    meanwhile waited for it), its main thread's CPU, server PostgreSQL's (its backends of the
 *    server's database and its background processes) and this process's (the load generator
 *    shares the machine: past capacity it takes a good part of it), the connections the kernel
 *    dropped for a full accept queue (each retried a second later: latency the server never sees),
 *    the CPU the rest of the machine used meanwhile (past a tenth of a core the step counts as
 *    disturbed, and the report says so), and the refusals' reasons (the server's /metrics). At 2×
 *    and 3×, where the goodput went in CPU: the generator's extra, the refusals', dearer answers.
 * 3. The goals, met or NOT met: refused at 50 clients ≤ 1 %; answered/s at 50 clients ≥ 0.40 of
 *    pgbench at 50 clients (PostgreSQL), ≥ 0.60 of the PGlite plain loop on disk (PGlite); open-loop
 *    goodput at 2× and 3× ≥ 0.9 of capacity, with answered p99 ≤ 1 s, refusal p99 ≤ 50 ms and
 *    nothing but 200 and 503; the burst's answers ≥ capacity × 1 s (the latency goal's worth), or
 *    all of them when the burst is smaller.
 * 4. With --telemetry: 50 clients on two servers, full telemetry (the preload, every trace
 *    sampled, OTLP to a receiver in this process, log records exported) and OTEL_SDK_DISABLED=true,
 *    in interleaved rounds; goals: full ≥ 0.80 of off's answered/s, p99 ≤ 1.5× off's. With
 *    --baseline too, the other build's full and off servers take part in the same rounds.
 *
 * 5. With --turn-traces: 50 clients on two servers with the SDK preloaded and no collector (every
 *    OTLP exporter off, so the turn traces are all that spans are made for), one keeping each
 *    turn's spans and log lines (the default) and one with TURN_TRACE_RETENTION_DAYS=0, in
 *    interleaved rounds; goal: on ≥ 0.95 of off's answered/s. The rows written, and the turns let go while others waited in line, are counted after.
 *
 * 6. With --history N: 1 and 50 clients on two servers, one on an empty database and one on a
 *    database that holds N stored messages (bench/stored-history.ts: ended sessions of 5 turns over
 *    the last week, with ratings and turn traces), in interleaved rounds; goal: the filled one's
 *    1-client p50 ≤ 1.1× the empty one's (a turn's cost does not grow with the history).
 *
 * 7. With --baseline <dist>: 50 clients on this build's server and on another build's (its dist
 *    folder, e.g. the commit before a change), on the same engine, in interleaved rounds, each
 *    round also running the plain PGlite loop on disk (on PostgreSQL, pgbench at 50 clients)
 *    beside them: each build's answered/s against the limit measured in its round, and its
 *    main-thread CPU per answer, so that a change is measured against the build before it in one
 *    run on a machine whose speed moves between runs. Each build then gets open loops at 2× and
 *    3× the rate it answered the 50 clients at in that round: goodput, answered and refusal p99.
 *
 * Engines: PGlite by default; --engine postgres or both for server PostgreSQL at
 * BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres; setting it alone picks
 * postgres), where each server and pgbench get a scratch database, dropped afterwards.
 *
 *   npm run bench:load                                   # PGlite, 8 s per step: about 2 minutes
 *   npm run bench:load -- --engine both --telemetry      # about 7 minutes
 *   npm run bench:load -- --engine postgres --seconds 5 --limit-seconds 3 --burst 500 --rounds 2
 *   npm run bench:load -- --turn-traces --seconds 5 --limit-seconds 2 --burst 300 --rounds 6
 *   npm run bench:load -- --engine both --history 1000000 --seconds 5 --rounds 3
 *   npm run bench:load -- --baseline ../before/dist --seconds 5 --limit-seconds 3 --burst 300 --rounds 4
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, count, formatTable, inRotatingRounds, machineLine, listenOverflows, mainThreadCpuMs, mb, median, MIX, ms, percent, prepare, processCpuMs, quantile, startServer, watchCpuElsewhere, watchPeakRss, type Server } from './chat-load.js'
import { OtlpCounter } from './otlp-counter.js'
import { createScratchDatabase, type ScratchDatabase } from './server-database.js'
import { prepareLimitDatabase, turnLoop, turnStatements } from './turn-statements.js'
import { fillHistory } from './stored-history.js'
import { loadConfig } from '../src/config.js'
import type { Database } from '../src/db/database.js'
import { openPGliteDatabase } from '../src/db/pglite-database.js'
import { openPostgresDatabase } from '../src/db/postgres-database.js'

const DEFAULT_SERVER_URL = 'postgres://root@127.0.0.1:5432/postgres'
const serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL
const flags = benchFlags('bench:load', {
  engine: { kind: 'choice', choices: ['pglite', 'postgres', 'both'], default: process.env.BENCH_DATABASE_URL === undefined ? 'pglite' : 'postgres', meaning: 'the storage engine(s)' },
  seconds: { kind: 'seconds', default: 8, meaning: 'seconds per closed- or open-loop step' },
  'limit-seconds': { kind: 'seconds', default: 5, meaning: 'seconds per pgbench or PGlite-loop step' },
  burst: { kind: 'count', default: 1500, meaning: 'turns sent at once' },
  telemetry: { kind: 'switch', meaning: 'also measure full telemetry against off at 50 clients' },
  'turn-traces': { kind: 'switch', meaning: 'also measure keeping turn traces against not at 50 clients' },
  rounds: { kind: 'count', default: 4, meaning: 'telemetry, turn-trace and history rounds' },
  history: { kind: 'count', default: 0, meaning: 'also measure a turn with this many stored messages against none (the issue\'s figure: 1000000)' },
  baseline: { kind: 'text', default: '', meaning: 'also measure 50 clients on another build (its dist folder) against this one, beside the limit, in interleaved rounds' }
})
const { seconds, burst: burstSize, telemetry, rounds } = flags
const turnTraces = flags['turn-traces']
const limitSeconds = flags['limit-seconds']

const CLIENTS = [1, 4, 16, 50]
/** One session per client of the largest step. */
const LIMIT_SESSIONS = Math.max(...CLIENTS)
const FACTORS = [0.5, 1, 2, 3]
const SPIKE_FACTOR = 2
const SPIKE_LABEL = `open, ${SPIKE_FACTOR}×, retrying`
const WARM_UP_SECONDS = 2
// The app's default TURN_LATENCY_GOAL_MS, which the benchmark leaves in force.
const LATENCY_GOAL_MS = loadConfig({}).TURN_LATENCY_GOAL_MS
// CPU used elsewhere on the machine (a share of one core) past which a step's figures are flagged.
const DISTURBED = 0.1
const GOALS = {
  refusedAt50: 0.01,
  vsPgbench: 0.4,
  vsPGliteLoop: 0.6,
  goodput: 0.9,
  answeredP99Ms: LATENCY_GOAL_MS,
  refusalP99Ms: 50,
  burstGoalSeconds: 1,
  telemetryThroughput: 0.8,
  telemetryP99: 1.5,
  turnTracesThroughput: 0.95,
  historyP50: 1.1
}
// Our bootstrap as `npm start` preloads it.
const PRELOAD = new URL('../otel/instrumentation.js', import.meta.url).href

// ---------------------------------------------------------------------------------------------
// 1. The limits: a turn's statements without Parley around them.

interface Limit { name: string, clients: number, turnsPerSecond: number, latencyMs: number, failed: number, cpuElsewhere: number | undefined }

/** pgbench at each of `clientCounts` clients; the scratch database is given the schema and sessions first unless `prepared`. */
async function pgbenchLimits (scratch: ScratchDatabase, folder: string, clientCounts = CLIENTS, prepared = false): Promise<Limit[]> {
  const db = await openPostgresDatabase(scratch.url, 1)
  try {
    if (!prepared) await prepareLimitDatabase(db, LIMIT_SESSIONS)
  } finally {
    await db.close()
  }
  const script = join(folder, 'turn.sql')
  await writeFile(script, turnStatements(':client_id').map(statement => `${statement};\n`).join(''))
  const limits: Limit[] = []
  for (const clients of clientCounts) {
    process.stderr.write(`limits: pgbench, ${clients} client${clients === 1 ? '' : 's'}, ${Math.round(limitSeconds)} s…\n`)
    const elsewhere = await watchCpuElsewhere([scratch.name])
    const { stdout } = await promisify(execFile)('pgbench', ['-n', '-M', 'extended', '-f', script, '-c', String(clients), '-j', String(Math.min(2, clients)), '-T', String(Math.max(1, Math.round(limitSeconds))), scratch.url])
    const figure = (pattern: RegExp): number => Number(pattern.exec(stdout)?.[1] ?? NaN)
    limits.push({ name: `pgbench, PostgreSQL ${scratch.version}`, clients, turnsPerSecond: figure(/^tps = ([\d.]+)/m), latencyMs: figure(/^latency average = ([\d.]+) ms/m), failed: figure(/^number of failed transactions: (\d+)/m) || 0, cpuElsewhere: await elsewhere.stop() })
  }
  return limits
}

/** The turn's statements one after another in this process, rotating over the sessions, for `limitSeconds` after a warm-up. */
async function pgliteLoop (dataDir: string, where: string): Promise<Limit> {
  const db = await openPGliteDatabase(dataDir)
  try {
    await prepareLimitDatabase(db, LIMIT_SESSIONS)
    return await measuredLoop(db, where, WARM_UP_SECONDS * 1000)
  } finally {
    await db.close()
  }
}

/** The plain loop on a prepared database: `warmUpMs` unmeasured, then `limitSeconds`. */
async function measuredLoop (db: Database, where: string, warmUpMs: number): Promise<Limit> {
  process.stderr.write(`limits: PGlite plain loop, ${where}, ${limitSeconds} s…\n`)
  await turnLoop(db, LIMIT_SESSIONS, warmUpMs)
  const elsewhere = await watchCpuElsewhere()
  const turnsPerSecond = await turnLoop(db, LIMIT_SESSIONS, limitSeconds * 1000)
  return { name: `PGlite plain loop, ${where}`, clients: 1, turnsPerSecond, latencyMs: 1000 / turnsPerSecond, failed: 0, cpuElsewhere: await elsewhere.stop() }
}

// ---------------------------------------------------------------------------------------------
// 2. Parley under load.

/**
 * One request's fate: its status (0: no response, a socket error) and latency, and when it ended;
 * in the open loop also how late this process sent it (its own event loop being busy), which the
 * latency includes.
 */
interface Outcome { status: number, latencyMs: number, endedAt: number, sentLateMs?: number }

const body = (session: string, n: number): string => JSON.stringify({ message: MIX[n % MIX.length]!.message, session_id: session })

/** What POST /v1/chat answered: its status (0 when no response came), and its Retry-After. */
interface Answer { status: number, retryAfter: string | undefined }

async function post (port: number, payload: string, via: { agent: Agent } | { socket: Socket }): Promise<Answer> {
  return await new Promise(resolve => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/chat',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      ...('agent' in via ? { agent: via.agent } : { createConnection: () => via.socket })
    }, response => {
      const answer = { status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }
      response.on('error', () => resolve({ status: 0, retryAfter: undefined }))
      response.resume().once('end', () => resolve(answer))
    })
    req.once('error', () => resolve({ status: 0, retryAfter: undefined }))
    req.end(payload)
  })
}

// As the chat page sends a refused turn again (web/shared/retry.ts, which this build cannot import:
// the pages' build empties dist/web): after Retry-After, stretched by up to a fifth, for 30 s in all.
const RETRY_BUDGET_MS = 30_000
const RETRY_JITTER = 0.2

/** POST /v1/chat, sent again after each 503 or 429 as the chat page does; resolves to the last status. */
async function postRetrying (port: number, payload: string, agent: Agent, requests: { sent: number }): Promise<number> {
  for (let waitedMs = 0; ;) {
    const { status, retryAfter } = await post(port, payload, { agent })
    requests.sent++
    const delayMs = (status === 503 || status === 429) && retryAfter !== undefined && /^\d+$/.test(retryAfter)
      ? Math.round(Number(retryAfter) * 1000 * (1 + RETRY_JITTER * Math.random()))
      : undefined
    if (delayMs === undefined || waitedMs + delayMs > RETRY_BUDGET_MS) return status
    await new Promise(resolve => setTimeout(resolve, delayMs))
    waitedMs += delayMs
  }
}

// Sockets are kept for the next request whatever their number: reconnecting would cost both sides.
const newAgent = (): Agent => new Agent({ keepAlive: true, maxFreeSockets: Number.MAX_SAFE_INTEGER })

/** Each client in a session of its own, sending its next turn as soon as the last came back. */
async function closedLoop (port: number, sessions: string[], clients: number, forSeconds: number): Promise<Outcome[]> {
  const agent = newAgent()
  const outcomes: Outcome[] = []
  const end = performance.now() + forSeconds * 1000
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let n = client; performance.now() < end; n++) {
      const sent = performance.now()
      const { status } = await post(port, body(sessions[client]!, n), { agent })
      const endedAt = performance.now()
      outcomes.push({ status, latencyMs: endedAt - sent, endedAt })
    }
  }))
  agent.destroy()
  return outcomes
}

/**
 * Offers `rate` turns a second, evenly spaced, whether or not earlier ones were answered (as
 * independent users do), rotating over the sessions. Latency counts from when a turn was due.
 * With `retrying`, each refused turn is sent again as the chat page does, and counted once, with its
 * last answer; `retrying.sent` counts the requests.
 */
async function openLoop (port: number, sessions: string[], rate: number, forSeconds: number, retrying?: { sent: number }): Promise<Outcome[]> {
  const agent = newAgent()
  const outcomes: Outcome[] = []
  const pending: Array<Promise<void>> = []
  const total = Math.round(rate * forSeconds)
  const started = performance.now()
  for (let sent = 0; sent < total;) {
    const dueNow = Math.min(total, Math.floor((performance.now() - started) * rate / 1000) + 1)
    for (; sent < dueNow; sent++) {
      const due = started + sent * 1000 / rate
      const n = sent
      const sentLateMs = performance.now() - due
      const payload = body(sessions[n % sessions.length]!, n + Math.floor(n / sessions.length))
      const sending = retrying === undefined
        ? post(port, payload, { agent }).then(answer => answer.status)
        : postRetrying(port, payload, agent, retrying)
      pending.push(sending.then(status => {
        const endedAt = performance.now()
        outcomes.push({ status, latencyMs: endedAt - due, endedAt, sentLateMs })
      }))
    }
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  await Promise.all(pending)
  agent.destroy()
  return outcomes
}

/** Opens one connection per turn beforehand (a hundred at a time), then sends every turn at once. */
async function burst (port: number, sessions: string[], size: number): Promise<Outcome[]> {
  const sockets: Socket[] = []
  while (sockets.length < size) {
    const batch = Math.min(100, size - sockets.length)
    sockets.push(...await Promise.all(Array.from({ length: batch }, async () => await new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => resolve(socket)).once('error', reject)
    }))))
  }
  const started = performance.now()
  const outcomes = await Promise.all(sockets.map(async (socket, i) => {
    const { status } = await post(port, body(sessions[i]!, i), { socket })
    const endedAt = performance.now()
    socket.destroy()
    return { status, latencyMs: endedAt - started, endedAt }
  }))
  return outcomes
}

/** chatbot_shed_requests_total by reason, and the turns-in-flight limit, from the server's /metrics. */
async function serverMetrics (port: number): Promise<{ shed: Map<string, number>, turnLimit: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return {
    shed: new Map([...text.matchAll(/^chatbot_shed_requests_total\{[^}]*reason="([a-z_]+)"[^}]*\} (\d+)/gm)].map(([, reason, n]) => [reason!, Number(n)])),
    turnLimit: Number(/^chatbot_turns_in_flight_limit(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN)
  }
}

/** Which limits refused a step's requests, largest first: "latency_goal 100 %". */
function reasonShares (before: Map<string, number>, after: Map<string, number>): string {
  const counts = [...after].map(([reason, n]) => [reason, n - (before.get(reason) ?? 0)] as const).filter(([, n]) => n > 0)
  const total = counts.reduce((sum, [, n]) => sum + n, 0)
  return counts.sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${Math.round(100 * n / total)} %`).join(', ') || '-'
}

interface Step {
  label: string
  /** Turns a second offered (open loop), or turns sent (burst). */
  offered?: number
  total: number
  answered: number
  /** 200s that ended within the step's time, a second. */
  answeredPerSecond: number
  refused: number
  /** Refusals that came a latency goal or more after the request was due: refused after waiting in line, not on arrival. */
  lateRefusals: number
  /** Anything else, by status ("error": no response). */
  other: Map<string, number>
  p50: number
  p99: number
  refusalP99: number
  /** p99 of the refusals counted from when the open loop sent them, not from when they were due: without the generator's own lateness (NaN elsewhere). */
  refusalSentP99: number
  peakRss: number | undefined
  /** The server's longest event-loop stall, ms: every request that arrived meanwhile waited for it. */
  longestStall: number
  /** The server's main-thread CPU over the step (and its tail), as a share of one core. */
  loopCpu: number | undefined
  /** The server's CPU over the step, every thread (the log router's worker, the garbage collector's helpers), as a share of one core. */
  serverCpu: number | undefined
  /** This process's CPU (the load generator's) over the step, as a share of one core: taken from the server on a small machine. */
  generatorCpu: number
  /** What the rest of the machine used meanwhile, as a share of one core (watchCpuElsewhere). */
  cpuElsewhere: number | undefined
  /** What server PostgreSQL used for it meanwhile (its backends and background processes), as a share of one core. */
  databaseCpu: number | undefined
  /** Connections the kernel dropped meanwhile, the server's accept queue being full (listenOverflows). */
  listenOverflows: number | undefined
  refusedBy: string
  /** p99 of how late the open loop sent its requests, ms (NaN elsewhere). */
  sentLateP99: number
  /** Until the last response, ms. */
  elapsedMs: number
  /** Requests sent, when a turn may take several (its refusals sent again). */
  requests?: number
}

/** Runs one step of load and sums it up; `windowSeconds` is the time answered/s is counted over (undefined: until the last response). */
async function step ({ server, databases }: Parley, label: string, windowSeconds: number | undefined, load: () => Promise<Outcome[]>, offered?: number): Promise<Step> {
  const metricsBefore = await serverMetrics(server.port)
  const rss = await watchPeakRss(server.pid)
  const stalls = await server.watchStalls()
  const elsewhere = await watchCpuElsewhere(databases)
  const overflowsBefore = await listenOverflows()
  const generatorBefore = process.cpuUsage()
  const cpuBefore = await mainThreadCpuMs(server.pid)
  const serverCpuBefore = await processCpuMs(server.pid)
  const started = performance.now()
  const outcomes = await load()
  const elapsedMs = performance.now() - started
  const generator = process.cpuUsage(generatorBefore)
  const cpuAfter = await mainThreadCpuMs(server.pid)
  const serverCpuAfter = await processCpuMs(server.pid)
  const cpuElsewhere = await elsewhere.stop()
  const overflowsAfter = await listenOverflows()
  const peakRss = await rss.stop()
  const longestStall = await stalls.stop()
  const metricsAfter = await serverMetrics(server.port)
  const latencies = (status: number): number[] => outcomes.filter(o => o.status === status).map(o => o.latencyMs).sort((a, b) => a - b)
  const answered = latencies(200)
  const refused = latencies(503)
  const other = new Map<string, number>()
  for (const { status } of outcomes) {
    if (status === 200 || status === 503) continue
    const key = status === 0 ? 'error' : String(status)
    other.set(key, (other.get(key) ?? 0) + 1)
  }
  const windowEnd = windowSeconds === undefined ? Infinity : started + windowSeconds * 1000
  return {
    label,
    offered,
    total: outcomes.length,
    answered: answered.length,
    answeredPerSecond: outcomes.filter(o => o.status === 200 && o.endedAt <= windowEnd).length / (windowSeconds ?? elapsedMs / 1000),
    refused: refused.length,
    lateRefusals: refused.filter(ms => ms >= LATENCY_GOAL_MS).length,
    other,
    p50: quantile(answered, 0.5),
    p99: quantile(answered, 0.99),
    refusalP99: quantile(refused, 0.99),
    refusalSentP99: quantile(outcomes.flatMap(o => o.status === 503 && o.sentLateMs !== undefined ? [o.latencyMs - o.sentLateMs] : [])
      .sort((a, b) => a - b), 0.99),
    peakRss,
    longestStall,
    loopCpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / elapsedMs,
    serverCpu: serverCpuBefore === undefined || serverCpuAfter === undefined ? undefined : (serverCpuAfter - serverCpuBefore) / elapsedMs,
    cpuElsewhere,
    databaseCpu: databases.length === 0 ? undefined : elsewhere.databaseCpu(),
    generatorCpu: (generator.user + generator.system) / 1000 / elapsedMs,
    listenOverflows: overflowsBefore === undefined || overflowsAfter === undefined ? undefined : overflowsAfter - overflowsBefore,
    refusedBy: reasonShares(metricsBefore.shed, metricsAfter.shed),
    sentLateP99: quantile(outcomes.flatMap(o => o.sentLateMs ?? []).sort((a, b) => a - b), 0.99),
    elapsedMs
  }
}

const refusedShare = (s: Step): number => s.total === 0 ? 0 : s.refused / s.total
const otherCount = (s: Step): number => [...s.other.values()].reduce((sum, n) => sum + n, 0)

// ---------------------------------------------------------------------------------------------
// The engines, and a Parley server on each.

type EngineKey = 'pglite' | 'postgres'
interface EngineRun {
  key: EngineKey
  name: string
  limits: Limit[]
  steps: Step[]
  capacity: number
  turnLimit: number
  alive: boolean
  telemetry?: {
    full: Step[]
    off: Step[]
    exported: { spans: number, logs: number, metrics: number }
    offExported: number
    /** The --baseline build's, measured in the same rounds. */
    baseline?: { full: Step[], off: Step[] }
  }
  turnTraces?: { on: Step[], off: Step[], rows: { on: TraceRows, off: TraceRows } }
  history?: { stored: { sessions: number, messages: number, seconds: number }, empty: HistoryRound[], filled: HistoryRound[] }
  baseline?: { this: BaselineRound[], baseline: BaselineRound[] }
}
/** A round of the baseline comparison: 50 clients, the open loops at 2× and 3× their rate, and the limit measured in the same round. */
interface BaselineRound { fifty: Step, overloads: Step[], limit: Limit }
/** A round of the history comparison: one client (its latency), then 50 (their answered/s). */
interface HistoryRound { one: Step, fifty: Step }
interface TraceRows { rows: number, withSpans: number, withLogs: number, /** Turns let go while others waited in line (chatbot_turn_traces_dropped_total{reason="pressure"}). */ letGo: number }

/** Storage for one server: a scratch database on the PostgreSQL server, or a PGlite folder under `folder`. */
async function storage (key: EngineKey, folder: string, name: string): Promise<Pick<Parley, 'databases' | 'drop'> & { env: Record<string, string> }> {
  if (key === 'pglite') return { env: { DATA_DIR: join(folder, `data-${name}`) }, databases: [], drop: async () => {} }
  const scratch = await createScratchDatabase(serverUrl, 'parley_bench')
  return { env: { DATABASE_URL: scratch.url }, databases: [scratch.name], drop: scratch.drop }
}

/** A Parley server, the sessions it has open, and its scratch database (on PostgreSQL), dropped after it. */
interface Parley { server: Server, sessions: string[], databases: string[], drop: () => Promise<void>, env: Record<string, string> }

interface ParleyOptions {
  key: EngineKey
  folder: string
  name: string
  sessions: number
  telemetry?: { endpoint: string, full: boolean }
  env?: Record<string, string>
  processEnv?: Record<string, string>
  /** Writes into the storage before the server opens it. */
  prefill?: (db: Database) => Promise<void>
  /** Another build's dist folder: its server and its telemetry preload. */
  build?: string
}

/**
 * Starts Parley as production runs it (logging to its files, the telemetry preload: off unless
 * told), opens its sessions and warms it up with a short unrecorded closed loop, so JIT
 * compilation and cold caches do not count.
 */
async function startParley ({ key, folder, name, sessions: sessionCount, telemetry: otel, ...given }: ParleyOptions): Promise<Parley> {
  process.stderr.write(`${key} ${name}: starting, opening ${sessionCount} sessions…\n`)
  const { env, databases, drop } = await storage(key, folder, name)
  if (given.prefill !== undefined) {
    const db = await openStorage(env)
    try {
      await given.prefill(db)
    } finally {
      await db.close()
    }
  }
  const processEnv: Record<string, string> = given.processEnv ?? (otel === undefined
    ? { OTEL_SDK_DISABLED: 'true' }
    : { OTEL_EXPORTER_OTLP_ENDPOINT: `${otel.endpoint}/${key}-${name}`, ...(otel.full ? { OTEL_TRACES_SAMPLER: 'always_on' } : { OTEL_SDK_DISABLED: 'true' }) })
  const server = await startServer({
    env: { ...BENCH_APP_ENV, ...env, LOG_DIR: join(folder, `logs-${name}`), ...given.env },
    processLogging: true,
    stdout: 'ignore',
    execArgv: ['--import', given.build === undefined ? PRELOAD : pathToFileURL(resolve(given.build, 'otel/instrumentation.js')).href],
    processEnv,
    ...(given.build === undefined ? {} : { script: resolve(given.build, 'bench/chat-server.js') })
  })
  const sessions = await prepare(server.port, sessionCount)
  await closedLoop(server.port, sessions, Math.max(...CLIENTS), WARM_UP_SECONDS)
  return { server, sessions, databases, drop, env }
}

async function loadSteps (key: EngineKey, folder: string): Promise<Pick<EngineRun, 'steps' | 'capacity' | 'turnLimit' | 'alive'>> {
  const parley = await startParley({ key, folder, name: 'load', sessions: Math.max(burstSize, ...CLIENTS) })
  const { server, sessions } = parley
  try {
    const steps: Step[] = []
    for (const clients of CLIENTS) {
      process.stderr.write(`${key}: closed loop, ${clients} client${clients === 1 ? '' : 's'}, ${seconds} s…\n`)
      steps.push(await step(parley, `closed, ${clients} client${clients === 1 ? '' : 's'}`, seconds, async () => await closedLoop(server.port, sessions, clients, seconds)))
    }
    const capacity = Math.max(...steps.map(s => s.answeredPerSecond))
    for (const factor of FACTORS) {
      const rate = capacity * factor
      process.stderr.write(`${key}: open loop, ${factor}× capacity (${rate.toFixed(0)} turns/s), ${seconds} s…\n`)
      steps.push(await step(parley, `open, ${factor}× capacity`, seconds, async () => await openLoop(server.port, sessions, rate, seconds), rate))
    }
    const rate = capacity * SPIKE_FACTOR
    const requests = { sent: 0 }
    process.stderr.write(`${key}: open loop, ${SPIKE_FACTOR}× capacity, refusals sent again as the chat page does, ${seconds} s and the retries…\n`)
    const spike = await step(parley, SPIKE_LABEL, undefined, async () => await openLoop(server.port, sessions, rate, seconds, requests), rate)
    steps.push({ ...spike, requests: requests.sent })
    process.stderr.write(`${key}: burst of ${count(burstSize)} turns…\n`)
    steps.push(await step(parley, `burst of ${count(burstSize)}`, undefined, async () => await burst(server.port, sessions, burstSize), burstSize))
    const alive = await fetch(`http://127.0.0.1:${server.port}/health`).then(response => response.status === 200, () => false)
    const { turnLimit } = await serverMetrics(server.port)
    return { steps, capacity, turnLimit, alive }
  } finally {
    await server.stop()
    await parley.drop()
  }
}

async function limitsOf (key: EngineKey, folder: string): Promise<Limit[]> {
  if (key === 'pglite') return [await pgliteLoop(join(folder, 'limit-disk'), 'on disk'), await pgliteLoop('memory://', 'in memory')]
  const scratch = await createScratchDatabase(serverUrl, 'parley_limits')
  try {
    return await pgbenchLimits(scratch, folder)
  } finally {
    await scratch.drop()
  }
}

/** Full telemetry against off, 50 clients, in interleaved rounds. */
async function telemetryRounds (key: EngineKey, folder: string, receiver: OtlpCounter, endpoint: string): Promise<NonNullable<EngineRun['telemetry']>> {
  const clients = Math.max(...CLIENTS)
  const build = flags.baseline === '' ? undefined : flags.baseline
  const contenders: Array<{ name: string, full: boolean, build?: string, steps: Step[] }> = [
    { name: 'full', full: true, steps: [] },
    { name: 'off', full: false, steps: [] },
    ...(build === undefined ? [] : [{ name: 'baseline-full', full: true, build, steps: [] }, { name: 'baseline-off', full: false, build, steps: [] }])
  ]
  const started: Array<Parley & { contender: typeof contenders[number] }> = []
  try {
    for (const contender of contenders) started.push({ contender, ...await startParley({ key, folder, name: contender.name, sessions: clients, build: contender.build, telemetry: { endpoint, full: contender.full } }) })
    await inRotatingRounds(started, rounds, async (parley, round) => {
      const { contender, server, sessions } = parley
      process.stderr.write(`${key}: telemetry round ${round + 1}/${rounds}, ${contender.name}, ${clients} clients, ${seconds} s…\n`)
      contender.steps.push(await step(parley, contender.name, seconds, async () => await closedLoop(server.port, sessions, clients, seconds)))
    })
  } finally {
    // Stopping flushes each SDK, so everything exported is in before it is counted.
    for (const { server, drop } of started) {
      await server.stop()
      await drop()
    }
  }
  const full = receiver.count(`${key}-full`)
  const off = receiver.count(`${key}-off`)
  return {
    full: contenders[0]!.steps,
    off: contenders[1]!.steps,
    exported: { spans: full.traces.items, logs: full.logs.items, metrics: full.metrics.requests },
    offExported: off.traces.requests + off.logs.requests + off.metrics.requests,
    ...(build === undefined ? {} : { baseline: { full: contenders[2]!.steps, off: contenders[3]!.steps } })
  }
}

/** The database of a server's storage (a stopped server's, or one not started yet). */
async function openStorage (env: Record<string, string>): Promise<Database> {
  return env.DATABASE_URL === undefined ? await openPGliteDatabase(env.DATA_DIR!) : await openPostgresDatabase(env.DATABASE_URL, 1)
}

/** The turn_traces rows a stopped server left: all, with spans, with log lines. */
async function traceRows (env: Record<string, string>): Promise<Omit<TraceRows, 'letGo'>> {
  const db = await openStorage(env)
  try {
    const { rows } = await db.query<Omit<TraceRows, 'letGo'>>(`SELECT count(*)::int AS rows, count(*) FILTER (WHERE json_array_length(spans) > 0)::int AS "withSpans",
      count(*) FILTER (WHERE json_array_length(logs) > 0)::int AS "withLogs" FROM turn_traces`)
    return rows[0]!
  } finally {
    await db.close()
  }
}

/** Turn traces kept against not, 50 clients, the SDK on with no collector, in interleaved rounds. */
async function turnTraceRounds (key: EngineKey, folder: string): Promise<NonNullable<EngineRun['turnTraces']>> {
  const clients = Math.max(...CLIENTS)
  const noCollector = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }
  // The SDK and PGlite starting in one thread can hold the event loop past under-pressure's second
  // just as the sessions are opened: both servers leave that check off, the rest of the policy on.
  const common = { MAX_EVENT_LOOP_DELAY_MS: '0' }
  const contenders: Array<{ name: string, env: Record<string, string>, steps: Step[] }> = [{ name: 'traces-on', env: common, steps: [] }, { name: 'traces-off', env: { ...common, TURN_TRACE_RETENTION_DAYS: '0' }, steps: [] }]
  const started: Array<Parley & { contender: typeof contenders[number] }> = []
  const rows: TraceRows[] = []
  try {
    for (const contender of contenders) started.push({ contender, ...await startParley({ key, folder, name: contender.name, sessions: clients, env: contender.env, processEnv: noCollector }) })
    await inRotatingRounds(started, rounds, async (parley, round) => {
      const { contender, server, sessions } = parley
      process.stderr.write(`${key}: turn-trace round ${round + 1}/${rounds}, ${contender.name}, ${clients} clients, ${seconds} s…\n`)
      contender.steps.push(await step(parley, contender.name, seconds, async () => await closedLoop(server.port, sessions, clients, seconds)))
    })
  } finally {
    // Stopping writes what each had queued; then its rows are counted.
    for (const { server, drop, env } of started) {
      const metrics = await fetch(`http://127.0.0.1:${server.port}/metrics`).then(async response => await response.text(), () => '')
      const letGo = Number(/^chatbot_turn_traces_dropped_total\{reason="pressure"[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? -1)
      await server.stop()
      rows.push(await traceRows(env).then(counted => ({ ...counted, letGo }), () => ({ rows: -1, withSpans: -1, withLogs: -1, letGo })))
      await drop()
    }
  }
  return { on: contenders[0]!.steps, off: contenders[1]!.steps, rows: { on: rows[0]!, off: rows[1]! } }
}

/**
 * A turn against `history` stored messages (ended sessions, ratings and turn traces over the last
 * week) and against none, in interleaved rounds: one client's latency, then 50 clients' answered/s.
 */
async function historyRounds (key: EngineKey, folder: string): Promise<NonNullable<EngineRun['history']>> {
  const clients = Math.max(...CLIENTS)
  let stored = { sessions: 0, messages: 0, seconds: 0 }
  const prefill = async (db: Database): Promise<void> => {
    process.stderr.write(`${key}: writing ${count(flags.history)} stored messages…\n`)
    const started = performance.now()
    stored = { ...await fillHistory(db, flags.history), seconds: (performance.now() - started) / 1000 }
  }
  const contenders: Array<{ name: string, prefill?: typeof prefill, rounds: HistoryRound[] }> = [{ name: 'empty', rounds: [] }, { name: 'filled', prefill, rounds: [] }]
  const started: Array<Parley & { contender: typeof contenders[number] }> = []
  try {
    for (const contender of contenders) started.push({ contender, ...await startParley({ key, folder, name: contender.name, sessions: clients, prefill: contender.prefill }) })
    await inRotatingRounds(started, rounds, async (parley, round) => {
      const { contender, server, sessions } = parley
      process.stderr.write(`${key}: history round ${round + 1}/${rounds}, ${contender.name}, 1 and ${clients} clients, ${seconds} s each…\n`)
      const one = await step(parley, `${contender.name}, 1 client`, seconds, async () => await closedLoop(server.port, sessions, 1, seconds))
      const fifty = await step(parley, `${contender.name}, ${clients} clients`, seconds, async () => await closedLoop(server.port, sessions, clients, seconds))
      contender.rounds.push({ one, fifty })
    })
  } finally {
    for (const { server, drop } of started) {
      await server.stop()
      await drop()
    }
  }
  return { stored, empty: contenders[0]!.rounds, filled: contenders[1]!.rounds }
}

const OVERLOAD_FACTORS = [2, 3]

/**
 * This build against another (--baseline), 50 clients each, then open loops at 2× and 3× the rate
 * they were answered at, in interleaved rounds, with the limit measured in each round before them:
 * the plain PGlite loop on disk (one database, kept open), or pgbench at 50 clients.
 */
async function baselineRounds (key: EngineKey, folder: string): Promise<NonNullable<EngineRun['baseline']>> {
  const clients = Math.max(...CLIENTS)
  const contenders: Array<{ name: string, build?: string, rounds: BaselineRound[] }> = [{ name: 'this', rounds: [] }, { name: 'baseline', build: flags.baseline, rounds: [] }]
  const started: Array<Parley & { contender: typeof contenders[number] }> = []
  const loopDb = key === 'pglite' ? await openPGliteDatabase(join(folder, 'baseline-limit')) : undefined
  const scratch = key === 'postgres' ? await createScratchDatabase(serverUrl, 'parley_limits') : undefined
  try {
    if (loopDb !== undefined) await prepareLimitDatabase(loopDb, LIMIT_SESSIONS)
    let prepared = false
    const limit = async (): Promise<Limit> => {
      if (scratch !== undefined) {
        const [measured] = await pgbenchLimits(scratch, folder, [clients], prepared)
        prepared = true
        return measured!
      }
      return await measuredLoop(loopDb!, 'on disk', 500)
    }
    for (const contender of contenders) started.push({ contender, ...await startParley({ key, folder, name: contender.name, sessions: clients, build: contender.build }) })
    await inRotatingRounds(started, rounds, async (parley, round) => {
      const { contender, server, sessions } = parley
      const measured = await limit()
      process.stderr.write(`${key}: baseline round ${round + 1}/${rounds}, ${contender.name}, ${clients} clients, ${seconds} s…\n`)
      const fifty = await step(parley, `${contender.name}, ${clients} clients`, seconds, async () => await closedLoop(server.port, sessions, clients, seconds))
      // Past capacity, each build against the capacity it showed in this round.
      const overloads: Step[] = []
      for (const factor of OVERLOAD_FACTORS) {
        const rate = fifty.answeredPerSecond * factor
        process.stderr.write(`${key}: baseline round ${round + 1}/${rounds}, ${contender.name}, open loop at ${factor}× (${rate.toFixed(0)} turns/s), ${seconds} s…\n`)
        overloads.push(await step(parley, `${contender.name}, open ${factor}×`, seconds, async () => await openLoop(server.port, sessions, rate, seconds), rate))
      }
      contender.rounds.push({ fifty, overloads, limit: measured })
    })
  } finally {
    for (const { server, drop } of started) {
      await server.stop()
      await drop()
    }
    await loopDb?.close()
    await scratch?.drop()
  }
  return { this: contenders[0]!.rounds, baseline: contenders[1]!.rounds }
}

// ---------------------------------------------------------------------------------------------
// The run.

/** Open files this process may have (Node.js has raised its soft limit to the hard one). */
async function openFilesLimit (): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '')
  return Number(/^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1]?.replace('unlimited', 'Infinity') ?? Infinity)
}

const runStarted = performance.now()
const machine = machineLine()
// The burst's connections, the open loop's (about the line's length, which the latency goal
// bounds), and some to spare; the server, a child of this process, has the same limit.
const filesNeeded = burstSize + 2000
const filesLimit = await openFilesLimit()
if (filesLimit < filesNeeded) {
  console.error(`bench:load needs about ${filesNeeded} open files for a burst of ${burstSize}, and this process may open ${filesLimit}: raise the hard limit (ulimit -Hn) or lower --burst`)
  process.exit(1)
}
const keys: EngineKey[] = flags.engine === 'both' ? ['pglite', 'postgres'] : [flags.engine]
const folder = await mkdtemp(join(os.tmpdir(), 'parley-bench-load-'))
const receiver = telemetry ? new OtlpCounter() : undefined
const endpoint = await receiver?.start()
const runs: EngineRun[] = []
try {
  for (const key of keys) {
    const limits = await limitsOf(key, folder)
    const name = key === 'pglite' ? 'PGlite' : limits[0]!.name.replace(/^pgbench, /, '')
    const run: EngineRun = { key, name, limits, ...await loadSteps(key, folder) }
    if (receiver !== undefined) run.telemetry = await telemetryRounds(key, folder, receiver, endpoint!)
    if (turnTraces) run.turnTraces = await turnTraceRounds(key, folder)
    if (flags.history > 0) run.history = await historyRounds(key, folder)
    if (flags.baseline !== '') run.baseline = await baselineRounds(key, folder)
    runs.push(run)
  }
} finally {
  await receiver?.stop()
  await rm(folder, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// The report.

const latency = (value: number): string => Number.isNaN(value) ? '-' : ms(value)
const others = (s: Step): string => otherCount(s) === 0 ? '0' : [...s.other].map(([status, n]) => `${n}× ${status}`).join(', ')
const verdict = (met: boolean): string => met ? 'met' : 'NOT met'
/** A step's CPU (a share of one core) as milliseconds an answer. */
const perAnswer = (share: number | undefined, s: Step): number => share === undefined || s.answered === 0 ? NaN : share * s.elapsedMs / s.answered
const cpuPerAnswer = (s: Step): number => perAnswer(s.loopCpu, s)

/**
 * Where a step past capacity's goodput went, in CPU (bench/README.md, "Where PostgreSQL's goodput
 * at 2× goes"). The generator, the server and the database share the machine's cores, so the
 * answers past capacity are paid for from what the generator's extra requests and the refusals
 * leave. An identity, not a model: over the step's whole time, goodput = 1 + the CPU used beyond
 * the best closed loop's − the generator's extra − the refusals' − the answers' extra cost, each
 * counted in the best closed loop's answers.
 */
function goodputSpent (run: EngineRun, s: Step, refusalMs: number): string {
  const best = run.steps.filter(c => c.label.startsWith('closed')).reduce((a, b) => b.answeredPerSecond > a.answeredPerSecond ? b : a)
  if (s.loopCpu === undefined || best.loopCpu === undefined) return `${s.label}: no CPU reading`
  // Shares of a core, and rates a second, over each step's whole time.
  const server = (c: Step): number => c.loopCpu! + (c.databaseCpu ?? 0)
  const used = (c: Step): number => server(c) + c.generatorCpu
  const rate = (n: number, c: Step): number => n / c.elapsedMs * 1000
  const answerCost = (c: Step, refusals: number): number => (server(c) - refusals) / rate(c.answered, c)
  const refusals = rate(s.refused, s) * refusalMs / 1000
  const bestCost = answerCost(best, 0)
  const inAnswers = (share: number): number => share / bestCost / rate(best.answered, best)
  const terms = [
    ['more CPU used', inAnswers(used(s) - used(best))],
    ['the generator\'s extra', -inAnswers(s.generatorCpu - best.generatorCpu)],
    ['refusals', -inAnswers(refusals)],
    ['dearer answers', -inAnswers(rate(s.answered, s) * (answerCost(s, refusals) - bestCost))]
  ] as const
  const goodput = rate(s.answered, s) / rate(best.answered, best)
  const parts = terms.map(([name, value]) => `${value < 0 ? '−' : '+'} ${Math.abs(value).toFixed(2)} ${name}`).join(' ')
  return `${s.label}: goodput over the step ${goodput.toFixed(2)} = 1 ${parts} (CPU counted in answers at capacity, ${best.label})`
}

console.log(`\nParley bench:load. Machine: ${machine}`)
console.log('POST /v1/chat, the npm run bench mix; NODE_ENV=production, logging to files at info (stdout on /dev/null), telemetry preload with OTEL_SDK_DISABLED=true;')
console.log(`default overload policy (TURN_LATENCY_GOAL_MS=${LATENCY_GOAL_MS}, MAX_TURNS_IN_FLIGHT auto); ${seconds} s per step, ${limitSeconds} s per limit step; load generator, server and database share the machine.`)

console.log('\nThe limits: a turn\'s two statements (SELECT the session; UPDATE it and INSERT both messages in one statement), without Parley:\n')
const limitTable = [['limit', 'clients', 'turns/s', 'mean latency ms', 'failed', 'CPU elsewhere']]
for (const run of runs) for (const l of run.limits) limitTable.push([l.name, String(l.clients), l.turnsPerSecond.toFixed(0), l.latencyMs.toFixed(2), String(l.failed), l.cpuElsewhere === undefined ? '-' : percent(l.cpuElsewhere)])
for (const line of formatTable(limitTable)) console.log(`  ${line}`)

for (const run of runs) {
  console.log(`\nParley on ${run.name}: ${run.turnLimit} turn${run.turnLimit === 1 ? '' : 's'} in flight at most, capacity ${run.capacity.toFixed(0)} answered/s (the best closed loop)\n`)
  const optional = (value: number | undefined, format: (value: number) => string): string => value === undefined ? '-' : format(value)
  const answers = [['load', 'offered', 'answered/s', 'refused (503)', `503 after ≥ ${LATENCY_GOAL_MS} ms`, 'other', 'p50 ms', 'p99 ms', '503 p99 ms', 'refused by']]
  const machineTable = [['load', 'sent late p99 ms', '503 p99 from sent ms', 'longest stall ms', 'peak RSS MB', 'server loop CPU', 'database CPU', 'generator CPU', 'CPU elsewhere', 'listen drops']]
  for (const s of run.steps) {
    answers.push([s.label, optional(s.offered, value => value.toFixed(0)), s.answeredPerSecond.toFixed(0), percent(refusedShare(s)), count(s.lateRefusals), others(s),
      latency(s.p50), latency(s.p99), latency(s.refusalP99), s.refusedBy])
    machineTable.push([s.label, latency(s.sentLateP99), latency(s.refusalSentP99), latency(s.longestStall), optional(s.peakRss, mb), optional(s.loopCpu, percent), optional(s.databaseCpu, percent), percent(s.generatorCpu), optional(s.cpuElsewhere, percent), optional(s.listenOverflows, count)])
  }
  for (const line of formatTable(answers)) console.log(`  ${line}`)
  const spike = run.steps.find(s => s.label === SPIKE_LABEL)!
  const once = run.steps.find(s => s.label === `open, ${SPIKE_FACTOR}× capacity`)!
  console.log(`  ${SPIKE_LABEL}: ${percent(spike.answered / spike.total)} of ${count(spike.total)} turns answered in the end, against ${percent(once.answered / once.total)} at once in the step before;` +
    ` answered p50 ${latency(spike.p50)} ms, p99 ${latency(spike.p99)} ms from when due; ${(spike.requests! / spike.total).toFixed(2)} requests a turn`)
  const b = run.steps.at(-1)!
  console.log(`  burst: ${count(b.answered)} answered, ${count(b.refused)} refused, the last response after ${b.elapsedMs.toFixed(0)} ms; server alive afterwards: ${run.alive ? 'yes' : 'NO'}\n`)
  for (const line of formatTable(machineTable)) console.log(`  ${line}`)
  // What a refusal costs the server's event loop, next to an answer: from the 1× step (answers,
  // hardly a refusal) and the 3× step (the same answers, and many refusals).
  const at = (factor: number): Step => run.steps.find(s => s.label === `open, ${factor}× capacity`)!
  const [one, three] = [at(1), at(3)]
  if (one.loopCpu !== undefined && three.loopCpu !== undefined && three.refused > 0 && one.answered > 0) {
    const answerMs = one.loopCpu * one.elapsedMs / one.total
    const refusalMs = (three.loopCpu * three.elapsedMs - three.answered * answerMs) / three.refused
    console.log(`  server main-thread CPU: an answer ≈ ${answerMs.toFixed(2)} ms (1× step), a refusal ≈ ${refusalMs.toFixed(2)} ms (3× step, its answers counted at that cost)`)
    for (const factor of [2, 3]) console.log(`  ${goodputSpent(run, at(factor), refusalMs)}`)
  }
  const fifty = run.steps.find(s => s.label === `closed, ${Math.max(...CLIENTS)} clients`)
  if (fifty?.databaseCpu !== undefined) {
    console.log(`  at ${Math.max(...CLIENTS)} clients, CPU an answer: the server's main thread ${cpuPerAnswer(fifty).toFixed(2)} ms, PostgreSQL ${perAnswer(fifty.databaseCpu, fifty).toFixed(2)} ms`)
  }
}

console.log('\nGoals\n')
const goalRows: string[][] = [['goal', 'target', ...runs.map(run => run.name)]]
const goal = (name: string, target: string, cell: (run: EngineRun) => string): void => { goalRows.push([name, target, ...runs.map(cell)]) }
const find = (run: EngineRun, label: string): Step => run.steps.find(s => s.label === label)!
const at50 = (run: EngineRun): Step => find(run, `closed, ${Math.max(...CLIENTS)} clients`)
const ratio = (value: number, target: number, atLeast = true): string => `${value.toFixed(2)} ${verdict(atLeast ? value >= target : value <= target)}`
goal('refused at 50 clients', `≤ ${percent(GOALS.refusedAt50)}`, run => `${percent(refusedShare(at50(run)))} ${verdict(refusedShare(at50(run)) <= GOALS.refusedAt50)}`)
goal('answered/s at 50 clients / pgbench at 50 clients', `≥ ${GOALS.vsPgbench.toFixed(2)}`, run => {
  const limit = run.limits.find(l => l.name.startsWith('pgbench') && l.clients === Math.max(...CLIENTS))
  return limit === undefined ? '-' : ratio(at50(run).answeredPerSecond / limit.turnsPerSecond, GOALS.vsPgbench)
})
goal('answered/s at 50 clients / PGlite plain loop on disk', `≥ ${GOALS.vsPGliteLoop.toFixed(2)}`, run => {
  const limit = run.limits.find(l => l.name === 'PGlite plain loop, on disk')
  return limit === undefined ? '-' : ratio(at50(run).answeredPerSecond / limit.turnsPerSecond, GOALS.vsPGliteLoop)
})
for (const factor of [2, 3]) {
  const label = `open, ${factor}× capacity`
  goal(`goodput at ${factor}× / capacity`, `≥ ${GOALS.goodput.toFixed(2)}`, run => ratio(find(run, label).answeredPerSecond / run.capacity, GOALS.goodput))
  // None answered fails the first; none refused passes the second.
  goal(`answered p99 at ${factor}×`, `≤ ${GOALS.answeredP99Ms} ms`, run => `${latency(find(run, label).p99)} ms ${verdict(find(run, label).p99 <= GOALS.answeredP99Ms)}`)
  goal(`refusal p99 at ${factor}×`, `≤ ${GOALS.refusalP99Ms} ms`, run => `${latency(find(run, label).refusalP99)} ms ${verdict(!(find(run, label).refusalP99 > GOALS.refusalP99Ms))}`)
  goal(`other than 200 and 503 at ${factor}×`, 'none', run => `${otherCount(find(run, label))} ${verdict(otherCount(find(run, label)) === 0)}`)
}
// A burst smaller than a second's capacity can at most be answered whole.
goal(`burst answered / the lesser of the burst and capacity × ${GOALS.burstGoalSeconds} s`, '≥ 1.00', run =>
  ratio(run.steps.at(-1)!.answered / Math.min(burstSize, run.capacity * GOALS.burstGoalSeconds), 1))
if (telemetry) {
  const summary = (steps: Step[]) => ({ rps: median(steps.map(s => s.answeredPerSecond)), p99: median(steps.map(s => s.p99)) })
  goal('telemetry: full / off, answered/s at 50 clients', `≥ ${GOALS.telemetryThroughput.toFixed(2)}`, run => ratio(summary(run.telemetry!.full).rps / summary(run.telemetry!.off).rps, GOALS.telemetryThroughput))
  goal('telemetry: full / off, p99 at 50 clients', `≤ ${GOALS.telemetryP99.toFixed(2)}`, run => ratio(summary(run.telemetry!.full).p99 / summary(run.telemetry!.off).p99, GOALS.telemetryP99, false))
}
if (turnTraces) {
  const rps = (steps: Step[]): number => median(steps.map(s => s.answeredPerSecond))
  goal('turn traces: on / off, answered/s at 50 clients', `≥ ${GOALS.turnTracesThroughput.toFixed(2)}`, run => ratio(rps(run.turnTraces!.on) / rps(run.turnTraces!.off), GOALS.turnTracesThroughput))
}
const historyP50 = (rounds: HistoryRound[]): number => median(rounds.map(r => r.one.p50))
if (flags.history > 0) {
  goal(`turn p50, 1 client: ${count(flags.history)} stored messages / none`, `≤ ${GOALS.historyP50.toFixed(2)}`,
    run => ratio(historyP50(run.history!.filled) / historyP50(run.history!.empty), GOALS.historyP50, false))
}
const limitOf = (run: EngineRun): string => run.key === 'pglite' ? 'PGlite plain loop on disk' : `pgbench at ${Math.max(...CLIENTS)} clients`
const vsLimit = (rounds: BaselineRound[]): number => median(rounds.map(r => r.fifty.answeredPerSecond / r.limit.turnsPerSecond))
if (flags.baseline !== '') {
  goal('with --baseline: this build\'s answered/s at 50 clients / its round\'s limit', '≥ PGlite 0.60, pgbench 0.40',
    run => ratio(vsLimit(run.baseline!.this), run.key === 'pglite' ? GOALS.vsPGliteLoop : GOALS.vsPgbench))
}
for (const line of formatTable(goalRows)) console.log(`  ${line}`)

if (telemetry) {
  console.log(`\nTelemetry, ${Math.max(...CLIENTS)} clients, ${rounds} rounds × ${seconds} s each (order rotated): full = every trace sampled, OTLP http/protobuf to a receiver in this process, log records exported; off = OTEL_SDK_DISABLED=true\n`)
  const table = [['engine', 'configuration', 'answered/s per round', 'median', 'p99 ms per round', 'median p99', 'refused', 'other', 'CPU elsewhere, max']]
  for (const run of runs) {
    const { baseline } = run.telemetry!
    const configurations: Array<[string, Step[]]> = [['full', run.telemetry!.full], ['off', run.telemetry!.off],
      ...(baseline === undefined ? [] : [['baseline full', baseline.full], ['baseline off', baseline.off]] satisfies Array<[string, Step[]]>)]
    for (const [name, steps] of configurations) {
      table.push([run.name, name, steps.map(s => s.answeredPerSecond.toFixed(0)).join(' / '), median(steps.map(s => s.answeredPerSecond)).toFixed(0),
        steps.map(s => latency(s.p99)).join(' / '), latency(median(steps.map(s => s.p99))), percent(steps.reduce((sum, s) => sum + s.refused, 0) / steps.reduce((sum, s) => sum + s.total, 0)), String(steps.reduce((sum, s) => sum + otherCount(s), 0)),
        percent(Math.max(...steps.map(s => s.cpuElsewhere ?? 0)))])
    }
  }
  for (const line of formatTable(table)) console.log(`  ${line}`)
  const rps = (steps: readonly Step[]): number => median(steps.map(s => s.answeredPerSecond))
  for (const run of runs) {
    const { exported: { spans, logs, metrics }, baseline } = run.telemetry!
    console.log(`  ${run.name}, full exported ${count(spans)} spans, ${count(logs)} log records and ${count(metrics)} metric exports`)
    if (baseline === undefined) continue
    const ratio = (full: readonly Step[], off: readonly Step[]): string => (rps(full) / rps(off)).toFixed(2)
    console.log(`  ${run.name}, full / off: this build ${ratio(run.telemetry!.full, run.telemetry!.off)}, ${flags.baseline} ${ratio(baseline.full, baseline.off)}; full, this / baseline ${ratio(run.telemetry!.full, baseline.full)}`)
  }
}
if (turnTraces) {
  console.log(`\nTurn traces, ${Math.max(...CLIENTS)} clients, ${rounds} rounds × ${seconds} s each (order rotated), the SDK preloaded with every exporter off (no collector): on = TURN_TRACE_RETENTION_DAYS=7 (the default), off = 0\n`)
  const table = [['engine', 'configuration', 'answered/s per round', 'median', 'p99 ms per round', 'median p99', 'refused', 'other', 'main thread ms an answer', 'server ms an answer', 'database ms an answer', 'CPU elsewhere, max', 'rows (with spans, with logs)', 'let go under pressure']]
  for (const run of runs) {
    for (const [name, steps, rows] of [['on', run.turnTraces!.on, run.turnTraces!.rows.on], ['off', run.turnTraces!.off, run.turnTraces!.rows.off]] as const) {
      table.push([run.name, name, steps.map(s => s.answeredPerSecond.toFixed(0)).join(' / '), median(steps.map(s => s.answeredPerSecond)).toFixed(0),
        steps.map(s => latency(s.p99)).join(' / '), latency(median(steps.map(s => s.p99))), percent(steps.reduce((sum, s) => sum + s.refused, 0) / steps.reduce((sum, s) => sum + s.total, 0)), String(steps.reduce((sum, s) => sum + otherCount(s), 0)),
        median(steps.map(cpuPerAnswer)).toFixed(2), median(steps.map(s => perAnswer(s.serverCpu, s))).toFixed(2),
        run.key === 'pglite' ? '- (in the main thread)' : median(steps.map(s => perAnswer(s.databaseCpu, s))).toFixed(2),
        percent(Math.max(...steps.map(s => s.cpuElsewhere ?? 0))), `${count(rows.rows)} (${count(rows.withSpans)}, ${count(rows.withLogs)})`, count(rows.letGo)])
    }
  }
  for (const line of formatTable(table)) console.log(`  ${line}`)
}
if (flags.history > 0) {
  console.log(`\nStored history, ${rounds} rounds × ${seconds} s each (order rotated): filled = ended sessions of 5 turns over the last week, with ratings and turn traces; empty = none\n`)
  const table = [['engine', 'database', 'stored', '1 client p50 ms per round', 'median', `${Math.max(...CLIENTS)} clients answered/s per round`, 'median', 'CPU elsewhere, max']]
  for (const run of runs) {
    const { stored, empty, filled } = run.history!
    for (const [name, rounds, messages] of [['empty', empty, 0], ['filled', filled, stored.messages]] as const) {
      table.push([run.name, name, `${count(messages)} messages`, rounds.map(r => r.one.p50.toFixed(2)).join(' / '), historyP50(rounds).toFixed(2),
        rounds.map(r => r.fifty.answeredPerSecond.toFixed(0)).join(' / '), median(rounds.map(r => r.fifty.answeredPerSecond)).toFixed(0),
        percent(Math.max(...rounds.flatMap(r => [r.one.cpuElsewhere ?? 0, r.fifty.cpuElsewhere ?? 0])))])
    }
    console.log(`  ${run.name}: ${count(stored.sessions)} sessions and ${count(stored.messages)} messages written in ${stored.seconds.toFixed(0)} s before the run`)
  }
  for (const line of formatTable(table)) console.log(`  ${line}`)
}
if (flags.baseline !== '') {
  console.log(`\nThis build against ${flags.baseline}, ${Math.max(...CLIENTS)} clients, ${rounds} rounds × ${seconds} s each (order rotated), each after the limit measured in its round (${limitSeconds} s)\n`)
  const table = [['engine', 'build', 'limit, turns/s per round', 'answered/s per round', 'median', 'answered / limit per round', 'median', 'main-thread CPU ms an answer per round', 'median', 'database CPU ms an answer, median', 'CPU elsewhere, max']]
  for (const run of runs) {
    for (const [name, rounds] of [['this', run.baseline!.this], ['baseline', run.baseline!.baseline]] as const) {
      table.push([run.name, name, rounds.map(r => r.limit.turnsPerSecond.toFixed(0)).join(' / '),
        rounds.map(r => r.fifty.answeredPerSecond.toFixed(0)).join(' / '), median(rounds.map(r => r.fifty.answeredPerSecond)).toFixed(0),
        rounds.map(r => (r.fifty.answeredPerSecond / r.limit.turnsPerSecond).toFixed(2)).join(' / '), vsLimit(rounds).toFixed(2),
        rounds.map(r => cpuPerAnswer(r.fifty).toFixed(2)).join(' / '), median(rounds.map(r => cpuPerAnswer(r.fifty))).toFixed(2),
        run.key === 'pglite' ? '- (in the main thread)' : median(rounds.map(r => perAnswer(r.fifty.databaseCpu, r.fifty))).toFixed(2),
        percent(Math.max(...rounds.flatMap(r => [r.fifty.cpuElsewhere ?? 0, r.limit.cpuElsewhere ?? 0])))])
    }
    const ours = run.baseline!.this.map(r => r.fifty.answeredPerSecond)
    const theirs = run.baseline!.baseline.map(r => r.fifty.answeredPerSecond)
    console.log(`  ${run.name}: this / baseline, answered/s at ${Math.max(...CLIENTS)} clients: ${(median(ours) / median(theirs)).toFixed(2)} (medians); the limit is ${limitOf(run)}`)
  }
  for (const line of formatTable(table)) console.log(`  ${line}`)
  console.log(`\nPast capacity, the same rounds: an open loop at ${OVERLOAD_FACTORS.map(f => `${f}×`).join(' and ')} the rate each build answered ${Math.max(...CLIENTS)} clients at in that round; goodput = answered/s / that rate\n`)
  // A round with no refusal has no refusal p99 (NaN): the median is of the rounds that have one.
  const medianKnown = (values: number[]): number => values.some(v => !Number.isNaN(v)) ? median(values.filter(v => !Number.isNaN(v))) : NaN
  const overloadTable = [['engine', 'build', 'load', 'goodput per round', 'median', 'answered p99 ms per round', 'median', 'refusal p99 ms per round', 'median', 'other']]
  for (const run of runs) {
    for (const [name, rounds] of [['this', run.baseline!.this], ['baseline', run.baseline!.baseline]] as const) {
      OVERLOAD_FACTORS.forEach((factor, i) => {
        const goodput = rounds.map(r => r.overloads[i]!.answeredPerSecond / r.fifty.answeredPerSecond)
        const p99 = rounds.map(r => r.overloads[i]!.p99)
        const refusalP99 = rounds.map(r => r.overloads[i]!.refusalP99)
        overloadTable.push([run.name, name, `${factor}×`, goodput.map(g => g.toFixed(2)).join(' / '), median(goodput).toFixed(2),
          p99.map(latency).join(' / '), latency(medianKnown(p99)), refusalP99.map(latency).join(' / '), latency(medianKnown(refusalP99)),
          String(rounds.reduce((sum, r) => sum + otherCount(r.overloads[i]!), 0))])
      })
    }
  }
  for (const line of formatTable(overloadTable)) console.log(`  ${line}`)
}
console.log(`\nRun time: ${((performance.now() - runStarted) / 1000).toFixed(0)} s`)

const failures: string[] = []
for (const run of runs) {
  if (!run.alive) failures.push(`Parley on ${run.name} did not answer /health after the load`)
  for (const l of run.limits) if (l.failed > 0 || Number.isNaN(l.turnsPerSecond)) failures.push(`${l.name} at ${l.clients} clients: ${l.failed} failed transactions or no figure`)
  const t = run.telemetry
  if (t !== undefined && (t.exported.spans === 0 || t.exported.logs === 0 || t.exported.metrics === 0)) failures.push(`full telemetry on ${run.name} exported no spans, log records or metrics: it was not on`)
  if (t !== undefined && t.offExported > 0) failures.push(`the server with OTEL_SDK_DISABLED=true on ${run.name} exported telemetry: off was not off`)
  const kept = run.turnTraces?.rows
  if (kept !== undefined && (kept.on.withSpans <= 0 || kept.on.withLogs <= 0) && kept.on.letGo <= 0) failures.push(`the server keeping turn traces on ${run.name} wrote no rows with spans and log lines, and let none go: it was not on`)
  if (kept !== undefined && kept.off.rows !== 0) failures.push(`the server with TURN_TRACE_RETENTION_DAYS=0 on ${run.name} wrote turn traces: off was not off`)
}
for (const problem of receiver?.rejected ?? []) failures.push(`the receiver could not read an export: ${problem}`)
for (const failure of failures) console.log(`\n!!! ${failure}: these figures are not a valid measurement !!!`)
if (failures.length > 0) process.exitCode = 1

// Not a failure of the run, but figures measured while something else took a tenth of a core or
// more compare with nothing: say how many, and how bad.
const historySteps = (run: EngineRun): Step[] => [...run.history?.empty ?? [], ...run.history?.filled ?? []].flatMap(r => [r.one, r.fifty])
const elsewhere = runs.flatMap(run => [...run.limits, ...run.steps, ...run.telemetry?.full ?? [], ...run.telemetry?.off ?? [],
  ...run.turnTraces?.on ?? [], ...run.turnTraces?.off ?? [], ...historySteps(run),
  ...[...run.baseline?.this ?? [], ...run.baseline?.baseline ?? []].flatMap(r => [r.fifty, r.limit])].map(m => m.cpuElsewhere ?? 0))
const disturbed = elsewhere.filter(share => share >= DISTURBED)
if (disturbed.length > 0) {
  console.log(`\n! Other processes used ${percent(DISTURBED)} of a core or more during ${disturbed.length} of the ${elsewhere.length} measurements (up to ${percent(Math.max(...disturbed))}: the "CPU elsewhere" columns). Those figures are disturbed; run again on a quiet machine.`)
}
