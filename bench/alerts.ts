/**
 * What an alert evaluation's quality measures cost as the traffic grows: the transcript filled
 * with an hour of bot turns (415,000 by default, the figure), then evaluations every 15 s
 * with 15 s of new turns between them, as a busy service gives, then a new watch's first, as after
 * a restart. This build's QualityWatch against another build's (`--baseline <dist>`) on the same
 * rows, in one run, on embedded PGlite (in memory: the statement runs on the main thread) and,
 * with `--database-url`, server PostgreSQL.
 *
 *   npm run bench:alerts -- --baseline ../old/dist [--rows 415000] [--database-url postgres://…]
 *   npm run bench:alerts -- --smoke      # 20,000 rows, as CI runs it
 */
import os from 'node:os'
import { resolve } from 'node:path'
import { QualityWatch } from '../src/alerts/quality-measures.js'
import { DEFAULT_RULES, resolveRules } from '../src/alerts/alert-rules.js'
import type { Database } from '../src/db/database.js'
import { openDatabase } from '../src/db/open-database.js'
import { benchFlags } from './bench-flags.js'
import { createScratchDatabase } from './server-database.js'

const flags = benchFlags('bench:alerts', {
  smoke: { kind: 'switch', meaning: '20,000 rows and 4 evaluations, as CI runs it' },
  rows: { kind: 'count', default: 0, meaning: 'bot rows in the hour (415,000; 20,000 with --smoke)' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder' },
  'database-url': { kind: 'text', default: '', meaning: 'postgres://… (also server PostgreSQL)' }
})
const { smoke } = flags
const rows = flags.rows > 0 ? flags.rows : smoke ? 20_000 : 415_000
const evaluations = smoke ? 4 : 12
const INTERVAL_MS = 15_000
const HOUR_MS = 3_600_000

type Watch = { refresh: (db: Database, now: number) => Promise<void> }
type WatchClass = new (rules: ReturnType<typeof resolveRules>) => Watch

const rules = resolveRules({ rules: {} }, 'bench', DEFAULT_RULES)

/**
 * `count` bot turns (and their users' messages) stamped evenly over [from, to), one session per
 * 50 turns, a third of them no_answer near one of 20 documents and one in 20 rated down.
 */
let stored = 0
async function fill (db: Database, count: number, from: number, to: number): Promise<void> {
  const first = stored
  stored += count
  await db.query(`
    WITH turns AS (
      SELECT i, to_timestamp(($2::float8 + (i - $4) * ($3::float8 - $2::float8) / $1) / 1000) AS at,
        md5('bench-session-' || (i / 50))::uuid AS session
      FROM generate_series($4::bigint, $4::bigint + $1 - 1) AS i),
    sessions AS (
      INSERT INTO sessions (id, created_at, last_activity_at)
      SELECT DISTINCT ON (session) session, at, at FROM turns ORDER BY session, at
      ON CONFLICT (id) DO NOTHING),
    messages AS (
      INSERT INTO messages (session_id, turn, role, content, kind, sources, created_at)
      SELECT session, i % 50 + 1, role, 'bench', CASE WHEN role = 'user' THEN NULL WHEN i % 3 = 0 THEN 'no_answer' ELSE 'answer' END,
        CASE WHEN role = 'bot' THEN jsonb_build_array(jsonb_build_object('doc_id', 'doc-' || (i % 20), 'title', 'Document ' || (i % 20))) ELSE '[]' END, at
      FROM turns CROSS JOIN (VALUES ('user'), ('bot')) AS r(role))
    INSERT INTO feedback (session_id, turn, rating, created_at)
    SELECT session, i % 50 + 1, 'down', at FROM turns WHERE i % 20 = 0`, [count, from, to, first])
}

interface Timings { first: number, steady: number[], restart: number }

/** A watch's first evaluation, those every interval after it, and a new watch's first, as after a restart. */
async function measure (db: Database, Watch: WatchClass, start: number): Promise<Timings> {
  const perInterval = Math.round(rows * INTERVAL_MS / HOUR_MS)
  let now = start
  const timed = async (watch: Watch): Promise<number> => {
    const started = performance.now()
    await watch.refresh(db, now)
    return performance.now() - started
  }
  const watch = new Watch(rules)
  const first = await timed(watch)
  const steady: number[] = []
  for (let i = 0; i <= evaluations; i++) {
    await fill(db, perInterval, now, now + INTERVAL_MS)
    now += INTERVAL_MS
    if (i < evaluations) steady.push(await timed(watch))
  }
  return { first, steady, restart: await timed(new Watch(rules)) }
}

async function run (engine: string, db: Database, builds: Array<[string, WatchClass]>): Promise<void> {
  const start = Date.now()
  const began = performance.now()
  await fill(db, rows, start - HOUR_MS, start)
  console.log(`\n${engine}: ${rows.toLocaleString('en')} bot turns in the last hour, stored in ${((performance.now() - began) / 1000).toFixed(1)} s`)
  console.log('| build | first evaluation | each later evaluation, median (min–max), ms | first after a restart |')
  console.log('| --- | --- | --- | --- |')
  // Alternating builds, each on the same rows plus the turns the other added meanwhile.
  for (const [label, Watch] of builds) {
    const { first, steady, restart } = await measure(db, Watch, start)
    const sorted = [...steady].sort((a, b) => a - b)
    const later = `${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} (${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`
    console.log(`| ${label} | ${first.toFixed(1)} ms | ${later} | ${restart.toFixed(1)} ms |`)
  }
}

async function main (): Promise<void> {
  console.log(`# Alert evaluation's quality measures (${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}, Node ${process.version})${smoke ? ' — smoke' : ''}`)
  const builds: Array<[string, WatchClass]> = [['this build', QualityWatch]]
  const { baseline } = flags
  if (baseline !== '') {
    const module = await import(resolve(baseline, 'src/alerts/quality-measures.js')) as { QualityWatch: WatchClass }
    builds.push([`baseline (${baseline})`, module.QualityWatch])
  }
  const pglite = await openDatabase({ databaseUrl: '', dataDir: 'memory://', poolSize: 1 })
  try {
    await run('PGlite (in memory)', pglite, builds)
  } finally {
    await pglite.close()
  }
  const serverUrl = flags['database-url']
  if (serverUrl !== '') {
    const scratch = await createScratchDatabase(serverUrl, 'parley_bench_alerts')
    const db = await openDatabase({ databaseUrl: scratch.url, dataDir: 'unused', poolSize: 2 })
    try {
      await run(`PostgreSQL ${scratch.version}`, db, builds)
    } finally {
      await db.close()
      await scratch.drop()
    }
  }
}

await main()
