import t from 'tap'
import { decideReply } from '../../../src/chat/reply-decision.js'
import { documentsAnswering, evaluate, outcomeOf } from '../../../src/evaluation/evaluator.js'
import { DEFAULT_ANSWER_WEIGHTS } from '../../../src/search/answer-decision.js'
import { SearchEngine } from '../../../src/search/search-engine.js'

// A hand-made knowledge base whose answers are known: each question below is answered (or not)
// by the chat turn's own decision, checked first so the test says what it relies on.
function knowledgeBase (): SearchEngine {
  const engine = new SearchEngine()
  engine.upsert({ id: 'refunds', title: 'Refunds', collection: 'shop', passages: [{ ordinal: 0, text: 'You can request a refund within 30 days of purchase by writing to the support team with your order number.' }] })
  engine.upsert({ id: 'shipping', title: 'Shipping', collection: 'shop', passages: [{ ordinal: 0, text: 'Parcels are shipped within two business days and tracked with the tracking number sent by e-mail.' }] })
  engine.upsert({ id: 'passwords', title: 'Passwords', collection: 'shop', passages: [{ ordinal: 0, text: 'To reset your password, open the sign-in page and follow the forgotten password link.' }] })
  engine.upsert({ id: 'manual', title: 'Manual', collection: 'parley', passages: [{ ordinal: 0, text: 'The refund policy of the bot itself: a refund of the licence within 30 days.' }] })
  return engine
}

t.test('each question gets the outcome of what the chat turn would reply', async t => {
  const engine = knowledgeBase()
  const collections = new Set(['shop'])
  const asked = {
    refund: 'How do I request a refund of my purchase?',
    reset: 'How do I reset my password?',
    parcel: 'When are parcels shipped?',
    weather: 'What will the weather be like on Mars next year?',
    hello: 'hello!'
  }
  // What the test relies on, decided the chat turn's way.
  t.match(decideReply(engine, asked.refund, { collections }), { kind: 'answer', hits: [{ docId: 'refunds' }] })
  t.match(decideReply(engine, asked.reset, { collections }), { kind: 'answer', hits: [{ docId: 'passwords' }] })
  t.match(decideReply(engine, asked.parcel, { collections }), { kind: 'answer', hits: [{ docId: 'shipping' }] })
  t.equal(decideReply(engine, asked.weather, { collections }).kind, 'no_answer')
  t.equal(decideReply(engine, asked.hello, { collections }).kind, 'smalltalk')

  const report = evaluate(engine, [
    { id: 'q1', question: asked.refund, expected: ['refunds'] },
    { id: 'q2', question: asked.reset, expected: ['shipping', 'passwords'] },
    { id: 'q3', question: asked.parcel, expected: ['refunds'] },
    { id: 'q4', question: asked.weather, expected: ['shipping'] },
    { id: 'q5', question: asked.hello, expected: ['passwords'] },
    { id: 'q6', question: asked.weather, expected: [] },
    { id: 'q7', question: asked.refund, expected: [] },
    { id: null, question: asked.hello, expected: [] }
  ], { collections })
  t.same(report.results.map(row => [row.id, row.outcome, row.kind]), [
    ['q1', 'answered_right', 'answer'],
    ['q2', 'answered_right', 'answer'],
    ['q3', 'wrong_document', 'answer'],
    ['q4', 'refused_but_answerable', 'no_answer'],
    ['q5', 'refused_but_answerable', 'smalltalk'],
    ['q6', 'out_of_scope_refused', 'no_answer'],
    ['q7', 'wrong_document', 'answer'],
    [null, 'out_of_scope_refused', 'smalltalk']
  ])
  t.same(report.counts, { answered_right: 2, wrong_document: 2, refused_but_answerable: 2, out_of_scope_refused: 2 })
  t.equal(report.accuracy, 4 / 8)
  t.equal(report.answerRate, 3 / 5, 'answered among the five a document was expected for')
  t.equal(report.documents, 3, 'the documents of the answering collections')
  t.equal(report.results[0]!.doc_id, 'refunds')
  t.ok(report.results[0]!.confidence! > 0.5)
  t.equal(report.results[4]!.confidence, null, 'small talk has no confidence')
  t.equal(report.results[3]!.confidence! < 0.5, true)

  // With every collection answering, the manual may compete; the count follows.
  t.equal(documentsAnswering(engine, undefined), 4)
})

t.test('the answer threshold is the chat turn\'s: a stricter model refuses more', async t => {
  const engine = knowledgeBase()
  const questions = [{ id: null, question: 'How do I request a refund of my purchase?', expected: ['refunds'] }]
  t.equal(evaluate(engine, questions, { collections: new Set(['shop']) }).counts.answered_right, 1)
  // A threshold alone cannot refuse an exact match: its confidence rounds to 1.
  const strictest = { ...DEFAULT_ANSWER_WEIGHTS, intercept: DEFAULT_ANSWER_WEIGHTS.intercept - 100 }
  const strict = evaluate(engine, questions, { collections: new Set(['shop']), model: strictest })
  t.same(strict.counts, { answered_right: 0, wrong_document: 0, refused_but_answerable: 1, out_of_scope_refused: 0 })
  t.equal(strict.answerRate, 0)
  t.equal(evaluate(engine, [{ id: null, question: 'hi', expected: [] }]).answerRate, null, 'no answerable question: no answer rate')
})

t.test('outcomes', async t => {
  t.equal(outcomeOf(['a'], 'a'), 'answered_right')
  t.equal(outcomeOf(['a', 'b'], 'b'), 'answered_right')
  t.equal(outcomeOf(['a'], 'c'), 'wrong_document')
  t.equal(outcomeOf([], 'c'), 'wrong_document')
  t.equal(outcomeOf(['a'], undefined), 'refused_but_answerable')
  t.equal(outcomeOf([], undefined), 'out_of_scope_refused')
})
