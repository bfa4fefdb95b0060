// Measuring the knowledge base's accuracy through the API, on both engines: a run's report and
// what is stored of it, the saved question set, refusals that store nothing, roles, the console's
// twin routes, and the audit trail.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, engines } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
const ENV = { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, KB_SEED_DIR: '' }
const as = (key: string) => ({ authorization: `Bearer ${key}` })
const CONSOLE = { 'x-requested-with': 'parley-console' }

const DOCUMENTS = [
  { id: 'refunds', title: 'Refunds', text: 'You can request a refund within 30 days of purchase by writing to the support team with your order number.' },
  { id: 'shipping', title: 'Shipping', text: 'Parcels are shipped within two business days and tracked with the tracking number sent by e-mail.' },
  { id: 'passwords', title: 'Passwords', text: 'To reset your password, open the sign-in page and follow the forgotten password link.' }
]
const QUESTIONS = [
  { question: 'How do I request a refund of my purchase?', expected: 'refunds', id: 'refund' },
  { question: 'When are parcels shipped?', expected: ['refunds', 'passwords'] },
  { question: 'What will the weather be like on Mars next year?', expected: 'shipping' },
  { question: 'What will the weather be like on Mars next year?', expected: null },
  { question: 'How do I reset my password?', expected: 'none' }
]

async function appWithDocuments (t: Parameters<typeof buildTestApp>[0], database?: Awaited<ReturnType<ReturnType<typeof engines>[number]['open']>>): Promise<FastifyInstance> {
  const app = await buildTestApp(t, ENV, database === undefined ? {} : { database })
  const added = await app.inject({ method: 'POST', url: '/v1/kb/documents', headers: as(ADMIN), payload: { documents: DOCUMENTS } })
  t.equal(added.statusCode, 201)
  return app
}

