// Knowledge-base documents read from disk, as the first-start seed and kb:import read them: a
// folder's own regular .md/.txt files or a JSON Lines file, each document checked against the
// limits the HTTP API enforces, each problem said with its source.
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { checkDocument, documentFromFile, DOCUMENT_LIMITS, metadataProblem, readDocuments, type ReadResult } from '../../../src/kb/document-files.js'
import { tempDir } from '../../helper.js'

async function readAll (path: string): Promise<ReadResult[]> {
  const results: ReadResult[] = []
  for await (const result of readDocuments(path)) results.push(result)
  return results
}

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = { child: value }
  return value
}

t.test('metadataProblem: depth, size as JSON and the questions list', async t => {
  t.equal(metadataProblem(undefined), undefined)
  t.equal(metadataProblem({ source: 'faq.md', tags: ['a', 'b'] }), undefined)
  t.equal(metadataProblem(nested(DOCUMENT_LIMITS.metadataDepth)), undefined, `${DOCUMENT_LIMITS.metadataDepth} levels of objects`)
  t.equal(metadataProblem(nested(DOCUMENT_LIMITS.metadataDepth + 1)), 'metadata must not nest deeper than 8 levels')
  t.equal(metadataProblem(nested(100_000)), 'metadata must not nest deeper than 8 levels', 'measured without recursion: no stack overflow')
  const filler = (length: number): { note: string } => ({ note: 'x'.repeat(length - '{"note":""}'.length) })
  t.equal(JSON.stringify(filler(DOCUMENT_LIMITS.metadataJsonMax)).length, DOCUMENT_LIMITS.metadataJsonMax)
  t.equal(metadataProblem(filler(DOCUMENT_LIMITS.metadataJsonMax)), undefined, 'exactly the limit')
  t.equal(metadataProblem(filler(DOCUMENT_LIMITS.metadataJsonMax + 1)), 'metadata must not be longer than 16384 characters as JSON')
  const questionsProblem = 'metadata.questions must be an array of at most 50 questions, each a string of 1 to 500 characters'
  t.equal(metadataProblem({ questions: ['How do I reset my password?', 'forgot password'] }), undefined)
  t.equal(metadataProblem({ questions: Array.from({ length: 50 }, (_, i) => `q${i}`) }), undefined, '50 questions')
  t.equal(metadataProblem({ questions: Array.from({ length: 51 }, (_, i) => `q${i}`) }), questionsProblem, '51')
  t.equal(metadataProblem({ questions: ['x'.repeat(500)] }), undefined)
  t.equal(metadataProblem({ questions: ['x'.repeat(501)] }), questionsProblem)
  for (const questions of ['one question', [''], ['  '], [42], [null], { 0: 'a' }]) {
    t.equal(metadataProblem({ questions }), questionsProblem, JSON.stringify(questions))
  }
})

t.test('checkDocument: the API\'s limits, one problem at a time', async t => {
  const good = { id: 'reset-password', title: 'Reset your password', text: 'Use the link on the sign-in page.' }
  t.equal(checkDocument(good), undefined)
  t.equal(checkDocument({ title: 'No id', text: 'An id is derived later.' }), undefined)
  t.equal(checkDocument({ ...good, metadata: { source: 'x' } }), undefined)
  const idProblem = 'id must be 1 to 200 letters, digits, dots, underscores, colons or hyphens, starting with a letter or digit'
  for (const id of ['', '-leading-dash', '.hidden', 'with space', 'slash/inside', 'x'.repeat(201), 42]) {
    t.equal(checkDocument({ ...good, id }), idProblem, JSON.stringify(id))
  }
  for (const id of ['a', 'A1._:-z', 'x'.repeat(200)]) t.equal(checkDocument({ ...good, id }), undefined, id)
  t.equal(checkDocument({ ...good, text: 'before\u0000after' }), 'text must not contain NUL characters (U+0000)')
  t.equal(checkDocument({ ...good, title: 'nul\u0000' }), 'text must not contain NUL characters (U+0000)', 'in any field')
  t.equal(checkDocument({ ...good, text: 'the escape \\u0000 shown as text' }), undefined, 'a backslash and u0000 is not a NUL')
  t.equal(checkDocument({ ...good, text: 'a backslash then a NUL \\\u0000' }), 'text must not contain NUL characters (U+0000)')
  const titleProblem = 'title must be a string of 1 to 500 characters'
  for (const title of [undefined, '', '   ', 'x'.repeat(501), 7]) t.equal(checkDocument({ ...good, title }), titleProblem, JSON.stringify(title))
  t.equal(checkDocument({ ...good, title: 'x'.repeat(500) }), undefined)
  const textProblem = 'text must be a string of 1 to 200000 characters'
  for (const text of [undefined, '', '\n\t ', 'x'.repeat(200_001), ['text']]) t.equal(checkDocument({ ...good, text }), textProblem, typeof text === 'string' ? `${text.length} characters` : JSON.stringify(text))
  t.equal(checkDocument({ ...good, text: 'x'.repeat(200_000) }), undefined)
  for (const metadata of [null, [], 'a string', 3]) t.equal(checkDocument({ ...good, metadata }), 'metadata must be an object', JSON.stringify(metadata))
  t.equal(checkDocument({ ...good, id: 'bad id', metadata: nested(20) }), 'metadata must not nest deeper than 8 levels', 'metadata is checked first')
})

