import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import fc from 'fast-check'
import { datasetsDir, loadCorpus, loadQueryRecords, type CorpusDoc } from '../../../bench/datasets.js'
import { documentFromFile } from '../../../src/kb/document-files.js'
import { projectRoot } from '../../../src/project.js'
import { splitIntoPassages, splitSentences } from '../../../src/search/passages.js'
import { QUOTE_MAX_CHARS, SNIPPET_MAX_CHARS, SearchEngine } from '../../../src/search/search-engine.js'
import { perTurnSnippet, SnippetIndex } from '../../../src/search/snippets.js'
import { createAnalyzer } from '../../../src/search/text-analysis.js'

const analyzer = createAnalyzer()

function indexOf (...texts: string[]): SnippetIndex {
  const index = new SnippetIndex(analyzer.analyzeTokens, SNIPPET_MAX_CHARS)
  texts.forEach((text, slot) => index.add(slot, text))
  return index
}

/** What the search did before the index: split and analyse the text at every call. */
function perTurn (text: string, weights: Map<string, number>, max = SNIPPET_MAX_CHARS): string {
  return perTurnSnippet(text, weights, analyzer.termMatcher(weights.keys()), analyzer.analyzeTokens, max)
}

/** Query weights as the engine gives them: analysed terms. */
function weighted (entries: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(entries).map(([word, weight]) => [analyzer.analyze(word)[0] as string, weight]))
}

t.test('the sentence with the most weight, then the ones after it while they fit', async (t) => {
  const text = 'Parley is a chatbot. It stores   sessions\tin PostgreSQL.\nBackups run nightly at two.'
  const index = indexOf(text)
  t.equal(index.snippet(0, text, weighted({ sessions: 1 }), SNIPPET_MAX_CHARS),
    'It stores sessions in PostgreSQL. Backups run nightly at two.', 'white space in one space, as before')
  t.equal(index.snippet(0, text, weighted({ nightly: 1, chatbot: 0.5 }), SNIPPET_MAX_CHARS), 'Backups run nightly at two.')
  t.equal(index.snippet(0, text, weighted({ absent: 1 }), SNIPPET_MAX_CHARS), text.replace(/\s+/g, ' '),
    'no match: the opening, and what follows while it fits')
  t.equal(index.vocabularySize, 9, 'the distinct terms of the units, stopwords left out')
})

t.test('table rows are units of their own, joined by a line break', async (t) => {
  const text = 'Prices below.\n| plan | price |\n| --- | --- |\n| basic | 5 EUR |\n| pro | 20 EUR |\nAsk sales for more.'
  const index = indexOf(text)
  const weights = weighted({ basic: 2 })
  t.equal(index.snippet(0, text, weights, SNIPPET_MAX_CHARS), '| basic | 5 EUR |\n| pro | 20 EUR | Ask sales for more.')
  t.equal(index.snippet(0, text, weights, SNIPPET_MAX_CHARS), perTurn(text, weights))
})

t.test('a sentence longer than max is cut around its first match, at the stored offset', async (t) => {
  const text = `Short one. ${'word  '.repeat(80)}needle ${'word '.repeat(150)}tail.`
  const index = indexOf(text)
  for (const max of [SNIPPET_MAX_CHARS, QUOTE_MAX_CHARS]) {
    const snippet = index.snippet(0, text, weighted({ needle: 1 }), max)
    t.match(snippet, /^….*needle.*…$/)
    t.ok(snippet.length <= max)
    t.equal(snippet, perTurn(text, weighted({ needle: 1 }), max))
  }
  t.throws(() => index.snippet(0, text, weighted({ needle: 1 }), SNIPPET_MAX_CHARS - 1), RangeError,
    'shorter than the units whose offsets are kept')
})

