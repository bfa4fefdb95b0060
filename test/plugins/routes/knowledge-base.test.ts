import t from 'tap'
import { buildTestApp, engines, waitFor } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
const KEYS = { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, KB_SEED_DIR: '' }
const as = (key: string) => ({ authorization: `Bearer ${key}` })

t.test('admin routes: 401 without a key, 403 with the wrong role, 403 when no keys are configured', async t => {
  const app = await buildTestApp(t, KEYS)
  const none = await app.inject({ method: 'GET', url: '/v1/kb/search?q=x' })
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], 'Bearer')
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/search?q=x', headers: as('wrong-key-0123456789abcdef') })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/search?q=x', headers: { authorization: 'Basic abc' } })).statusCode, 401)
  const analyst = await app.inject({ method: 'GET', url: '/v1/kb/search?q=x', headers: as(ANALYST) })
  t.equal(analyst.statusCode, 403)
  t.match(analyst.json().detail, /needs the admin role; the key has the analyst role/)
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/search?q=x', headers: as(ADMIN) })).statusCode, 200)
  const unread = await app.inject({ method: 'POST', url: '/v1/kb/documents', payload: { not: 'valid' } })
  t.equal(unread.statusCode, 401, 'the key is checked before the body is even validated')

  const { rows } = await app.db.query<{ actor: string, details: unknown }>("SELECT actor, details FROM audit_events WHERE action = 'auth.denied' ORDER BY id")
  // The first refusal of each source in a minute is recorded at once; its repeats are counted (denial-audit.test.ts).
  t.same(rows.map(r => r.actor), ['anonymous', 'unknown-key', rows[2]!.actor])
  t.match(rows[2]!.actor, /^key_[0-9a-f]{12}$/, 'the analyst is named by key id')
  t.notMatch(JSON.stringify(rows), /analyst-key|wrong-key/, 'no key is ever recorded')

  const disabled = await buildTestApp(t, { KB_SEED_DIR: '' })
  const res = await disabled.inject({ method: 'GET', url: '/v1/kb/search?q=x', headers: as(ADMIN) })
  t.equal(res.statusCode, 403)
  t.match(res.json().detail, /no API keys are configured\. Set API_KEYS/)
})

t.test('CHAT_REQUIRE_KEY closes chat to callers without a valid key', async t => {
  const app = await buildTestApp(t, { ...KEYS, CHAT_REQUIRE_KEY: 'true' })
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' }, headers: as(ANALYST) })).statusCode, 200)
})

