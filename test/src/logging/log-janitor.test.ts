import t, { type Test } from 'tap'
import { appendFile, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { pino } from 'pino'
import { loadConfig } from '../../../src/config.js'
import { runWithLogger } from '../../../src/logging/log-context.js'
import { LogJanitor, RETENTION_PROFILES, retentionFromConfig, type RetentionDays } from '../../../src/logging/log-janitor.js'
import { readLogLines } from '../../../src/logging/log-files.js'

const NOW = new Date('2030-06-15T12:00:00Z')
const DAY_MS = 86_400_000
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY_MS)

const line = (level: string, msg = level): string => JSON.stringify({ level, time: '2030-01-01T00:00:00.000Z', msg })
const NO_LEVEL = '{"msg":"a line from somewhere else"}'
const CHATBOT_LINES = [...['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'audit'].map(level => line(level)), NO_LEVEL]

async function writeLog (dir: string, name: string, lines: string[], ageDays: number): Promise<void> {
  await writeFile(join(dir, name), lines.map(l => l + '\n').join(''))
  await utimes(join(dir, name), daysAgo(ageDays), daysAgo(ageDays))
}

/** A directory whose families each have a fresh active file, so the files under test are rotated ones. */
async function logDir (t: Test): Promise<string> {
  const dir = t.testdir()
  for (const family of ['chatbot', 'error', 'audit']) {
    await writeLog(dir, `${family}.2030-06-15.1.log`, [line('info', 'current')], 0)
    await symlink(`${family}.2030-06-15.1.log`, join(dir, `${family}.log`))
  }
  return dir
}

const janitor = (dir: string, retention: RetentionDays = RETENTION_PROFILES.production): LogJanitor =>
  new LogJanitor({ dir, retention, compressAfterDays: 7, now: () => NOW })

async function linesOf (path: string): Promise<string[]> {
  const lines: string[] = []
  for await (const l of readLogLines(path)) lines.push(l)
  return lines
}

const levelsOf = async (path: string): Promise<string[]> => (await linesOf(path)).map(l => (JSON.parse(l) as { level?: string }).level ?? '-')
const exists = async (path: string): Promise<boolean> => await stat(path).then(() => true, () => false)
const mtimeOf = async (path: string): Promise<number> => (await stat(path)).mtime.getTime()
const EMPTY = { compressed: [], deleted: [], thinned: [], failed: [] }

/** Runs fn with every line logged through log() captured. */
async function captureLogs<T> (fn: () => Promise<T>): Promise<{ result: T, lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  const logger = pino({ formatters: { level: label => ({ level: label }) } }, sink)
  const result = await runWithLogger(logger, fn)
  return { result, lines }
}

t.test('retention profiles, chosen by NODE_ENV unless named, with non-zero overrides', async t => {
  t.same(RETENTION_PROFILES.production, { debug: 3, info: 14, warn: 365, error: 365, audit: 2557 })
  t.same(RETENTION_PROFILES.development, { debug: 7, info: 30, warn: 90, error: 90, audit: 2557 })
  t.same(retentionFromConfig(loadConfig({ NODE_ENV: 'production' })), RETENTION_PROFILES.production)
  t.same(retentionFromConfig(loadConfig({ NODE_ENV: 'development' })), RETENTION_PROFILES.development)
  t.same(retentionFromConfig(loadConfig({ NODE_ENV: 'test' })), RETENTION_PROFILES.development)
  t.same(retentionFromConfig(loadConfig({ NODE_ENV: 'development', LOG_RETENTION_PROFILE: 'production' })), RETENTION_PROFILES.production)
  t.same(retentionFromConfig(loadConfig({ NODE_ENV: 'production', LOG_RETENTION_PROFILE: 'development' })), RETENTION_PROFILES.development)
  t.same(retentionFromConfig(loadConfig({
    NODE_ENV: 'production',
    LOG_RETENTION_DEBUG_DAYS: '1',
    LOG_RETENTION_INFO_DAYS: '0',
    LOG_RETENTION_WARN_DAYS: '30',
    LOG_RETENTION_ERROR_DAYS: '60',
    LOG_RETENTION_AUDIT_DAYS: '3650'
  })), { debug: 1, info: 14, warn: 30, error: 60, audit: 3650 })
})

t.test('production: a chatbot file loses each level as it expires, then goes', async t => {
  const dir = await logDir(t)
  await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)
  await writeLog(dir, 'chatbot.2030-05-26.1.log', CHATBOT_LINES, 20)
  await writeLog(dir, 'chatbot.2029-05-11.1.log', CHATBOT_LINES, 400)

  const report = await janitor(dir).run()

  t.same(await levelsOf(join(dir, 'chatbot.2030-06-10.1.log')), ['info', 'warn', 'error', 'fatal', 'audit', '-'], 'at 5 days: trace and debug gone')
  t.equal(await mtimeOf(join(dir, 'chatbot.2030-06-10.1.log')), daysAgo(5).getTime(), 'the rewrite kept the mtime')
  t.same(await levelsOf(join(dir, 'chatbot.2030-05-26.1.log.gz')), ['warn', 'error', 'fatal'], 'at 20 days: warn and up, compressed in the same pass')
  t.equal(await mtimeOf(join(dir, 'chatbot.2030-05-26.1.log.gz')), daysAgo(20).getTime())
  t.notOk(await exists(join(dir, 'chatbot.2030-05-26.1.log')))
  t.notOk(await exists(join(dir, 'chatbot.2029-05-11.1.log')), 'at 400 days: gone')
  t.same(report, {
    compressed: ['chatbot.2030-05-26.1.log'],
    deleted: ['chatbot.2029-05-11.1.log'],
    thinned: [{ file: 'chatbot.2030-05-26.1.log', dropped: 5 }, { file: 'chatbot.2030-06-10.1.log', dropped: 2 }],
    failed: []
  })
})

t.test('development: longer for debug and info, shorter for warn and error', async t => {
  const dir = await logDir(t)
  await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)
  await writeLog(dir, 'chatbot.2030-05-26.1.log', CHATBOT_LINES, 20)
  await writeLog(dir, 'chatbot.2030-04-16.1.log', CHATBOT_LINES, 60)
  await writeLog(dir, 'chatbot.2030-03-07.1.log', CHATBOT_LINES, 100)
  await writeLog(dir, 'error.2030-03-07.1.log', [line('error')], 100)
  await writeLog(dir, 'audit.2029-05-11.1.log', [line('audit')], 400)

  const report = await janitor(dir, RETENTION_PROFILES.development).run()

  t.same(await levelsOf(join(dir, 'chatbot.2030-06-10.1.log')), ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'audit', '-'], 'at 5 days: everything')
  t.same(await levelsOf(join(dir, 'chatbot.2030-05-26.1.log.gz')), ['info', 'warn', 'error', 'fatal', 'audit', '-'], 'at 20 days: debug gone')
  t.same(await levelsOf(join(dir, 'chatbot.2030-04-16.1.log.gz')), ['warn', 'error', 'fatal'], 'at 60 days: warn and up')
  t.notOk(await exists(join(dir, 'chatbot.2030-03-07.1.log')), 'at 100 days: gone')
  t.notOk(await exists(join(dir, 'error.2030-03-07.1.log')), 'an error file at 100 days: gone')
  t.ok(await exists(join(dir, 'audit.2029-05-11.1.log.gz')), 'audit keeps production\'s years')
  t.same(report.deleted, ['chatbot.2030-03-07.1.log', 'error.2030-03-07.1.log'])
})

