/**
 * What a durable commit costs on the embedded database, in one run:
 *
 * 1. The limit: a chat turn's two statements (read the session, record the turn) in a plain loop
 *    on the embedded database in a folder on disk, opened by this build (each commit's write-ahead
 *    log flushed) and by another (`--baseline <dist>`: before, commits reached the page cache only).
 * 2. The turn: Parley at 50 clients (autocannon, the `npm run bench` mix), this build's server
 *    against another build's (`--baseline <dist>`, e.g. the commit before the durability), in
 *    rotating rounds; goal: this build ≥ 0.8 of the baseline's answered/s. With it, the event
 *    loop's longest stall, the write-ahead log left in each server's folder, and then, each server
 *    killed (SIGKILL), how long opening its folder again takes: PostgreSQL's recovery replays the
 *    log since the last checkpoint (src/db/embedded-upkeep.ts).
 *
 *   npm run bench:durability -- --baseline ../before/dist [--rounds 4] [--duration 5]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { openDatabase } from '../src/db/open-database.js'
import { isSegmentName } from '../src/db/wal-reserve.js'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, machineLine, mb, median, type Contender, type RoundsOptions, type ServerOptions, type Server } from './chat-load.js'
import * as thisBuild from './chat-load.js'
import { prepareLimitDatabase, turnLoop } from './turn-statements.js'

const { rounds, duration, connections, baseline } = benchFlags('bench:durability', {
  rounds: { default: 4, kind: 'count', meaning: 'n' },
  duration: { default: 5, kind: 'seconds', meaning: 'seconds' },
  connections: { default: 50, kind: 'count', meaning: 'n' },
  baseline: { default: '', kind: 'text', meaning: 'another build\'s dist' }
})
const LOOP_SECONDS = 3
/** Sessions the plain loop rotates over, as bench:load's does. */
const LOOP_SESSIONS = 50

type Open = typeof openDatabase

async function limits (folder: string): Promise<Array<[string, number[]]>> {
  const builds: Array<[string, Open]> = [['this build', openDatabase]]
  if (baseline !== '') builds.push([`baseline (${baseline})`, (await import(resolve(baseline, 'src/db/open-database.js')) as { openDatabase: Open }).openDatabase])
  const opened = await Promise.all(builds.map(async ([name, open], i) => ({ name, db: await open({ databaseUrl: '', dataDir: join(folder, `loop-${i}`), poolSize: 1 }), rates: [] as number[] })))
  try {
    for (const { db } of opened) await prepareLimitDatabase(db, LOOP_SESSIONS)
    await thisBuild.inRotatingRounds(opened, rounds, async ({ db, rates }) => { rates.push(await turnLoop(db, LOOP_SESSIONS, LOOP_SECONDS * 1000)) })
  } finally {
    for (const { db } of opened) await db.close()
  }
  return opened.map(({ name, rates }) => [name, rates])
}

type ChatLoad = typeof thisBuild

interface Served {
  name: string
  rates: number[]
  /** The event loop's longest stall over the rounds, in ms. */
  stall: number
  /** The write-ahead log's segments in the data folder once the rounds are over. */
  walBytes: number
  /** Opening the folder again after the server was killed (SIGKILL): PostgreSQL's recovery. */
  reopenMs: number
}

async function walBytes (dataDir: string): Promise<number> {
  const segments = (await readdir(join(dataDir, 'pg_wal'))).filter(isSegmentName)
  const sizes = await Promise.all(segments.map(async name => (await stat(join(dataDir, 'pg_wal', name))).size))
  return sizes.reduce((sum, size) => sum + size, 0)
}

async function turns (folder: string): Promise<Served[]> {
  const builds: Array<[string, ChatLoad]> = [['this build', thisBuild]]
  if (baseline !== '') builds.push([`baseline (${baseline})`, await import(resolve(baseline, 'bench/chat-load.js')) as ChatLoad])
  const options: RoundsOptions = { rounds, duration, connections, warmUpSeconds: 2 }
  const contenders: Array<Contender & { load: ChatLoad, dataDir: string, stall: number }> =
    builds.map(([name, load], i) => ({ name, load, served: 0, rows: [], dataDir: join(folder, `server-${i}`), stall: 0 }))
  try {
    for (const contender of contenders) {
      const server: ServerOptions = { env: { ...BENCH_APP_ENV, LOG_LEVEL: 'silent', DATA_DIR: contender.dataDir } }
      await contender.load.startContender(contender, server, options)
    }
    await thisBuild.inRotatingRounds(contenders, rounds, async contender => {
      process.stderr.write(`${contender.name}: measuring for ${duration} s…\n`)
      const stalls = await contender.server!.watchStalls()
      contender.rows.push(await contender.load.measure({ target: contender.name, port: contender.server!.port, sessions: contender.sessions!, seconds: duration, connections }))
      contender.stall = Math.max(contender.stall, await stalls.stop())
    })
    const served: Served[] = []
    for (const contender of contenders) {
      const wal = await walBytes(contender.dataDir)
      await contender.server!.kill()
      contender.server = undefined
      const started = performance.now()
      const db = await openDatabase({ databaseUrl: '', dataDir: contender.dataDir, poolSize: 1 })
      const reopenMs = performance.now() - started
      await db.close()
      served.push({ name: contender.name, rates: contender.rows.map(row => row.rps), stall: contender.stall, walBytes: wal, reopenMs })
    }
    return served
  } finally {
    for (const contender of contenders) await (contender.server as Server | undefined)?.stop()
  }
}

const folder = await mkdtemp(join(os.tmpdir(), 'parley-bench-durability-'))
try {
  console.log(`# Durable commits on the embedded database (${machineLine()})\n`)
  const show = (rows: Array<[string, number[]]>, unit: string): void => {
    const last = median(rows.at(-1)![1])
    for (const [name, values] of rows) console.log(`| ${name} | ${median(values).toFixed(0)} ${unit} | ${values.map(value => value.toFixed(0)).join(', ')} | ${(median(values) / last).toFixed(2)} |`)
  }
  console.log(`The turn's two statements in a plain loop on disk, ${rounds} rounds × ${LOOP_SECONDS} s, alternating:\n`)
  console.log('| build | median | rounds | ratio to the last |\n| --- | --- | --- | --- |')
  const limit = await limits(folder)
  show(limit, 'turns/s')
  console.log(`\nParley, ${connections} clients, ${rounds} rounds × ${duration} s, rotating; then each server killed`)
  console.log('(SIGKILL) and its folder opened again, which replays the log since the last checkpoint:\n')
  console.log('| server | answered/s, median | rounds | ratio to the last | longest stall | log (pg_wal) at the end | reopened after the kill |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  const served = await turns(folder)
  const last = median(served.at(-1)!.rates)
  for (const { name, rates, stall, walBytes, reopenMs } of served) {
    const ratio = (median(rates) / last).toFixed(2)
    console.log(`| ${name} | ${median(rates).toFixed(0)} | ${rates.map(rate => rate.toFixed(0)).join(', ')} | ${ratio} | ${stall.toFixed(0)} ms | ${mb(walBytes)} MB | ${reopenMs.toFixed(0)} ms |`)
  }
} finally {
  await rm(folder, { recursive: true, force: true })
}
