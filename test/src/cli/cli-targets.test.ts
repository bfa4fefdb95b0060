// Where a CLI that writes does its work: the database its settings name (a real embedded folder,
// and server PostgreSQL when TEST_DATABASE_URL is set), refused in the CLI's own words when it is
// of no use, missing or held; or a running server's admin route (a real HTTP server), with a
// missing key, a bad URL, nobody listening and each refusal said plainly.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { adminEndpoint, CliError, openConfiguredDatabase } from '../../../src/cli/cli-targets.js'
import { createServerDatabase, tempDir } from '../../helper.js'

const OPENING = { inMemory: 'would be forgotten when this command ends.' }

async function refusal (promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(() => undefined, (failure: unknown) => failure)
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`)
  return error
}

t.test('settings that do not load are the CLI\'s answer, not a stack', async t => {
  const error = await refusal(openConfiguredDatabase({ PORT: 'not-a-port', DATA_DIR: await tempDir(t) }, OPENING))
  t.match(error.message, /^Invalid configuration: PORT/)
  const url = await refusal(openConfiguredDatabase({ DATABASE_URL: 'mysql://x' }, OPENING))
  t.match(url.message, /^Invalid configuration: DATABASE_URL/)
})

t.test('an in-memory database is of no use to a CLI: it says why, in its own words', async t => {
  const error = await refusal(openConfiguredDatabase({ DATA_DIR: 'memory://' }, OPENING))
  t.equal(error.message, 'DATA_DIR=memory:// would be forgotten when this command ends.')
  const named = await refusal(openConfiguredDatabase({ DATA_DIR: 'memory://somewhere' }, { inMemory: 'holds no documents.' }))
  t.equal(named.message, 'DATA_DIR=memory:// holds no documents.')
})

t.test('a CLI that only reads: a folder without a database is a wrong DATA_DIR, and nothing is made in it', async t => {
  const dir = await tempDir(t)
  const error = await refusal(openConfiguredDatabase({ DATA_DIR: dir }, { ...OPENING, whenMissing: 'point DATA_DIR at the server\'s folder.' }))
  t.equal(error.message, `there is no database in ${dir} (DATA_DIR): point DATA_DIR at the server's folder.`)
  t.notOk(existsSync(join(dir, 'PG_VERSION')), 'no database created')
  const missing = join(dir, 'not', 'there')
  await refusal(openConfiguredDatabase({ DATA_DIR: missing }, { ...OPENING, whenMissing: 'x' }))
  t.notOk(existsSync(missing), 'nor the folder')
})

t.test('an embedded database: made, migrated and described; held by another opener, refused with the way round it', async t => {
  const dir = join(await tempDir(t), 'data')
  const opened = await openConfiguredDatabase({ DATA_DIR: dir, KB_SEED_DIR: '' }, OPENING)
  let closed = false
  t.teardown(async () => { if (!closed) await opened.db.close() })
  t.equal(opened.db.engine, 'pglite')
  t.equal(opened.description, `the embedded database in ${dir}`)
  t.equal(opened.config.DATA_DIR, dir)
  const { rows } = await opened.db.query<{ count: number }>('SELECT count(*)::int AS count FROM sessions')
  t.same(rows, [{ count: 0 }], 'migrated: the schema is there')

  const held = await refusal(openConfiguredDatabase({ DATA_DIR: dir }, { ...OPENING, whenLocked: 'Or import through the server: --url <server>.' }))
  t.match(held.message, new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${process.pid} .* Or import through the server: --url <server>\\.$`))
  t.notMatch(held.message, /kb:import/, 'in place of the lock\'s own way round it')
  const heldPlain = await refusal(openConfiguredDatabase({ DATA_DIR: dir }, OPENING))
  t.match(heldPlain.message, /\(npm run kb:import -- --url <server> <folder>\)\.$/, 'nothing added without whenLocked')

  await opened.db.close()
  closed = true
  const again = await openConfiguredDatabase({ DATA_DIR: dir }, { ...OPENING, whenMissing: 'x' })
  t.teardown(() => again.db.close())
  t.equal(again.description, `the embedded database in ${dir}`, 'a CLI that only reads opens one that exists')
})

t.test('a relative DATA_DIR is described as the absolute folder', async t => {
  const error = await refusal(openConfiguredDatabase({ DATA_DIR: './surely-not-here' }, { ...OPENING, whenMissing: 'x' }))
  t.equal(error.message, `there is no database in ${join(process.cwd(), 'surely-not-here')} (DATA_DIR): x`)
})

t.test('PostgreSQL that does not answer: could not open, said as such', async t => {
  const port = await freePort()
  const error = await refusal(openConfiguredDatabase({ DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` }, OPENING))
  t.match(error.message, /^could not open the database: .*ECONNREFUSED/)
})

const serverUrl = process.env.TEST_DATABASE_URL ?? ''
t.test('server PostgreSQL: DATA_DIR does not matter, even memory:// or a folder without a database', { skip: serverUrl === '' && 'needs TEST_DATABASE_URL' }, async t => {
  const database = await createServerDatabase(serverUrl)
  t.teardown(() => database.drop())
  const opened = await openConfiguredDatabase({ DATABASE_URL: database.url, DATA_DIR: 'memory://' }, { ...OPENING, whenMissing: 'x' })
  t.teardown(() => opened.db.close())
  t.equal(opened.db.engine, 'postgres')
  t.equal(opened.description, 'the PostgreSQL database at DATABASE_URL', 'the URL, which may hold a password, is not repeated')
  t.same((await opened.db.query<{ count: number }>('SELECT count(*)::int AS count FROM sessions')).rows, [{ count: 0 }])
})

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