t.test('error and audit files are kept or deleted whole, by age', async t => {
  const dir = await logDir(t)
  const errors = [line('error'), line('fatal')]
  await writeLog(dir, 'error.2030-03-07.1.log', errors, 100)
  await writeLog(dir, 'error.2029-05-11.1.log', errors, 400)
  await writeLog(dir, 'audit.2029-05-11.1.log', [line('audit')], 400)
  await writeLog(dir, 'audit.2023-01-01.1.log', [line('audit')], 2600)

  const report = await janitor(dir).run()

  t.same(await levelsOf(join(dir, 'error.2030-03-07.1.log.gz')), ['error', 'fatal'], 'at 100 days: kept')
  t.notOk(await exists(join(dir, 'error.2029-05-11.1.log')), 'at 400 days: deleted')
  t.same(await levelsOf(join(dir, 'audit.2029-05-11.1.log.gz')), ['audit'], 'audit at 400 days: kept')
  t.notOk(await exists(join(dir, 'audit.2023-01-01.1.log')), 'audit past 7 years: deleted')
  t.same(report.deleted, ['audit.2023-01-01.1.log', 'error.2029-05-11.1.log'])
  t.same(report.thinned, [])
})

t.test('a file past compressAfterDays is gzipped byte for byte, with its mtime', async t => {
  const dir = await logDir(t)
  const lines = Array.from({ length: 5000 }, (_, i) => line(i % 2 === 0 ? 'warn' : 'error', `line ${i} ${'x'.repeat(i % 50)}`))
  await writeLog(dir, 'error.2030-06-05.1.log', lines, 10)
  await writeLog(dir, 'error.2030-06-10.1.log', lines, 5)

  const report = await janitor(dir).run()

  t.same(report, { ...EMPTY, compressed: ['error.2030-06-05.1.log'] })
  t.same(await linesOf(join(dir, 'error.2030-06-05.1.log.gz')), lines, 'readLogLines reads back the same lines')
  t.equal(gunzipSync(await readFile(join(dir, 'error.2030-06-05.1.log.gz'))).toString(), await readFile(join(dir, 'error.2030-06-10.1.log'), 'utf8'), 'the same bytes')
  t.equal(await mtimeOf(join(dir, 'error.2030-06-05.1.log.gz')), daysAgo(10).getTime())
  t.notOk(await exists(join(dir, 'error.2030-06-05.1.log')), 'the original is gone')
  t.ok(await exists(join(dir, 'error.2030-06-10.1.log')), 'a younger file stays uncompressed')
  t.same((await readdir(dir)).filter(name => name.includes('janitor-tmp')), [], 'no temp file left')
})

