import { PassThrough } from 'node:stream'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { symlink, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { derivedId, formatSummary, importDocuments, main } from '../../../src/cli/kb-import.js'
import { KnowledgeBase } from '../../../src/kb/knowledge-base.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { LOCK_FILE } from '../../../src/db/data-dir-lock.js'
import { NotFoundError } from '../../../src/errors.js'
import { openPGliteDatabase } from '../../../src/db/pglite-database.js'
import { buildTestApp, collector, createServerDatabase, engines, tempDir } from '../../helper.js'

async function folderOfFiles (t: Test): Promise<string> {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'refunds.md'), '# Refund policy\n\nRefunds are paid within 14 days of a return.\n')
  await writeFile(join(dir, 'shipping-notes.txt'), 'Parcels ship from Rotterdam every weekday.\n')
  await writeFile(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  await writeFile(join(dir, 'empty.md'), '  \n')
  return dir
}

const JSONL_LINES = [
  JSON.stringify({ id: 'warranty', title: 'Warranty', text: 'Every kettle has a two-year warranty.', metadata: { lang: 'en' } }),
  'this is not json',
  JSON.stringify({ id: 'untitled', text: 'A line without a title.' }),
  '',
  JSON.stringify({ _id: '4983', title: 'Microstructural development of human brain white matter', text: 'Diffusion tensor imaging of preterm infants.' }),
  JSON.stringify({ title: 'Opening hours', text: 'The shop opens at nine on weekdays.' }),
  JSON.stringify({ id: 'warranty', title: 'Warranty again', text: 'A second document with a taken id.' }),
  JSON.stringify({ id: 'nul', title: 'Binary junk', text: 'before\u0000after' })
]

async function jsonlFile (t: Test): Promise<string> {
  const file = join(await tempDir(t), 'corpus.jsonl')
  await writeFile(file, JSONL_LINES.join('\n') + '\n')
  return file
}

