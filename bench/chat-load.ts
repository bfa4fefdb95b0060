// What the HTTP benchmarks share (bench/chat.ts, bench/logging.ts, bench/telemetry.ts): the forked
// server, the chat message mix, the sessions it rotates through, one autocannon measurement and the
// machine line, so every benchmark puts the same load on Parley and their figures can be compared.
import { fork, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'

interface Flag {
  default: number
  /** 'seconds': any positive number; 'count': a whole number ≥ 1. */
  kind: 'seconds' | 'count'
  /** For the usage line, e.g. "seconds per round". */
  meaning: string
}

/** The benchmark's numeric flags, each checked; on bad input, says which and how to call it, and exits. */
export function benchFlags<F extends string> (command: string, flags: Record<F, Flag>): Record<F, number> {
  const entries = Object.entries(flags) as Array<[F, Flag]>
  const usage = (problem: string): never => {
    console.error(`${problem}\nUsage: npm run ${command} -- ${entries.map(([name, flag]) => `[--${name} ${flag.meaning}]`).join(' ')}`)
    process.exit(1)
  }
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({ options: Object.fromEntries(entries.map(([name, flag]) => [name, { type: 'string', default: String(flag.default) }])) }).values as Record<string, string | undefined>
  } catch (error) {
    return usage((error as Error).message)
  }
  return Object.fromEntries(entries.map(([name, flag]) => {
    const text = values[name]!
    const value = Number(text)
    if (flag.kind === 'seconds' && !(value > 0)) usage(`--${name} must be a positive number of seconds, not "${text}"`)
    if (flag.kind === 'count' && (!Number.isInteger(value) || value < 1)) usage(`--${name} must be a whole number ≥ 1, not "${text}"`)
    return [name, value]
  })) as Record<F, number>
}

/** The app's environment in every benchmark: production, and caps no benchmark should reach. */
export const BENCH_APP_ENV = {
  NODE_ENV: 'production',
  MAX_ACTIVE_SESSIONS: '10000000',
  MAX_SESSIONS_PER_USER: '100000',
  // Load shedding off: these benchmarks measure cost at full speed (bench:overload measures shedding).
  MAX_TURNS_IN_FLIGHT: '100000',
  MAX_REQUEST_WAIT_MS: '0',
  // As a production deployment sets it; without it a logging server warns at start-up.
  LOG_ID_SECRET: 'parley-bench-pseudonym-key'
}

export const SESSIONS = 100
// Mostly questions answered from the bundled docs, as a help chatbot sees them, plus the commands.
export const MIX = [
  { message: 'how do I view traces?', kind: 'answer' },
  { message: 'how do I import documents from a JSON Lines file?', kind: 'answer' },
  { message: 'how do I add an admin API key?', kind: 'answer' },
  { message: 'how long does an idle session last?', kind: 'answer' },
  { message: 'what is the capital of Mongolia?', kind: 'no_answer' },
  { message: '/help', kind: 'command' },
  { message: '/search traces --k 3', kind: 'command' },
  { message: '/history 3', kind: 'command' }
]

/** One measurement; `requests` counts the completed ones, which the logging benchmark relates to log lines. */
export interface Row {
  target: string
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
  /** The server's main-thread CPU time per completed request, in ms (measureInRounds, on Linux). */
  cpuMsPerRequest?: number
}
export interface Server {
  port: number
  pid: number
  /** Disconnects; the server closes the app, flushes telemetry and logs, and exits. Resolves once it has. */
  stop: () => Promise<void>
  /** Sends a signal and returns at once (the process may well outlive it). */
  signal: (signal: NodeJS.Signals) => void
  /** SIGKILL, for a server that would not exit; resolves once it has. */
  kill: () => Promise<void>
}

export interface ServerOptions {
  /** The app's environment; none starts the hello-world baseline. */
  env?: Record<string, string>
  /** Log as src/server.ts does (setUpProcessLogging: the router worker, stdout and the log files), not to stdout only. */
  processLogging?: boolean
  /** 'ignore' gives the server /dev/null as stdout: its log writes still cost their system calls, but nothing reads them. */
  stdout?: 'inherit' | 'ignore'
  /** Node.js options for the server process, such as a preload (`['--import', url]`); by default this process's. */
  execArgv?: string[]
  /** Variables of the server process itself (OTEL_* for the SDK, which reads process.env, not the app's config); when given, inherited OTEL_* variables are dropped. */
  processEnv?: Record<string, string>
}

/** Forks bench/chat-server; resolves once it listens. stop() returns once it has exited (its logs flushed). */
export async function startServer (options: ServerOptions = {}): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (options.env !== undefined) env.PARLEY_BENCH_ENV = JSON.stringify(options.env)
  if (options.processLogging === true) env.PARLEY_BENCH_PROCESS_LOGGING = '1'
  if (options.processEnv !== undefined) {
    for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name]
    Object.assign(env, options.processEnv)
  }
  const child: ChildProcess = fork(fileURLToPath(new URL('./chat-server.js', import.meta.url)), {
    env,
    execArgv: options.execArgv ?? process.execArgv,
    stdio: ['inherit', options.stdout ?? 'inherit', 'inherit', 'ipc']
  })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port?: number, error?: string }) => message.port !== undefined ? resolve(message.port) : reject(new Error(message.error)))
    child.once('exit', code => reject(new Error(`the server exited with code ${code} before listening`)))
  })
  return {
    port,
    pid: child.pid!,
    stop: async () => { child.disconnect(); await exited },
    signal: signal => { child.kill(signal) },
    kill: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited }
  }
}