interface Seen { method?: string, url?: string, headers: IncomingHttpHeaders, body: string }

/** A real server answering every request with the given status and raw body. */
async function server (t: Test, status: number, body: string): Promise<{ base: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const http = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: text })
      res.writeHead(status, { 'content-type': 'application/json' }).end(body)
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { http.closeAllConnections(); http.close() })
  return { base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen }
}

const KEY = { PARLEY_API_KEY: 'admin-key-0123456789abcdef' }

t.test('adminEndpoint: the key comes from PARLEY_API_KEY, the URL must be one', async t => {
  const thrown = (fn: () => unknown): unknown => { try { fn() } catch (error) { return error } }
  const noKey = thrown(() => adminEndpoint('http://127.0.0.1:3000', 'v1/kb/evaluations', {}))
  t.ok(noKey instanceof CliError)
  t.equal((noKey as Error).message, 'PARLEY_API_KEY must hold an admin key of the server given with --url.')
  t.ok(thrown(() => adminEndpoint('http://127.0.0.1:3000', 'v1/kb/evaluations', { PARLEY_API_KEY: '' })) instanceof CliError, 'an empty key is none')
  const notUrl = thrown(() => adminEndpoint('127.0.0.1:3000x', 'v1/x', KEY))
  t.ok(notUrl instanceof CliError)
  t.equal((notUrl as Error).message, '--url 127.0.0.1:3000x is not a URL (for example http://127.0.0.1:3000).')
  t.ok(thrown(() => adminEndpoint('not a url', 'v1/x', KEY)) instanceof CliError)
  t.equal(adminEndpoint('http://127.0.0.1:3000', 'v1/admin/erasures', KEY).endpoint.href, 'http://127.0.0.1:3000/v1/admin/erasures')
  t.equal(adminEndpoint('http://example.com/parley/', 'v1/admin/erasures', KEY).endpoint.href, 'http://example.com/parley/v1/admin/erasures', 'under a prefix ending in /')
  t.equal(adminEndpoint('http://example.com/parley', 'v1/admin/erasures', KEY).endpoint.href, 'http://example.com/v1/admin/erasures', 'a last segment without / is replaced, as URLs resolve')
})

t.test('adminEndpoint.post: JSON with the key as a bearer token; the answer\'s JSON, or {} without any', async t => {
  const ok = await server(t, 201, '{"run":{"id":7}}')
  const endpoint = adminEndpoint(ok.base, 'v1/kb/evaluations', KEY)
  const { response, answer } = await endpoint.post<{ run: { id: number } }>({ questions: [{ question: 'q?', expected: ['a'] }] })
  t.equal(response.status, 201)
  t.same(answer, { run: { id: 7 } })
  t.equal(ok.seen[0]?.method, 'POST')
  t.equal(ok.seen[0]?.url, '/v1/kb/evaluations')
  t.equal(ok.seen[0]?.headers.authorization, `Bearer ${KEY.PARLEY_API_KEY}`)
  t.equal(ok.seen[0]?.headers['content-type'], 'application/json')
  t.same(JSON.parse(ok.seen[0]?.body ?? ''), { questions: [{ question: 'q?', expected: ['a'] }] })
  const notJson = await server(t, 502, '<html>Bad Gateway</html>')
  const bad = await adminEndpoint(notJson.base, 'v1/x', KEY).post({})
  t.equal(bad.response.status, 502)
  t.same(bad.answer, {}, 'a body that is not JSON reads as {}')
})

t.test('adminEndpoint.post: nobody listening is a CliError naming the origin and the cause', async t => {
  const port = await freePort()
  const error = await refusal(adminEndpoint(`http://127.0.0.1:${port}/prefix/`, 'v1/x', KEY).post({}))
  t.equal(error.message, `could not reach http://127.0.0.1:${port} (ECONNREFUSED); is the server running?`)
})

t.test('adminEndpoint.refused: a refused key says which key to set; other failures the server\'s own words', async t => {
  for (const status of [401, 403]) {
    const refusing = await server(t, status, JSON.stringify({ title: 'Forbidden', detail: 'This route needs an admin key.' }))
    const endpoint = adminEndpoint(refusing.base, 'v1/x', KEY)
    const { response, answer } = await endpoint.post({})
    const error = endpoint.refused(response, answer)
    t.ok(error instanceof CliError)
    t.equal(error.message, `the server refused the key (${status} This route needs an admin key.); PARLEY_API_KEY must be an admin key of ${refusing.base}`)
  }
  const conflict = await server(t, 409, JSON.stringify({ title: 'Conflict' }))
  const endpoint = adminEndpoint(conflict.base, 'v1/x', KEY)
  const answered = await endpoint.post({})
  t.equal(endpoint.refused(answered.response, answered.answer).message, `${conflict.base} answered 409 Conflict`, 'the title when there is no detail')
  const bare = await server(t, 500, '')
  const bareEndpoint = adminEndpoint(bare.base, 'v1/x', KEY)
  const empty = await bareEndpoint.post({})
  t.equal(bareEndpoint.refused(empty.response, empty.answer).message, `${bare.base} answered 500 Internal Server Error`, 'the status text when there is neither')
})