t.test('empty text has no snippet; removing frees the words and compacting the pool', async (t) => {
  const index = indexOf('', 'Alpha beta. Gamma delta.', 'Beta only.')
  t.equal(index.snippet(0, '', weighted({ alpha: 1 }), SNIPPET_MAX_CHARS), '')
  const size = index.poolSize
  index.remove(1)
  t.equal(index.snippet(1, 'Alpha beta. Gamma delta.', weighted({ alpha: 1 }), SNIPPET_MAX_CHARS), '', 'a removed slot has none')
  t.equal(index.vocabularySize, 2, 'beta and onli, still held by the third passage')
  index.compact(Int32Array.from([0, -1, 1]))
  t.ok(index.poolSize < size)
  t.equal(index.snippet(1, 'Beta only.', weighted({ beta: 1 }), SNIPPET_MAX_CHARS), 'Beta only.', 'renumbered')
  index.add(2, 'Alpha again. And beta.')
  t.equal(index.snippet(2, 'Alpha again. And beta.', weighted({ beta: 1 }), SNIPPET_MAX_CHARS), 'And beta.')
  index.remove(0)
  index.remove(1)
  index.remove(2)
  t.equal(index.vocabularySize, 0)
})

// Words that stress what the index must do as the text does: hyphens and apostrophes joined or
// not, non-ASCII letters, folding (the ligature), abbreviations and initials that do not end a
// sentence, table rows, and white space that collapses.
const WORDS = ['alpha', 'beta', 'Gamma', 'delta', 'wi-fi', "user's", "don't", 'e-mail', 'café', 'İstanbul', 'ﬁle',
  'e.g.', 'Dr.', 'J.', 'x', 'the', 'and', '3.14', 'naïve', 'check-in', 'up-to-date', 'rock’n’roll']
const PUNCT = ['.', '!', '?', '…', '."', '.)', ',', ';', ' -', '']
const SPACE = [' ', ' ', ' ', '  ', '\t', '\n', '\n\n', '\u00A0', '\u2028', ' \n ']
const token = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...PUNCT), fc.constantFrom(...SPACE)).map(p => p.join('')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\n| beta | wi-fi |\n', '\n| --- | --- |\n', '\n  | Gamma. delta |  \n', '|', '\n## Beta wi-\n')
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) }
)
// Long runs without a sentence end, so that units longer than SNIPPET_MAX_CHARS are cut.
const text = fc.array(token, { maxLength: 160, size: 'max' }).map(tokens => tokens.join(''))
// Weights that tie, and sums that differ in the last bit with the order they are added in.
const weight = fc.constantFrom(0.1, 0.2, 0.3, 0.7, 1, 1.5)
const query = fc.uniqueArray(fc.tuple(fc.constantFrom(...WORDS, 'absent'), weight), { maxLength: 6, selector: ([w]) => w })
  .map(pairs => {
    const weights = new Map<string, number>()
    for (const [word, value] of pairs) for (const term of analyzer.analyze(word)) weights.set(term, value)
    return weights
  })

t.test('property: the index gives the snippet and the quote made from the text at every turn', async (t) => {
  let cuts = 0
  let rows = 0
  fc.assert(fc.property(text, query, (passage, weights) => {
    const index = indexOf(passage)
    for (const max of [SNIPPET_MAX_CHARS, QUOTE_MAX_CHARS]) {
      const expected = perTurn(passage, weights, max)
      if (expected.endsWith('…')) cuts++
      if (expected.includes('\n|')) rows++
      if (index.snippet(0, passage, weights, max) !== expected) return false
      // The quote was made from the trimmed text: the same units, at other offsets.
      if (perTurn(passage.trim(), weights, max) !== expected) return false
    }
    return true
  }), { numRuns: 1500 })
  t.ok(cuts > 0, 'some units were longer than max, and cut')
  t.ok(rows > 0, 'some snippets held table rows')
})

