import { memoryUsage } from 'node:process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import fc from 'fast-check'
import { STOPWORDS, analyze, analyzeTokens, createAnalyzer, termMatcher } from '../../../src/search/text-analysis.js'

t.test('lowercases, splits on non-word characters and stems', async (t) => {
  t.same(analyze('Running DOGS were barking!'), ['run', 'dog', 'were', 'bark'])
  t.same(analyze('relational-databases, connections;indexing'), ['relat', 'databas', 'relationaldatabas', 'connect', 'index'])
  t.same(analyze('HTTP2 over TLS 1.3'), ['http2', 'over', 'tl', '1', '3'])
})

t.test("drops Lucene's 33 English stopwords, before stemming", async (t) => {
  t.equal(STOPWORDS.size, 33)
  t.same(analyze([...STOPWORDS].join(' ')), [])
  t.same(analyze('The Cat IS on THE mat'), ['cat', 'mat'])
  // "thing" is not a stopword even though stemming could make it look like one.
  t.same(analyze('this thing'), ['thing'])
})

t.test("removes the possessive 's and joins other apostrophes", async (t) => {
  t.same(analyze("John's car"), ['john', 'car'])
  t.same(analyze('the user\u2019s settings'), ['user', 'set'])
  t.same(analyze("don't"), ['dont'])
  t.same(analyze("'quoted' words"), ['quot', 'word'])
  t.same(analyze("it's"), [], "it's is the stopword it")
})

t.test('is Unicode aware', async (t) => {
  t.same(analyze('Café naïve'), ['café', 'naïv'])
  t.same(analyze('cafe\u0301'), analyze('café'), 'decomposed accents are composed')
  t.same(analyze('\uFB01nance'), analyze('finance'), 'ligatures are folded')
  t.same(analyze('\uFF21\uFF22\uFF23'), ['abc'], 'full-width letters are folded')
  t.same(analyze('Москва — столица'), ['москва', 'столица'])
  t.same(analyze('東京 2020'), ['東京', '2020'])
  t.same(analyze('\u{1D400}x'), ['ax'], 'astral letters are word characters')
  t.same(analyze('a🙂b'), ['b'], 'emoji separate words')
})

t.test('empty and non-text input gives no terms', async (t) => {
  t.same(analyze(''), [])
  t.same(analyze('  ,,, --- !!! '), [])
  t.same(analyze(undefined as unknown as string), [])
  t.same(analyze(42 as unknown as string), [])
})

t.test('analyzeTokens reports where each term came from', async (t) => {
  const text = "The Quick brown fox's jumps"
  const tokens = analyzeTokens(text)
  t.same(tokens.map((tok) => tok.term), ['quick', 'brown', 'fox', 'jump'])
  t.same(tokens.map((tok) => text.slice(tok.start, tok.end)), ['Quick', 'brown', "fox's", 'jumps'])
  const unicode = 'İstanbul \uFB01nance'
  t.same(analyzeTokens(unicode).map((tok) => unicode.slice(tok.start, tok.end)), ['İstanbul', '\uFB01nance'])
})

t.test('a cached analyzer gives the same terms as analyze, even when its cache overflows', async (t) => {
  const cached = createAnalyzer()
  const tiny = createAnalyzer({ cacheSize: 1 })
  const text = 'Connections connected connecting; the running runners ran'
  t.same(cached.analyze(text), analyze(text))
  t.same(tiny.analyze(text), analyze(text))
  t.same(tiny.analyzeTokens(text), analyzeTokens(text))
})

t.test('property: never throws, terms are non-empty words; cached = uncached', async (t) => {
  // Stopwords are dropped before stemming, as in Lucene, so a stem may still equal one
  // ("tos" stems to "to"); that is not checked here.
  const cached = createAnalyzer({ cacheSize: 8 })
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
    const terms = analyze(text)
    for (const term of terms) {
      if (term.length === 0 || /[\s,.;:!?]/.test(term)) return false
    }
    return JSON.stringify(cached.analyze(text)) === JSON.stringify(terms) &&
      analyzeTokens(text).length === terms.length
  }), { numRuns: 500 })
  t.pass('property held')
})

