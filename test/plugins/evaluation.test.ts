// What a run of the test questions tells the monitoring: the gauge of the two latest runs'
// accuracy (read from the database at start, so a restart keeps it), and the in-app
// EvaluationAccuracyLow alert, below KB_EVALUATION_MIN_ACCURACY or on a drop against the last run of
// the same questions.
import t from 'tap'
import { buildTestApp, openTestPGlite } from '../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ENV = { API_KEYS: `${ADMIN}:admin`, KB_SEED_DIR: '', ALERTS_EVAL_INTERVAL: '3600' }
const DOCUMENTS = [
  { id: 'refunds', title: 'Refunds', text: 'You can request a refund within 30 days of purchase by writing to the support team with your order number.' },
  { id: 'shipping', title: 'Shipping', text: 'Parcels are shipped within two business days and tracked with the tracking number sent by e-mail.' }
]
const RIGHT = { question: 'How do I request a refund of my purchase?', expected: 'refunds' }
const WRONG = { question: 'When are parcels shipped?', expected: 'refunds' }
const SHIPPED = { question: 'When are parcels shipped and tracked?', expected: 'shipping' }

const gauge = (exposition: string, run: string, questionSet = 'given'): number | undefined => {
  const line = exposition.split('\n').find(text => text.startsWith('chatbot_kb_evaluation_accuracy_ratio{') &&
    text.includes(`run="${run}"`) && text.includes(`question_set="${questionSet}"`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('the gauge and the alert follow the runs, each against the last run of the same questions', async t => {
  const database = await openTestPGlite(t)
  const app = await buildTestApp(t, { ...ENV, KB_EVALUATION_MIN_ACCURACY: '0.4' }, { database })
  await app.knowledgeBase.add(DOCUMENTS, 'test')
  const run = async (questions: unknown[]) => {
    const res = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: { authorization: `Bearer ${ADMIN}` }, payload: { questions } })
    t.equal(res.statusCode, 201)
    return res.json<{ accuracy: number, previous_accuracy: number | null }>()
  }
  const alert = async () => {
    await app.alerts.evaluate()
    return app.alerts.states().find(state => state.alert === 'EvaluationAccuracyLow')!
  }
  const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.equal((await alert()).state, 'inactive', 'no run: nothing to judge')

  const SET = [RIGHT, RIGHT, SHIPPED, SHIPPED]
  t.match(await run(SET), { accuracy: 1, previous_accuracy: null })
  t.equal((await alert()).state, 'inactive', 'accuracy 100 %')
  t.equal(gauge(await metrics(), 'latest'), 1)

  t.match(await run([RIGHT, RIGHT, RIGHT, WRONG]), { accuracy: 0.75, previous_accuracy: null }, 'other questions: nothing to compare with')
  t.equal((await alert()).state, 'inactive', 'no drop read against a run of other questions')
  t.equal(gauge(await metrics(), 'previous'), 0.75, 'the gauge\'s previous is the latest itself: a drop of 0')

  // The shipping entry loses its words: the same questions, now half answered.
  await app.knowledgeBase.put('shipping', { title: 'Opening hours', text: 'The office opens at nine every weekday morning.' }, 'test')
  t.match(await run(SET), { accuracy: 0.5, previous_accuracy: 1 })
  const dropped = await alert()
  t.match(dropped, { state: 'firing', value: 0.5, threshold: 0.05 }, 'above the floor, but 50 points down on the last run of these questions')
  t.match(dropped.summary, 'accuracy lost by the latest run of the test questions against the last run of the same questions 50.0%')
  t.equal(gauge(await metrics(), 'latest'), 0.5)
  t.equal(gauge(await metrics(), 'previous'), 1)

  await run(SET)
  t.equal((await alert()).state, 'inactive', 'steady at 50 %, above the floor of 40 %')
  await run([RIGHT, WRONG, WRONG, WRONG, WRONG])
  t.match(await alert(), { state: 'firing', value: 0.2, threshold: 0.4 }, 'below KB_EVALUATION_MIN_ACCURACY')
})

t.test('a run of the saved set does not clear what a file\'s run showed', async t => {
  const app = await buildTestApp(t, ENV)
  await app.knowledgeBase.add(DOCUMENTS, 'test')
  const admin = { authorization: `Bearer ${ADMIN}` }
  const alert = async () => {
    await app.alerts.evaluate()
    return app.alerts.states().find(state => state.alert === 'EvaluationAccuracyLow')!
  }
  const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
  const given = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: admin, payload: { questions: [RIGHT, WRONG, WRONG, WRONG, WRONG] } })
  t.equal(given.json().accuracy, 0.2)
  t.match(await alert(), { state: 'firing', value: 0.2 }, 'a file\'s run of five, 20 %')
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: admin, payload: { questions: [RIGHT] } })).statusCode, 201)
  const saved = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: admin, payload: {} })
  t.match(saved.json(), { question_set: 'saved', accuracy: 1 })
  t.match(await alert(), { state: 'firing', value: 0.2 }, 'the saved set\'s one question, right, is not the file\'s run again')
  t.equal(gauge(await metrics(), 'latest', 'given'), 0.2, 'and the gauge says so, of each set')
  t.equal(gauge(await metrics(), 'latest', 'saved'), 1)
  const fixed = await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: admin, payload: { questions: [RIGHT, RIGHT, RIGHT, RIGHT, SHIPPED] } })
  t.equal(fixed.json().accuracy, 1)
  t.equal((await alert()).state, 'inactive', 'the next run of given questions does')
})

