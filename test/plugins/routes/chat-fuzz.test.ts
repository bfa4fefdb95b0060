// Thousands of random bodies and messages against POST /v1/chat: every answer is 2xx or 4xx,
// never a 5xx, never a thrown error.
import t from 'tap'
import fc from 'fast-check'
import { buildTestApp } from '../../helper.js'

t.test('the chat endpoint answers any body with 2xx or 4xx', async t => {
  const app = await buildTestApp(t, { MAX_ACTIVE_SESSIONS: '1000000', MAX_SESSIONS_PER_USER: '100000' })
  const seed = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).json().session_id as string
  const statuses = new Map<number, number>()
  const commandWords = ['/help', '/search', '/history', '/reset', '/feedback', '/serch', '/', '//', '/HELP', '/search --k', '/feedback up']
  const message = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.tuple(fc.constantFrom(...commandWords), fc.string({ maxLength: 60 })).map(([c, rest]) => `${c} ${rest}`),
    fc.string({ minLength: 3990, maxLength: 4010 })
  )
  const userId = fc.string({ minLength: 1, maxLength: 128 })
  const body = fc.oneof(
    // Well-formed turns that start a session of their own (the seed session is soon /reset by the fuzz, then 404s).
    { arbitrary: fc.record({ message, user_id: userId }, { requiredKeys: ['message'] }), weight: 6 },
    fc.record({ message, session_id: fc.oneof(fc.constant(seed), fc.uuid()) }),
    // Anything at all.
    fc.record({ message: fc.jsonValue(), session_id: fc.string(), user_id: fc.jsonValue(), extra: fc.jsonValue() }, { requiredKeys: [] }),
    fc.jsonValue(),
    fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue(), { maxKeys: 4 })
  )
  await fc.assert(fc.asyncProperty(body, async (payload) => {
    const res = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    return res.statusCode >= 200 && res.statusCode < 500
  }), { numRuns: 3000 })

  const raw = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }))
  await fc.assert(fc.asyncProperty(raw, async (payload) => {
    const res = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'content-type': 'application/json' }, payload })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    return res.statusCode >= 400 && res.statusCode < 500
  }), { numRuns: 1000 })
  // The session routes take ids from the path: odd UUID spellings and junk are 400 or 404, never 500.
  const oddId = fc.oneof(fc.uuid(), fc.string({ maxLength: 60 }), fc.uuid().map(id => `urn:uuid:${id}`), fc.uuid().map(id => `{${id.toUpperCase()}}`), fc.constant(seed))
  await fc.assert(fc.asyncProperty(oddId, fc.constantFrom('GET', 'DELETE'), fc.boolean(), fc.string({ maxLength: 20 }), async (id, method, messages, before) => {
    const url = `/v1/sessions/${encodeURIComponent(id)}${messages ? `/messages?limit=3&before=${encodeURIComponent(before)}` : ''}`
    const res = await app.inject({ method: messages ? 'GET' : method, url })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    return res.statusCode < 500
  }), { numRuns: 1000 })
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(200) ?? 0) > 1000, 'a good share of the random messages were real turns')
  t.ok((statuses.get(400) ?? 0) > 500, 'and a good share were refused as invalid')
})
