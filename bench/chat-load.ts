// What the HTTP benchmarks share (bench/chat.ts, bench/logging.ts, bench/telemetry.ts): the forked
// server, the chat message mix, the sessions it rotates through, one autocannon measurement and the
// machine line, so every benchmark puts the same load on Parley and their figures can be compared.
import { fork, type ChildProcess } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

/** The app's environment in every benchmark: production, and caps no benchmark should reach. */
export const BENCH_APP_ENV = {
  NODE_ENV: 'production',
  MAX_ACTIVE_SESSIONS: '10000000',
  MAX_SESSIONS_PER_USER: '100000',
  // The load generator is one address opening thousands of sessions.
  NEW_SESSIONS_PER_MINUTE: '0',
  TURNS_PER_SESSION_PER_MINUTE: '0',
  TURNS_PER_CLIENT_PER_MINUTE: '0',
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
  /** The same for all its threads: the log router's worker, the garbage collector's and the SDK's too. */
  processCpuMsPerRequest?: number
  /** The same for the log router's worker thread alone. */
  logWorkerCpuMsPerRequest?: number
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
  /** Starts the server's main-thread CPU profiler (bench/profile.ts); resolves once it runs. */
  startProfile: () => Promise<void>
  /** Stops it and writes the profile (.cpuprofile JSON) to path; resolves once written. */
  stopProfile: (path: string) => Promise<void>
  /**
   * Starts timing the server's event loop; stop() resolves to its longest stall meanwhile, in ms
   * (NaN from a build whose server cannot tell).
   */
  watchStalls: () => Promise<{ stop: () => Promise<number> }>
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
  /** The server script: another build's dist/bench/chat-server.js (a baseline); by default this build's. */
  script?: string
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
  const child: ChildProcess = fork(options.script ?? fileURLToPath(new URL('./chat-server.js', import.meta.url)), {
    env,
    execArgv: options.execArgv ?? process.execArgv,
    stdio: ['inherit', options.stdout ?? 'inherit', 'inherit', 'ipc']
  })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port?: number, error?: string }) => message.port !== undefined ? resolve(message.port) : reject(new Error(message.error)))
    child.once('exit', code => reject(new Error(`the server exited with code ${code} before listening`)))
  })
  const profile = async (message: { profile: 'start' | 'stop', path?: string }): Promise<void> => {
    const answered = new Promise<void>((resolve, reject) => {
      const onMessage = (answer: { profiled?: string, error?: string }) => {
        if (answer.profiled === undefined && answer.error === undefined) return
        child.off('message', onMessage)
        if (answer.error === undefined) resolve()
        else reject(new Error(answer.error))
      }
      child.on('message', onMessage)
    })
    child.send(message)
    await answered
  }
  // An older build's server does not answer: its stalls are not known.
  const stalls = async (message: 'start' | 'stop'): Promise<number> => await new Promise(resolve => {
    const onMessage = (answer: { stalls?: number }) => {
      if (answer.stalls === undefined) return
      finish(answer.stalls)
    }
    const timer = setTimeout(() => finish(NaN), 2000)
    const finish = (ms: number): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(ms)
    }
    child.on('message', onMessage)
    child.send({ stalls: message })
  })
  return {
    port,
    pid: child.pid!,
    watchStalls: async () => {
      await stalls('start')
      return { stop: async () => await stalls('stop') }
    },
    startProfile: async () => await profile({ profile: 'start' }),
    stopProfile: async path => await profile({ profile: 'stop', path }),
    stop: async () => { child.disconnect(); await exited },
    signal: signal => { child.kill(signal) },
    kill: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited }
  }
}

// Sessions opened at a time: enough to keep the server busy, few enough never to be refused.
const PREPARE_CONCURRENCY = 4

/** POSTs `body` as JSON to the server on `port`, with an API key if given: the status and the answer's JSON. */
export async function postJson<T = Record<string, unknown>> (port: number, path: string, body: unknown, key?: string): Promise<{ status: number, body: T }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body)
  })
  return { status: response.status, body: await response.json() as T }
}

const chat = async (port: number, body: Record<string, string>): Promise<{ status: number, body: { session_id: string, kind: string } }> =>
  await postJson(port, '/v1/chat', body)

/**
 * Opens the sessions the run rotates through (SESSIONS unless told; several at a time, so a few
 * thousand take seconds), and checks each message gets the kind of reply it should.
 */
export async function prepare (port: number, count = SESSIONS): Promise<string[]> {
  const sessions: string[] = new Array(count)
  let next = 0
  const opener = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const { status, body } = await chat(port, { message: '/help', user_id: `bench-user-${i % 10}` })
      if (status !== 200) throw new Error(`creating a session answered ${status}: ${JSON.stringify(body)}`)
      sessions[i] = body.session_id
    }
  }
  await Promise.all(Array.from({ length: Math.min(PREPARE_CONCURRENCY, count) }, opener))
  for (const { message, kind } of MIX) {
    const { status, body } = await chat(port, { message, session_id: sessions[0]! })
    if (status !== 200 || body.kind !== kind) console.warn(`  ! "${message}" gave ${status} ${body.kind}, expected 200 ${kind}: the mix is not what it claims`)
  }
  return sessions
}