async function chat (port: number, body: Record<string, string>): Promise<{ status: number, body: { session_id: string, kind: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as { session_id: string, kind: string } }
}

/** Opens the sessions the run rotates through, and checks each message gets the kind of reply it should. */
export async function prepare (port: number): Promise<string[]> {
  const sessions: string[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const { status, body } = await chat(port, { message: '/help', user_id: `bench-user-${i % 10}` })
    if (status !== 200) throw new Error(`creating a session answered ${status}: ${JSON.stringify(body)}`)
    sessions.push(body.session_id)
  }
  for (const { message, kind } of MIX) {
    const { status, body } = await chat(port, { message, session_id: sessions[0]! })
    if (status !== 200 || body.kind !== kind) console.warn(`  ! "${message}" gave ${status} ${body.kind}, expected 200 ${kind}: the mix is not what it claims`)
  }
  return sessions
}

/** Requests prepare() sends, for benchmarks that count what the server did. */
export const PREPARE_REQUESTS = SESSIONS + MIX.length

export interface MeasureOptions { target: string, port: number, sessions: string[], seconds: number, connections: number }

/** Runs autocannon; each request takes the next session, and each session goes through the whole mix. */
export async function measure ({ target, port, sessions, seconds, connections }: MeasureOptions): Promise<Row> {
  // Consecutive requests use different sessions, so the concurrent turns never share one.
  const bodies = Array.from({ length: sessions.length * MIX.length }, (_, n) =>
    JSON.stringify({ message: MIX[(n + Math.floor(n / sessions.length)) % MIX.length]!.message, session_id: sessions[n % sessions.length] }))
  let next = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path: '/v1/chat', headers: { 'content-type': 'application/json' }, setupRequest: request => ({ ...request, body: bodies[next++ % bodies.length] }) }]
  })
  return { target, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, requests: result.requests.total }
}

/** A server configuration measured against others in the same run. */
export interface Contender {
  name: string
  server?: Server
  sessions?: string[]
  /** Every request it answered, prepare() and the warm-up included: what its logs and telemetry are about. */
  served: number
  rows: Row[]
}

export interface RoundsOptions { rounds: number, duration: number, connections: number, warmUpSeconds: number }

/**
 * Starts the contender's server, opens its sessions and warms it up with a short unrecorded run,
 * so JIT compilation and cold caches do not count.
 */
export async function startContender (contender: Contender, server: ServerOptions, { duration, connections, warmUpSeconds }: RoundsOptions): Promise<void> {
  process.stderr.write(`${contender.name}: starting…\n`)
  contender.server = await startServer(server)
  contender.sessions = await prepare(contender.server.port)
  const row = await measure({ target: contender.name, port: contender.server.port, sessions: contender.sessions, seconds: Math.min(warmUpSeconds, duration), connections })
  contender.served += PREPARE_REQUESTS + row.requests
}

/**
 * Measures every contender once per round. Each takes each place in turn (the order rotates, and
 * runs backwards every other n rounds), so a trend in the machine's load hits them alike.
 */
export async function measureInRounds (contenders: Contender[], { rounds, duration, connections }: RoundsOptions): Promise<void> {
  const n = contenders.length
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % n]!)
    if (Math.floor(round / n) % 2 === 1) order.reverse()
    for (const contender of order) {
      process.stderr.write(`round ${round + 1}/${rounds}, ${contender.name}: measuring for ${duration} s…\n`)
      const cpuBefore = await mainThreadCpuMs(contender.server!.pid)
      const row = await measure({ target: contender.name, port: contender.server!.port, sessions: contender.sessions!, seconds: duration, connections })
      const cpuAfter = await mainThreadCpuMs(contender.server!.pid)
      if (cpuBefore !== undefined && cpuAfter !== undefined && row.requests > 0) row.cpuMsPerRequest = (cpuAfter - cpuBefore) / row.requests
      contender.rows.push(row)
      contender.served += row.requests
    }
  }
}

/**
 * CPU time (user and system) of a process's main thread, in ms, from /proc; undefined elsewhere.
 * Throughput on a shared two-core machine moves with its neighbours; the CPU each request costs the
 * event loop that answers it moves far less, so the benchmarks report both.
 */
export async function mainThreadCpuMs (pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8').catch(() => undefined)
  if (stat === undefined) return undefined
  // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_SECOND
}

// Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node.js supports.
const CLOCK_TICKS_PER_SECOND = 100

/** The machine every figure is recorded with. */
export function machineLine (): string {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node.js ${process.version} on ${os.platform()}/${os.arch()}`
}

// autocannon's latency histogram counts whole milliseconds.
export const ms = (value: number): string => value < 1 ? '<1' : value.toFixed(0)

/** Lines of a table, the first column left-aligned and the others right-aligned, the first row being the header. */
export function formatTable (table: string[][]): string[] {
  const widths = table[0]!.map((_, i) => Math.max(...table.map(line => line[i]!.length)))
  return table.map(line => line.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join('  '))
}

// Figures as the benchmarks print them.
export const median = (numbers: number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
export const count = (value: number): string => Math.round(value).toLocaleString('en-US')
export const mb = (bytes: number): string => (bytes / 1e6).toFixed(1)
export const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`
