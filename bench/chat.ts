/**
 * Chat benchmark: POST /v1/chat throughput and latency over real HTTP with autocannon, on the
 * embedded PGlite and on server PostgreSQL, next to a hello-world Fastify server with the same
 * requests, measured in the same run so the ratio holds on any machine.
 *
 *   npm run bench                                   # 10 s per target, 10 connections
 *   npm run bench -- --duration 5 --connections 20
 *   BENCH_DATABASE_URL=postgres://user@host/db npm run bench   # default postgres://root@127.0.0.1:5432/test
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { createScratchDatabase } from './server-database.js'

const SESSIONS = 100
// Mostly questions answered from the bundled docs, as a help chatbot sees them, plus the commands.
const MIX = [
  { message: 'how do I view traces?', kind: 'answer' },
  { message: 'how do I import documents from a JSON Lines file?', kind: 'answer' },
  { message: 'how do I add an admin API key?', kind: 'answer' },
  { message: 'how long does an idle session last?', kind: 'answer' },
  { message: 'what is the capital of Mongolia?', kind: 'no_answer' },
  { message: '/help', kind: 'command' },
  { message: '/search traces --k 3', kind: 'command' },
  { message: '/history 3', kind: 'command' }
]

interface Row { target: string, rps: number, p50: number, p99: number, non2xx: number, errors: number }
interface Server { port: number, stop: () => Promise<void> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } } })
const duration = Number(values.duration)
const connections = Number(values.connections)
if (!(duration > 0) || !Number.isInteger(connections) || connections < 1) {
  console.error('Usage: npm run bench -- [--duration seconds] [--connections n]')
  process.exit(1)
}

/** Forks bench/chat-server with the app's environment (none: the hello-world baseline). */
async function startServer (env?: Record<string, string>): Promise<Server> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./chat-server.js', import.meta.url)), {
    env: env === undefined ? process.env : { ...process.env, PARLEY_BENCH_ENV: JSON.stringify(env) }
  })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port?: number, error?: string }) => message.port !== undefined ? resolve(message.port) : reject(new Error(message.error)))
    child.once('exit', code => reject(new Error(`the server exited with code ${code} before listening`)))
  })
  return { port, stop: async () => { child.disconnect(); await exited } }
}

async function chat (port: number, body: Record<string, string>): Promise<{ status: number, body: { session_id: string, kind: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as { session_id: string, kind: string } }
}

/** Opens the sessions the run rotates through, and checks each message gets the kind of reply it should. */
async function prepare (port: number): Promise<string[]> {
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

/** Runs autocannon; each request takes the next session, and each session goes through the whole mix. */
async function measure (target: string, port: number, sessions: string[], seconds: number): Promise<Row> {
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
  return { target, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

async function run (target: string, env: Record<string, string> | undefined): Promise<Row> {
  process.stderr.write(`${target}: starting…\n`)
  const server = await startServer(env)
  try {
    const sessions = env === undefined ? Array.from({ length: SESSIONS }, () => randomUUID()) : await prepare(server.port)
    // A short unrecorded run first, so JIT compilation and cold caches do not count.
    await measure(target, server.port, sessions, Math.min(2, duration))
    process.stderr.write(`${target}: measuring for ${duration} s…\n`)
    return await measure(target, server.port, sessions, duration)
  } finally {
    await server.stop()
  }
}

const appEnv = { NODE_ENV: 'production', LOG_LEVEL: 'silent', MAX_ACTIVE_SESSIONS: '10000000', MAX_SESSIONS_PER_USER: '100000' }
const rows: Row[] = []
const notes: string[] = []
const cpus = os.cpus()
const machine = `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node.js ${process.version} on ${os.platform()}/${os.arch()}`

rows.push(await run('hello-world', undefined))

const dataDir = await mkdtemp(join(os.tmpdir(), 'parley-bench-'))
try {
  rows.push(await run('parley on PGlite', { ...appEnv, DATA_DIR: dataDir }))
} finally {
  await rm(dataDir, { recursive: true, force: true })
}

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'
const database = await createScratchDatabase(serverUrl, 'parley_bench').catch((error: Error) => {
  notes.push(`Server PostgreSQL skipped: ${new URL(serverUrl).host} is not usable (${error.message}); set BENCH_DATABASE_URL.`)
  return undefined
})
if (database !== undefined) {
  try {
    rows.push(await run(`parley on PostgreSQL ${database.version}`, { ...appEnv, DATABASE_URL: database.url }))
  } finally {
    await database.drop()
  }
}

const baseline = rows[0]!.rps
// autocannon's latency histogram counts whole milliseconds.
const ms = (value: number) => value < 1 ? '<1' : value.toFixed(0)
const table = [
  ['target', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs hello-world'],
  ...rows.map(r => [r.target, r.rps.toFixed(0), ms(r.p50), ms(r.p99), String(r.non2xx), String(r.errors), `${(r.rps / baseline * 100).toFixed(1)} %`])
]
const widths = table[0]!.map((_, i) => Math.max(...table.map(line => line[i]!.length)))
console.log(`\nPOST /v1/chat, ${connections} connections, ${duration} s per target, ${SESSIONS} sessions rotated over ${MIX.length} messages`)
console.log(`Machine: ${machine}\n`)
for (const line of table) console.log(line.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join('  '))
for (const note of notes) console.log(`\n${note}`)

const failed = rows.filter(r => r.non2xx + r.errors > 0)
if (failed.length > 0) {
  console.log(`\n!!! REQUESTS FAILED on ${failed.map(r => r.target).join(', ')}: these figures are not a valid measurement !!!`)
  process.exitCode = 1
}
