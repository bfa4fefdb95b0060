// The log directory's layout, read back from real files: which names are log files, in which
// order, which one a family writes now, and their lines, gzipped or not, refusing what is not a
// regular file.
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { gzipSync, createGzip } from 'node:zlib'
import t from 'tap'
import { activeLogFile, compareLogFiles, currentLinkPath, lineLevel, listLogFiles, LOG_FAMILIES, parseLogFileName, readLogLines } from '../../../src/logging/log-files.js'
import { tempDir } from '../../helper.js'

async function linesOf (path: string, onRead?: (bytes: number) => void): Promise<string[]> {
  const lines: string[] = []
  for await (const line of readLogLines(path, onRead)) lines.push(line)
  return lines
}

t.test('parseLogFileName knows pino-roll\'s names and the janitor\'s .gz, nothing else', async t => {
  t.same(parseLogFileName('/logs/chatbot.2026-11-21.3.log'), { path: '/logs/chatbot.2026-11-21.3.log', family: 'chatbot', date: '2026-11-21', number: 3, compressed: false })
  t.same(parseLogFileName('error.2026-01-02.12.log.gz'), { path: 'error.2026-01-02.12.log.gz', family: 'error', date: '2026-01-02', number: 12, compressed: true })
  t.equal(parseLogFileName('audit.2026-01-02.1.log')?.family, 'audit')
  for (const name of ['chatbot.log', 'other.2026-11-21.1.log', 'chatbot.2026-11-21.log', 'chatbot.26-11-21.1.log', 'chatbot.2026-11-21.1.log.bak', 'chatbot.2026-11-21.1.txt', 'chatbot.2026-11-21.x.log', 'Chatbot.2026-11-21.1.log', 'chatbot.2026-11-21.1.log.gz.tmp']) {
    t.equal(parseLogFileName(join('/logs', name)), undefined, name)
  }
  t.equal(parseLogFileName('/logs/chatbot.2026-11-21.1.log/inner.txt'), undefined, 'only the last part of the path is the name')
  t.same(LOG_FAMILIES, ['chatbot', 'error', 'audit'])
})

t.test('files sort by family, then day, then number as a number', async t => {
  const names = ['error.2026-11-21.1.log', 'chatbot.2026-11-21.10.log', 'chatbot.2026-11-21.2.log', 'chatbot.2026-11-20.7.log.gz', 'audit.2026-11-22.1.log']
  const sorted = names.map(name => parseLogFileName(name)!).sort(compareLogFiles).map(file => file.path)
  t.same(sorted, ['audit.2026-11-22.1.log', 'chatbot.2026-11-20.7.log.gz', 'chatbot.2026-11-21.2.log', 'chatbot.2026-11-21.10.log', 'error.2026-11-21.1.log'])
})

t.test('listLogFiles: the log files of a folder, of one family if asked, oldest first', async t => {
  const dir = await tempDir(t)
  for (const name of ['chatbot.2026-11-21.10.log', 'chatbot.2026-11-21.2.log', 'chatbot.2026-11-19.1.log.gz', 'error.2026-11-21.1.log', 'notes.txt', 'parley-logs.lock']) {
    await writeFile(join(dir, name), '')
  }
  await symlink('chatbot.2026-11-21.10.log', join(dir, 'chatbot.log'))
  t.same((await listLogFiles(dir)).map(file => file.path), [
    join(dir, 'chatbot.2026-11-19.1.log.gz'), join(dir, 'chatbot.2026-11-21.2.log'), join(dir, 'chatbot.2026-11-21.10.log'), join(dir, 'error.2026-11-21.1.log')
  ], 'the link and other files are left out')
  t.same((await listLogFiles(dir, 'error')).map(file => file.path), [join(dir, 'error.2026-11-21.1.log')])
  t.same(await listLogFiles(dir, 'audit'), [])
  await t.rejects(listLogFiles(join(dir, 'missing')), { code: 'ENOENT' }, 'a missing folder is an error, not an empty list')
})

t.test('activeLogFile follows the family\'s link; none without one', async t => {
  const dir = await tempDir(t)
  t.equal(currentLinkPath(dir, 'audit'), join(dir, 'audit.log'))
  t.equal(await activeLogFile(dir, 'chatbot'), undefined)
  await writeFile(join(dir, 'chatbot.2026-11-21.4.log'), '')
  await symlink('chatbot.2026-11-21.4.log', join(dir, 'chatbot.log'))
  t.equal(await activeLogFile(dir, 'chatbot'), join(dir, 'chatbot.2026-11-21.4.log'))
  await writeFile(join(dir, 'error.log'), 'a plain file, not a link')
  t.equal(await activeLogFile(dir, 'error'), undefined, 'a plain file where the link should be')
  await symlink('error.2026-11-21.1.log', join(dir, 'audit.log'))
  t.equal(await activeLogFile(dir, 'audit'), join(dir, 'error.2026-11-21.1.log'), 'named even if it does not exist yet')
})

