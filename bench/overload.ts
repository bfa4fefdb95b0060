/**
 * Overload benchmark: what load shedding does when more is offered than the server can answer.
 *
 * First the capacity: POST /v1/chat (the `npm run bench` mix, NODE_ENV=production, logging off)
 * closed-loop with 10 connections (on server PostgreSQL, no more than MAX_TURNS_IN_FLIGHT). Then the
 * offered load steps from half the capacity to three times it (evenly spaced requests over up to
 * 200 connections: an open loop), and each step reports what was answered, what was shed (503),
 * the latency of the answered requests only, the server's peak RSS (its /proc status, read every
 * 100 ms) and which limits shed (its /metrics). Goal: at 2× capacity, answered p99 within 2× its
 * value at 0.5× (unloaded), no crash, memory bounded.
 *
 * Turns overlap (and MAX_TURNS_IN_FLIGHT applies) only on server PostgreSQL: PGlite answers a turn
 * without yielding, so its backlog waits in the sockets and is shed by how long it waited
 * (MAX_REQUEST_WAIT_MS). BENCH_DATABASE_URL=postgres://… runs on a scratch database of that
 * server; without it, PGlite.
 *
 *   npm run bench:overload
 *   BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/postgres npm run bench:overload -- --seconds 10
 */
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { BENCH_APP_ENV, benchFlags, formatTable, machineLine, mb, measure, MIX, ms, percent, prepare, startServer } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'
import { loadConfig } from '../src/config.js'

const defaults = loadConfig({})
const { seconds, connections, turns, wait } = benchFlags('bench:overload', {
  seconds: { default: 8, kind: 'seconds', meaning: 'seconds per step' },
  connections: { default: 200, kind: 'count', meaning: 'n (open-loop steps)' },
  turns: { default: defaults.MAX_TURNS_IN_FLIGHT, kind: 'count', meaning: 'MAX_TURNS_IN_FLIGHT' },
  wait: { default: defaults.MAX_REQUEST_WAIT_MS, kind: 'count', meaning: 'MAX_REQUEST_WAIT_MS' }
})
const FACTORS = [0.5, 1, 1.5, 2, 3]
const P99_GOAL = 2

const machine = machineLine()
const databaseUrl = process.env.BENCH_DATABASE_URL ?? ''
const scratch = databaseUrl === '' ? undefined : await createScratchDatabase(databaseUrl, 'parley_bench')
const engine = scratch === undefined ? 'PGlite' : `PostgreSQL ${scratch.version}`
const env = { ...BENCH_APP_ENV, LOG_LEVEL: 'silent', LOG_DIR: '', MAX_TURNS_IN_FLIGHT: String(turns), MAX_REQUEST_WAIT_MS: String(wait), ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }) }
const server = await startServer({ env })

async function rssBytes (): Promise<number> {
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8').catch(() => '')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024
}

const quantile = (sorted: number[], q: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!

interface Step { factor: number, offered: number, answered: number, shed: number, other: number, p50: number, p99: number, shedP99: number, peakRss: number, reasons: string }

/** chatbot_shed_requests_total by reason, from the server's own /metrics. */
async function shedByReason (): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
  return new Map([...text.matchAll(/^chatbot_shed_requests_total\{[^}]*reason="([a-z_]+)"[^}]*\} (\d+)/gm)].map(([, reason, count]) => [reason!, Number(count)]))
}

