/**
 * The "slow and wrong yesterday" benchmark: does the team see the latency the user lived, and is
 * the trace there when the user complains, under load?
 *
 * The server runs as `npm start` runs it (the SDK preloaded, no collector: every OTLP exporter
 * off), on a scratch database of the server PostgreSQL (BENCH_DATABASE_URL, default
 * postgres://root@127.0.0.1:5432/postgres) or, with --engine pglite, on a data folder. A background
 * load of --connections closed-loop clients (12) chats for the whole run, while one user, the one
 * who complains, asks --turns questions (40) one after another, timing each from before the request
 * is written to the last byte of its reply (on a thread of its own), and rates each one down. Then, as the team would, it
 * reads each turn from the console's API (GET /console/api/conversations?user=) and its trace.
 *
 * Reported, side by side: the user's own p50 and p95 against the console's for the same turns, and
 * the share of turns whose console figure is within 10 % of the user's (goal: every one, within
 * 10 %); the share of the user's rated-down turns whose trace has its spans and log lines (goal:
 * 100 %), with how many of all turns had theirs let go under pressure; the overview's p50 and p95
 * against the clients' own for every turn of the run; and, as the floor of what no server can see,
 * a GET /health sent by the user between turns, as the user's client times it.
 *
 *   npm run bench:lived-latency                        # PostgreSQL, about a minute
 *   npm run bench:lived-latency -- --engine pglite --turns 60
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { projectRoot } from '../src/project.js'
import { benchFlags } from './bench-flags.js'
import { formatTable, machineLine, quantile } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'

const flags = benchFlags('bench:lived-latency', {
  engine: { kind: 'choice', choices: ['postgres', 'pglite'], default: 'postgres', meaning: 'the database' },
  connections: { kind: 'count', default: 12, meaning: 'background clients' },
  turns: { kind: 'count', default: 40, meaning: 'the complaining user\'s turns' }
})
const ADMIN = 'bench-admin-key-0123456789'
const USER = 'dave'
const QUESTIONS = ['how do I view traces?', 'how do sessions expire?', 'what does the console show?', 'how do I reset a session?', 'can I rate an answer?']

interface Reply { status: number, ms: number, body: { session_id?: string, trace_id?: string } }

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

// Every chat turn this thread sent, as its client timed it: the overview's figures cover them all.
const chatTurns: number[] = []

/** POSTs body (GETs without one), timed from before the request is written to the reply's last byte. */
async function send (port: number, path: string, body?: object): Promise<Reply> {
  const payload = body === undefined ? '' : JSON.stringify(body)
  const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const ms = performance.now() - started
        if (path === '/v1/chat' && res.statusCode === 200) chatTurns.push(ms)
        resolve({ status: res.statusCode ?? 0, ms, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Reply['body'] })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

async function consoleGet<T> (port: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return await response.json() as T
}

async function startServer (env: Record<string, string>): Promise<{ port: number, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', join(projectRoot, 'dist/otel/instrumentation.js'), join(projectRoot, 'dist/src/server.js')], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_DIR: '',
      LOG_LEVEL: 'info',
      NEW_SESSIONS_PER_MINUTE: '0',
      TURNS_PER_SESSION_PER_MINUTE: '0',
      TURNS_PER_CLIENT_PER_MINUTE: '0',
      MAX_SESSIONS_PER_USER: '1000',
      API_KEYS: `${ADMIN}:admin`,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...env
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const found = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (found !== null) resolve(Number(found[1]))
      if (output.length > 100_000) output = output.slice(-1000)
    })
    child.on('exit', code => { reject(new Error(`the server exited (${code}) before listening`)) })
  })
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

interface TurnRow { session_id: string | null, turn: number | null, latency_ms: number | null, trace_id: string | null }
interface Trace { let_go: string | null, spans: unknown[], logs: unknown[], duration_ms: number }

interface UserRun {
  /** [trace id, ms as lived] of each question answered. */
  lived: Array<[string, number]>
  refused: number
  /** GET /health after each turn: a request that does no work, as the user's client times it. */
  idle: number[]
  chatTurns: number[]
}

/** The complaining user's turns, run in the worker. */
async function userTurns (port: number, turns: number): Promise<UserRun> {
  const lived: Array<[string, number]> = []
  const idle: number[] = []
  let refused = 0
  for (let i = 0; i < turns; i++) {
    idle.push((await send(port, '/health')).ms)
    const reply = await send(port, '/v1/chat', { message: QUESTIONS[i % QUESTIONS.length]!, user_id: USER })
    if (reply.status !== 200) { refused++; continue }
    lived.push([reply.body.trace_id!, reply.ms])
    await send(port, '/v1/chat', { message: '/feedback down that was wrong', session_id: reply.body.session_id!, user_id: USER })
  }
  return { lived, refused, idle, chatTurns }
}