for (const engine of engines()) {
  t.test(`on ${engine.name}`, async t => {
    const open = async (t: Test) => {
      const db = await engine.open(t)
      return { db, knowledgeBase: new KnowledgeBase({ db, searchEngine: new SearchEngine(), auditTrail: new AuditTrail({ db }) }) }
    }

    t.test('a folder of .md/.txt files imports with titles and ids from the files; other files are ignored, empty ones skipped', async t => {
      const { knowledgeBase } = await open(t)
      const dir = await folderOfFiles(t)
      const progress: Array<[number, number]> = []
      const summary = await importDocuments({ path: dir, knowledgeBase, onProgress: (done, total) => progress.push([done, total]) })
      t.same(summary, { created: 2, replaced: 0, moved: [], skipped: [{ source: join(dir, 'empty.md'), reason: 'empty file' }], failed: [] })
      t.same(progress, [[0, 3], [1, 3], [2, 3], [3, 3]])
      t.match(await knowledgeBase.get('refunds'), { title: 'Refund policy', metadata: { source: 'refunds.md' } })
      t.match(await knowledgeBase.get('shipping-notes'), { title: 'shipping-notes', text: 'Parcels ship from Rotterdam every weekday.\n' })
    })

    t.test('a folder\'s .jsonl files are imported with its .md/.txt files, each line a document', async t => {
      const { knowledgeBase } = await open(t)
      const dir = await folderOfFiles(t)
      await writeFile(join(dir, 'faq.jsonl'), JSONL_LINES.slice(0, 3).join('\n') + '\n')
      const progress: Array<[number, number]> = []
      const summary = await importDocuments({ path: dir, knowledgeBase, onProgress: (done, total) => progress.push([done, total]) })
      t.match(summary, { created: 3, failed: [{ source: `${join(dir, 'faq.jsonl')}:2`, reason: 'not valid JSON' }, { source: `${join(dir, 'faq.jsonl')}:3` }] })
      t.same(progress.at(-1), [6, 6], 'three files and three lines')
      t.match(await knowledgeBase.get('warranty'), { title: 'Warranty', metadata: { lang: 'en' } })
    })

    t.test('a JSON Lines file: good lines are imported, each bad one is reported with its line and reason', async t => {
      const { knowledgeBase } = await open(t)
      const file = await jsonlFile(t)
      const summary = await importDocuments({ path: file, knowledgeBase })
      t.equal(summary.created, 3)
      t.equal(summary.replaced, 0)
      t.same(summary.skipped, [])
      t.same(summary.failed.map(f => f.source), [`${file}:2`, `${file}:3`, `${file}:7`, `${file}:8`])
      t.same(summary.failed.slice(0, 3).map(f => f.reason), [
        'not valid JSON',
        'title must be a string of 1 to 500 characters',
        'id warranty was already imported from ' + `${file}:1`
      ])
      // PostgreSQL text cannot hold NUL; whether the reader or the database refuses it, the line fails alone.
      t.match(summary.failed[3]?.reason, /NUL characters|0x00/)
      t.match(await knowledgeBase.get('warranty'), { title: 'Warranty', metadata: { lang: 'en' } })
      t.match(await knowledgeBase.get('4983'), { title: 'Microstructural development of human brain white matter' })
      const generated = derivedId({ title: 'Opening hours', text: 'The shop opens at nine on weekdays.' })
      t.match(generated, /^[0-9a-f]{32}$/)
      t.match(await knowledgeBase.get(generated), { title: 'Opening hours' })
    })

    t.test('importing again replaces instead of duplicating', async t => {
      const { db, knowledgeBase } = await open(t)
      const file = await jsonlFile(t)
      const dir = await folderOfFiles(t)
      await importDocuments({ path: file, knowledgeBase })
      await importDocuments({ path: dir, knowledgeBase })
      const again = await importDocuments({ path: file, knowledgeBase })
      t.match(again, { created: 0, replaced: 3 })
      t.match(await importDocuments({ path: dir, knowledgeBase }), { created: 0, replaced: 2 })
      const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM kb_documents')
      t.equal(rows[0]?.count, 5)
    })

    t.test('a document that replaces one of another collection is named in the summary', async t => {
      const { knowledgeBase } = await open(t)
      await knowledgeBase.put('warranty', { title: 'Warranty', text: 'The guide\'s own page.', collection: 'parley' }, 'test')
      const file = await jsonlFile(t)
      const summary = await importDocuments({ path: file, knowledgeBase })
      t.match(summary, { created: 2, replaced: 1 })
      t.same(summary.moved, [{ source: `${file}:1`, reason: 'replaced document warranty of collection parley (Parley\'s own guide)' }])
      t.match(formatSummary(summary), /\nReplaced from another collection 1:\n {2}.*:1 → replaced document warranty of collection parley/)
      t.match(await knowledgeBase.get('warranty'), { title: 'Warranty', collection: 'default' })
    })

    t.test('imported documents are searchable once an index is loaded from the database', async t => {
      const { db, knowledgeBase } = await open(t)
      await importDocuments({ path: await folderOfFiles(t), knowledgeBase })
      await importDocuments({ path: await jsonlFile(t), knowledgeBase })
      const server = new KnowledgeBase({ db, searchEngine: new SearchEngine(), auditTrail: new AuditTrail({ db }) })
      t.equal(await server.loadIndex(), 5)
      t.equal(server.searchEngine.search('refund paid days')[0]?.docId, 'refunds')
      t.equal(server.searchEngine.search('kettle warranty')[0]?.docId, 'warranty')
    })

    t.test('one .md or .txt file imports as a folder\'s file would', async t => {
      const { knowledgeBase } = await open(t)
      const dir = await folderOfFiles(t)
      const progress: Array<[number, number]> = []
      const summary = await importDocuments({ path: join(dir, 'refunds.md'), knowledgeBase, onProgress: (done, total) => progress.push([done, total]) })
      t.same(summary, { created: 1, replaced: 0, moved: [], skipped: [], failed: [] })
      t.same(progress, [[0, 1], [1, 1]])
      t.match(await knowledgeBase.get('refunds'), { title: 'Refund policy', metadata: { source: 'refunds.md' } })
      await t.rejects(knowledgeBase.get('shipping-notes'), NotFoundError, 'the file alone, not its folder')
      t.match(await importDocuments({ path: join(dir, 'shipping-notes.txt'), knowledgeBase }), { created: 1 })
      t.match(await importDocuments({ path: join(dir, 'empty.md'), knowledgeBase }), {
        created: 0, skipped: [{ source: join(dir, 'empty.md'), reason: 'empty file' }]
      })
    })

    t.test('a missing path or a file that is neither a document nor JSON Lines stops the import with a message naming it', async t => {
      const { knowledgeBase } = await open(t)
      const dir = await tempDir(t)
      await t.rejects(importDocuments({ path: join(dir, 'nope'), knowledgeBase }), { message: new RegExp(`^${join(dir, 'nope')} does not exist`) })
      await writeFile(join(dir, 'notes.pdf'), '%PDF-1.7\n')
      await t.rejects(importDocuments({ path: join(dir, 'notes.pdf'), knowledgeBase }), { message: /notes\.pdf is neither a folder nor a \.md, \.txt or \.jsonl file/ })
    })
  })
}

