// The shipped word vectors (src/search/word-vectors/) and what they add to the search: near meanings
// where the words are not shared, one vector for a whole text, nothing for words they do not know.
import t from 'tap'
import { answerWeightsFor, DEFAULT_ANSWER_WEIGHTS, WORDS_ONLY_ANSWER_WEIGHTS } from '../../../src/search/answer-decision.js'
import { SearchEngine, type SearchDocument } from '../../../src/search/search-engine.js'
import { DIMENSIONS, dot, shippedWordVectors } from '../../../src/search/word-vectors.js'

const vectors = shippedWordVectors()
const embed = (text: string): Float32Array => {
  const vector = vectors.embed(text)
  if (vector === undefined) throw new Error(`no vector for ${text}`)
  return vector
}

t.test('a text\'s vector is unit length, and near meanings are nearer than other subjects', async t => {
  const suitcases = embed('suitcases')
  t.equal(suitcases.length, DIMENSIONS)
  t.ok(Math.abs(dot(suitcases, suitcases) - 1) < 1e-5, 'unit length')
  t.ok(dot(suitcases, embed('luggage')) > dot(suitcases, embed('refund')) + 0.3, 'suitcases are luggage, not a refund')
  t.ok(dot(embed('counseling'), embed('therapy')) > dot(embed('counseling'), embed('timetable')) + 0.3)
  t.ok(dot(embed('my suitcases'), embed('luggage allowance')) > dot(embed('my suitcases'), embed('opening hours')) + 0.1, 'a text is the mean of its words')
})

t.test('unknown words have no vector; a text of them has none', async t => {
  t.equal(vectors.embed('zxqvw 12345 !!!'), undefined)
  t.equal(vectors.embed(''), undefined)
  t.same(vectors.embed('suitcases zxqvw'), vectors.embed('suitcases'), 'an unknown word adds nothing')
})

t.test('case, apostrophes and the possessive do not change a word; a hyphenated word is also its parts', async t => {
  t.same(vectors.embed('LUGGAGE'), vectors.embed('luggage'))
  t.same(vectors.embed('passenger’s'), vectors.embed('passenger'))
  t.ok(vectors.embed('wi-fi') !== undefined && vectors.embed('co-pay') !== undefined, 'known as written, joined or by its parts')
  t.same(vectors.embed('zzzz-luggage'), vectors.embed('luggage'), 'an unknown part is left out')
})

t.test('shipped once: every engine shares one copy', async t => {
  t.equal(shippedWordVectors(), vectors)
})

const ferry: SearchDocument[] = [
  { id: 'luggage', title: 'Luggage', passages: [{ ordinal: 0, text: 'Each passenger may bring two bags and a suitcase on the ferry.' }] },
  { id: 'tickets', title: 'Tickets', passages: [{ ordinal: 0, text: 'Buy your ferry ticket at the port or online.' }] },
  { id: 'pets', title: 'Pets', passages: [{ ordinal: 0, text: 'Dogs may travel on the ferry on a lead.' }] },
  { id: 'food', title: 'Food and drink', passages: [{ ordinal: 0, text: 'The café on the ferry serves hot meals, sandwiches and coffee.' }] }
]

/** The ferry FAQ indexed twice: by the words alone, and with their meaning (the default). */
function ferryEngines (): { words: SearchEngine, meaning: SearchEngine } {
  const words = new SearchEngine({ wordVectors: false })
  const meaning = new SearchEngine()
  for (const doc of ferry) {
    words.upsert(doc)
    meaning.upsert(doc)
  }
  return { words, meaning }
}

t.test('among the documents the words find, the meaning decides which comes first', async t => {
  const { words, meaning } = ferryEngines()
  t.notOk(words.weighsMeaning)
  t.ok(meaning.weighsMeaning, 'on by default')
  const asked = { 'can i take my backpack on the ferry': 'luggage', 'can my cat come on the ferry': 'pets', 'where do I pay for the ferry': 'tickets' }
  for (const [question, expected] of Object.entries(asked)) {
    t.equal(words.search(question)[0]?.docId, 'pets', `words alone: "ferry" only, the shortest passage first (${question})`)
    t.equal(meaning.search(question)[0]?.docId, expected, `with meaning: ${question}`)
    t.equal(meaning.search(question).length, ferry.length, 'nothing found or lost: the same documents, in another order')
  }
  t.equal(meaning.search('what is the capital of peru').length, 0, 'a question that shares no word with any document finds none')
})

t.test('the evidence carries the best document\'s similarity, and the model fitted for the engine reads it', async t => {
  const { words, meaning } = ferryEngines()
  t.equal(words.searchWithEvidence('can my cat come on the ferry').evidence.similarity, 0, 'no vectors: 0')
  const { similarity } = meaning.searchWithEvidence('can my cat come on the ferry').evidence
  t.ok(similarity > 0.5 && similarity <= 1, `with vectors: the cosine (${similarity})`)
  t.equal(answerWeightsFor(meaning), DEFAULT_ANSWER_WEIGHTS)
  t.equal(answerWeightsFor(words), WORDS_ONLY_ANSWER_WEIGHTS)
  t.equal(WORDS_ONLY_ANSWER_WEIGHTS.weights.similarity, 0, 'the words-only model does not read what it is not given')
  t.ok(DEFAULT_ANSWER_WEIGHTS.weights.similarity > 0)
})

t.test('a removed or replaced document takes its vector with it', async t => {
  const engine = new SearchEngine()
  for (const doc of ferry) engine.upsert(doc)
  engine.upsert({ id: 'luggage', title: 'Office', passages: [{ ordinal: 0, text: 'Opening hours of the ferry office: 9 to 5.' }] })
  t.not(engine.search('can i take my backpack on the ferry')[0]?.docId, 'luggage', 'the replaced text no longer speaks of bags')
  engine.remove('pets')
  t.notOk(engine.search('can my cat come on the ferry').some(hit => hit.docId === 'pets'))
})
