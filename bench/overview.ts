/**
 * What the console's overview costs as the history grows: GET /console/api/overview's figures
 * (src/console/console-overview.ts) for the last hour, day and week, on an empty database and on
 * one holding N stored messages (bench/stored-history.ts: ended sessions, ratings and turn traces
 * over the last week), side by side with the scan of the period it replaced (scanFigures below,
 * the queries of build 04eb079), in one run.
 *
 * For each period: the first call, which stores every closed bucket of the period (its stored
 * buckets deleted before it); calls again at the same time, which only read (a console refreshed);
 * calls each 5 minutes and a second after the one before, so that each stores the bucket that
 * closed meanwhile; and the scan, which costs the same every call.
 * Also the week's p50 and p95 from both, the histograms' against percentile_cont's.
 *
 *   npm run bench:overview -- [--engine pglite|postgres|both] [--messages 1000000]
 *     [--pglite-messages 200000] [--calls 10]
 *   BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres): the server whose scratch
 *   databases hold the rows.
 */
import type { Database, Queryable } from '../src/db/database.js'
import { migrate } from '../src/db/migrations.js'
import { openDatabase } from '../src/db/open-database.js'
import { overview, type OverviewPeriod } from '../src/console/console-overview.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS } from '../src/turn-traces/turn-trace.js'
import { benchFlags } from './bench-flags.js'
import { count, formatTable, machineLine, median } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'
import { fillHistory } from './stored-history.js'

const flags = benchFlags('bench:overview', {
  engine: { kind: 'choice', choices: ['pglite', 'postgres', 'both'], default: 'both', meaning: 'the storage engine(s)' },
  messages: { kind: 'count', default: 1_000_000, meaning: 'stored messages on PostgreSQL' },
  'pglite-messages': { kind: 'count', default: 200_000, meaning: 'stored messages on PGlite (its fill is slow)' },
  calls: { kind: 'count', default: 10, meaning: 'later calls per period' },
  'scan-calls': { kind: 'count', default: 3, meaning: 'calls of the scan per period' }
})
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'
const PERIODS: Record<OverviewPeriod, { ms: number, bucketMs: number, bucket: string }> = {
  hour: { ms: 3_600_000, bucketMs: 300_000, bucket: '5 minutes' },
  day: { ms: 86_400_000, bucketMs: 3_600_000, bucket: '1 hour' },
  week: { ms: 7 * 86_400_000, bucketMs: 6 * 3_600_000, bucket: '6 hours' }
}
const LATER_MS = 5 * 60_000 + 1000

/** The overview's reads before the stored buckets: every turn, trace and rating of the period, each call. */
async function scanFigures (db: Queryable, period: OverviewPeriod, now: Date): Promise<{ p50: number | null, p95: number | null }> {
  const { ms, bucketMs, bucket } = PERIODS[period]
  const to = new Date(Math.ceil(now.getTime() / bucketMs) * bucketMs)
  const range = [new Date(to.getTime() - ms), to]
  const counts = `count(*)::int AS turns, (count(*) FILTER (WHERE b.kind = 'answer'))::int AS answered,
    (count(*) FILTER (WHERE b.kind = 'no_answer'))::int AS no_answer`
  const p = (fraction: number) => `percentile_cont(${fraction}) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS})`
  const inRange = `FROM messages b ${JOIN_TURN_TRACE} WHERE b.role = 'bot' AND b.created_at >= $1 AND b.created_at < $2`
  const [totals] = await Promise.all([
    db.query<{ p50: number | null, p95: number | null }>(`SELECT ${counts}, ${p(0.5)} AS p50, ${p(0.95)} AS p95 ${inRange}`, range),
    db.query(`SELECT date_bin($3::interval, b.created_at, $1) AS at, ${counts}, ${p(0.95)} AS p95 ${inRange} GROUP BY 1`,
      [...range, bucket]),
    db.query(`SELECT date_bin($3::interval, started_at, $1) AS at, count(*)::int AS requests,
       (count(*) FILTER (WHERE status = 'error'))::int AS errors
     FROM turn_traces WHERE started_at >= $1 AND started_at < $2 GROUP BY 1`, [...range, bucket]),
    db.query('SELECT rating, count(*)::int AS n FROM feedback WHERE created_at >= $1 AND created_at < $2 GROUP BY rating', range)
  ])
  return totals.rows[0] ?? { p50: null, p95: null }
}

const forgetStored = async (db: Queryable): Promise<void> => {
  await db.query('DELETE FROM transcript_rollup')
  await db.query('DELETE FROM turn_trace_rollup')
}