t.test('a document the database refuses fails alone; a database that stops working stops the import', async t => {
  const dir = await folderOfFiles(t)
  const refusing = {
    put: async (id: string) => {
      if (id === 'refunds') throw Object.assign(new Error('value too long for type character varying(10)'), { code: '22001' })
      return { created: true }
    }
  } as unknown as KnowledgeBase
  t.same(await importDocuments({ path: dir, knowledgeBase: refusing }), {
    created: 1,
    replaced: 0,
    moved: [],
    skipped: [{ source: join(dir, 'empty.md'), reason: 'empty file' }],
    failed: [{ source: join(dir, 'refunds.md'), reason: 'the database refused it: value too long for type character varying(10)' }]
  })
  const broken = { put: async () => { throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined }) } } as unknown as KnowledgeBase
  await t.rejects(importDocuments({ path: dir, knowledgeBase: broken }), {
    message: `the import stopped at ${join(dir, 'refunds.md')}: Connection terminated unexpectedly. The 0 documents before it are stored; running the import again replaces them.`
  })
})

t.test('the summary lists the first 20 problems of each kind and counts the rest', async t => {
  const failed = Array.from({ length: 23 }, (_, i) => ({ source: `f.jsonl:${i + 1}`, reason: 'not valid JSON' }))
  const text = formatSummary({ created: 1, replaced: 0, moved: [], skipped: [{ source: 'empty.md', reason: 'empty file' }], failed })
  const lines = text.split('\n')
  t.equal(lines[0], 'Imported 1 document (1 created, 0 replaced).')
  t.same(lines.slice(1, 4), ['Skipped 1:', '  empty.md → empty file', 'Failed 23:'])
  t.equal(lines[4], '  f.jsonl:1 → not valid JSON')
  t.equal(lines.at(-2), '  f.jsonl:20 → not valid JSON')
  t.equal(lines.at(-1), '  … and 3 more')
})

t.test('main: exit codes 0, 2 and 1 with a data folder on disk', async t => {
  const env = { DATA_DIR: join(await tempDir(t), 'data'), LOG_LEVEL: 'silent' }
  const run = async (argv: string[], runEnv: Record<string, string> = env) => {
    const stdout = collector()
    const stderr = collector()
    const code = await main(argv, runEnv, { stdout: stdout.stream, stderr: stderr.stream })
    return { code, stdout: stdout.text(), stderr: stderr.text() }
  }

  t.match(await run([]), { code: 1, stderr: /Usage: npm run kb:import/ })
  t.match(await run(['--help']), { code: 0, stdout: /Usage: npm run kb:import/ })
  t.match(await run(['--urll', 'x.jsonl']), { code: 1, stderr: /^kb:import: Unknown option '--urll'\nUsage: npm run kb:import/ })
  t.match(await run(['--help']), { stdout: /Exit status: 0 all imported; 2 some documents failed/ })
  t.match(await run(['/no/such/folder']), { code: 1, stderr: 'kb:import: /no/such/folder does not exist.' })
  t.match(await run([await tempDir(t)], { DATABASE_URL: 'mysql://x' }), { code: 1, stderr: /Invalid configuration: DATABASE_URL/ })
  t.match(await run([await tempDir(t)], { DATA_DIR: 'memory://' }), { code: 1, stderr: /memory:\/\/ is forgotten/ })

  const dir = await folderOfFiles(t)
  const first = await run([dir])
  t.match(first, { code: 0, stdout: 'Imported 2 documents (2 created, 0 replaced).\nSkipped 1:' })
  t.match(first.stderr, 'Importing into the embedded database in')
  t.match(await run([dir]), { code: 0, stdout: '(0 created, 2 replaced)' })
  t.match(await run([await jsonlFile(t)]), { code: 2, stdout: /Imported 3 documents[^]*Failed 4:\n.*corpus\.jsonl:2 → not valid JSON/ })
  const nothing = await tempDir(t)
  await writeFile(join(nothing, 'faq.json'), '[]')
  t.match(await run([nothing]), { code: 1, stdout: '', stderr: `kb:import: ${nothing} holds no .md, .txt or .jsonl file: nothing was imported.` }, 'a folder of nothing it reads is not an import of 0 documents')
  const blank = join(nothing, 'blank.jsonl')
  await writeFile(blank, '\n\n')
  t.match(await run([blank]), { code: 1, stderr: `kb:import: ${blank} holds no document: nothing was imported.` })
})

