import t from 'tap'
import { createLogger } from '../../../src/logging/logger.js'
import { setModuleLevel } from '../../../src/logging/log-context.js'
import { buildTestApp, openTestPGlite } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const headers = { authorization: `Bearer ${ADMIN}` }

t.test('log levels change at run time, globally or per module, and every change is audited', async t => {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, KB_SEED_DIR: '' }, { logger })
  t.teardown(() => setModuleLevel('chat', undefined)) // module levels are process-wide
  const put = (body: Record<string, unknown>) => app.inject({ method: 'PUT', url: '/v1/admin/log-level', headers, payload: body })
  const count = (msg: string) => lines.filter(line => line.msg === msg).length

  t.equal((await app.inject({ method: 'GET', url: '/v1/admin/log-level' })).statusCode, 401)
  t.same((await app.inject({ method: 'GET', url: '/v1/admin/log-level', headers })).json(), { level: 'info', modules: {} })

  const sessionId = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })).json().session_id
  t.equal(count('chat.reply_sent'), 1)
  t.same((await put({ module: 'chat', level: 'warn' })).json(), { level: 'info', modules: { chat: 'warn' } })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })
  t.equal(count('chat.reply_sent'), 1, 'chat lines are silenced at warn')
  t.equal(lines.filter(line => line.msg === 'request completed' && line.route === '/v1/chat').length, 2, 'other modules go on at info')

  t.same((await put({ module: 'chat', reset: true })).json(), { level: 'info', modules: {} })
  t.same((await put({ level: 'debug' })).json(), { level: 'debug', modules: {} })
  t.notOk(lines.some(line => line.msg === 'session.resumed'), 'no debug line so far')
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?', session_id: sessionId } })
  t.match(lines.find(line => line.msg === 'session.resumed'), { level: 'debug', module: 'session_manager' }, 'debug lines appear after the global change')

  t.equal((await put({})).statusCode, 400)
  t.equal((await put({ module: 'chat' })).statusCode, 400)
  t.match((await put({ level: 'loud' })).json().detail, /^body\/level must be one of trace, debug, info, warn, error, fatal, silent$/)
  const unknownModule = await put({ module: 'nosuchmodule', level: 'debug' })
  t.equal(unknownModule.statusCode, 400, 'a module that does not log is refused, not stored')
  t.match(unknownModule.json().detail, /^body\/module must be one of server, http, .*search_engine/)

  const { rows } = await app.db.query<{ action: string, target: string, details: { after: unknown } }>("SELECT action, target, details FROM audit_events WHERE action = 'log_level.change' ORDER BY id")
  t.same(rows.map(r => r.target), ['chat', 'chat', 'global'])
  t.same(rows[2]!.details.after, { level: 'debug', modules: {} })
})

t.test('a change whose audit entry cannot be written is put back and reported, not kept unaudited', async t => {
  const database = await openTestPGlite(t)
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, KB_SEED_DIR: '' }, { database })
  t.teardown(() => setModuleLevel('search_engine', undefined))
  await app.ready()
  const levels = async (): Promise<unknown> => (await app.inject({ method: 'GET', url: '/v1/admin/log-level', headers })).json()
  const before = await levels()
  await database.query('ALTER TABLE audit_events RENAME TO audit_events_gone') // every audit write now fails
  const failed = await app.inject({ method: 'PUT', url: '/v1/admin/log-level', headers, payload: { module: 'search_engine', level: 'debug' } })
  t.equal(failed.statusCode, 500)
  const global = await app.inject({ method: 'PUT', url: '/v1/admin/log-level', headers, payload: { level: 'debug' } })
  t.equal(global.statusCode, 500)
  t.same(await levels(), before, 'neither change was kept')
})