t.test('a drop of one question set\'s runs fires, though the other set is less accurate', async t => {
  const app = await buildTestApp(t, { ...ENV, KB_EVALUATION_MIN_ACCURACY: '0.1' })
  await app.knowledgeBase.add(DOCUMENTS, 'test')
  const admin = { authorization: `Bearer ${ADMIN}` }
  const evaluate = async (payload: object) => (await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: admin, payload })).json()
  const alert = async () => {
    await app.alerts.evaluate()
    return app.alerts.states().find(state => state.alert === 'EvaluationAccuracyLow')!
  }
  t.match(await evaluate({ questions: [RIGHT, WRONG, WRONG, WRONG, WRONG] }), { question_set: 'given', accuracy: 0.2 })
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/evaluation-questions', headers: admin, payload: { questions: [RIGHT, SHIPPED] } })).statusCode, 201)
  t.match(await evaluate({}), { question_set: 'saved', accuracy: 1 })
  t.equal((await alert()).state, 'inactive', '20 % and 100 %, above the floor of 10 %')
  await app.knowledgeBase.put('shipping', { title: 'Opening hours', text: 'The office opens at nine every weekday morning.' }, 'test')
  t.match(await evaluate({}), { question_set: 'saved', accuracy: 0.5, previous_accuracy: 1 })
  t.match(await alert(), { state: 'firing', value: 0.5, threshold: 0.05 }, 'the saved set lost 50 points, while the file\'s run stays the least accurate')
})

t.test('a restarted app reads the latest runs for its gauge', async t => {
  const database = await openTestPGlite(t)
  const first = await buildTestApp(t, ENV, { database })
  await first.knowledgeBase.add(DOCUMENTS, 'test')
  await first.kbEvaluations.run([{ id: null, question: RIGHT.question, expected: ['refunds'] }, { id: null, question: WRONG.question, expected: ['refunds'] }], 'test')
  await first.close()
  const again = await buildTestApp(t, ENV, { database })
  await again.ready()
  t.same(again.kbEvaluations.trend(), [{ question_set: 'given', accuracy: 0.5 }])
  t.equal(gauge((await again.inject({ method: 'GET', url: '/metrics' })).body, 'latest'), 0.5)
})