t.test('the active files and the newest of each family are never touched, however old', async t => {
  const dir = t.testdir()
  const old = [line('debug'), line('info')]
  await writeLog(dir, 'chatbot.2020-01-01.1.log', old, 3000)
  await writeLog(dir, 'chatbot.2020-01-02.1.log', old, 3000) // linked: the active file
  await writeLog(dir, 'chatbot.2020-01-03.1.log', old, 3000) // newest: pino-roll may be opening it
  await symlink('chatbot.2020-01-02.1.log', join(dir, 'chatbot.log'))
  await writeLog(dir, 'error.2020-01-01.1.log', [line('error')], 3000)
  await writeLog(dir, 'audit.2020-01-01.1.log', [line('audit')], 3000)
  const before = await readFile(join(dir, 'chatbot.2020-01-02.1.log'), 'utf8')

  const report = await janitor(dir).run()

  t.same(report, { ...EMPTY, deleted: ['chatbot.2020-01-01.1.log'] })
  for (const name of ['chatbot.2020-01-02.1.log', 'chatbot.2020-01-03.1.log', 'error.2020-01-01.1.log', 'audit.2020-01-01.1.log']) {
    t.equal(await readFile(join(dir, name), 'utf8'), name.startsWith('chatbot') ? before : `${line(name.split('.')[0]!)}\n`, `${name} untouched`)
    t.equal(await mtimeOf(join(dir, name)), daysAgo(3000).getTime())
  }
})

t.test('a second pass does not reread a file that needs nothing', async t => {
  const dir = await logDir(t)
  await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)
  const first = await janitor(dir).run()
  t.same(first.thinned, [{ file: 'chatbot.2030-06-10.1.log', dropped: 2 }])
  const state = JSON.parse(await readFile(join(dir, '.janitor-state.json'), 'utf8')) as unknown
  t.same(state, { version: 1, files: { 'chatbot.2030-06-10.1.log': ['info', 'warn', 'error'] } }, 'the state says debug is gone')

  // A debug line slipped in behind the janitor's back shows whether the file is read again.
  const path = join(dir, 'chatbot.2030-06-10.1.log')
  await appendFile(path, line('debug', 'unseen') + '\n')
  await utimes(path, daysAgo(5), daysAgo(5))
  const second = await janitor(dir).run()

  t.same(second, EMPTY)
  t.same((await levelsOf(path)).at(-1), 'debug', 'not reread, so the debug line is still there')
})