async function main (): Promise<void> {
  const scratch = flags.engine === 'pglite' ? undefined : await createScratchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres', 'parley_bench')
  const dataDir = await mkdtemp(join(os.tmpdir(), 'parley-bench-'))
  const server = await startServer(scratch === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: scratch.url })
  try {
    const { port } = server
    // Warm, as a server that has been up a while is.
    for (let i = 0; i < 30; i++) await send(port, '/v1/chat', { message: QUESTIONS[i % QUESTIONS.length]! })

    const load = { running: true }
    let backgroundAnswered = 0
    let backgroundFailed = 0
    const loops = Array.from({ length: flags.connections }, async (_, client) => {
      let sessionId: string | undefined
      for (let i = 0; load.running; i++) {
        const reply = await send(port, '/v1/chat', { message: QUESTIONS[(client + i) % QUESTIONS.length]!, ...(sessionId === undefined ? {} : { session_id: sessionId }) })
        if (reply.status === 200) backgroundAnswered++
        else backgroundFailed++
        sessionId = i % 20 === 19 ? undefined : reply.body.session_id
      }
    })

    // The user, on a thread of its own as a user's browser is on a machine of its own, so that the
    // background clients' work does not delay its reading of its replies: each question in a session
    // of its own, timed as the user lives it, then rated down.
    const user = new Worker(new URL(import.meta.url), { workerData: { port, turns: flags.turns } })
    const [run] = await once(user, 'message') as [UserRun]
    const lived = new Map(run.lived)
    load.running = false
    await Promise.all(loops)
    // The recorder writes on a timer: what the team reads a moment later.
    await new Promise(resolve => setTimeout(resolve, 2500))

    const rows: TurnRow[] = []
    let before: string | null = null
    do {
      const page: { turns: TurnRow[], next_before: string | null } = await consoleGet(port, `/console/api/conversations?user=${USER}&feedback=down&limit=100${before === null ? '' : `&before=${before}`}`)
      rows.push(...page.turns)
      before = page.next_before
    } while (before !== null)
    const seen = new Map(rows.filter(row => row.trace_id !== null).map(row => [row.trace_id!, row.latency_ms]))
    const pairs = [...lived].map(([traceId, ms]) => ({ user: ms, console: seen.get(traceId) ?? null }))
    const shown = pairs.filter(pair => pair.console !== null) as Array<{ user: number, console: number }>
    const within = shown.filter(pair => Math.abs(pair.console - pair.user) <= 0.1 * pair.user).length

    let kept = 0
    for (const traceId of lived.keys()) {
      const trace = await consoleGet<Trace>(port, `/console/api/traces/${traceId}`).catch(() => undefined)
      if (trace !== undefined && trace.let_go === null && trace.spans.length > 0 && trace.logs.length > 0) kept++
    }
    const status = await consoleGet<{ turn_traces: { kept: number, held: number, dropped: Record<string, number> } }>(port, '/status')
    const overview = await consoleGet<{ latency_ms: { p50: number | null, p95: number | null } }>(port, '/console/api/overview?period=hour')

    const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)
    const users = sorted(shown.map(pair => pair.user))
    const consoles = sorted(shown.map(pair => pair.console))
    const everyTurn = sorted([...chatTurns, ...run.chatTurns])
    const idle = sorted(run.idle)
    const f = (value: number | null | undefined): string => value === null || value === undefined ? '–' : value.toFixed(1)
    console.log(`# bench:lived-latency: ${flags.engine}, ${flags.connections} background clients, ${flags.turns} turns of one user rated down`)
    console.log(machineLine())
    console.log('')
    for (const line of formatTable([
      ['measure', 'the client\'s own', 'the console', 'console / client'],
      ['the user\'s turns, p50 ms', f(quantile(users, 0.5)), f(quantile(consoles, 0.5)), (quantile(consoles, 0.5) / quantile(users, 0.5)).toFixed(3)],
      ['the user\'s turns, p95 ms', f(quantile(users, 0.95)), f(quantile(consoles, 0.95)), (quantile(consoles, 0.95) / quantile(users, 0.95)).toFixed(3)],
      ['every turn of the run (overview), p50 ms', f(quantile(everyTurn, 0.5)), f(overview.latency_ms.p50), ((overview.latency_ms.p50 ?? 0) / quantile(everyTurn, 0.5)).toFixed(3)],
      ['every turn of the run (overview), p95 ms', f(quantile(everyTurn, 0.95)), f(overview.latency_ms.p95), ((overview.latency_ms.p95 ?? 0) / quantile(everyTurn, 0.95)).toFixed(3)],
      ['GET /health beside the user\'s turns, p50 ms', f(quantile(idle, 0.5)), '', ''],
      ['GET /health beside the user\'s turns, p95 ms', f(quantile(idle, 0.95)), '', '']
    ])) console.log(line)
    console.log('(GET /health does no work: what the client sees of it is time no server-side clock can see, waiting for a core on this shared machine)')
    console.log('')
    console.log(`the user's turns found by user and "feedback down": ${shown.length} of ${lived.size} (refused: ${run.refused})`)
    console.log(`within 10 % of the user's own figure: ${within} of ${shown.length} (goal: all)`)
    console.log(`rated down with spans and log lines kept: ${kept} of ${lived.size} (goal: all)`)
    console.log(`background: ${backgroundAnswered} answered, ${backgroundFailed} not; turns whose spans and lines were let go under pressure: ${status.turn_traces.held + (status.turn_traces.dropped.pressure ?? 0)}, rows written: ${status.turn_traces.kept}`)
    const met = shown.length === lived.size && within === shown.length && kept === lived.size
    if (!met) console.log('goals NOT met')
  } finally {
    await server.stop()
    await scratch?.drop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (isMainThread) {
  await main()
} else {
  const { port, turns } = workerData as { port: number, turns: number }
  parentPort!.postMessage(await userTurns(port, turns))
  agent.destroy()
}