t.test('main refuses a data folder a running process owns, naming it and the way that works; a dead owner\'s lock is taken over', async t => {
  const env = { DATA_DIR: join(await tempDir(t), 'data'), LOG_LEVEL: 'silent' }
  const dir = await folderOfFiles(t)
  const run = async () => {
    const stdout = collector()
    const stderr = collector()
    const code = await main([dir], env, { stdout: stdout.stream, stderr: stderr.stream })
    return { code, stdout: stdout.text(), stderr: stderr.text() }
  }
  const server = await openPGliteDatabase(env.DATA_DIR) // as the running server holds it
  const refused = await run()
  t.equal(refused.code, 1)
  t.equal(refused.stdout, '', 'no success reported')
  t.match(refused.stderr, `is in use by process ${process.pid}`)
  t.match(refused.stderr, 'npm run kb:import -- --url <server> <folder>')
  await server.close()

  // The PID of a process that has exited, as a crash leaves it.
  const dead = spawnSync(process.execPath, ['-e', '']).pid
  await writeFile(join(env.DATA_DIR, LOCK_FILE), JSON.stringify({ pid: dead, hostname: 'crashed', started_at: '2026-01-01T00:00:00Z', command: 'node dist/src/server.js' }))
  t.match(await run(), { code: 0, stdout: 'Imported 2 documents (2 created, 0 replaced).' })
})

