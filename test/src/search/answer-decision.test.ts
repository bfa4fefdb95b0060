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

t.test('a passage with none of the question\'s own words is not answered from, whatever the model says', async t => {
  const evidence = { terms: 3, coverage: 0, relativeScore: 1, lead: 1, questionRecall: 0, unseen: 0, mutual: 0, similarity: 1, corrected: 0, everyday: 0 }
  t.same(decideAnswer(evidence), { answer: false, confidence: 0, refusedBy: 'no_shared_word' }, 'refused by that rule, which says so')
  t.ok(decideAnswer({ ...evidence, coverage: 0.4 }).answer, 'one of them is enough for the model to weigh')
})

t.test('a question of everyday words alone is answered only from an entry whose question shares one', async t => {
  const engine = new SearchEngine()
  engine.upsert({ id: 'rsv', title: 'What is RSV?', passages: [{ ordinal: 0, text: 'RSV is a virus. Most people get it at some time in childhood; it is most common at this time of year.' }] })
  engine.upsert({ id: 'hours', title: 'What time do you open?', passages: [{ ordinal: 0, text: 'We open at nine every morning.' }] })
  const asked = engine.searchWithEvidence('what time is it?', 3, undefined)
  t.match(asked, { hits: [{ docId: 'hours' }] })
  t.ok(decideAnswer(asked.evidence).answer, 'the opening hours\' question says "time"')
  engine.remove('hours')
  const evidence = engine.searchWithEvidence('what time is it?').evidence
  t.match(evidence, { everyday: 1, coverage: 1, questionRecall: 0 })
  t.same(decideAnswer(evidence), { answer: false, confidence: 0, refusedBy: 'everyday_words' }, 'not from the RSV entry, which only says "time"')
  t.ok(decideAnswer({ ...evidence, everyday: 0 }).answer, 'the model alone would have answered it')
  t.match(engine.searchWithEvidence('is rsv common?').evidence, { everyday: 0 }, '"rsv" is no everyday word')
})

t.test('the model: confidence rises with coverage, and the threshold decides', async t => {
  const evidence = { terms: 3, coverage: 1, relativeScore: 0.6, lead: 0.2, questionRecall: 1, unseen: 0, mutual: 1, similarity: 0.7, corrected: 0, everyday: 0 }
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

t.test('a question asked as a phrasing the team gave is answered from its entry, not from a passage sharing its words', async t => {
  const engine = new SearchEngine()
  engine.upsert({ ...doc('wifi', 'Is there wifi on the trains?', 'Free wifi is available on all intercity trains. Connect to NorthlineWiFi.'), questions: ['Internet on board', 'Can I use the internet on the train?'] })
  engine.upsert(doc('change-booking', 'Can I change the time of my booked journey?', 'Advance tickets can be changed before departure for a 10 pound fee. Anytime tickets can be used on any eligible train without changing them.'))
  engine.upsert(doc('bikes', 'Can I take my bicycle on the train?', 'Folding bicycles travel free at any time; full-size bicycles need a reservation on the train.'))
  const asked = engine.searchWithEvidence('Can I use the internet on the train?')
  t.equal(asked.hits[0]?.docId, 'wifi')
  t.ok(decideAnswer(asked.evidence).answer, `answered (coverage ${asked.evidence.coverage})`)
})

t.test('a question\'s word that only an entry\'s phrasing holds ranks that entry first', async t => {
  const engine = new SearchEngine()
  engine.upsert({ ...doc('food', 'Is there food and drink on board?', 'Intercity trains have a trolley service selling hot drinks, sandwiches and snacks.'), questions: ['Is there a buffet car?', 'Can I buy coffee on the train?'] })
  engine.upsert({ ...doc('assistance', 'How do I book assistance for a disabled passenger?', 'Staff will meet you with a ramp and help you board and leave the train.'), questions: ['Help boarding the train'] })
  for (const d of fillers.slice(0, 50)) engine.upsert(d)
  const asked = engine.searchWithEvidence('can I get a coffee on board')
  t.equal(asked.hits[0]?.docId, 'food', `food first (${asked.hits.map(hit => `${hit.docId} ${hit.score.toFixed(2)}`).join(', ')})`)
})

t.test('a phrasing\'s word held only by a collection not searched counts as the phrasing\'s alone', async t => {
  const engine = new SearchEngine()
  engine.upsert({ ...doc('food', 'Is there food and drink on board?', 'Intercity trains have a trolley service selling hot drinks, sandwiches and snacks.', 'rail'), questions: ['Can I buy coffee on the train?'] })
  engine.upsert({ ...doc('assistance', 'How do I book assistance for a disabled passenger?', 'Staff will meet you with a ramp and help you board and leave the train.', 'rail'), questions: ['Help boarding the train'] })
  engine.upsert(doc('manual', 'Phrasings', 'A word like coffee in a phrasing counts in full.', 'parley'))
  for (const d of fillers.slice(0, 50)) engine.upsert({ ...d, collection: 'rail' })
  const { hits } = engine.searchWithEvidence('can I get a coffee on board', 3, new Set(['rail']))
  t.equal(hits[0]?.docId, 'food', hits.map(hit => `${hit.docId} ${hit.score.toFixed(2)}`).join(', '))
})
