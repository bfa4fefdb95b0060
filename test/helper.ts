// Shared test set-up: apps on a fresh, migrated in-memory PGlite, and, when TEST_DATABASE_URL is
// set (.ci/run sets it), on a fresh database of their own on the real PostgreSQL server.
import { PassThrough, Writable } from 'node:stream'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DestinationStream } from 'pino'
import type { Test } from 'tap'
import { createScratchDatabase, type ScratchDatabase } from '../bench/server-database.js'
import { buildApp, type AppOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import type { Database } from '../src/db/database.js'
import { listLogFiles, readLogLines, type LogFamily } from '../src/logging/log-files.js'
import { createLogger, type LoggerOptions } from '../src/logging/logger.js'
import { migrations, migrate } from '../src/db/migrations.js'
import { openDatabase } from '../src/db/open-database.js'
import { openPGliteDatabase } from '../src/db/pglite-database.js'
import { projectRoot } from '../src/project.js'

export function testConfig (env: Record<string, string> = {}): Config {
  // On a loaded CI machine under-pressure can see a second of event-loop delay: off here, and tested
  // where it applies (load-shedding.test.ts). No scheduled weekly report either, unless a test asks
  // for one (weekly-report.test.ts). Every test's sessions come from one address, so no limit on new
  // sessions or turns per address or session either (chat-limits.test.ts), nor on the wrong keys the tests of
  // refusals send (key-guesses.test.ts).
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: 'memory://', MAX_EVENT_LOOP_DELAY_MS: '0', REPORT_SCHEDULE: '', NEW_SESSIONS_PER_MINUTE: '0', TURNS_PER_SESSION_PER_MINUTE: '0', TURNS_PER_CLIENT_PER_MINUTE: '0', WRONG_KEYS_PER_MINUTE: '0', ...env })
}

/** An app on its own fresh database (an in-memory PGlite unless options.database is given). */
export async function buildTestApp (t: Test, env: Record<string, string> = {}, options: Omit<AppOptions, 'config'> = {}) {
  const database = options.database ?? await openTestPGlite(t)
  const app = await buildApp({ config: testConfig(env), ...options, database })
  t.teardown(() => app.close())
  return app
}

// Templates are keyed by the schema and by PGlite's own version, whose data directory format may change.
async function templateVersion (): Promise<string> {
  const pgliteVersion = JSON.parse(await readFile(join(projectRoot, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version
  return createHash('sha256').update(JSON.stringify([migrations, pgliteVersion])).digest('hex').slice(0, 16)
}

// PGlite's initdb takes seconds; a migrated template archive, made once per schema version and
// shared by test files through the temp folder, brings a fresh database up in about one.
async function pgliteTemplate (): Promise<Blob> {
  const file = join(tmpdir(), `parley-pglite-template-${await templateVersion()}.tar`)
  if (!existsSync(file)) {
    const db = await openPGliteDatabase('memory://')
    await migrate(db)
    const archive = Buffer.from(await (await db.dumpDataDir()).arrayBuffer())
    await db.close()
    const partial = `${file}.${process.pid}`
    await writeFile(partial, archive)
    await rename(partial, file)
  }
  return new Blob([await readFile(file)])
}

export async function openTestPGlite (t: Test): Promise<Database> {
  const db = await openPGliteDatabase('memory://', await pgliteTemplate())
  t.teardown(() => db.close().catch(() => {})) // a test may have closed it on purpose
  return db
}

/**
 * A DATA_DIR holding an empty, migrated embedded database, as a server leaves it after its first
 * start: initdb takes 2.5 s of a new folder's first start, a copy of a folder made once per
 * schema version (from the template archive) 0.1 s. Tests of what a first start does to its
 * folder make theirs with tempDir.
 */
export async function migratedDataDir (t: Test): Promise<string> {
  const template = join(tmpdir(), `parley-pglite-folder-${await templateVersion()}`)
  if (!existsSync(template)) {
    const partial = await mkdtemp(`${template}.`)
    await (await openPGliteDatabase(partial, await pgliteTemplate())).close()
    // Another test file may have made it meanwhile: theirs is the same.
    await rename(partial, template).catch(async () => await rm(partial, { recursive: true, force: true }))
  }
  const dir = await tempDir(t)
  await cp(template, dir, { recursive: true })
  return dir
}

/** A fresh folder under the system's temp folder, removed when the test ends. */
export async function tempDir (t: Test, prefix = 'parley-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Sockets listening on 127.0.0.1:port, as the kernel lists them (/proc/net/tcp, state 0A). */
export async function listeningOn (port: number): Promise<number> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return (await readFile('/proc/net/tcp', 'utf8')).split('\n').filter(line => {
    const fields = line.trim().split(/\s+/)
    return fields[1] === local && fields[3] === '0A'
  }).length
}

/** Polls condition every stepMs until it holds (true) or timeoutMs has passed (false). */
export async function waitFor (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  for (let waited = 0; !(await condition()); waited += stepMs) {
    if (waited >= timeoutMs) return false
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
  return true
}

/**
 * Runs work and counts the turns the event loop took meanwhile: what a request would get from work
 * that yields between its statements (none from work that holds the thread to its end).
 */
export async function eventLoopTurnsDuring<T> (work: () => Promise<T>): Promise<{ result: T, turns: number }> {
  let turns = 0
  let done = false
  const turn = (): void => { turns++; if (!done) setImmediate(turn) }
  setImmediate(turn)
  const result = await work().finally(() => { done = true })
  return { result, turns }
}

/** A clock the test moves by hand. */
export function manualClock (start = new Date('2026-01-15T10:00:00Z')) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance: (ms: number) => { now += ms }
  }
}

export interface EngineUnderTest {
  name: 'pglite' | 'postgres'
  /** A fresh, empty, migrated database on this engine, closed (and dropped) when the test ends. */
  open: (t: Test) => Promise<Database>
}

/** The storage engines to run a contract against: PGlite always, server PostgreSQL when configured. */
export function engines (): EngineUnderTest[] {
  const list: EngineUnderTest[] = [{ name: 'pglite', open: openTestPGlite }]
  const serverUrl = process.env.TEST_DATABASE_URL
  if (serverUrl === undefined || serverUrl === '') {
    console.log('# TEST_DATABASE_URL is not set: the server PostgreSQL runs are skipped (.ci/run sets it)')
    return list
  }
  list.push({
    name: 'postgres',
    open: async (t) => {
      const { url, drop } = await createServerDatabase(serverUrl)
      const db = await openDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 5 })
      t.teardown(async () => {
        await db.close()
        await drop()
      })
      return db
    }
  })
  return list
}