t.test('main --url imports through a running server\'s API with an admin key', async t => {
  const admin = randomBytes(16).toString('hex')
  const analyst = randomBytes(16).toString('hex')
  const app = await buildTestApp(t, { API_KEYS: `${admin}:admin,${analyst}:analyst` })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const run = async (argv: string[], env: Record<string, string>) => {
    const stdout = collector()
    const stderr = collector()
    const code = await main(argv, env, { stdout: stdout.stream, stderr: stderr.stream })
    return { code, stdout: stdout.text(), stderr: stderr.text() }
  }
  const dir = await folderOfFiles(t)
  const first = await run(['--url', base, dir], { PARLEY_API_KEY: admin })
  t.match(first, { code: 0, stdout: 'Imported 2 documents (2 created, 0 replaced).', stderr: `Importing into the server at ${base}.` })
  t.match(await app.knowledgeBase.get('refunds'), { title: 'Refund policy' })
  t.equal(app.searchEngine.search('refund paid days')[0]?.docId, 'refunds', 'the running server searches them at once')
  t.match(await run(['--url', base, dir], { PARLEY_API_KEY: admin }), { code: 0, stdout: '(0 created, 2 replaced)' })
  t.equal((await app.knowledgeBase.get('refunds')).collection, 'default')
  // Moved into another collection: the server's answer names the one each was in, and the summary lists them.
  t.match(await run(['--url', base, '--collection', 'faq', dir], { PARLEY_API_KEY: admin }), {
    code: 0,
    stdout: /\(0 created, 2 replaced\)\.\nReplaced from another collection 2:\n.*refunds\.md → replaced document refunds of collection default\n/
  })
  t.equal((await app.knowledgeBase.get('refunds')).collection, 'faq', '--collection puts the documents in that collection')
  t.match(await run(['--url', base, '--collection', 'no spaces', dir], { PARLEY_API_KEY: admin }), { code: 1, stderr: /--collection must be letters/ })
  t.match(await run(['--url', base, await jsonlFile(t)], { PARLEY_API_KEY: admin }), { code: 2, stdout: /Imported 3 documents[^]*Failed 4:/ })

  t.match(await run(['--url', base, dir], {}), { code: 1, stderr: /PARLEY_API_KEY must hold an admin key/ })
  t.match(await run(['--url', base, dir], { PARLEY_API_KEY: analyst }), { code: 1, stdout: '', stderr: /the server refused the key \(403/ })
  t.match(await run(['--url', 'not a url', dir], { PARLEY_API_KEY: admin }), { code: 1, stderr: /is not a URL/ })
  const closed = createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise(resolve => closed.close(resolve))
  t.match(await run(['--url', `http://127.0.0.1:${port}`, dir], { PARLEY_API_KEY: admin }), { code: 1, stdout: '', stderr: `could not reach http://127.0.0.1:${port} (ECONNREFUSED); is the server running?` })
})

t.test('main --url: a document the server refuses fails alone, a busy server is retried after its Retry-After', async t => {
  const seen: string[] = []
  let busy = 1
  const receiver = createHttpServer((request, response) => {
    seen.push(`${request.method} ${request.url}`)
    request.resume()
    if (busy-- > 0) {
      response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({ title: 'Service Unavailable', detail: 'Overloaded' }))
    } else if (request.url === '/v1/kb/documents/refunds') {
      response.writeHead(400, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Bad Request', detail: 'body/text must NOT have more than 10 characters' }))
    } else {
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', created: true }))
    }
  })
  await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { receiver.close() })
  const dir = await folderOfFiles(t)
  const stdout = collector()
  const code = await main(['--url', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, dir], { PARLEY_API_KEY: 'k' }, { stdout: stdout.stream, stderr: new PassThrough() })
  t.equal(code, 2)
  t.match(stdout.text(), /Imported 1 document \(1 created, 0 replaced\)[^]*Failed 1:\n.*refunds\.md → the server refused it: 400 body\/text must NOT have more than 10 characters/)
  t.same(seen, ['PUT /v1/kb/documents/refunds', 'PUT /v1/kb/documents/refunds', 'PUT /v1/kb/documents/shipping-notes'], 'the 503 was retried once')
})

const serverUrl = process.env.TEST_DATABASE_URL
t.test('main imports into server PostgreSQL given DATABASE_URL', { skip: serverUrl === undefined || serverUrl === '' ? 'TEST_DATABASE_URL is not set' : false }, async t => {
  const { url, drop } = await createServerDatabase(serverUrl!)
  t.teardown(drop)
  const stdout = collector()
  const code = await main([await folderOfFiles(t)], { DATABASE_URL: url }, { stdout: stdout.stream, stderr: new PassThrough() })
  t.equal(code, 0)
  t.match(stdout.text(), 'Imported 2 documents (2 created, 0 replaced).')
})

t.test('main reads only the folder\'s own regular files: a link out of it, a FIFO and a link to /dev/zero are reported, not read', async t => {
  const dir = await folderOfFiles(t)
  await symlink('/etc/hostname', join(dir, 'host.md'))
  await symlink('/dev/zero', join(dir, 'zero.md'))
  execFileSync('mkfifo', [join(dir, 'pipe.md')])
  execFileSync('mkfifo', [join(dir, 'pipe.jsonl')])
  await symlink('/dev/zero', join(dir, 'zero.jsonl'))
  const env = { DATA_DIR: join(await tempDir(t), 'data'), LOG_LEVEL: 'silent' }
  const stdout = collector()
  const code = await main([dir], env, { stdout: stdout.stream, stderr: new PassThrough() })
  t.equal(code, 2)
  t.match(stdout.text(), 'Imported 2 documents (2 created, 0 replaced).')
  t.match(stdout.text(), `${join(dir, 'host.md')} → a symbolic link (not followed)`)
  t.match(stdout.text(), `${join(dir, 'zero.md')} → a symbolic link (not followed)`)
  t.match(stdout.text(), `${join(dir, 'pipe.md')} → not a regular file`)
  t.match(stdout.text(), `${join(dir, 'pipe.jsonl')} → not a regular file`)
  t.match(stdout.text(), `${join(dir, 'zero.jsonl')} → a symbolic link (not followed)`)
})