t.test('property: after upserts, removals and compactions, indexed and per-turn engines answer alike', async (t) => {
  const phrasing = fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }).map(words => words.join(' '))
  const operation = fc.oneof(
    fc.record({ id: fc.integer({ min: 0, max: 40 }), title: phrasing, questions: fc.array(phrasing, { maxLength: 2 }), text }),
    fc.record({ remove: fc.integer({ min: 0, max: 40 }) })
  )
  const ask = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }).map(words => words.join(' '))
  let runs = 0
  // Evidence too: with titles unweighted, a title's terms are not in the passages' postings.
  fc.assert(fc.property(
    fc.array(operation, { maxLength: 150, size: 'max' }), fc.array(ask, { minLength: 1, maxLength: 5 }), fc.constantFrom(0, 2),
    (operations, questions, titleBoost) => {
      const indexed = new SearchEngine({ wordVectors: false, titleBoost })
      const perTurnEngine = new SearchEngine({ wordVectors: false, titleBoost, passageTerms: 'per-turn' })
      for (const op of operations) {
        for (const engine of [indexed, perTurnEngine]) {
          if ('remove' in op) engine.remove(`d${op.remove}`)
          else engine.upsert({ id: `d${op.id}`, title: op.title, questions: op.questions, passages: splitIntoPassages(op.text, { maxWords: 30 }) })
        }
      }
      runs++
      return questions.every(q => JSON.stringify(indexed.searchWithEvidence(q, 10)) ===
        JSON.stringify(perTurnEngine.searchWithEvidence(q, 10)))
    }), { numRuns: 60 })
  t.equal(runs, 60)
})

interface Collection { name: string, docs: CorpusDoc[], questions: string[] }

/** The docs Parley ships and seeds, the FAQs of bench:answers, and ../shared/datasets when present. */
function collections (): Collection[] {
  const found: Collection[] = []
  const faqs = join(projectRoot, 'bench', 'answers', 'faqs')
  for (const name of readdirSync(faqs).filter(name => existsSync(join(faqs, name, 'corpus.jsonl')))) {
    found.push({ name, docs: loadCorpus(name, faqs), questions: loadQueryRecords(name, faqs).map(q => q.text) })
  }
  for (const name of ['stackfaq-dev', 'cranfield', 'scifact']) {
    if (!existsSync(join(datasetsDir, name, 'corpus.jsonl'))) continue
    found.push({ name, docs: loadCorpus(name), questions: loadQueryRecords(name).map(q => q.text) })
  }
  const dir = join(projectRoot, 'docs')
  const docs = readdirSync(dir).filter(file => file.endsWith('.md')).map(file => {
    const document = documentFromFile(file, readFileSync(join(dir, file), 'utf8'))
    return { id: document.id ?? file, title: document.title, text: document.text }
  })
  // The docs have no judged questions: the other collections' and each of their sentences' opening.
  const questions = found.flatMap(c => c.questions.slice(0, 100))
  for (const doc of docs) for (const sentence of splitSentences(doc.text)) questions.push(sentence.slice(0, 40))
  found.push({ name: 'docs', docs, questions })
  return found
}

t.test('every shipped and judged collection: the same hits, snippets, quotes and evidence as per turn', async (t) => {
  for (const { name, docs, questions } of collections()) {
    const indexed = new SearchEngine({ wordVectors: false })
    const perTurnEngine = new SearchEngine({ wordVectors: false, passageTerms: 'per-turn' })
    for (const doc of docs) {
      const document = { id: doc.id, title: doc.title, passages: splitIntoPassages(doc.text) }
      indexed.upsert(document)
      perTurnEngine.upsert(document)
    }
    let differ = 0
    for (const question of questions) {
      // Ten hits as /search gives, and the quote of a turn.
      const a = indexed.searchWithEvidence(question, 10)
      const b = perTurnEngine.searchWithEvidence(question, 10)
      if (JSON.stringify(a) !== JSON.stringify(b)) differ++
    }
    t.equal(differ, 0, `${name}: ${docs.length} documents, ${questions.length} questions`)
  }
})
