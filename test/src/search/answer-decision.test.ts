// The answer decision's evidence on hand-made passages: what it measures, that it does not grow
// with the size of the knowledge base as a BM25 score does, and how the model reads it.
import t from 'tap'
import { decideAnswer, DEFAULT_ANSWER_WEIGHTS } from '../../../src/search/answer-decision.js'
import { SearchEngine, type SearchDocument } from '../../../src/search/search-engine.js'

function doc (id: string, title: string, text: string, collection?: string): SearchDocument {
  return { id, title, passages: [{ ordinal: 0, text }], ...(collection === undefined ? {} : { collection }) }
}

const refunds = doc('refunds', 'Refunds', 'You can request a refund within 30 days of purchase. Refunds are paid to the original card.')
const shipping = doc('shipping', 'Shipping', 'Orders ship within two working days. Tracking numbers are sent by email.')
const fillers = Array.from({ length: 400 }, (_, i) => doc(`filler-${i}`, `Note ${i}`, `Internal note ${i} about warehouse shelving, pallets and forklift schedules for week ${i % 52}.`))

t.test('coverage is the share of the question\'s informative weight the best passage holds; question words do not count', async t => {
  const engine = new SearchEngine()
  for (const d of [refunds, shipping]) engine.upsert(d)
  const full = engine.searchWithEvidence('How do I request a refund?').evidence
  t.equal(full.terms, 2, '"request" and "refund": how, do and I are question words')
  t.equal(full.coverage, 1, 'the refunds passage holds both')
  const half = engine.searchWithEvidence('refund for my parrot').evidence
  t.ok(half.coverage > 0 && half.coverage < 0.6, `a term found nowhere weighs like the rarest term (coverage ${half.coverage})`)
  t.equal(engine.searchWithEvidence('how do I').evidence.terms, 0, 'nothing but question words: no evidence')
  t.notOk(decideAnswer(engine.searchWithEvidence('how do I').evidence).answer, 'and no answer')
})

t.test('the evidence hardly moves when the knowledge base grows a hundredfold, where the BM25 score does', async t => {
  const small = new SearchEngine()
  for (const d of [refunds, shipping]) small.upsert(d)
  const large = new SearchEngine()
  for (const d of [refunds, shipping, ...fillers]) large.upsert(d)
  const question = 'how long do I have to request a refund'
  const before = small.searchWithEvidence(question)
  const after = large.searchWithEvidence(question)
  t.equal(before.hits[0]?.docId, 'refunds')
  t.equal(after.hits[0]?.docId, 'refunds')
  t.ok(after.hits[0]!.score > 3 * before.hits[0]!.score, `the score grows (${before.hits[0]!.score} -> ${after.hits[0]!.score})`)
  t.ok(Math.abs(after.evidence.coverage - before.evidence.coverage) < 0.15, `coverage stays (${before.evidence.coverage.toFixed(2)} -> ${after.evidence.coverage.toFixed(2)})`)
  t.ok(decideAnswer(before.evidence).answer && decideAnswer(after.evidence).answer, 'and the question is answered at both sizes')
})

t.test('lead measures how far the best document is ahead of the second', async t => {
  const engine = new SearchEngine()
  for (const d of [refunds, shipping]) engine.upsert(d)
  t.equal(engine.searchWithEvidence('refund').evidence.lead, 1, 'alone: 1')
  const close = engine.searchWithEvidence('refunds shipping').evidence.lead
  t.ok(close < 0.5, `two documents matching one term each: a small lead (${close})`)
})

t.test('a question off the topic of the knowledge base is refused; one on it is answered', async t => {
  const engine = new SearchEngine()
  for (const d of [refunds, shipping, ...fillers]) engine.upsert(d)
  for (const question of ['Can you write me a poem about cats?', 'what is the boiling point of mercury', 'who won the match on tuesday']) {
    t.notOk(decideAnswer(engine.searchWithEvidence(question).evidence).answer, `refused: ${question}`)
  }
  for (const question of ['When are refunds paid?', 'how fast do orders ship', 'is there a tracking number for shipping']) {
    t.ok(decideAnswer(engine.searchWithEvidence(question).evidence).answer, `answered: ${question}`)
  }
})

