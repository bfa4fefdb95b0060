// The question field's BM25: each document scores by its best phrasing, scores add to what the
// passages gave times the field's weight, and replacing or removing a document's phrasings leaves
// the index as if they had never been there.
import t from 'tap'
import fc from 'fast-check'
import { QuestionIndex } from '../../../src/search/question-index.js'
import type { Analyzer } from '../../../src/search/text-analysis.js'

// Words as they are, so that the expected scores can be worked out by hand.
const words: Analyzer = text => text.toLowerCase().split(/\s+/).filter(word => word !== '')

const query = (text: string): Map<string, number> => {
  const terms = new Map<string, number>()
  for (const term of words(text)) terms.set(term, (terms.get(term) ?? 0) + 1)
  return terms
}

const scores = (index: QuestionIndex, text: string, weight = 1, into = new Map<number, number>()): Map<number, number> => {
  index.addScores(query(text), weight, into)
  return into
}

const close = (actual: number | undefined, expected: number): boolean => actual !== undefined && Math.abs(actual - expected) < 1e-12

t.test('an empty index adds nothing, and leaves what was there', async t => {
  const index = new QuestionIndex(words)
  t.same([...scores(index, 'reset password', 1, new Map([[3, 0.5]]))], [[3, 0.5]])
})

t.test('BM25 over the phrasings, with full length normalisation, times the weight', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['reset password'], 'faq')
  index.set(1, ['change email'], 'faq')
  // n = 2 phrasings of 2 terms each; "reset" is in one: idf = ln(1 + 1.5 / 1.5), norm = 1.2 * 2 / 2.
  const expected = Math.log(2) * 1 / (1 + 1.2)
  const found = scores(index, 'reset', 2)
  t.same([...found.keys()], [0], 'only the document whose phrasing holds the term')
  t.ok(close(found.get(0), 2 * expected), `${found.get(0)} is 2 × ln 2 / 2.2`)
  const added = scores(index, 'reset', 2, new Map([[0, 1], [1, 1]]))
  t.ok(close(added.get(0), 1 + 2 * expected), 'added to the passages\' score')
  t.equal(added.get(1), 1, 'a document that does not match keeps its score')
  t.same([...scores(index, 'unknown words').keys()], [], 'no term known: nothing')
})

t.test('a document counts its best phrasing, not the sum of them', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['reset password', 'reset my password please'], 'faq')
  index.set(1, ['change email'], 'faq')
  index.set(2, ['reset password'], 'faq')
  const found = scores(index, 'reset password')
  t.ok(close(found.get(0), found.get(2) as number), 'two phrasings score as the better one alone')
  t.ok((found.get(0) as number) > 0)
})

t.test('a longer phrasing says less per word; a term asked twice counts twice', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['billing'], 'faq')
  index.set(1, ['billing for teams with many seats'], 'faq')
  index.set(2, ['something else entirely'], 'faq')
  const once = scores(index, 'billing')
  t.ok((once.get(0) as number) > (once.get(1) as number), 'the short title wins')
  const twice = scores(index, 'billing billing')
  t.ok(close(twice.get(0), 2 * (once.get(0) as number)), 'query term frequency multiplies')
})

t.test('a term repeated in a phrasing saturates rather than growing linearly', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['refund refund'], 'faq')
  index.set(1, ['refund policy'], 'faq')
  index.set(2, ['other thing'], 'faq')
  const found = scores(index, 'refund')
  const ratio = (found.get(0) as number) / (found.get(1) as number)
  t.ok(ratio > 1 && ratio < 2, `tf 2 scores more than tf 1 but less than twice (${ratio})`)
})

t.test('rarer terms weigh more', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['account export'], 'faq')
  index.set(1, ['account delete'], 'faq')
  index.set(2, ['account rename'], 'faq')
  const common = scores(index, 'account').get(0) as number
  const rare = scores(index, 'export').get(0) as number
  t.ok(rare > common, `${rare} > ${common}`)
})

t.test('set replaces a document\'s phrasings; remove forgets them', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['reset password'], 'faq')
  index.set(1, ['change email'], 'faq')
  index.set(0, ['delete account'], 'faq')
  t.same([...scores(index, 'reset password').keys()], [], 'the old phrasing is gone')
  t.same([...scores(index, 'delete').keys()], [0])
  index.remove(0)
  t.same([...scores(index, 'delete').keys()], [])
  t.same([...scores(index, 'email').keys()], [1])
  index.remove(0)
  index.remove(42)
  t.same([...scores(index, 'email').keys()], [1], 'removing twice or an unknown slot changes nothing')
  index.remove(1)
  t.same([...scores(index, 'email').keys()], [], 'empty again')
})

