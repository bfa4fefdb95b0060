// `npm run erase`: through a running server (--url, PARLEY_API_KEY) and on the configured database,
// stdout the report only (a line, or JSON), stderr the rest, exit 0 when done and 2 when nothing
// was erased; bad arguments are named before anything is opened.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { main } from '../../../src/cli/erase.js'
import { openDatabase } from '../../../src/db/open-database.js'
import { buildTestApp, cliDatabase, collector, tempDir } from '../../helper.js'

const SESSION = '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b'

const run = async (argv: string[], env: Record<string, string>, options: { stdin?: string, sleep?: (ms: number) => Promise<void> } = {}) => {
  const stdout = collector()
  const stderr = collector()
  const stdin = Readable.from(options.stdin === undefined ? [] : [options.stdin])
  const code = await main(argv, env, { stdout: stdout.stream, stderr: stderr.stream, stdin }, options.sleep)
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

t.test('--url: a user, then a session, erased through a running server, which audits the key', async t => {
  const admin = randomBytes(16).toString('hex')
  const analyst = randomBytes(16).toString('hex')
  const app = await buildTestApp(t, { API_KEYS: `${admin}:admin,${analyst}:analyst`, KB_SEED_DIR: '' })
  const chat = async (payload: Record<string, string>) => (await app.inject({ method: 'POST', url: '/v1/chat', payload })).json<{ session_id: string }>()
  await chat({ message: 'hello', user_id: 'u1' })
  const kept = await chat({ message: 'hello', user_id: 'u2' })
  await app.turnTraces.flush()
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  t.match(await run(['--url', base, '--user', 'u1'], { PARLEY_API_KEY: analyst }), { code: 2, stdout: '', stderr: /the server refused the key \(403/ })
  t.match(await run(['--url', base, '--user', 'u1'], {}), { code: 2, stderr: /PARLEY_API_KEY must hold an admin key/ })
  t.match(await run(['--url', 'not a url', '--user', 'u1'], { PARLEY_API_KEY: admin }), { code: 2, stderr: /is not a URL/ })

  const text = await run(['--url', base, '--user', 'u1'], { PARLEY_API_KEY: admin })
  t.equal(text.code, 0, text.stderr)
  t.equal(text.stderr, `Erasing a user in the server at ${base}.\n`, 'the user id is not repeated')
  const pseudonym = app.logPrivacy.pseudonym('u1')
  t.match(text.stdout, new RegExp(`^Erased user ${pseudonym} at \\S+: 1 session, 2 messages, 0 ratings, 1 turn trace, 0 saved test questions, 0 accuracy runs with their words blanked\\.\\n$`))
  const { rows } = await app.db.query<{ actor: string, target: string }>("SELECT actor, target FROM audit_events WHERE action = 'personal_data.erase'")
  t.match(rows, [{ actor: /^key_/, target: pseudonym }], 'audited under the key, by pseudonym')

  const again = await run(['--url', base, '--user', 'u1', '--format', 'json'], { PARLEY_API_KEY: admin })
  t.equal(again.stderr, '', 'nothing but the JSON')
  t.match(JSON.parse(again.stdout), { subject: 'user', user_pseudonym: pseudonym, erased: { sessions: 0, messages: 0 } })

  const session = await run(['--url', base, '--session', kept.session_id], { PARLEY_API_KEY: admin })
  t.match(session, { code: 0, stdout: new RegExp(`^Erased session ${kept.session_id} \\(of user u_[0-9a-f]{16}\\) at \\S+: 1 session, 2 messages`) })
  t.equal((await app.db.query('SELECT 1 FROM sessions')).rows.length, 0)
  t.match(await run(['--url', base, '--session', kept.session_id], { PARLEY_API_KEY: admin }), { code: 0, stdout: /Nothing was left to erase\.\n$/ })
})

t.test('--url: a busy server is asked again when it says to; another failure stops it', async t => {
  let calls = 0
  const report = { subject: 'session', user_pseudonym: null, session_id: SESSION, erased_at: '2026-01-15T10:00:00.000Z', erased: { sessions: 1, messages: 2, feedback: 0, turn_traces: 0, evaluation_questions: 0, evaluation_runs: 0 } }
  const server = createServer((request, response) => {
    calls++
    if (calls === 1) response.writeHead(503, { 'retry-after': '3', 'content-type': 'application/problem+json' }).end('{"detail":"busy"}')
    else if (calls === 2) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report))
    else response.writeHead(500, { 'content-type': 'application/problem+json' }).end('{"detail":"The server failed"}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const slept: number[] = []
  const sleep = async (ms: number) => { slept.push(ms) }
  t.match(await run(['--url', base, '--session', SESSION], { PARLEY_API_KEY: 'key' }, { sleep }), { code: 0, stdout: /^Erased session/ })
  t.same(slept, [3000], 'after the Retry-After it sent')
  t.match(await run(['--url', base, '--session', SESSION], { PARLEY_API_KEY: 'key' }, { sleep }), { code: 2, stderr: /answered 500 The server failed/ })
})

t.test('bad arguments are named, and nothing is opened', async t => {
  const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }
  t.match(await run([], env), { code: 2, stdout: '', stderr: /erase: give exactly one of --user and --session\.\nUsage/ })
  t.match(await run(['--user', 'u1', '--session', SESSION], env), { code: 2, stderr: /exactly one of --user and --session/ })
  t.match(await run(['--session', 'nope'], env), { code: 2, stderr: /--session must be a session id \(a UUID/ })
  t.match(await run(['--user', 'x'.repeat(129)], env), { code: 2, stderr: /--user must be a user id of 1 to 128 characters/ })
  t.match(await run(['--user', '-'], env, { stdin: '\n' }), { code: 2, stderr: /stdin gave 0 characters/ })
  t.match(await run(['--user', 'u1', '--format', 'xml'], env), { code: 2, stderr: /--format must be text or json/ })
  t.match(await run(['--users', 'u1'], env), { code: 2, stderr: /Unknown option '--users'/ })
  t.match(await run(['--help'], env), { code: 0, stdout: /^Usage: npm run erase -- / })
  t.match(await run(['--user', 'u1'], { DATA_DIR: 'memory://' }), { code: 2, stderr: /DATA_DIR=memory:\/\/ holds nothing to erase/ })
  t.match(await run(['--user', 'u1'], env), { code: 2, stderr: /could not open the database/ })
  const missing = join(await tempDir(t), 'data')
  t.match(await run(['--user', 'u1'], { DATA_DIR: missing }), { code: 2, stderr: `erase: there is no database in ${missing} (DATA_DIR): set DATA_DIR to the server's folder` })
  t.notOk(existsSync(missing), 'a wrong folder gets no empty database')
})

t.test('without --url: the configured database, the user id read from stdin, audited as the command', async t => {
  const { env, db } = await cliDatabase(t)
  const app = await buildTestApp(t, { KB_SEED_DIR: '' }, { database: db })
  const opened = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello', user_id: 'customer 42' } })).json<{ session_id: string }>()
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help', session_id: opened.session_id } })
  const pseudonym = app.logPrivacy.pseudonym('customer 42')
  await app.close()
  await db.close()

  const erased = await run(['--user', '-', '--format', 'json'], env, { stdin: 'customer 42\n' })
  t.equal(erased.code, 0, erased.stderr)
  t.match(JSON.parse(erased.stdout), { subject: 'user', user_pseudonym: pseudonym, erased: { sessions: 1, messages: 4, turn_traces: 2 } }, 'the server\'s pseudonym, from the key kept in the database')
  const after = await openDatabase({ databaseUrl: env.DATABASE_URL ?? '', dataDir: env.DATA_DIR ?? '', poolSize: 2 })
  t.teardown(() => after.close())
  t.equal((await after.query('SELECT 1 FROM messages')).rows.length, 0)
  const { rows } = await after.query<{ actor: string, target: string }>("SELECT actor, target FROM audit_events WHERE action = 'personal_data.erase'")
  t.same(rows, [{ actor: 'erase', target: pseudonym }])
})