t.test('the words of an answer can answer; another phrasing of the question the team gives raises the confidence', async t => {
  const engine = new SearchEngine()
  for (const d of [refunds, shipping, ...fillers]) engine.upsert(d)
  const question = 'will I get an email with the tracking number'
  const bodyOnly = engine.searchWithEvidence(question)
  t.equal(bodyOnly.hits[0]?.docId, 'shipping', 'the shipping passage is found')
  t.equal(bodyOnly.evidence.questionRecall, 0, 'though nothing of "Shipping" is asked')
  t.ok(decideAnswer(bodyOnly.evidence).answer, 'it holds every word asked')
  engine.upsert({ ...shipping, questions: ['Where is my tracking number?'] })
  const phrased = engine.searchWithEvidence(question)
  t.ok(phrased.evidence.questionRecall > 0.9, `another phrasing the team gave is asked (${phrased.evidence.questionRecall})`)
  t.ok(decideAnswer(phrased.evidence).confidence > decideAnswer(bodyOnly.evidence).confidence, 'and the confidence rises')
})

t.test('the words of a phrasing the team gave count as the title\'s: the passage need not hold them', async t => {
  const engine = new SearchEngine()
  for (const d of [refunds, { ...shipping, questions: ['Where is my parcel?'] }, ...fillers]) engine.upsert(d)
  const { hits, evidence } = engine.searchWithEvidence('where is my parcel')
  t.equal(hits[0]?.docId, 'shipping')
  t.equal(evidence.coverage, 1, '"parcel" is in the phrasing, not in the passage')
  t.ok(decideAnswer(evidence).answer)
  const without = new SearchEngine()
  for (const d of [refunds, shipping, ...fillers]) without.upsert(d)
  t.notOk(decideAnswer(without.searchWithEvidence('where is my parcel').evidence).answer, 'without it, refused')
})

t.test('a question that names what the knowledge base does not know is refused, though it shares a word with a title', async t => {
  const engine = new SearchEngine()
  engine.upsert(refunds)
  const evidence = engine.searchWithEvidence('Can you write me a poem about refunds, cats and dogs?').evidence
  t.equal(evidence.questionRecall, 1, '"Refunds" is all asked')
  t.ok(evidence.unseen > 0.5, `but most of the question is unknown here (${evidence.unseen})`)
  t.notOk(decideAnswer(evidence).answer)
})

t.test('the model: confidence rises with coverage, and the threshold decides', async t => {
  const evidence = { terms: 3, coverage: 1, relativeScore: 0.6, lead: 0.2, questionRecall: 1, unseen: 0, mutual: 1, similarity: 0.7 }
  const low = decideAnswer({ ...evidence, coverage: 0.05, mutual: 0.05, relativeScore: 0.05 })
  const high = decideAnswer(evidence)
  t.ok(low.confidence < high.confidence)
  t.notOk(low.answer)
  t.ok(high.answer)
  const some = { ...evidence, coverage: 0.3, mutual: 0.3 }
  t.ok(decideAnswer({ ...some, unseen: 0.5 }).confidence < decideAnswer(some).confidence, 'words the knowledge base has never seen lower it')
  t.notOk(decideAnswer(evidence, { ...DEFAULT_ANSWER_WEIGHTS, threshold: 1 }).answer, 'a threshold of 1 answers nothing')
})

t.test('searches can be scoped to collections; the index counts documents per collection', async t => {
  const engine = new SearchEngine()
  engine.upsert(doc('ours', 'Refund policy', 'Refunds within 30 days.', 'default'))
  engine.upsert(doc('bundled', 'Errors', 'A refund error is a 409.', 'parley'))
  t.same(Object.fromEntries(engine.collections()), { default: 1, parley: 1 })
  t.same(engine.search('refund', 10, new Set(['parley'])).map(hit => hit.docId), ['bundled'])
  t.same(engine.search('refund', 10, new Set(['default'])).map(hit => hit.docId), ['ours'])
  t.equal(engine.search('refund').length, 2, 'unscoped: every collection')
  engine.remove('bundled')
  t.same(Object.fromEntries(engine.collections()), { default: 1 }, 'an emptied collection is gone')
})