t.test('documentFromFile: id from the file name, title from the first level-1 heading', async t => {
  t.same(documentFromFile('reset-password.md', 'Intro\n\n#  Reset your password  \n\n## Steps\n# Later heading'), {
    id: 'reset-password', title: 'Reset your password', text: 'Intro\n\n#  Reset your password  \n\n## Steps\n# Later heading', metadata: { source: 'reset-password.md' }
  })
  t.same(documentFromFile('notes.txt', '## Only a subheading\nbody'), { id: 'notes', title: 'notes', text: '## Only a subheading\nbody', metadata: { source: 'notes.txt' } }, 'no level-1 heading: the id')
  t.equal(documentFromFile('Billing & Plans (2026).md', 'x').id, 'Billing---Plans--2026-', 'characters an id cannot hold become dashes')
  t.equal(documentFromFile('--_.draft.md', 'x').id, 'draft', 'no leading punctuation')
  t.equal(documentFromFile('été.md', 'x').id, 't-', 'accented letters are not ASCII')
  t.equal(documentFromFile('日本語.md', 'x').id, 'document', 'nothing left: a fallback id')
  t.equal(documentFromFile(`${'a'.repeat(250)}.md`, 'x').id, 'a'.repeat(200), 'cut to 200 characters')
  t.equal(documentFromFile('/some/folder/faq.v2.md', 'x').metadata?.source, 'faq.v2.md', 'the source is the file\'s name, not its path')
  t.equal(documentFromFile('faq.v2.md', 'x').id, 'faq.v2', 'only the last extension goes')
})

t.test('a folder: its own regular .md and .txt files, in name order, each with its problem', async t => {
  const dir = await tempDir(t)
  const outside = await tempDir(t)
  await writeFile(join(dir, 'b-billing.md'), '# Billing\n\nInvoices are sent monthly.')
  await writeFile(join(dir, 'a-account.TXT'), 'Accounts are made by an admin.')
  await writeFile(join(dir, 'c-empty.md'), ' \n\n ')
  await writeFile(join(dir, 'd-nul.md'), '# Broken\n\nnul \u0000 here')
  await writeFile(join(dir, 'e-big.md'), '')
  await truncate(join(dir, 'e-big.md'), 4 * DOCUMENT_LIMITS.textMax + 1)
  await writeFile(join(dir, 'f-limit.txt'), 'y'.repeat(DOCUMENT_LIMITS.textMax))
  await writeFile(join(outside, 'secret.txt'), 'not for the knowledge base')
  await symlink(join(outside, 'secret.txt'), join(dir, 'g-link.md'))
  await mkdir(join(dir, 'h-folder.md'))
  await writeFile(join(dir, 'image.png'), 'not read')
  await writeFile(join(dir, 'README'), 'not read')
  // A socket file stands for a FIFO or a device: made without a child process (which would move this
  // file to the process suite), and like them not a regular file.
  const socket = createServer()
  await new Promise<void>(resolve => socket.listen(join(dir, 'i-socket.md'), resolve))
  t.teardown(() => { socket.close() })
  const results = await readAll(dir)
  t.same(results.map(result => result.source), ['a-account.TXT', 'b-billing.md', 'c-empty.md', 'd-nul.md', 'e-big.md', 'f-limit.txt', 'g-link.md', 'h-folder.md', 'i-socket.md'].map(name => join(dir, name)))
  const [account, billing, empty, nul, big, limit, link, folder, special] = results
  t.same(account, { source: join(dir, 'a-account.TXT'), document: { id: 'a-account', title: 'a-account', text: 'Accounts are made by an admin.', metadata: { source: 'a-account.TXT' } } })
  t.same(billing, { source: join(dir, 'b-billing.md'), document: { id: 'b-billing', title: 'Billing', text: '# Billing\n\nInvoices are sent monthly.', metadata: { source: 'b-billing.md' } } })
  t.same(empty, { source: join(dir, 'c-empty.md'), skipped: 'empty file' })
  t.same(nul, { source: join(dir, 'd-nul.md'), error: 'text must not contain NUL characters (U+0000)' })
  t.same(big, { source: join(dir, 'e-big.md'), error: 'larger than 800000 bytes' })
  t.equal(limit && 'document' in limit ? limit.document.text.length : undefined, DOCUMENT_LIMITS.textMax, 'a file at the limit is read')
  t.same(link, { source: join(dir, 'g-link.md'), skipped: 'a symbolic link (not followed)' })
  t.same(folder, { source: join(dir, 'h-folder.md'), error: 'not a regular file' })
  t.same(special, { source: join(dir, 'i-socket.md'), error: 'not a regular file' }, 'a socket is refused, not read')
})