t.test('a corrupt or odd state file only means "may hold anything"', async t => {
  for (const content of ['{"version":1,"files":', 'null', '[1,2]', '{"files":{"chatbot.2030-06-10.1.log":"info"}}', '{"files":{"chatbot.2030-06-10.1.log":["nonsense"]}}', '{"files":{"chatbot.2030-06-10.1.log":[]}}']) {
    const dir = await logDir(t)
    await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)
    await writeFile(join(dir, '.janitor-state.json'), content)
    const report = await janitor(dir).run()
    t.same(report.thinned, [{ file: 'chatbot.2030-06-10.1.log', dropped: 2 }], content)
    const repaired = await readFile(join(dir, '.janitor-state.json'), 'utf8')
    t.doesNotThrow(() => JSON.parse(repaired), 'the state file is sound again')
  }
})

t.test('files outside the layout are left alone', async t => {
  const dir = await logDir(t)
  const strangers = ['notes.txt', 'chatbot.log.1', 'chatbot.2020-01-01.log', 'other.2020-01-01.1.log', 'chatbot.2020-01-01.1.log.bak', 'CHATBOT.2020-01-01.1.log']
  for (const name of strangers) await writeLog(dir, name, [line('debug')], 3000)

  t.same(await janitor(dir).run(), EMPTY)
  for (const name of strangers) {
    t.equal(await readFile(join(dir, name), 'utf8'), line('debug') + '\n', name)
    t.equal(await mtimeOf(join(dir, name)), daysAgo(3000).getTime())
  }
})

t.test('a file that fails is reported and logged; the others are still done', async t => {
  const dir = await logDir(t)
  await writeFile(join(dir, 'chatbot.2030-05-25.1.log.gz'), 'not gzip at all')
  await utimes(join(dir, 'chatbot.2030-05-25.1.log.gz'), daysAgo(20), daysAgo(20))
  await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)

  const { result: report, lines } = await captureLogs(async () => await janitor(dir).run())

  t.equal(report.failed.length, 1)
  t.equal(report.failed[0]?.file, 'chatbot.2030-05-25.1.log.gz')
  t.match(report.failed[0]?.reason, /incorrect header check/)
  t.same(report.thinned, [{ file: 'chatbot.2030-06-10.1.log', dropped: 2 }])
  t.equal(await readFile(join(dir, 'chatbot.2030-05-25.1.log.gz'), 'utf8'), 'not gzip at all', 'the broken file is left as it was')
  t.same((await readdir(dir)).filter(name => name.includes('janitor-tmp')), [], 'no temp file left')
  t.match(lines, [
    { level: 'warn', module: 'log_janitor', file: 'chatbot.2030-05-25.1.log.gz', msg: 'log_janitor.file_failed' },
    { level: 'info', module: 'log_janitor', msg: 'log_janitor.ran', compressed: 0, deleted: 0, thinned: 1, dropped_lines: 2, failed: 1, files: { thinned: ['chatbot.2030-06-10.1.log'] } }
  ])
  t.equal(lines.length, 2)
})

t.test('a quiet run logs its counts without file names', async t => {
  const dir = await logDir(t)
  const { lines } = await captureLogs(async () => await janitor(dir).run())
  t.match(lines, [{ level: 'info', msg: 'log_janitor.ran', compressed: 0, deleted: 0, thinned: 0, failed: 0 }])
  t.notOk('files' in lines[0]!)
})

t.test('a missing directory is a warning, not a throw', async t => {
  const dir = join(t.testdir(), 'nowhere')
  const { result, lines } = await captureLogs(async () => await janitor(dir).run())
  t.same(result, EMPTY)
  t.match(lines, [{ level: 'warn', msg: 'log_janitor.dir_unreadable', dir }])
})

t.test('start runs at once, runs never overlap, stop waits for the one in progress', async t => {
  const dir = await logDir(t)
  await writeLog(dir, 'chatbot.2030-06-10.1.log', CHATBOT_LINES, 5)
  const subject = janitor(dir)
  const [a, b] = await Promise.all([subject.run(), subject.run()])
  t.equal(a, b, 'a run during a run joins it')

  await writeLog(dir, 'chatbot.2030-06-11.1.log', CHATBOT_LINES, 4)
  subject.start(60_000)
  subject.start(60_000) // a second start is ignored
  await subject.stop()
  t.same(await levelsOf(join(dir, 'chatbot.2030-06-11.1.log')), ['info', 'warn', 'error', 'fatal', 'audit', '-'], 'the first run was done by the time stop returned')
})