t.test('a reply\'s source is readable whole by whoever may chat: the documents that answer users, and where they live', async t => {
  // The bundled docs are seeded; the team's own collection then answers instead of them.
  const app = await buildTestApp(t, { API_KEYS: KEYS.API_KEYS })
  const bundled = await app.inject({ url: '/v1/sources/tracing-and-logs' })
  t.equal(bundled.statusCode, 200)
  t.match(bundled.json(), { doc_id: 'tracing-and-logs', title: 'Viewing traces, logs and metrics', text: /x-trace-id/, url: null })
  const added = await app.inject({
    method: 'POST',
    url: '/v1/kb/documents',
    headers: as(ADMIN),
    payload: { documents: [{ id: 'refunds', title: 'Refunds', text: 'Refunds within 30 days.', metadata: { url: 'https://shop.example.com/help/refunds' } }, { id: 'odd', title: 'Odd', text: 'x', metadata: { url: 'javascript:alert(1)' } }] }
  })
  t.equal(added.statusCode, 201)
  t.same((await app.inject({ url: '/v1/sources/refunds' })).json(), { doc_id: 'refunds', title: 'Refunds', text: 'Refunds within 30 days.', url: 'https://shop.example.com/help/refunds' }, 'its address on the team\'s site')
  t.equal((await app.inject({ url: '/v1/sources/odd' })).json().url, null, 'an address that is not http(s) is not a link')
  t.equal((await app.inject({ url: '/v1/sources/tracing-and-logs' })).statusCode, 404, 'the bundled docs no longer answer, so they are not shown either')
  t.equal((await app.inject({ url: '/v1/sources/no-such-doc' })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/sources/bad%20id' })).statusCode, 400)

  const closed = await buildTestApp(t, { ...KEYS, CHAT_REQUIRE_KEY: 'true' })
  t.equal((await closed.inject({ url: '/v1/sources/refunds' })).statusCode, 401, 'as closed as the chat')
})

for (const engine of engines()) {
  t.test(`knowledge-base documents on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const app = await buildTestApp(t, KEYS, { database: db })
    const post = (documents: unknown[]) => app.inject({ method: 'POST', url: '/v1/kb/documents', headers: as(ADMIN), payload: { documents } })
    const search = async (q: string) => (await app.inject({ method: 'GET', url: `/v1/kb/search?q=${encodeURIComponent(q)}&k=5`, headers: as(ADMIN) })).json().results

    const created = await post([
      { id: 'refunds', title: 'Refund policy', text: '# Refunds\n\nRefunds are paid within 14 days of a return.\n\n## Exceptions\n\nGift cards are never refunded.' },
      { title: 'Shipping', text: 'Parcels ship from Rotterdam on weekdays.', metadata: { lang: 'en' } }
    ])
    t.equal(created.statusCode, 201, created.body)
    const [refundsId, shippingId] = created.json().ids
    t.equal(refundsId, 'refunds', "the caller's id is kept")
    t.match(shippingId, /^[0-9a-f-]{36}$/, 'an id is made when none is given')
    t.match(await search('gift card refund'), [{ doc_id: 'refunds', title: 'Refund policy', snippet: /Gift cards/ }])

    const conflict = await post([{ title: 'New', text: 'new text about rotterdam' }, { id: 'refunds', title: 'Again', text: 'dup' }])
    t.equal(conflict.statusCode, 409)
    t.match(conflict.json(), { title: 'Conflict', id: 'refunds' })
    t.equal((await db.query('SELECT id FROM kb_documents')).rows.length, 2, 'a refused batch stores nothing')
    t.equal((await post([{ id: 'a', title: 'A', text: 'a' }, { id: 'a', title: 'B', text: 'b' }])).statusCode, 409, 'a repeated id is refused')
    t.equal((await post(Array.from({ length: 1001 }, (_, i) => ({ title: `t${i}`, text: 'x' })))).statusCode, 400, 'over 1,000 documents')
    t.match((await post([{ title: '  ', text: 'x' }])).json().detail, /title must not be blank/)
    const nul = await post([{ id: 'nul', title: 'NUL', text: 'fine', metadata: { 'a\u0000b': 'c\u0000' } }])
    t.same([nul.statusCode, nul.json().type], [400, 'urn:parley:problem:unstorable-input'], 'NUL in metadata is refused, not a 500')

    const got = await app.inject({ method: 'GET', url: '/v1/kb/documents/refunds', headers: as(ADMIN) })
    t.match(got.json(), { id: 'refunds', title: 'Refund policy', passages: 2, metadata: {} })

    await post([{ id: 'zz-faq', title: 'Hours', text: 'Nine to five.', collection: 'faq' }])
    const list = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/v1/kb/documents${query}`, headers: as(ADMIN) })).json()
    const all = await list('?limit=1000')
    t.equal(all.documents.length, 3)
    t.same(all.documents.map((document: { id: string }) => document.id),
      all.documents.map((document: { id: string }) => document.id).sort(), 'in order of id')
    t.equal(all.next_after, null)
    t.notOk('text' in all.documents[0], 'without their text')
    const first = await list('?limit=2')
    t.same(first.documents.length, 2)
    t.same((await list(`?limit=2&after=${first.next_after}`)).documents[0].id, all.documents[2].id, 'the next page after the last')
    t.match((await list('?collection=faq')).documents, [{ id: 'zz-faq', title: 'Hours', collection: 'faq' }])
    t.equal((await list('?collection=faq')).documents.length, 1, 'only that collection')
    t.match((await list('?limit=0')), { status: 400, detail: 'querystring/limit must be >= 1' })
    const elsewhere = await app.inject({ method: 'GET', url: '/v1/kb/search?q=refunds&collection=fqa', headers: as(ADMIN) })
    t.match([elsewhere.statusCode, elsewhere.json()], [404, { detail: /^Collection fqa holds no documents; the collections are .*faq/ }], 'a misspelt collection is named, not an empty search')
    const searched = await app.inject({ method: 'GET', url: '/v1/kb/search?q=refunds&kk=3', headers: as(ADMIN) })
    t.match([searched.statusCode, searched.json()], [400, { detail: 'querystring/kk is not an allowed field' }], 'so is a misspelt search parameter')
    t.match((await list('?colection=faq')), { status: 400, detail: 'querystring/colection is not an allowed field' }, 'a misspelt parameter is named, not ignored')
    t.equal((await app.inject({ method: 'GET', url: '/v1/kb/documents', headers: as(ANALYST) })).statusCode, 403)
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/kb/documents/zz-faq', headers: as(ADMIN) })).statusCode, 204)

    const replaced = await app.inject({ method: 'PUT', url: '/v1/kb/documents/refunds', headers: as(ADMIN), payload: { title: 'Returns', text: 'Returns are accepted for 30 days.' } })
    t.same([replaced.statusCode, replaced.json()], [200, { id: 'refunds', created: false }])
    t.same(await search('gift card'), [], 'the replaced text is gone from the index')
    t.match(await search('returns accepted'), [{ doc_id: 'refunds', title: 'Returns' }])
    const made = await app.inject({ method: 'PUT', url: '/v1/kb/documents/faq-1', headers: as(ADMIN), payload: { title: 'FAQ', text: 'Opening hours are nine to five.' } })
    t.same([made.statusCode, made.json()], [201, { id: 'faq-1', created: true }])

    t.equal((await app.inject({ method: 'DELETE', url: '/v1/kb/documents/faq-1', headers: as(ADMIN) })).statusCode, 204)
    t.same(await search('opening hours'), [])
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/kb/documents/faq-1', headers: as(ADMIN) })).statusCode, 404)
    t.equal((await app.inject({ method: 'GET', url: '/v1/kb/documents/faq-1', headers: as(ADMIN) })).statusCode, 404)

    const audited = await db.query<{ action: string }>("SELECT action FROM audit_events WHERE action LIKE 'kb.%' ORDER BY id")
    t.same(audited.rows.map(r => r.action), [
      'kb.documents.add', 'kb.documents.add', 'kb.document.delete', 'kb.document.replace', 'kb.document.create',
      'kb.document.delete'
    ])

    const racing = await Promise.all([1, 2, 3, 4].map(() => post([{ id: 'race', title: 'Race', text: 'first writer wins' }])))
    t.same(racing.map(r => r.statusCode).sort(), [201, 409, 409, 409], 'concurrent adds of one id: exactly one succeeds')

    const longText = '## Part\nShort section.\n\n'.repeat(7000)
    const long = await app.inject({ method: 'PUT', url: '/v1/kb/documents/long', headers: as(ADMIN), payload: { title: 'Long', text: longText } })
    t.equal(long.statusCode, 201, 'a document of thousands of passages is stored in one statement')
    t.ok((await app.inject({ method: 'GET', url: '/v1/kb/documents/long', headers: as(ADMIN) })).json().passages > 1000)

    const chat = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how long are returns accepted?' } })
    t.match(chat.json(), { kind: 'answer', sources: [{ doc_id: 'refunds' }] }, 'chat answers from the changed knowledge base')
  })
}