async function timed<T> (fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now()
  const result = await fn()
  return [performance.now() - started, result]
}

interface PeriodFigures {
  scan: number[]
  first: number
  again: number[]
  later: number[]
  /** The week's percentiles: the scan's exact ones, the histograms'. */
  percentiles?: { scan: { p50: number | null, p95: number | null }, stored: { p50: number | null, p95: number | null } }
}

async function measure (db: Database): Promise<Record<OverviewPeriod, PeriodFigures>> {
  const figures = {} as Record<OverviewPeriod, PeriodFigures>
  for (const period of ['hour', 'day', 'week'] as const) {
    const now = new Date()
    const scan: number[] = []
    let exact = { p50: null as number | null, p95: null as number | null }
    for (let i = 0; i < flags['scan-calls']; i++) [scan[i], exact] = await timed(() => scanFigures(db, period, now))
    await forgetStored(db)
    const [first, stored] = await timed(() => overview(db, period, now))
    const again: number[] = []
    for (let i = 0; i < flags.calls; i++) again.push((await timed(() => overview(db, period, now)))[0])
    const later: number[] = []
    for (let i = 1; i <= flags.calls; i++) {
      later.push((await timed(() => overview(db, period, new Date(now.getTime() + i * LATER_MS))))[0])
    }
    figures[period] = { scan, first, again, later, percentiles: { scan: exact, stored: stored.latency_ms } }
  }
  return figures
}

const f = (value: number): string => value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : count(value)
const range = (values: number[]): string =>
  `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`

async function run (engine: string, open: () => Promise<{ db: Database, close: () => Promise<void> }>, messages: number): Promise<void> {
  const results: Array<{ label: string, figures: Record<OverviewPeriod, PeriodFigures> }> = []
  for (const filled of [false, true]) {
    const { db, close } = await open()
    try {
      let label = 'empty'
      if (filled) {
        process.stderr.write(`${engine}: writing ${count(messages)} stored messages…\n`)
        const [seconds, stored] = await timed(async () => {
          const stored = await fillHistory(db, messages)
          // Every history turn took 5.5 ms: spread from 20 to 400 ms, so that the percentiles say something.
          await db.query('UPDATE turn_traces SET duration_ms = exp(3 + 3 * (hashtext(trace_id) & 65535) / 65535.0)')
          // Without it the update's dead rows would burden the joins of both the scan and the first call.
          await db.query('VACUUM ANALYZE turn_traces')
          return stored
        })
        label = `${count(stored.messages)} messages`
        process.stderr.write(`${engine}: stored in ${(seconds / 1000).toFixed(0)} s\n`)
      } else {
        await migrate(db)
      }
      results.push({ label, figures: await measure(db) })
    } finally {
      await close()
    }
  }
  console.log(`\n${engine}, ms: the scan (median of ${flags['scan-calls']}); the stored buckets: the first call, calls ` +
    `again at once and calls 5 minutes apart (median of ${flags.calls}, min–max)`)
  const table = [['period', 'database', 'scan', 'first call', 'again', '5 min later']]
  for (const period of ['hour', 'day', 'week'] as const) {
    for (const { label, figures } of results) {
      const { scan, first, again, later } = figures[period]
      table.push([period, label, f(median(scan)), f(first), range(again), range(later)])
    }
  }
  for (const line of formatTable(table)) console.log(line)
  const week = results.at(-1)!.figures.week.percentiles!
  const show = (value: number | null) => value === null ? '–' : value.toFixed(2)
  console.log(`week with ${results.at(-1)!.label}: p50 ${show(week.stored.p50)} (scan: ${show(week.scan.p50)}), ` +
    `p95 ${show(week.stored.p95)} (scan: ${show(week.scan.p95)}) ms`)
}

console.log(`Parley bench:overview. Machine: ${machineLine()}`)
if (flags.engine !== 'postgres') {
  await run('PGlite (in memory)', async () => {
    const db = await openDatabase({ databaseUrl: '', dataDir: 'memory://', poolSize: 1 })
    return { db, close: () => db.close() }
  }, flags['pglite-messages'])
}
if (flags.engine !== 'pglite') {
  let version = ''
  await run('PostgreSQL', async () => {
    const scratch = await createScratchDatabase(serverUrl, 'parley_bench_overview')
    version = scratch.version
    const db = await openDatabase({ databaseUrl: scratch.url, dataDir: 'unused', poolSize: 4 })
    return { db, close: async () => { await db.close(); await scratch.drop() } }
  }, flags.messages)
  console.log(`(PostgreSQL ${version})`)
}