const count = async (app: FastifyInstance, table: string): Promise<number> => (await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n

for (const engine of engines()) {
  t.test(`on ${engine.name}`, async t => {
    const app = await appWithDocuments(t, await engine.open(t))

    await t.test('a run reports each question\'s outcome, the four counts and the accuracy, and is stored', async t => {
      const res = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: QUESTIONS } })
      t.equal(res.statusCode, 201, res.body)
      const report = res.json()
      t.match(report, {
        id: /^[0-9a-f-]{36}$/,
        question_set: 'given',
        questions: 5,
        counts: { answered_right: 1, wrong_document: 2, refused_but_answerable: 1, out_of_scope_refused: 1 },
        accuracy: 2 / 5,
        answer_rate: 2 / 3,
        documents: 3,
        actor: /^key_/
      })
      t.match(report.results, [
        { id: 'refund', question: QUESTIONS[0]!.question, expected: ['refunds'], outcome: 'answered_right', kind: 'answer', doc_id: 'refunds', confidence: Number },
        { id: null, expected: ['refunds', 'passwords'], outcome: 'wrong_document', kind: 'answer', doc_id: 'shipping' },
        { expected: ['shipping'], outcome: 'refused_but_answerable', kind: 'no_answer' },
        { expected: [], outcome: 'out_of_scope_refused', kind: 'no_answer' },
        { expected: [], outcome: 'wrong_document', kind: 'answer', doc_id: 'passwords' }
      ])

      const stored = await app.inject({ method: 'GET', url: `/v1/kb/evaluations/${report.id}`, headers: as(ANALYST) })
      t.equal(stored.statusCode, 200)
      t.same(stored.json(), report, 'the stored run is the report')
      const audit = await app.db.query<{ action: string, target: string, details: Record<string, unknown> }>("SELECT action, target, details FROM audit_events WHERE action LIKE 'kb.evaluation%'")
      t.match(audit.rows, [{ action: 'kb.evaluation.run', target: report.id, details: { questions: 5, accuracy: 0.4, question_set: 'given' } }])
    })

    await t.test('a bad question is 400 naming its path and the limit, and nothing is stored', async t => {
      const runs = await count(app, 'evaluation_runs')
      const bad = [...QUESTIONS.slice(0, 3), { question: '', expected: 'refunds' }]
      const res = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: bad } })
      t.equal(res.statusCode, 400)
      t.match(res.headers['content-type'], /application\/problem\+json/)
      t.match(res.json().detail, /body\/questions\/3\/question must not be empty/)
      const expected = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: [{ question: 'x', expected: 7 }] } })
      t.equal(expected.statusCode, 400)
      t.match(expected.json().detail, /body\/questions\/0\/expected/)
      const typo = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: [QUESTIONS[0], { question: 'Where is my parcel?', expected: ['refunds', 'shiping'] }] } })
      t.equal(typo.statusCode, 400, 'a document the knowledge base does not hold is a typo')
      const message = 'names document "shiping", which the knowledge base does not hold (GET /v1/kb/documents lists its ids): question 2 ("Where is my parcel?")'
      t.equal(typo.json().detail, `body/questions/1/expected ${message}`)
      t.match(typo.json(), { question_index: 1, document_id: 'shiping', errors: [{ field: 'body/questions/1/expected', message }] },
        'and says which question and document, for a client to name its own line')
      const many = Array.from({ length: 5001 }, (_, i) => ({ question: `q${i}`, expected: null }))
      const tooMany = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: many } })
      t.equal(tooMany.statusCode, 400)
      t.match(tooMany.json().detail, /body\/questions must NOT have more than 5000 items/)
      t.equal(await count(app, 'evaluation_runs'), runs, 'no run stored')
    })

    await t.test('the saved set: added all or none, listed, run, and deleted', async t => {
      const empty = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: {} })
      t.equal(empty.statusCode, 400)
      t.match(empty.json().detail, /The saved question set is empty/)

      const badSave = await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: as(ADMIN), payload: { questions: [QUESTIONS[0], { question: 'x', expected: 'not an id!' }] } })
      t.equal(badSave.statusCode, 400)
      t.match(badSave.json().detail, /body\/questions\/1\/expected/)
      t.equal(await count(app, 'evaluation_questions'), 0, 'nothing half-stored')

      const saved = await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: as(ADMIN), payload: { questions: QUESTIONS.slice(0, 3), source: 'import' } })
      t.equal(saved.statusCode, 201, saved.body)
      t.match(saved.json(), { limit: 5000, questions: [{ question: QUESTIONS[0]!.question, expected: ['refunds'], source: 'import', added_by: /^key_/ }, {}, {}] })
      const listed = await app.inject({ method: 'GET', url: '/v1/kb/evaluation-questions', headers: as(ANALYST) })
      t.equal(listed.json().questions.length, 3)

      const run = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: {} })
      t.equal(run.statusCode, 201)
      t.match(run.json(), { question_set: 'saved', questions: 3, counts: { answered_right: 1, wrong_document: 1, refused_but_answerable: 1, out_of_scope_refused: 0 } })
      t.equal(run.json().results[0].id, saved.json().questions[0].id, 'a saved question is labelled by its id')

      const id = saved.json().questions[2].id
      t.equal((await app.inject({ method: 'DELETE', url: `/v1/kb/evaluation-questions/${id}`, headers: as(ADMIN) })).statusCode, 204)
      t.equal((await app.inject({ method: 'DELETE', url: `/v1/kb/evaluation-questions/${id}`, headers: as(ADMIN) })).statusCode, 404)
      t.equal(await count(app, 'evaluation_questions'), 2)
      const audit = await app.db.query<{ action: string }>("SELECT action FROM audit_events WHERE action LIKE 'kb.evaluation_question%' ORDER BY id")
      t.same(audit.rows.map(row => row.action), ['kb.evaluation_questions.add', 'kb.evaluation_question.delete'])
    })

    await t.test('the runs newest first, with their counts: the trend', async t => {
      const res = await app.inject({ method: 'GET', url: '/v1/kb/evaluations?limit=5', headers: as(ANALYST) })
      t.equal(res.statusCode, 200)
      const { runs } = res.json()
      t.same(runs.map((run: { question_set: string, accuracy: number }) => [run.question_set, run.accuracy]), [['saved', 1 / 3], ['given', 0.4]])
      t.notOk('results' in runs[0], 'the list leaves the results out')
      t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluations?limit=1', headers: as(ADMIN) })).json().runs.length, 1)
      t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluations/0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', headers: as(ADMIN) })).statusCode, 404)
      t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluations/nope', headers: as(ADMIN) })).statusCode, 400)
    })
  })
}