t.test('readLogLines reads plain and gzipped files alike, CRLF included, and counts bytes read', async t => {
  const dir = await tempDir(t)
  const lines = ['{"level":"info","msg":"one"}', '{"level":"error","msg":"two"}', '', '{"level":"audit","msg":"three"}']
  const plain = join(dir, 'chatbot.2026-11-21.1.log')
  await writeFile(plain, lines.join('\r\n') + '\n')
  const gzipped = join(dir, 'chatbot.2026-11-20.1.log.gz')
  const compressed = gzipSync(lines.join('\n') + '\n')
  await writeFile(gzipped, compressed)
  let plainBytes = 0
  t.same(await linesOf(plain, bytes => { plainBytes += bytes }), lines)
  t.equal(plainBytes, Buffer.byteLength(lines.join('\r\n') + '\n'))
  let gzipBytes = 0
  t.same(await linesOf(gzipped, bytes => { gzipBytes += bytes }), lines)
  t.equal(gzipBytes, compressed.length, 'the compressed size, for a progress bar over files on disk')
  const noNewline = join(dir, 'chatbot.2026-11-22.1.log')
  await writeFile(noNewline, 'last line without newline')
  t.same(await linesOf(noNewline), ['last line without newline'])
  const empty = join(dir, 'chatbot.2026-11-23.1.log')
  await writeFile(empty, '')
  t.same(await linesOf(empty), [])
})

t.test('a large gzipped file streams through', async t => {
  const dir = await tempDir(t)
  const path = join(dir, 'chatbot.2026-11-21.1.log.gz')
  const count = 50_000
  await pipeline(Readable.from((function * () { for (let i = 0; i < count; i++) yield `{"level":"info","n":${i}}\n` })()), createGzip(), createWriteStream(path))
  let seen = 0
  let last = ''
  for await (const line of readLogLines(path)) { seen++; last = line }
  t.equal(seen, count)
  t.equal(last, `{"level":"info","n":${count - 1}}`)
})

t.test('a damaged gzip fails the read with zlib\'s code, after the lines before the damage', async t => {
  const dir = await tempDir(t)
  const path = join(dir, 'chatbot.2026-11-21.1.log.gz')
  const whole = gzipSync(Array.from({ length: 2000 }, (_, i) => `{"level":"info","msg":"line ${i} ${'x'.repeat(40)}"}`).join('\n') + '\n')
  await writeFile(path, whole)
  await truncate(path, Math.floor(whole.length / 2))
  const read: string[] = []
  await t.rejects((async () => { for await (const line of readLogLines(path)) read.push(line) })(), { code: /^Z_/ })
  t.ok(read.length > 0 && read.length < 2000, `${read.length} whole lines before the cut`)
  await writeFile(path, 'not gzip at all\n')
  await t.rejects(linesOf(path), { code: /^Z_/ }, 'not gzip at all')
})

t.test('only regular files are read: a folder, a socket, a device or a missing file is refused', async t => {
  const dir = await tempDir(t)
  const folder = join(dir, 'chatbot.2026-11-21.1.log')
  await mkdir(folder)
  await t.rejects(linesOf(folder), { message: 'not a regular file' })
  await t.rejects(linesOf(join(dir, 'missing.log')), { code: 'ENOENT' })
  if (process.platform !== 'win32') {
    // A socket file, made without a child process (which would move this file to the process suite):
    // like a FIFO, something that is not a regular file and could block a read for good.
    const socket = join(dir, 'chatbot.2026-11-20.1.log')
    const server = createServer()
    await new Promise<void>(resolve => server.listen(socket, resolve))
    t.teardown(() => { server.close() })
    await t.rejects(linesOf(socket), { message: 'not a regular file' }, 'a socket is not read')
  }
  await symlink('/dev/zero', join(dir, 'chatbot.2026-11-22.1.log'))
  await t.rejects(linesOf(join(dir, 'chatbot.2026-11-22.1.log')), { message: 'not a regular file' }, 'a link to a device, followed and refused')
  const target = join(dir, 'real.log')
  await writeFile(target, 'through a link\n')
  await symlink(target, join(dir, 'chatbot.log'))
  t.same(await linesOf(join(dir, 'chatbot.log')), ['through a link'], 'a link to a regular file is followed')
})

t.test('lineLevel reads the level label at the start of a line only', async t => {
  t.equal(lineLevel('{"level":"audit","time":"2026-11-21T10:00:00.000Z","msg":"kb.documents.add"}'), 'audit')
  t.equal(lineLevel('{"level":"info"}'), 'info')
  t.equal(lineLevel('{"time":"x","level":"info"}'), undefined, 'not first: not a line of ours')
  t.equal(lineLevel(' {"level":"info"}'), undefined)
  t.equal(lineLevel('{"level":30,"msg":"numeric"}'), undefined)
  t.equal(lineLevel('{"level":"","msg":"empty"}'), undefined)
  t.equal(lineLevel(''), undefined)
})