/**
 * The database a CLI run without --url opens, as its settings (`env`) name it: an embedded folder
 * of the test's own, or, when TEST_DATABASE_URL is set, a database of its own on that server; also
 * opened here (`db`), for the test to fill before the CLI runs.
 */
export async function cliDatabase (t: Test): Promise<{ env: Record<string, string>, db: Database }> {
  const serverUrl = process.env.TEST_DATABASE_URL
  let env: Record<string, string>
  if (serverUrl !== undefined && serverUrl !== '') {
    const { url, drop } = await createServerDatabase(serverUrl)
    t.teardown(drop)
    env = { DATABASE_URL: url, KB_SEED_DIR: '' }
  } else {
    env = { DATA_DIR: await migratedDataDir(t), KB_SEED_DIR: '' }
  }
  return { env, db: await openDatabase({ databaseUrl: env.DATABASE_URL ?? '', dataDir: env.DATA_DIR ?? '', poolSize: 2 }) }
}

/** A database of its own on the PostgreSQL server, so concurrent runs never collide. */
export async function createServerDatabase (serverUrl: string): Promise<ScratchDatabase> {
  return await createScratchDatabase(serverUrl, 'parley_test')
}

/**
 * The plan a named statement gets once per connection (the generic plan), explained for its
 * parameters: what a plan made on the tables as they are now will do later.
 */
export async function genericPlan (db: Database, sql: string, params: unknown[]): Promise<string> {
  // An array as the database writes it ('{…}'), which EXECUTE reads back as the parameter's type.
  const arrayText = async (value: unknown[]): Promise<string> =>
    (await db.query<{ text: string }>('SELECT $1::text[]::text AS text', [value])).rows[0]!.text
  const literal = async (value: unknown): Promise<string> => value === null
    ? 'NULL'
    : `'${(Array.isArray(value) ? await arrayText(value) : value instanceof Date ? value.toISOString() : String(value)).replaceAll("'", "''")}'`
  const literals = await Promise.all(params.map(literal))
  return await db.transaction(async tx => {
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan')
    await tx.query(`PREPARE generic_plan AS ${sql}`)
    const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE generic_plan(${literals.join(', ')})`)
    await tx.query('DEALLOCATE generic_plan')
    return rows.map(row => row['QUERY PLAN']).join('\n')
  })
}

/** A destination for a pino logger that keeps each line as written. */
export function memoryLines () {
  const lines: string[] = []
  const destination = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  return { lines, destination: destination as unknown as DestinationStream }
}

/** The app's logger (createLogger) writing to memory: each line as written, and parsed. */
export function memoryLogger (level: LoggerOptions['level'] = 'debug') {
  const { lines, destination } = memoryLines()
  return {
    lines,
    records: () => lines.map(line => JSON.parse(line) as Record<string, unknown>),
    logger: createLogger({ level, service: 'parley', version: 'test', env: 'test', destination })
  }
}

/** A writable stream for a CLI's output, and what was written to it. */
export function collector () {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', chunk => { text += String(chunk) })
  return { stream, text: () => text }
}

/** Every line of a log family in a log folder, its oldest file first, empty lines left out. */
export async function logFileLines (dir: string, family: LogFamily): Promise<string[]> {
  const lines: string[] = []
  for (const file of await listLogFiles(dir, family)) for await (const line of readLogLines(file.path)) if (line !== '') lines.push(line)
  return lines
}