t.test('a search of some collections scores their phrasings alone, weighed as if no other were indexed', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['reset password'], 'faq')
  index.set(1, ['change email'], 'faq')
  index.set(2, ['password rules', 'password password manager'], 'manual')
  const alone = new QuestionIndex(words)
  alone.set(0, ['reset password'], 'faq')
  alone.set(1, ['change email'], 'faq')
  const faq = new Set(['faq'])
  const scoped = (text: string): Map<number, number> => {
    const into = new Map<number, number>()
    index.addScores(query(text), 1, into, { collections: faq })
    return into
  }
  t.same(scoped('password'), scores(alone, 'password'), '"password" is as rare as in the FAQ alone')
  t.same([...scoped('manager').keys()], [], 'a word only the other collection holds finds nothing')
  t.notSame(scores(index, 'password'), scores(alone, 'password'), 'unscoped, the manual\'s phrasings count')
  index.remove(2)
  t.same(scores(index, 'password'), scores(alone, 'password'), 'and once removed, they no longer do')
})

t.test('phrasings with no terms are not indexed and do not count in the statistics', async t => {
  const withBlanks = new QuestionIndex(words)
  withBlanks.set(0, ['reset password', '', '   '], 'faq')
  withBlanks.set(1, ['', ' '], 'faq')
  const plain = new QuestionIndex(words)
  plain.set(0, ['reset password'], 'faq')
  t.same(scores(withBlanks, 'reset password'), scores(plain, 'reset password'))
  t.same([...scores(withBlanks, 'reset').keys()], [0])
})

t.test('after any sequence of sets and removes, it scores as an index built from the end state', async t => {
  const vocabulary = ['reset', 'password', 'email', 'change', 'account', 'delete', 'billing', 'plan']
  const phrasing = fc.array(fc.constantFrom(...vocabulary, ''), { maxLength: 6 }).map(list => list.join(' '))
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), doc: fc.integer({ min: 0, max: 5 }), questions: fc.array(phrasing, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('remove' as const), doc: fc.integer({ min: 0, max: 5 }) })
  )
  // Even documents are the FAQ's, odd ones another collection's.
  const collectionOf = (doc: number): string => doc % 2 === 0 ? 'faq' : 'manual'
  const same = (got: Map<number, number>, want: Map<number, number>): boolean =>
    got.size === want.size && [...want].every(([doc, score]) => Math.abs((got.get(doc) ?? NaN) - score) < 1e-9)
  fc.assert(fc.property(fc.array(operation, { maxLength: 30 }), fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }), (operations, asked) => {
    const index = new QuestionIndex(words)
    const state = new Map<number, string[]>()
    for (const operation of operations) {
      if (operation.kind === 'set') {
        index.set(operation.doc, operation.questions, collectionOf(operation.doc))
        state.set(operation.doc, operation.questions)
      } else {
        index.remove(operation.doc)
        state.delete(operation.doc)
      }
    }
    const fresh = new QuestionIndex(words)
    const freshFaq = new QuestionIndex(words)
    for (const [doc, questions] of state) {
      fresh.set(doc, questions, collectionOf(doc))
      if (collectionOf(doc) === 'faq') freshFaq.set(doc, questions, 'faq')
    }
    const scopedToFaq = new Map<number, number>()
    index.addScores(query(asked.join(' ')), 1, scopedToFaq, { collections: new Set(['faq']) })
    return same(scores(index, asked.join(' ')), scores(fresh, asked.join(' '))) &&
      same(scopedToFaq, scores(freshFaq, asked.join(' ')))
  }), { numRuns: 300 })
  t.pass('300 random histories, searched whole and scoped to one collection')
})

t.test('a phrasing asked whole counts in full, whatever the weight; a word more or less, at the weight', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['use internet train'], 'faq')
  index.set(1, ['change booking train'], 'faq')
  const partial = scores(index, 'internet train', 0.3).get(0)!
  const whole = scores(index, 'use internet train', 0.3).get(0)!
  const asFull = scores(index, 'use internet train', 1).get(0)!
  t.ok(close(whole, asFull), `asked whole: ${whole}, as at weight 1`)
  t.ok(partial < whole * 0.3 * 1.01, `a word less: at the weight (${partial})`)
  t.ok(scores(index, 'use internet train today', 0.3).get(0)! < whole * 0.3 * 1.01, 'a word more: at the weight')
  const questionWords = (term: string): boolean => !['can', 'i'].includes(term)
  const asked = new Map<number, number>()
  index.addScores(query('can i use internet train'), 0.3, asked, { informative: questionWords })
  t.ok(close(asked.get(0), whole), 'question words aside, it is asked whole')
  t.ok(asked.get(1)! < asked.get(0)! * 0.3, 'the phrasing that shares a word only, at the weight')
})

t.test('a word that only a phrasing holds counts in full; one the passages hold too, at the weight', async t => {
  const index = new QuestionIndex(words)
  index.set(0, ['buy coffee train'], 'faq')
  index.set(1, ['help boarding train'], 'faq')
  const asked = (inPassages: (term: string) => boolean): number => {
    const into = new Map<number, number>()
    index.addScores(query('coffee board'), 0.3, into, { inPassages })
    return into.get(0)!
  }
  const inFull = asked(term => term !== 'coffee')
  const atWeight = asked(() => true)
  t.ok(close(atWeight, inFull * 0.3), `coffee: ${inFull} in full, ${atWeight} at the weight, when a passage holds it too`)
})
