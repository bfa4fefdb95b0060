// Access by API key and role, over the app's own OpenAPI document: every route with a security
// requirement refuses no key (401), a wrong key (401), a malformed header (401) and a key of a
// role it does not admit (403), each with its problem type, before reading a body; and the chat
// routes are open unless CHAT_REQUIRE_KEY=true.
import t from 'tap'
import { buildTestApp, manualClock } from '../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
// The roles each route family admits, as the README's route table states them.
const ADMIN_ONLY = /^\/v1\/(kb|admin\/(log-level|erasures|user-data)|sessions$)|^\/console\/api\/kb\//
// The knowledge base's test runs and saved questions: analysts read them, only admins run or change them.
const EVALUATIONS = /^\/(v1\/kb|console\/api)\/evaluation/
const adminOnly = (method: string, path: string): boolean => EVALUATIONS.test(path) ? method !== 'GET' : ADMIN_ONLY.test(path)

/** Every operation of the app's OpenAPI document with a security requirement, its path's parameters filled in. */
async function securedOperations (app: Awaited<ReturnType<typeof buildTestApp>>) {
  const spec = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> }
  return Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods)
    .filter(([, operation]) => operation.security !== undefined)
    .map(([method]) => ({ method: method.toUpperCase() as 'GET', url: path.replace(/\{[^}]+\}/g, 'x'), path })))
}

t.test('every secured route: no key, a wrong or malformed key, and the wrong role are refused', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst` })
  const secured = await securedOperations(app)
  t.ok(secured.length >= 12, `${secured.length} secured operations`)
  for (const { method, url, path } of secured) {
    const ask = async (authorization?: string) => await app.inject({ method, url, headers: authorization === undefined ? {} : { authorization }, payload: method === 'GET' || method === 'DELETE' ? undefined : {} })
    const none = await ask()
    t.match({ status: none.statusCode, type: none.json().type, challenge: none.headers['www-authenticate'] }, { status: 401, type: 'urn:parley:problem:unauthorized', challenge: 'Bearer' }, `${method} ${path}: no key`)
    for (const wrong of ['Bearer not-a-key-0123456789abcdef', `Basic ${ADMIN}`, ADMIN, 'Bearer ']) {
      t.equal((await ask(wrong)).statusCode, 401, `${method} ${path}: ${JSON.stringify(wrong.slice(0, 12))}…`)
    }
    const analyst = await ask(`Bearer ${ANALYST}`)
    if (adminOnly(method, path)) {
      t.match({ status: analyst.statusCode, type: analyst.json().type }, { status: 403, type: 'urn:parley:problem:forbidden' }, `${method} ${path}: an analyst key is not enough`)
      t.match(analyst.json().detail, /needs the admin role; the key has the analyst role/)
    } else {
      t.not(analyst.statusCode, 401, `${method} ${path}: an analyst key is admitted`)
      t.not(analyst.statusCode, 403)
    }
    const admin = await ask(`Bearer ${ADMIN}`)
    t.notOk([401, 403].includes(admin.statusCode), `${method} ${path}: an admin key is admitted (${admin.statusCode})`)
  }
})

t.test('a refused request is not served as well: its handler never runs', async t => {
  // Fastify goes on to the handler after an async hook that answered without resolving to the
  // reply, whenever an onSend hook was still running: an analyst's 403 from /v1/admin/user-data
  // was an export all the same, in the audit trail as one. Every refusal here must leave the
  // audit trail with denials alone.
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst` })
  let refused = 0
  for (const { method, url, path } of await securedOperations(app)) {
    const asked = url.replace('/v1/admin/user-data', '/v1/admin/user-data?user_id=someone')
    for (const key of adminOnly(method, path) ? [undefined, ANALYST] : [undefined]) {
      const response = await app.inject({ method, url: asked, headers: key === undefined ? {} : { authorization: `Bearer ${key}` }, payload: method === 'GET' || method === 'DELETE' ? undefined : { user_id: 'someone' } })
      t.ok([401, 403].includes(response.statusCode), `${method} ${path}: refused`)
      refused++
    }
  }
  // A handler run after its refusal ends after the response: its audit entry would follow it.
  await new Promise(resolve => setTimeout(resolve, 50))
  const { rows } = await app.db.query<{ action: string }>('SELECT DISTINCT action FROM audit_events')
  t.same(rows.map(row => row.action), ['auth.denied'], `${refused} refusals, and nothing done`)
})

