/**
 * What recording a turn costs as the sessions table grows while Parley runs: a new install that
 * gets busy. The turn's statements are first run on a fresh table of 10 sessions (so that they
 * are planned then, as on the first turns of a new install); then active sessions are added, 5,000
 * and then 20,000, each time followed by the app's periodic work as a build does it (the session
 * sweep; this build's also refreshes the table's statistics, and vacuums the embedded database),
 * and the same turns timed again. Then the table's size after rounds of turns, each followed by
 * it. This build's SessionManager against another build's (`--baseline <dist>`), on embedded
 * PGlite in memory (the statements' cost without each commit's flush to disk) and, with
 * `--database-url`, on server PostgreSQL with the table's autovacuum off (the minute before
 * autovacuum analyses it). Goal: a turn with 20,000 active sessions ≤ 1.1× one with 10.
 *
 *   npm run bench:sessions -- --baseline ../before/dist [--database-url postgres://…]
 *   npm run bench:sessions -- --smoke     # fewer turns, as CI runs it
 */
import { join, resolve } from 'node:path'
import type { Database } from '../src/db/database.js'
import { openDatabase } from '../src/db/open-database.js'
import { vacuumEmbedded } from '../src/db/embedded-upkeep.js'
import { AuditTrail } from '../src/audit/audit-trail.js'
import { SessionManager, type TurnMessages } from '../src/sessions/session-manager.js'
import { benchFlags } from './bench-flags.js'
import { formatTable, machineLine, median } from './chat-load.js'
import { createScratchDatabase } from './server-database.js'

const flags = benchFlags('bench:sessions', {
  baseline: { default: '', kind: 'text', meaning: 'another build\'s dist' },
  'database-url': { default: '', kind: 'text', meaning: 'postgres://…' },
  smoke: { kind: 'switch', meaning: 'a few turns, as CI runs it' }
})
const TIMED_TURNS = flags.smoke ? 200 : 2000
const BLOCKS = 3
const SWEPT_ROUNDS = flags.smoke ? 2 : 10
const TURNS_A_ROUND = flags.smoke ? 500 : 4000
const ACTIVE = [10, 5000, 20000]
const FIRST_SESSIONS = ACTIVE[0]!
// A turn as the chat records it: the user's message, and an answer with its sources.
const TURN: TurnMessages = {
  userText: 'how do I view traces?',
  reply: 'Every response carries an x-trace-id header; open it in Jaeger or Grafana. '.repeat(6),
  kind: 'answer',
  command: null,
  sources: [1, 2, 3].map(n => ({ doc_id: `tracing-and-logs-${n}`, title: 'Tracing and logs', score: 3.8 - n / 2, snippet: 'Every response has an x-trace-id header.' })),
  topScore: 3.8,
  latencyMs: 4.5
}

type Managers = typeof import('../src/sessions/session-manager.js')
type Trails = typeof import('../src/audit/audit-trail.js')
interface Build {
  name: string
  SessionManager: Managers['SessionManager']
  AuditTrail: Trails['AuditTrail']
  /** The database's periodic upkeep, in a build that has one. */
  upkeep?: (db: Database) => Promise<unknown>
}

async function builds (): Promise<Build[]> {
  const list: Build[] = [{ name: 'this build', SessionManager, AuditTrail, upkeep: vacuumEmbedded }]
  if (flags.baseline !== '') {
    const dist = resolve(flags.baseline)
    list.push({
      name: `baseline (${flags.baseline})`,
      SessionManager: (await import(join(dist, 'src/sessions/session-manager.js')) as Managers).SessionManager,
      AuditTrail: (await import(join(dist, 'src/audit/audit-trail.js')) as Trails).AuditTrail
    })
  }
  return list
}

interface Result { engine: string, build: string, microseconds: number[], bytes: number[] }