const postgres = engines().find(engine => engine.name === 'postgres')
t.test('instances sharing server PostgreSQL learn of each other\'s document changes', { skip: postgres === undefined && 'needs TEST_DATABASE_URL' }, async t => {
  const db = await postgres!.open(t)
  const first = await buildTestApp(t, KEYS, { database: db })
  const second = await buildTestApp(t, KEYS, { database: db })
  await first.inject({ method: 'PUT', url: '/v1/kb/documents/news', headers: as(ADMIN), payload: { title: 'News', text: 'The penguin exhibit opens in March.' } })
  const seen = async () => second.searchEngine.search('penguin exhibit').length
  t.ok(await waitFor(async () => await seen() === 1), 'the other instance indexed the new document')
  await first.inject({ method: 'DELETE', url: '/v1/kb/documents/news', headers: as(ADMIN) })
  t.ok(await waitFor(async () => await seen() === 0), 'and dropped it when it was deleted')

  // Cut the second instance's LISTEN connection: it must resubscribe and catch up on what it missed.
  await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
  await first.inject({ method: 'PUT', url: '/v1/kb/documents/news', headers: as(ADMIN), payload: { title: 'News', text: 'The penguin exhibit opens in March.' } })
  t.ok(await waitFor(async () => await seen() === 1), 'a change made while the subscription was down still reaches the other instance')
})