/** Requests prepare() sends (with the default count), for benchmarks that count what the server did. */
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
 * Visits every item once per round. Each takes each place in turn (the order rotates, and runs
 * backwards every other n rounds), so a trend in the machine's load hits them alike.
 */
export async function inRotatingRounds<T> (items: T[], rounds: number, visit: (item: T, round: number) => Promise<void>): Promise<void> {
  const n = items.length
  for (let round = 0; round < rounds; round++) {
    const order = items.map((_, i) => items[(i + round) % n]!)
    if (Math.floor(round / n) % 2 === 1) order.reverse()
    for (const item of order) await visit(item, round)
  }
}

/** Measures every contender once per round, in rotating order (inRotatingRounds). */
export async function measureInRounds (contenders: Contender[], { rounds, duration, connections }: RoundsOptions): Promise<void> {
  await inRotatingRounds(contenders, rounds, async (contender, round) => {
    process.stderr.write(`round ${round + 1}/${rounds}, ${contender.name}: measuring for ${duration} s…\n`)
    const pid = contender.server!.pid
    const cpuNow = async () => [await mainThreadCpuMs(pid), await processCpuMs(pid), await logWorkerCpuMs(pid)]
    const before = await cpuNow()
    const row = await measure({ target: contender.name, port: contender.server!.port, sessions: contender.sessions!, seconds: duration, connections })
    const after = await cpuNow()
    const perRequest = (i: number): number | undefined =>
      before[i] === undefined || after[i] === undefined || row.requests === 0 ? undefined : (after[i]! - before[i]!) / row.requests
    row.cpuMsPerRequest = perRequest(0)
    row.processCpuMsPerRequest = perRequest(1)
    row.logWorkerCpuMsPerRequest = perRequest(2)
    contender.rows.push(row)
    contender.served += row.requests
  })
}

/**
 * CPU time (user and system) of a process's main thread, in ms, from /proc; undefined elsewhere.
 * Throughput on a shared two-core machine moves with its neighbours; the CPU each request costs the
 * event loop that answers it moves far less, so the benchmarks report both.
 */
export async function mainThreadCpuMs (pid: number): Promise<number | undefined> {
  return await cpuMsOf(`/proc/${pid}/task/${pid}/stat`)
}

/** The same for the whole process, every thread (the log router's worker among them). */
export async function processCpuMs (pid: number): Promise<number | undefined> {
  return await cpuMsOf(`/proc/${pid}/stat`)
}

/**
 * The same for the log router's worker thread: pino names a transport's worker by its target, the
 * path of log-router.js, and Linux keeps the first 15 characters as the thread's name.
 */
export async function logWorkerCpuMs (pid: number): Promise<number | undefined> {
  const threads = await readdir(`/proc/${pid}/task`).catch(() => undefined)
  if (threads === undefined) return undefined
  let total: number | undefined
  for (const thread of threads) {
    const name = await readFile(`/proc/${pid}/task/${thread}/comm`, 'utf8').catch(() => '')
    if (!name.startsWith('/')) continue
    total = (total ?? 0) + (await cpuMsOf(`/proc/${pid}/task/${thread}/stat`) ?? 0)
  }
  return total
}

async function cpuMsOf (statFile: string): Promise<number | undefined> {
  const stat = await readFile(statFile, 'utf8').catch(() => undefined)
  if (stat === undefined) return undefined
  // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_SECOND
}

// Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node.js supports.
const CLOCK_TICKS_PER_SECOND = 100

const statusKb = (status: string, field: string): number | undefined => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match === null ? undefined : Number(match[1]) * 1024
}

/**
 * Watches a process's peak RSS over a span, in bytes; stop() ends the watch and returns the peak.
 * The kernel's own high-water mark (VmHWM) is exact, once reset at the start (writing 5 to
 * /proc/PID/clear_refs, allowed for our own children); where that is not allowed, VmRSS sampled
 * every 50 ms. Undefined off Linux.
 */
export async function watchPeakRss (pid: number): Promise<{ stop: () => Promise<number | undefined> }> {
  const read = async (): Promise<string> => await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const reset = await writeFile(`/proc/${pid}/clear_refs`, '5').then(() => true, () => false)
  let sampled = statusKb(await read(), 'VmRSS')
  const sampler = reset
    ? undefined
    : setInterval(() => {
      read().then(status => {
        const rss = statusKb(status, 'VmRSS')
        if (rss !== undefined) sampled = Math.max(sampled ?? 0, rss)
      }, () => {})
    }, 50)
  return {
    stop: async () => {
      clearInterval(sampler)
      const status = await read()
      const last = statusKb(status, reset ? 'VmHWM' : 'VmRSS')
      return last === undefined ? sampled : Math.max(sampled ?? 0, last)
    }
  }
}