/** Which limits shed a step's requests, largest first: "request_wait 61 %, turns_in_flight 39 %". */
function reasonShares (before: Map<string, number>, after: Map<string, number>): string {
  const counts = [...after].map(([reason, count]) => [reason, count - (before.get(reason) ?? 0)] as const).filter(([, count]) => count > 0)
  const total = counts.reduce((sum, [, count]) => sum + count, 0)
  return counts.sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} ${Math.round(100 * count / total)} %`).join(', ') || '-'
}

/**
 * Offers `rate` requests a second, evenly spaced (open loop: a request is sent on time whether or
 * not earlier ones were answered, as independent users would), over at most `connections` sockets.
 * Latency counts from when the request was due, so time waiting for a socket counts too.
 */
async function offer (rate: number, bodies: string[]): Promise<Map<number, number[]>> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const latencies = new Map<number, number[]>()
  const record = (status: number, due: number): void => {
    let list = latencies.get(status)
    if (list === undefined) latencies.set(status, list = [])
    list.push(performance.now() - due)
  }
  const started = performance.now()
  const total = Math.round(rate * seconds)
  const pending: Array<Promise<void>> = []
  let sent = 0
  while (sent < total) {
    const dueNow = Math.min(total, Math.floor((performance.now() - started) * rate / 1000) + 1)
    for (; sent < dueNow; sent++) {
      const due = started + sent * 1000 / rate
      const body = bodies[sent % bodies.length]!
      pending.push(new Promise<void>(resolve => {
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/chat', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, response => {
          response.resume().on('end', () => { record(response.statusCode ?? 0, due); resolve() })
        })
        req.on('error', () => { record(0, due); resolve() })
        req.end(body)
      }))
    }
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  await Promise.all(pending)
  agent.destroy()
  return latencies
}

async function step (factor: number, capacity: number, sessions: string[]): Promise<Step> {
  const offered = Math.round(capacity * factor)
  const bodies = sessions.flatMap(session => MIX.map(({ message }) => JSON.stringify({ message, session_id: session })))
  let peakRss = 0
  const watch = setInterval(() => { rssBytes().then(rss => { peakRss = Math.max(peakRss, rss) }, () => {}) }, 100)
  const shedBefore = await shedByReason()
  const started = performance.now()
  const latencies = await offer(offered, bodies)
  const elapsed = (performance.now() - started) / 1000
  clearInterval(watch)
  const answered = (latencies.get(200) ?? []).sort((a, b) => a - b)
  const shed = (latencies.get(503) ?? []).sort((a, b) => a - b)
  const total = [...latencies.values()].reduce((sum, list) => sum + list.length, 0)
  return {
    factor,
    offered,
    answered: answered.length / elapsed,
    shed: total === 0 ? 0 : shed.length / total,
    other: total - answered.length - shed.length,
    p50: quantile(answered, 0.5),
    p99: quantile(answered, 0.99),
    shedP99: quantile(shed, 0.99),
    peakRss,
    reasons: reasonShares(shedBefore, await shedByReason())
  }
}

try {
  const sessions = await prepare(server.port)
  // On server PostgreSQL no more connections than turns may be in flight, so the closed loop
  // measures answers, not sheds; PGlite's turns never overlap, so the bound does not apply to it.
  const closedConnections = scratch === undefined ? 10 : Math.min(10, turns)
  process.stderr.write(`capacity: closed loop, ${closedConnections} connections, ${seconds} s…\n`)
  await measure({ target: 'warm-up', port: server.port, sessions, seconds: Math.min(2, seconds), connections: closedConnections })
  const closed = await measure({ target: 'capacity', port: server.port, sessions, seconds, connections: closedConnections })
  const capacity = closed.rps * (1 - closed.non2xx / closed.requests)
  const steps: Step[] = []
  for (const factor of FACTORS) {
    process.stderr.write(`offered ${factor}× capacity (${Math.round(capacity * factor)} req/s) over up to ${connections} connections, ${seconds} s…\n`)
    steps.push(await step(factor, capacity, sessions))
  }
  const alive = await fetch(`http://127.0.0.1:${server.port}/health`).then(response => response.status === 200, () => false)

  console.log(`\nParley bench:overload: ${machine}`)
  console.log(`${engine}, MAX_TURNS_IN_FLIGHT=${turns}, MAX_REQUEST_WAIT_MS=${wait}; capacity ${Math.round(capacity)} answered/s closed-loop at ${closedConnections} connections\n`)
  const table = [['offered', 'req/s offered', 'answered/s', 'shed (503)', 'other/errors', 'answered p50 ms', 'answered p99 ms', '503 p99 ms', 'peak RSS MB', 'shed by']]
  for (const s of steps) table.push([`${s.factor}×`, String(s.offered), s.answered.toFixed(0), percent(s.shed), String(s.other), ms(s.p50), ms(s.p99), Number.isNaN(s.shedP99) ? '-' : ms(s.shedP99), mb(s.peakRss), s.reasons])
  for (const line of formatTable(table)) console.log(line)
  const unloaded = steps.find(s => s.factor === 0.5)!
  const doubled = steps.find(s => s.factor === 2)!
  const ratio = doubled.p99 / unloaded.p99
  console.log(`\nanswered p99 at 2× capacity / at 0.5×: ${ratio.toFixed(2)}× (goal ≤ ${P99_GOAL}×: ${ratio <= P99_GOAL ? 'met' : 'NOT met'}); server alive after the run: ${alive ? 'yes' : 'NO'}`)
} finally {
  await server.stop()
  await scratch?.drop()
}