t.test('metadata nested too deep or too large is a 400 naming the field and the limit, not a 500', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, KB_SEED_DIR: '' })
  // Written as JSON text: JSON.stringify itself cannot go 5,000 levels deep.
  const deep = `${'{"child":'.repeat(5000)}{"leaf":true}${'}'.repeat(5000)}`
  const json = { 'content-type': 'application/json' }
  const put = (metadata: unknown) => app.inject({ method: 'PUT', url: '/v1/kb/documents/x', headers: { ...as(ADMIN), ...json }, payload: `{"title":"X","text":"Some text.","metadata":${typeof metadata === 'string' ? metadata : JSON.stringify(metadata)}}` })
  const tooDeep = await put(deep)
  t.equal(tooDeep.statusCode, 400)
  t.match(tooDeep.json(), {
    detail: 'body/metadata must not nest deeper than 8 levels',
    errors: [{ field: 'body/metadata', message: 'must not nest deeper than 8 levels' }]
  })
  const tooLarge = await put({ notes: 'n'.repeat(20_000) })
  t.equal(tooLarge.statusCode, 400)
  t.match(tooLarge.json(), { detail: /^body\/metadata must not be longer than 16384 characters as JSON/ })
  const batch = await app.inject({ method: 'POST', url: '/v1/kb/documents', headers: { ...as(ADMIN), ...json }, payload: `{"documents":[{"title":"A","text":"a"},{"title":"B","text":"b","metadata":${deep}}]}` })
  t.equal(batch.statusCode, 400)
  t.match(batch.json(), { detail: /^body\/documents\/1\/metadata must not nest/ })
  t.equal((await put({ lang: 'en', tags: ['a', { b: [1, 2] }] })).statusCode, 201, 'ordinary metadata is kept')
  t.equal((await app.db.query('SELECT id FROM kb_documents')).rows.length, 1, 'nothing of the refused ones was stored')
})

t.test('a phrasing users type, added to a document, answers those users; from the console it is kept scrubbed', async t => {
  const app = await buildTestApp(t, KEYS)
  const shipping = { id: 'shipping', title: 'How long does delivery take?', text: 'Orders leave within two working days.', metadata: { url: 'https://shop.example/shipping' } }
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/documents', headers: as(ADMIN), payload: { documents: [shipping] } })).statusCode, 201)
  const ask = async () => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'where is my parcel?' } })).json()
  t.equal((await ask()).kind, 'no_answer', 'the users\' words are not the FAQ\'s')

  const add = async (question: string, key = ADMIN, prefix = '/v1/kb', id = 'shipping') =>
    await app.inject({ method: 'POST', url: `${prefix}/documents/${id}/questions`, headers: as(key), payload: { question } })
  const added = await add(' Where is my parcel? ')
  t.equal(added.statusCode, 201)
  t.same(added.json(), { id: 'shipping', questions: ['Where is my parcel?'], added: true })
  t.match(await ask(), { kind: 'answer', sources: [{ doc_id: 'shipping' }] }, 'answered from the document now')
  t.same((await add('where is my PARCEL?')).json(), { id: 'shipping', questions: ['Where is my parcel?'], added: false }, 'a phrasing it has is not added twice')
  t.equal((await add('where is my PARCEL?')).statusCode, 200)
  const document = (await app.inject({ url: '/v1/kb/documents/shipping', headers: as(ADMIN) })).json()
  t.same(document.metadata, { url: 'https://shop.example/shipping', questions: ['Where is my parcel?'] }, 'the rest of the metadata is kept')

  t.equal((await add('where is it?', ANALYST)).statusCode, 403, 'an analyst reads, does not change the knowledge base')
  t.equal((await add('where is it?', ANALYST, '/console/api/kb')).statusCode, 403)
  t.equal((await add('where is it?', ADMIN, '/v1/kb', 'nothing-here')).statusCode, 404)
  const blank = await add('   ')
  t.equal(blank.statusCode, 400)
  t.match(blank.json().detail, /body\/question/)

  const fromConsole = await add('can you send it to jane.doe@example.com instead?', ADMIN, '/console/api/kb')
  t.equal(fromConsole.statusCode, 201)
  t.notMatch(JSON.stringify(fromConsole.json()), /jane\.doe@example\.com/, 'users\' words from a conversation are kept as the console shows them, scrubbed')

  for (let i = 0; i < 48; i++) t.equal((await add(`phrasing number ${i}`)).statusCode, 201)
  const full = await add('one too many')
  t.equal(full.statusCode, 400)
  t.match(full.json().detail, /at most 50 questions/, 'the limit is named')
  const { rows } = await app.db.query<{ target: string }>("SELECT target FROM audit_events WHERE action = 'kb.document.question_add'")
  t.equal(rows.length, 50, 'each phrasing added is audited')
})