async function run (engine: string, db: Database, build: Build): Promise<Result> {
  const sessions = new build.SessionManager({ db, auditTrail: new build.AuditTrail({ db }), limits: { idleTimeoutMs: 1_800_000, maxAgeMs: 86_400_000, maxActive: 10_000_000, maxPerUser: 10_000_000 } })
  const ids: string[] = []
  for (let i = 0; i < FIRST_SESSIONS; i++) ids.push((await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))).id)
  const turns = async (count: number): Promise<void> => {
    for (let turn = 0; turn < count; turn++) await sessions.recordTurn(db, ids[turn % ids.length]!, TURN)
  }
  const timed = async (): Promise<number> => {
    const blocks: number[] = []
    for (let block = 0; block < BLOCKS; block++) {
      const started = performance.now()
      await turns(TIMED_TURNS)
      blocks.push((performance.now() - started) * 1000 / TIMED_TURNS)
    }
    return median(blocks)
  }
  // What the app does every minute: the session sweep (expired sessions marked, and the table's
  // statistics refreshed in a build that does it), and the database's upkeep in one that has it.
  const sweeper = sessions as unknown as { expireIdle: () => Promise<number>, refreshStatistics?: () => Promise<void> }
  const sweep = async (): Promise<void> => {
    await sweeper.expireIdle()
    await sweeper.refreshStatistics?.()
    await build.upkeep?.(db)
  }
  // Past the driver's five custom plans, the statements run on the plan they keep; a first block
  // warms the code up.
  await turns(TIMED_TURNS)
  const microseconds: number[] = []
  let active = FIRST_SESSIONS
  for (const target of ACTIVE) {
    process.stderr.write(`${engine}, ${build.name}: ${target} active sessions…\n`)
    await db.query(`INSERT INTO sessions (id, created_at, last_activity_at)
      SELECT gen_random_uuid(), now(), now() FROM generate_series(1, $1::int)`, [target - active])
    active = target
    await sweep()
    microseconds.push(await timed())
  }
  // The table's size over rounds of turns, each swept.
  const bytes: number[] = []
  for (let round = 0; round < SWEPT_ROUNDS; round++) {
    await turns(TURNS_A_ROUND)
    await sweep()
    bytes.push(Number((await db.query<{ bytes: string }>("SELECT pg_total_relation_size('sessions') AS bytes")).rows[0]!.bytes))
  }
  return { engine, build: build.name, microseconds, bytes }
}

const results: Result[] = []
for (const build of await builds()) {
  const db = await openDatabase({ databaseUrl: '', dataDir: 'memory://', poolSize: 1 })
  try {
    results.push(await run('PGlite', db, build))
  } finally {
    await db.close()
  }
  if (flags['database-url'] !== '') {
    const scratch = await createScratchDatabase(flags['database-url'], 'parley_bench_sessions')
    const server = await openDatabase({ databaseUrl: scratch.url, dataDir: 'unused', poolSize: 1 })
    // Autovacuum would analyse the table at a moment of its own, once a minute at most: left off,
    // the run is the minute before it does, every time.
    await server.query('ALTER TABLE sessions SET (autovacuum_enabled = false)')
    try {
      results.push(await run(`PostgreSQL ${scratch.version}`, server, build))
    } finally {
      await server.close()
      await scratch.drop()
    }
  }
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(2)
console.log(`\nRecording a turn as active sessions are added after the statements were planned (${machineLine()})`)
console.log(`${TIMED_TURNS} turns over ${FIRST_SESSIONS} sessions a block, median of ${BLOCKS} blocks; then ${SWEPT_ROUNDS} rounds of ${TURNS_A_ROUND} turns, each swept\n`)
for (const line of formatTable([
  ['engine', 'build', ...ACTIVE.map(n => `µs a turn, ${n.toLocaleString('en-US')} active`), `${ACTIVE.at(-1)!.toLocaleString('en-US')} / ${FIRST_SESSIONS} (goal ≤ 1.1)`, 'table MB after each round'],
  ...results.map(({ engine, build, microseconds, bytes }) => [
    engine, build, ...microseconds.map(us => us.toFixed(0)), (microseconds.at(-1)! / microseconds[0]!).toFixed(2), bytes.map(mb).join(' ')
  ])
])) console.log(line)