t.test('an empty folder yields nothing; a missing path throws', async t => {
  const dir = await tempDir(t)
  t.same(await readAll(dir), [])
  await t.rejects(readAll(join(dir, 'missing')), { code: 'ENOENT' })
})

t.test('a JSON Lines file: one document a line, sources with line numbers', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'corpus.jsonl')
  const longText = 'one two three four five six seven eight nine ten eleven twelve'
  const wordy = `${'supercalifragilistic '.repeat(6)}end`
  await writeFile(file, [
    JSON.stringify({ id: 'faq-1', title: 'Plans', text: 'Three plans.', metadata: { questions: ['which plans?'] } }),
    '',
    JSON.stringify({ _id: 42, title: '', text: longText }),
    '{"id": "broken", ',
    JSON.stringify({ _id: 'beir-7', id: 'wins', title: 'Both ids', text: 'id before _id' }),
    JSON.stringify({ title: '', text: wordy }),
    '   ',
    '42',
    JSON.stringify({ id: 'no-text', title: 'Missing text' }),
    JSON.stringify({ id: 'bad meta', title: 'x', text: 'y', metadata: { questions: 'one' } }),
    JSON.stringify({ id: 'crlf', title: 'Windows', text: 'line ending' })
  ].join('\n').replace(/\n(?=\{"id":"crlf")/, '\r\n') + '\n')
  const results = await readAll(file)
  t.same(results.map(result => result.source), [1, 3, 4, 5, 6, 8, 9, 10, 11].map(line => `${file}:${line}`), 'blank lines are passed over but counted')
  t.same(results[0], { source: `${file}:1`, document: { id: 'faq-1', title: 'Plans', text: 'Three plans.', metadata: { questions: ['which plans?'] } } })
  t.same(results[1], { source: `${file}:3`, document: { id: '42', title: 'one two three four five six seven eight nine ten', text: longText, metadata: undefined } }, 'a numeric _id becomes a string; an empty title, the first ten words')
  t.same(results[2], { source: `${file}:4`, error: 'not valid JSON' })
  t.equal(results[3] && 'document' in results[3] ? results[3].document.id : undefined, 'wins', 'id is preferred to _id')
  const untitled = results[4] && 'document' in results[4] ? results[4].document.title : ''
  t.equal(untitled.length, 80, 'a long first-words title is cut to 80 characters')
  t.ok(untitled.endsWith('…') && wordy.startsWith(untitled.slice(0, 79)), untitled)
  t.same(results[5], { source: `${file}:8`, error: 'title must be a string of 1 to 500 characters' }, 'a line that is not an object')
  t.same(results[6], { source: `${file}:9`, error: 'text must be a string of 1 to 200000 characters' })
  t.match(results[7], { source: `${file}:10`, error: /^metadata\.questions must be an array/ }, 'the metadata problem first, before the bad id')
  t.same(results[8], { source: `${file}:11`, document: { id: 'crlf', title: 'Windows', text: 'line ending', metadata: undefined } }, 'CRLF line endings')
})