t.test('two words joined by one hyphen are also one word, as users type them', async (t) => {
  t.same(analyze('Is there Wi-Fi on board?'), ['wi', 'fi', 'wifi', 'board'])
  t.ok(analyze('wifi password').includes('wifi'), 'so "wifi" finds "Wi-Fi"')
  t.same(analyze('check-in'), ['check', 'checkin'], 'a stopword part is dropped, the joined word is not')
  t.same(analyze('state-of-the-art'), ['state', 'art'], 'a longer chain is not joined')
  t.same(analyze('café-bar'), ['café', 'bar', 'cafébar'], 'outside ASCII too')
  t.same(analyzeTokens('e-mail').map(({ term, start, end }) => [term, start, end]), [['e', 0, 1], ['mail', 2, 6], ['email', 0, 6]])
})

t.test('words Porter joins to a word of another meaning stay apart, and their own forms still meet', async (t) => {
  t.notSame(analyze('customers'), analyze('custom'), '"wifi for customers?" is not about custom cakes')
  t.same(analyze('customer customers'), ['customer', 'customer'])
  t.same(analyze('custom customs customized'), ['custom', 'custom', 'custom'], 'the other word keeps its stem')
  for (const [word, other] of [['business', 'busy'], ['news', 'new'], ['experience', 'experiment'], ['community', 'communication'],
    ['university', 'universe'], ['internal', 'intern'], ['international', 'intern'], ['organic', 'organ'], ['general', 'generous'],
    ['general', 'generate'], ['authority', 'author'], ['executive', 'execute'], ['paste', 'past'], ['several', 'severe'], ['animals', 'animation']]) {
    t.notSame(analyze(word!), analyze(other!), `${word} is no ${other}`)
  }
  t.same(analyze('experience experiences experienced experiencing'), Array(4).fill('experienc'))
  t.same(analyze('paste pastes pasted pasting'), Array(4).fill('paste'))
  t.same(createAnalyzer({ cacheSize: 2 }).analyze('Customers of a business'), ['customer', 'business'], 'the cached analyzer too')
  t.same([...termMatcher(analyze('customers'))('our custom cakes, for every customer')], ['customer'], 'and what highlights a snippet')
})

t.test('termMatcher finds exactly the wanted terms analyze would produce', async (t) => {
  const matches = termMatcher(analyze('connection relational happiness mobility'))
  t.same([...matches('Cats and dogs sleep all day.')], [])
  t.same([...matches('We connected the relations; happy, mobile people.')].sort(), ['connect', 'happi', 'mobil', 'relat'])
  t.same([...matches('Connecting relational stores brings happiness.')].sort(), ['connect', 'happi', 'relat'])
  t.same([...matches("the happiness' of Mobility's users")].sort(), ['happi', 'mobil'])
  t.same([...termMatcher([])('anything at all')], [])
})

t.test('property: termMatcher agrees with analyze', async (t) => {
  const stems = ['connect', 'relat', 'happi', 'gener', 'abl', 'mobil', 'cat', 'i', 'x1', 'catmobil', 'happyabl', 'mobileabl']
  const cached = createAnalyzer({ cacheSize: 16 })
  const word = fc.oneof(
    fc.constantFrom('connection', 'connected', 'relational', 'relate', 'happy', 'happiness', 'generalization',
      'generous', 'ability', 'able', 'mobility', 'mobile', 'cats', "cat's", 'I', 'x1', 'caf\u00e9', 'Y', 'the'),
    fc.string({ unit: 'grapheme', maxLength: 10 })
  )
  const text = fc.array(fc.tuple(word, fc.constantFrom(' ', ', ', '. ', "'", '-', '\n')), { maxLength: 20 })
    .map((parts) => parts.map(([w, sep]) => w + sep).join(''))
  fc.assert(fc.property(text, fc.subarray(stems), (sample, wanted) => {
    const expected = [...new Set(analyze(sample).filter((term) => wanted.includes(term)))].sort()
    return JSON.stringify([...termMatcher(wanted)(sample)].sort()) === JSON.stringify(expected) &&
      JSON.stringify([...cached.termMatcher(wanted)(sample)].sort()) === JSON.stringify(expected)
  }), { numRuns: 1000 })
  t.pass('property held')
})

t.test('the stem cache does not keep hostile long words: 20,000 unique 3,990-character words add no heap for good', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const analyzer = createAnalyzer()
  const word = (i: number): string => `${i.toString(36)}${'x'.repeat(3990)}`
  gc()
  const before = memoryUsage().heapUsed
  for (let i = 0; i < 20_000; i++) analyzer.analyze(word(i))
  gc()
  const grown = (memoryUsage().heapUsed - before) / 1024 / 1024
  t.ok(grown < 10, `heap grew ${grown.toFixed(1)} MB (78 MB when they were cached)`)
  t.same(analyzer.analyze(word(7)), analyze(word(7)), 'long words are still stemmed')
})
