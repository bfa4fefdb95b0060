// A log directory read back for analysis, from real files: the files whose day may hold the
// period, the entries of the period in the families asked for, and every problem counted instead
// of thrown or passed over silently.
import { chmod, mkdir, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { emptyStats, filesForPeriod, LogDirectoryError, previousPeriod, scanLogs, type LogEntry, type Period, type ScanOptions } from '../../../src/analysis/log-scan.js'
import type { LogFamily } from '../../../src/logging/log-files.js'
import { tempDir } from '../../helper.js'

const PERIOD: Period = { from: new Date('2026-11-20T00:00:00.000Z'), to: new Date('2026-11-21T00:00:00.000Z') }
const line = (time: string, msg: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ level: 'info', time, msg, ...extra })

async function scan (options: ScanOptions) {
  const stats = emptyStats()
  const entries: Array<LogEntry & { family: LogFamily }> = []
  for await (const entry of scanLogs(options, stats)) entries.push(entry)
  return { entries, stats }
}

t.test('previousPeriod: the same length, just before', async t => {
  t.same(previousPeriod(PERIOD), { from: new Date('2026-11-19T00:00:00.000Z'), to: PERIOD.from })
  const week = { from: new Date('2026-11-09T06:00:00.000Z'), to: new Date('2026-11-16T06:00:00.000Z') }
  t.same(previousPeriod(week), { from: new Date('2026-11-02T06:00:00.000Z'), to: week.from })
})

t.test('filesForPeriod: the families asked, a day\'s margin either side', async t => {
  const dir = await tempDir(t)
  for (const name of ['chatbot.2026-11-17.1.log', 'chatbot.2026-11-18.1.log.gz', 'chatbot.2026-11-19.1.log', 'chatbot.2026-11-20.1.log', 'chatbot.2026-11-20.2.log',
    'chatbot.2026-11-21.1.log', 'chatbot.2026-11-22.1.log', 'chatbot.2026-11-23.1.log', 'error.2026-11-20.1.log', 'audit.2026-11-20.1.log', 'notes.2026-11-20.1.log']) {
    await writeFile(join(dir, name), '')
  }
  const names = async (families: LogFamily[]): Promise<string[]> => (await filesForPeriod(dir, families, PERIOD)).map(file => file.path.slice(dir.length + 1))
  t.same(await names(['chatbot']), ['chatbot.2026-11-19.1.log', 'chatbot.2026-11-20.1.log', 'chatbot.2026-11-20.2.log', 'chatbot.2026-11-21.1.log', 'chatbot.2026-11-22.1.log'],
    'from the day before the start to the day after the end (the end\'s day included, as `to` is 00:00 of it)')
  t.same(await names(['error', 'audit']), ['audit.2026-11-20.1.log', 'error.2026-11-20.1.log'])
  t.same(await names([]), [])
  const missing = await filesForPeriod(join(dir, 'missing'), ['chatbot'], PERIOD).then(() => undefined, (error: unknown) => error)
  t.ok(missing instanceof LogDirectoryError, 'a LogDirectoryError, for the CLI to report')
  await t.rejects(filesForPeriod(join(dir, 'missing'), ['chatbot'], PERIOD),
    { message: `there is no log directory ${join(dir, 'missing')}: read the one the server writes to (its LOG_DIR)` })
  const file = join(dir, 'a-file')
  await writeFile(file, '')
  await t.rejects(filesForPeriod(file, ['chatbot'], PERIOD), { message: new RegExp(`^cannot read the log directory ${file}: ENOTDIR`) })
})

t.test('the entries of the period, from..to, each tagged with its family', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'chatbot.2026-11-19.1.log'), [
    line('2026-11-19T23:59:59.999Z', 'before'),
    line('2026-11-20T00:00:00.000Z', 'first')
  ].join('\n') + '\n')
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), [
    line('2026-11-20T12:00:00.000Z', 'middle', { req_id: 'r1', latency_ms: 5 }),
    line('2026-11-20T23:59:59.999Z', 'last'),
    line('2026-11-21T00:00:00.000Z', 'the end is not in it')
  ].join('\n') + '\n')
  await writeFile(join(dir, 'chatbot.2026-11-21.1.log.gz'), gzipSync(line('2026-11-20T23:00:00.000Z', 'late in a gzipped file opened the next local day') + '\n'))
  await writeFile(join(dir, 'error.2026-11-20.1.log'), `${line('2026-11-20T13:00:00.000Z', 'an error', { level: 'error' })}\n`)
  const { entries, stats } = await scan({ dir, families: ['chatbot', 'error'], period: PERIOD })
  t.same(entries.map(entry => [entry.family, entry.msg]), [
    ['chatbot', 'first'], ['chatbot', 'middle'], ['chatbot', 'last'], ['chatbot', 'late in a gzipped file opened the next local day'], ['error', 'an error']
  ])
  t.same(entries[1], { level: 'info', time: '2026-11-20T12:00:00.000Z', msg: 'middle', req_id: 'r1', latency_ms: 5, family: 'chatbot' }, 'the whole line')
  t.same(stats, { files: 4, lines: 7, entries: 5, unreadableFiles: [], truncatedFiles: [], badLines: 0 })
})

