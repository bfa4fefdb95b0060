/**
 * Chat benchmark: POST /v1/chat throughput and latency over real HTTP with autocannon, on the
 * embedded PGlite and on server PostgreSQL, next to a hello-world Fastify server with the same
 * requests, measured in the same run so the ratio holds on any machine.
 *
 *   npm run bench                                   # 10 s per target, 10 connections
 *   npm run bench -- --duration 5 --connections 20
 *   BENCH_DATABASE_URL=postgres://user@host/db npm run bench   # default postgres://root@127.0.0.1:5432/test
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, formatTable, machineLine, measure, MIX, ms, prepare, SESSIONS, startServer, type Row } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'

const { duration, connections } = benchFlags('bench', {
  duration: { default: 10, kind: 'seconds', meaning: 'seconds' },
  connections: { default: 10, kind: 'count', meaning: 'n' }
})

async function run (target: string, env: Record<string, string> | undefined): Promise<Row> {
  process.stderr.write(`${target}: starting…\n`)
  const server = await startServer({ env })
  try {
    const sessions = env === undefined ? Array.from({ length: SESSIONS }, () => randomUUID()) : await prepare(server.port)
    // A short unrecorded run first, so JIT compilation and cold caches do not count.
    await measure({ target, port: server.port, sessions, seconds: Math.min(2, duration), connections })
    process.stderr.write(`${target}: measuring for ${duration} s…\n`)
    return await measure({ target, port: server.port, sessions, seconds: duration, connections })
  } finally {
    await server.stop()
  }
}

const appEnv = { ...BENCH_APP_ENV, LOG_LEVEL: 'silent' }
const rows: Row[] = []
const notes: string[] = []
const machine = machineLine()

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
const table = [
  ['target', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs hello-world'],
  ...rows.map(r => [r.target, r.rps.toFixed(0), ms(r.p50), ms(r.p99), String(r.non2xx), String(r.errors), `${(r.rps / baseline * 100).toFixed(1)} %`])
]
console.log(`\nPOST /v1/chat, ${connections} connections, ${duration} s per target, ${SESSIONS} sessions rotated over ${MIX.length} messages`)
console.log(`Machine: ${machine}\n`)
for (const line of formatTable(table)) console.log(line)
for (const note of notes) console.log(`\n${note}`)

const failed = rows.filter(r => r.non2xx + r.errors > 0)
if (failed.length > 0) {
  console.log(`\n!!! REQUESTS FAILED on ${failed.map(r => r.target).join(', ')}: these figures are not a valid measurement !!!`)
  process.exitCode = 1
}