t.test('roles: an analyst reads runs and the saved set, only an admin runs and changes them', async t => {
  const app = await appWithDocuments(t)
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluations' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluations', headers: as(ANALYST) })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/v1/kb/evaluation-questions', headers: as(ANALYST) })).statusCode, 200)
  const run = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ANALYST), payload: { questions: QUESTIONS } })
  t.equal(run.statusCode, 403)
  t.match(run.json().detail, /needs the admin role/)
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: as(ANALYST), payload: { questions: QUESTIONS } })).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/kb/evaluation-questions/0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', headers: as(ANALYST) })).statusCode, 403)
  t.equal(await count(app, 'evaluation_runs'), 0)
})

t.test('an analyst reads a file\'s questions scrubbed, as they read users\' words everywhere; an admin as written', async t => {
  const app = await appWithDocuments(t)
  const written = 'Hi, I\'m Jane Doe, jane.doe@example.com, 07700 900123: how do I request a refund?'
  const run = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: as(ADMIN), payload: { questions: [{ question: written, expected: 'refunds' }] } })
  t.equal(run.statusCode, 201)
  t.equal(run.json().results[0].question, written, 'the admin who ran it sees the report as written')
  const saved = await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: as(ADMIN), payload: { questions: [{ question: written, expected: 'refunds' }] } })
  t.equal(saved.statusCode, 201)
  const read = async (key: string) => [
    (await app.inject({ url: `/v1/kb/evaluations/${run.json().id}`, headers: as(key) })).json().results[0].question,
    (await app.inject({ url: '/v1/kb/evaluation-questions', headers: as(key) })).json().questions[0].question
  ]
  t.same(await read(ADMIN), [written, written])
  const seen = await read(ANALYST)
  t.same(seen, [seen[0], seen[0]], 'the run and the saved set alike')
  t.match(seen[0], /\[EMAIL\].*\[PHONE\].*how do I request a refund\?$/)
  t.notMatch(seen[0], /Jane|jane\.doe|07700/)
})

t.test('the console\'s twins: a signed-in admin runs the saved set and adds a question (scrubbed); an analyst only reads', async t => {
  const app = await appWithDocuments(t)
  const signIn = async (key: string): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/console/api/session', payload: { api_key: key } })
    return `parley_console=${res.cookies.find(c => c.name === 'parley_console')!.value}`
  }
  const admin = { cookie: await signIn(ADMIN), ...CONSOLE }
  const analyst = { cookie: await signIn(ANALYST), ...CONSOLE }

  const added = await app.inject({ method: 'POST', url: '/console/api/evaluation-questions', headers: admin, payload: { questions: [{ question: 'refund for jane.doe@example.com?', expected: 'refunds' }] } })
  t.equal(added.statusCode, 201, added.body)
  t.match(added.json().questions[0], { source: 'console', expected: ['refunds'] })
  t.notMatch(added.json().questions[0].question, /jane\.doe@example\.com/, 'kept as scrubbed as an analyst would see it')
  t.equal((await app.inject({ method: 'POST', url: '/console/api/evaluation-questions', headers: analyst, payload: { questions: [{ question: 'x', expected: null }] } })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/console/api/evaluations', headers: analyst, payload: {} })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/console/api/evaluations', headers: { cookie: admin.cookie }, payload: {} })).statusCode, 403, 'a cookie needs the console\'s header')

  const run = await app.inject({ method: 'POST', url: '/console/api/evaluations', headers: admin, payload: {} })
  t.equal(run.statusCode, 201)
  const runs = await app.inject({ method: 'GET', url: '/console/api/evaluations', headers: analyst })
  t.equal(runs.statusCode, 200)
  t.equal(runs.json().runs[0].id, run.json().id)
  t.equal((await app.inject({ method: 'GET', url: `/console/api/evaluations/${run.json().id}`, headers: analyst })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/console/api/evaluations' })).statusCode, 401)
})