t.test('lines that are not ours are counted, never thrown; wanted() skips lines before parsing', async t => {
  const dir = await tempDir(t)
  const at = '2026-11-20T10:00:00.000Z'
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), [
    line(at, 'chat.reply_sent'),
    '',
    'plain text from somewhere',
    '{"level":"info","time":"2026-11-20T10:00:00.000Z","msg":"cut short',
    '{not json}',
    '[1,2,3]',
    '{"level":"info","msg":"no time"}',
    '{"time":"2026-11-20T10:00:00.000Z","level":30,"msg":"numeric level"}',
    '{"time":"2026-11-20T10:00:00.000Z","level":"info","msg":null}',
    ' ' + line(at, 'leading space'),
    line(at, 'request completed'),
    line('2026-12-01T00:00:00.000Z', 'chat.reply_sent but outside the period')
  ].join('\n'))
  const all = await scan({ dir, families: ['chatbot'], period: PERIOD })
  t.same(all.entries.map(entry => entry.msg), ['chat.reply_sent', 'request completed'])
  t.same({ ...all.stats }, { files: 1, lines: 12, entries: 2, unreadableFiles: [], truncatedFiles: [], badLines: 8 }, 'the empty line is neither bad nor an entry')
  const wantedLines: string[] = []
  const chat = await scan({ dir, families: ['chatbot'], period: PERIOD, wanted: (raw, family) => { wantedLines.push(family); return raw.includes('"msg":"chat.') } })
  t.same(chat.entries.map(entry => entry.msg), ['chat.reply_sent'])
  t.equal(chat.stats.badLines, 4, 'a line that is not {…} is counted before wanted() is asked; one it refuses is not parsed, so not found bad')
  t.equal(wantedLines.length, 7, 'asked only of lines shaped like an object')
  t.ok(wantedLines.every(family => family === 'chatbot'), 'and told the family')
})

t.test('a damaged gzip is truncated, a file that cannot be read unreadable, and the scan goes on', async t => {
  const dir = await tempDir(t)
  const lines = Array.from({ length: 3000 }, (_, i) => line('2026-11-20T08:00:00.000Z', `line ${i} ${'x'.repeat(30)}`))
  const gz = join(dir, 'chatbot.2026-11-19.1.log.gz')
  const whole = gzipSync(lines.join('\n') + '\n')
  await writeFile(gz, whole)
  await truncate(gz, Math.floor(whole.length / 2))
  await mkdir(join(dir, 'chatbot.2026-11-20.1.log'))
  const locked = join(dir, 'chatbot.2026-11-20.2.log')
  await writeFile(locked, `${line('2026-11-20T09:00:00.000Z', 'locked away')}\n`)
  await chmod(locked, 0)
  await writeFile(join(dir, 'chatbot.2026-11-20.3.log'), `${line('2026-11-20T10:00:00.000Z', 'after the damage')}\n`)
  const { entries, stats } = await scan({ dir, families: ['chatbot'], period: PERIOD })
  t.equal(stats.files, 4)
  t.equal(stats.truncatedFiles.length, 1)
  t.equal(stats.truncatedFiles[0]?.file, gz)
  t.match(stats.truncatedFiles[0]?.error, /end of file|unexpected/i)
  t.ok(entries.length > 0 && entries.length < 3001, `the lines before the damage were read (${entries.length})`)
  t.equal(entries.at(-1)?.msg, 'after the damage', 'later files are still read')
  const unreadable = stats.unreadableFiles.map(problem => problem.file)
  t.ok(unreadable.includes(join(dir, 'chatbot.2026-11-20.1.log')), 'a folder named like a log file')
  t.match(stats.unreadableFiles.find(problem => problem.file === join(dir, 'chatbot.2026-11-20.1.log')), { error: 'not a regular file' })
  if (process.getuid?.() !== 0) {
    t.ok(unreadable.includes(locked), 'a file without read permission')
  } else {
    t.comment('running as root: a file without permissions is still readable')
  }
})

t.test('onProgress hears the bytes read against the total, and ends at the total', async t => {
  const dir = await tempDir(t)
  const plain = Array.from({ length: 25_000 }, (_, i) => line('2026-11-20T10:00:00.000Z', `n${i}`)).join('\n') + '\n'
  const compressed = gzipSync(plain)
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), plain)
  await writeFile(join(dir, 'chatbot.2026-11-20.2.log.gz'), compressed)
  const total = Buffer.byteLength(plain) + compressed.length
  const calls: Array<[number, number]> = []
  const { stats } = await scan({ dir, families: ['chatbot'], period: PERIOD, wanted: () => false, onProgress: (done, all) => calls.push([done, all]) })
  t.equal(stats.lines, 50_000)
  t.equal(stats.entries, 0, 'nothing wanted')
  t.ok(calls.length >= 5, `${calls.length} calls: every 10,000 lines and after each file`)
  t.ok(calls.every(([, all]) => all === total), 'the total is the files\' size on disk')
  t.ok(calls.every(([done], i) => i === 0 || done >= calls[i - 1]![0]), 'never goes back')
  t.same(calls.at(-1), [total, total])
})

t.test('a period without files reads nothing, and says so in its stats', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'chatbot.2026-10-01.1.log'), `${line('2026-10-01T10:00:00.000Z', 'long ago')}\n`)
  const { entries, stats } = await scan({ dir, families: ['chatbot'], period: PERIOD })
  t.same(entries, [])
  t.same(stats, emptyStats())
})