t.test('without API_KEYS the secured routes are disabled with a message that says how to enable them', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(res.statusCode, 403)
  t.match(res.json(), { type: 'urn:parley:problem:admin-disabled', detail: /Set API_KEYS=/ })
})

t.test('chat is open by default; with CHAT_REQUIRE_KEY=true it needs a valid key of any role', async t => {
  const open = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst` })
  t.equal((await open.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' } })).statusCode, 200)
  const wrong = await open.inject({ method: 'POST', url: '/v1/chat', headers: { authorization: 'Bearer wrong-key-0123456789abcdef' }, payload: { message: 'hi' } })
  t.equal(wrong.statusCode, 401, 'a wrong key is refused even where none is needed, not served as anonymous')
  t.match(wrong.json(), { detail: 'The API key is not valid.' })
  const closed = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst`, CHAT_REQUIRE_KEY: 'true' })
  t.equal((await closed.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' } })).statusCode, 401)
  t.equal((await closed.inject({ method: 'POST', url: '/v1/chat', headers: { authorization: 'Bearer wrong-key-0123456789abcdef' }, payload: { message: 'hi' } })).statusCode, 401)
  const chatted = await closed.inject({ method: 'POST', url: '/v1/chat', headers: { authorization: `Bearer ${ANALYST}` }, payload: { message: 'hi' } })
  t.equal(chatted.statusCode, 200, 'an analyst key may chat')
  t.equal((await closed.inject({ url: `/v1/sessions/${chatted.json().session_id as string}` })).statusCode, 401, 'and the session routes need a key too')
})

// Guessing keys: past WRONG_KEYS_PER_MINUTE wrong keys from an address, no key from it is checked
// until the minute is over, the right one neither; refusals are audited with the address.
t.test('ten wrong keys, then 429 with Retry-After for every key from that address, for the rest of the minute', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, WRONG_KEYS_PER_MINUTE: '10' }, { clock: clock.now })
  const get = async (key: string | undefined, remoteAddress = '203.0.113.7') => await app.inject({ url: '/v1/admin/alerts', remoteAddress, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
  for (let i = 0; i < 10; i++) t.equal((await get(`wrong-key-${i}-0123456789`)).statusCode, 401, `wrong key ${i + 1}: 401`)
  const throttled = await get('wrong-key-10-0123456789')
  t.equal(throttled.statusCode, 429)
  t.match(throttled.json(), { type: /limit-exceeded$/, limit: 'wrong_keys_per_client', max: 10, detail: /WRONG_KEYS_PER_MINUTE/ })
  t.equal(throttled.headers['retry-after'], '60')
  t.equal((await get(ADMIN)).statusCode, 429, 'the right key is not checked either: a guess learns nothing')
  t.equal((await get(ADMIN, '198.51.100.9')).statusCode, 200, 'another address is not held back')
  t.equal((await get(undefined)).statusCode, 401, 'a request without a key is refused as before')
  t.equal((await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '203.0.113.7', payload: { api_key: ADMIN } })).statusCode, 429, 'nor is a key tried through the console\'s sign-in')
  clock.advance(60_000)
  t.equal((await get(ADMIN)).statusCode, 200, 'a minute later the right key works again')
})

t.test('refused keys are audited with the client\'s address', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin` })
  await app.inject({ url: '/v1/admin/alerts', remoteAddress: '203.0.113.8', headers: { authorization: 'Bearer not-our-key-0123456789' } })
  const { rows } = await app.db.query<{ actor: string, details: Record<string, unknown> }>("SELECT actor, details FROM audit_events WHERE action = 'auth.denied'")
  t.match(rows, [{ actor: 'unknown-key', details: { status: 401, address: '203.0.113.8' } }])
})