/** Every process's CPU time so far (user and system, all threads), parent and command line, from /proc. */
async function processTimes (): Promise<Map<number, { ppid: number, ms: number, command: string }>> {
  const processes = new Map<number, { ppid: number, ms: number, command: string }>()
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue
    const [stat, command] = await Promise.all([readFile(`/proc/${entry}/stat`, 'utf8'), readFile(`/proc/${entry}/cmdline`, 'utf8')]).catch(() => [])
    if (stat === undefined || command === undefined) continue
    // After the command name in parentheses: ppid is the 2nd field, utime and stime the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
    processes.set(Number(entry), { ppid: fields[1]!, ms: (fields[11]! + fields[12]!) * 1000 / CLOCK_TICKS_PER_SECOND, command })
  }
  return processes
}

// Often enough to see most short-lived processes (a test file's, a pgbench run's connections),
// seldom enough to cost this process little.
const CPU_SAMPLE_MS = 500

/**
 * Watches the CPU the rest of the machine uses over a span: every process but this one, its
 * descendants (the server and its threads, pgbench), the PostgreSQL backends of the given databases
 * (and, when there are some, PostgreSQL's background processes) and the kernel's threads, sampled
 * every half second (a process that lives shorter may be missed); stop()
 * returns it as a share of one core. A benchmark on a machine others use too means little when
 * this is large, and the report says so. Undefined off Linux. databaseCpu(), once stopped: what the
 * PostgreSQL processes counted as ours used, as a share of one core (0 with no databases).
 */
export async function watchCpuElsewhere (databases: readonly string[] = []): Promise<{
  stop: () => Promise<number | undefined>
  databaseCpu: () => number | undefined
}> {
  const started = performance.now()
  let stoppedAt = started
  // Per process: its CPU time when first seen (0 if it started during the span), when last seen, whether it is ours, and PostgreSQL's.
  const seen = new Map<number, { base: number, last: number, ours: boolean, database: boolean }>()
  let samples = 0
  const sample = async (): Promise<void> => {
    const processes = await processTimes()
    const ours = new Set([process.pid])
    const database = new Set<number>()
    for (let grown = true; grown;) {
      grown = false
      for (const [pid, { ppid }] of processes) if (!ours.has(pid) && ours.has(ppid)) { ours.add(pid); grown = true }
    }
    for (const [pid, { ppid, command }] of processes) {
      // PostgreSQL names each backend's database in its process title ("postgres: root db 127.0.0.1(…) idle");
      // its background processes (WAL writer, checkpointer…) mostly work for whoever writes, us while we use it.
      const postgres = command.startsWith('postgres: ') && (databases.some(name => command.includes(` ${name} `)) || (databases.length > 0 && !/ \d+\.\d+\.\d+\.\d+\(\d+\)/.test(command)))
      if (postgres) database.add(pid)
      // Kernel threads (children of kthreadd, pid 2) move our packets and flush our writes.
      if (postgres || ppid === 2 || pid === 2) ours.add(pid)
    }
    for (const [pid, { ms }] of processes) {
      const known = seen.get(pid)
      if (known === undefined) seen.set(pid, { base: samples === 0 ? ms : 0, last: ms, ours: ours.has(pid), database: database.has(pid) })
      else seen.set(pid, { base: known.base, last: ms, ours: known.ours || ours.has(pid), database: known.database || database.has(pid) })
    }
    samples++
  }
  await sample()
  let sampling = Promise.resolve()
  const timer = setInterval(() => { sampling = sampling.then(sample, () => {}) }, CPU_SAMPLE_MS)
  return {
    stop: async () => {
      clearInterval(timer)
      await sampling.then(sample)
      stoppedAt = performance.now()
      if (seen.size === 0) return undefined
      let elsewhereMs = 0
      for (const { base, last, ours } of seen.values()) if (!ours) elsewhereMs += last - base
      return elsewhereMs / (stoppedAt - started)
    },
    databaseCpu: () => {
      if (seen.size === 0) return undefined
      let databaseMs = 0
      for (const { base, last, database } of seen.values()) if (database) databaseMs += last - base
      return databaseMs / (stoppedAt - started)
    }
  }
}

/**
 * Connections dropped so far because a listening socket's accept queue was full (TcpExt
 * ListenOverflows, for the whole network namespace), from /proc; undefined elsewhere. A client
 * whose connection is dropped retries it after 1 s, then 2 s more…: seconds of latency the server
 * never sees.
 */
export async function listenOverflows (): Promise<number | undefined> {
  const lines = (await readFile('/proc/net/netstat', 'utf8').catch(() => '')).split('\n').filter(line => line.startsWith('TcpExt:'))
  const index = lines[0]?.split(' ').indexOf('ListenOverflows') ?? -1
  return index < 0 ? undefined : Number(lines[1]?.split(' ')[index])
}

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
/** The q-quantile (0..1) of numbers sorted ascending, by the nearest-rank method; NaN when there are none. */
export const quantile = (sorted: number[], q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
export const count = (value: number): string => Math.round(value).toLocaleString('en-US')
export const mb = (bytes: number): string => (bytes / 1e6).toFixed(1)
export const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`
