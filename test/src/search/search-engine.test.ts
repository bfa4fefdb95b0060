import t from 'tap'
import fc from 'fast-check'
import { splitIntoPassages } from '../../../src/search/passages.js'
import { SNIPPET_MAX_CHARS, SearchEngine, type SearchDocument, type SearchHit } from '../../../src/search/search-engine.js'

function doc (id: string, title: string, markdown: string): SearchDocument {
  return { id, title, passages: splitIntoPassages(markdown) }
}

const CORPUS: SearchDocument[] = [
  doc('cats', 'Caring for cats', 'Cats need fresh water and good cat food every day.\n\n## Litter\nClean the litter box daily.'),
  doc('dogs', 'Training your dog', 'Dogs learn commands with treats. A dog may chase cats, so train recall early.'),
  doc('install', 'Installing Parley', '## Linux\nInstall Node.js 20, then run npm ci.\n\n## Windows\nUse the Node.js installer, then run npm ci in PowerShell.'),
  doc('errors', 'Troubleshooting', 'If the server does not start, check that PostgreSQL is running and the port is free.'),
  doc('food', 'Pet food guide', 'Food for pets: dry food, wet food and raw food compared. Dogs and cats have different needs.')
]

function engineWith (docs: SearchDocument[], options = {}): SearchEngine {
  const engine = new SearchEngine(options)
  for (const d of docs) engine.upsert(d)
  return engine
}

const ids = (hits: SearchHit[]): string[] => hits.map((h) => h.docId)

t.test('ranks the best-matching documents first', async (t) => {
  const engine = engineWith(CORPUS)
  t.equal(engine.documentCount, 5)
  t.equal(engine.passageCount, 7)
  t.same(ids(engine.search('install parley on windows')).slice(0, 1), ['install'])
  t.same(ids(engine.search('cat litter')).slice(0, 1), ['cats'])
  t.same(ids(engine.search('postgresql not starting')), ['errors'])
  const food = engine.search('pet food')
  t.same(ids(food).slice(0, 2), ['food', 'cats'], 'the food guide says food five times, the cat page once')
  t.ok(food.every((h, i) => i === 0 || (food[i - 1] as SearchHit).score >= h.score), 'best first')
})

t.test('the title counts, and titleBoost weights it', async (t) => {
  const docs = [
    doc('titled', 'Widget setup', 'How to configure the thing for your team and deploy it.'),
    doc('body', 'Configuration', 'Set the widget name, then reload the widget and check widget logs.')
  ]
  // The question field (tested below) would count the title on its own.
  const questionWeight = 0
  t.same(ids(engineWith(docs, { titleBoost: 0, questionWeight }).search('widget')), ['body'], 'without title weight only the body matches')
  t.same(ids(engineWith(docs, { titleBoost: 1, questionWeight }).search('widget')), ['body', 'titled'])
  t.same(ids(engineWith(docs, { titleBoost: 5, questionWeight }).search('widget')), ['titled', 'body'])
})

t.test('the question field: a question is matched against the one each entry answers and its other phrasings', async (t) => {
  const faq = [
    { id: 'spread', title: 'How does the virus spread?', passages: [{ ordinal: 0, text: 'Mostly through droplets when an infected person coughs or sneezes nearby.' }] },
    { id: 'masks', title: 'Should I wear a mask?', passages: [{ ordinal: 0, text: 'Wear a mask in crowded places; it stops droplets that spread the virus.' }] }
  ]
  const engine = engineWith(faq)
  t.same(ids(engine.search('does the virus spread by droplets')).slice(0, 1), ['spread'], 'the entry whose question is asked first, though both answers say "spread" and "droplets"')
  const without = engineWith(faq, { questionWeight: 0 }).search('does the virus spread by droplets')[0]!
  t.ok(without.score < engine.search('does the virus spread by droplets')[0]!.score, 'questionWeight 0 turns the field off')
  t.same(ids(engine.search('transmission route')), [], 'words of no entry')
  engine.upsert({ ...faq[0]!, questions: ['Transmission route?', '  '] })
  t.same(ids(engine.search('transmission route')), ['spread'], 'another phrasing the team gave finds it, with its opening passage')
  t.equal(engine.search('transmission route')[0]?.passage, 0)
  t.same(ids(engine.search('transmission route', 10, new Set(['elsewhere']))), [], 'and a search scoped to another collection does not')
  engine.remove('spread')
  t.same(ids(engine.search('transmission route')), [], 'removed with its document')
  engine.upsert({ ...faq[0]!, questions: ['Transmission route?'] })
  engine.upsert(faq[0]!)
  t.same(ids(engine.search('transmission route')), [], 'and replaced with it')
})

t.test('a search of some collections weighs words as if no other collection were indexed', async (t) => {
  const faq: SearchDocument[] = [
    { id: 'nervous', title: 'Can you groom anxious or nervous dogs?', passages: [{ ordinal: 0, text: 'Yes. Our groomers are trained in low-stress handling for nervous dogs.' }] },
    { id: 'prices', title: 'How much does a full groom cost?', passages: [{ ordinal: 0, text: 'A full groom starts at $55 for small dogs.' }], questions: ['What do you charge for a groom?'] }
  ]
  // The bundled manual beside a team's FAQ: its words ("cats") are not the FAQ's.
  const manual: SearchDocument[] = [
    { id: 'manual', title: 'Caring for cats and dogs', collection: 'parley', passages: [{ ordinal: 0, text: 'Cats groom themselves; dogs need a groom.' }] }
  ]
  const both = engineWith([...faq, ...manual])
  const alone = engineWith(faq)
  const scope = new Set(['default'])
  for (const question of ['do you groom cats as well', 'what does a groom cost', 'nervous dogs']) {
    t.same(both.searchWithEvidence(question, 3, scope), alone.searchWithEvidence(question, 3), `"${question}": the same hits, scores and evidence`)
  }
  const scoped = both.searchWithEvidence('do you groom cats', 3, scope).evidence
  t.ok(scoped.unseen > 0, `"cats" is a word the FAQ lacks (unseen ${scoped.unseen})`)
  t.equal(both.searchWithEvidence('do you groom cats', 3).evidence.unseen, 0, 'searched whole, the manual holds it')
  both.remove('manual')
  t.same(both.searchWithEvidence('do you groom cats as well', 3), alone.searchWithEvidence('do you groom cats as well', 3), 'removed, the manual no longer counts')
})

t.test('question words typed contracted or in chat shorthand say nothing of the subject', async (t) => {
  const engine = engineWith([
    { id: 'hours', title: 'What are your opening hours?', passages: [{ ordinal: 0, text: 'We are open on Saturday from 9am to 5pm.' }] }
  ])
  const plain = engine.searchWithEvidence('are you open on saturday', 3).evidence
  for (const typed of ['r u guys open on saturday', "can't u open on saturday pls", "ok, r ya open on saturday? i'm"]) {
    const { terms, coverage, unseen } = engine.searchWithEvidence(typed, 3).evidence
    t.same({ terms, coverage, unseen }, { terms: plain.terms, coverage: plain.coverage, unseen: plain.unseen }, typed)
  }
})

t.test('a misspelt word finds the entry it meant, and the evidence counts it; SEARCH_SPELLING=false reads it as typed', async (t) => {
  const docs = [
    { id: 'password', title: 'How do I reset my password?', passages: [{ ordinal: 0, text: 'Choose Forgot password on the sign-in page.' }] },
    { id: 'parcel', title: 'Where is my parcel?', passages: [{ ordinal: 0, text: 'Track it from your account.' }] }
  ]
  const found = engineWith(docs).searchWithEvidence('i forgot my pasword', 3)
  t.same(ids(found.hits).slice(0, 1), ['password'])
  t.match(found.evidence, { corrected: 1, unseen: 0, coverage: 1 })
  const asTyped = engineWith(docs, { spelling: false }).searchWithEvidence('i forgot my pasword', 3)
  t.match(asTyped.evidence, { corrected: 0 })
  t.ok(asTyped.evidence.unseen > 0, 'the misspelt word is one the knowledge base lacks')
  t.same(engineWith(docs).searchWithEvidence('i forgot my password', 3).evidence, { ...found.evidence, corrected: 0 }, 'else as if typed right')
})

t.test('a question none of whose words a passage holds: every informative word unseen', async (t) => {
  const docs = [{ id: 'refunds', title: 'Refunds', passages: [{ ordinal: 0, text: 'Refunds take five days.' }] }]
  const { hits, evidence } = engineWith(docs).searchWithEvidence('and bikes?', 3)
  t.same(hits, [])
  t.match(evidence, { terms: 1, unseen: 1, coverage: 0 })
  t.match(engineWith(docs).searchWithEvidence('and?', 3).evidence, { terms: 0, unseen: 0 }, 'none at all: nothing unseen')
})

t.test("a word in the other region's spelling finds the entry that spells it the knowledge base's way", async (t) => {
  const docs = [
    { id: 'printing', title: 'Can I print at the library?', passages: [{ ordinal: 0, text: 'Pages cost 10p in black and 50p in colour.' }] },
    { id: 'wifi', title: 'Is there wifi?', passages: [{ ordinal: 0, text: 'Yes, free wifi in every branch.' }] }
  ]
  const found = engineWith(docs).searchWithEvidence('can i print in color', 3)
  t.same(ids(found.hits).slice(0, 1), ['printing'])
  t.match(found.evidence, { corrected: 1, unseen: 0, coverage: 1 })
  t.ok(engineWith(docs, { spelling: false }).searchWithEvidence('can i print in color', 3).evidence.unseen > 0, 'off: as typed')
})

t.test('a compound found as the knowledge base writes it, only in the searched collections', async (t) => {
  const docs = [
    { id: 'parking', title: 'Is there parking?', passages: [{ ordinal: 0, text: 'Our car park is behind the gym.' }] },
    { id: 'login', title: 'I cannot sign in', passages: [{ ordinal: 0, text: 'If your login fails, reset your password.' }] },
    { id: 'mats', title: 'Mats', collection: 'shop', passages: [{ ordinal: 0, text: 'Every yoga mat is hand made.' }] }
  ]
  const engine = engineWith(docs)
  const split = engine.searchWithEvidence('wheres the carpark', 3)
  t.same(ids(split.hits).slice(0, 1), ['parking'], '"carpark" read as "car park"')
  t.match(split.evidence, { corrected: 1, unseen: 0 })
  t.same(ids(engine.search('cant log in', 3)).slice(0, 1), ['login'], '"log in" read as "login"')
  t.same(engine.search('yogamat', 3, new Set(['default'])), [], 'not from a collection not searched')
  t.same(ids(engine.search('yogamat', 3)).slice(0, 1), ['mats'])
  t.match(engineWith(docs, { spelling: false }).searchWithEvidence('wheres the carpark', 3).evidence, { corrected: 0, coverage: 0 })
})

t.test('a compound\'s parts found in the plural or the singular, whichever the knowledge base writes', async (t) => {
  const plural = engineWith([
    { id: 'gift-cards', title: 'Do you sell gift cards?', passages: [{ ordinal: 0, text: 'Gift cards are valid for two years.' }] },
    { id: 'cafe', title: 'Do you have a cafe?', passages: [{ ordinal: 0, text: 'Our cafe serves cakes for your mum.' }] }
  ])
  const singular = plural.searchWithEvidence('giftcard for my mum', 3)
  t.same(ids(singular.hits).slice(0, 1), ['gift-cards'], '"giftcard" read as "gift card" where the entry writes "gift cards"')
  t.match(singular.evidence, { corrected: 1, unseen: 0 })
  const written = engineWith([{ id: 'vouchers', title: 'Gift card', passages: [{ ordinal: 0, text: 'A gift card is valid for two years.' }] }])
  t.same(ids(written.search('giftcards?', 3)), ['vouchers'], 'and "giftcards" where it writes "gift card"')
  t.match(engineWith([doc('tools', 'Tools', 'A cardigan and a gift.')]).searchWithEvidence('giftcard', 3).evidence, { corrected: 0 }, 'not read into another word')
})

t.test('one row per document: its best passage', async (t) => {
  const engine = engineWith([
    doc('kiwi', 'Fruit', '## One\nA kiwi is small.\n\n## Two\nKiwi kiwi kiwi: kiwi everywhere.\n\n## Three\nNo such fruit here.'),
    doc('other', 'Birds', 'The kiwi is also a bird.')
  ])
  const hits = engine.search('kiwi')
  t.same(ids(hits), ['kiwi', 'other'])
  t.equal(hits[0]?.passage, 1)
  t.equal(hits[0]?.passageText, 'Kiwi kiwi kiwi: kiwi everywhere.')
  t.equal(hits[0]?.title, 'Fruit')
})

t.test('headings are searchable with their passage', async (t) => {
  const engine = engineWith(CORPUS)
  const hits = engine.search('litter')
  t.equal(hits[0]?.docId, 'cats')
  t.equal(hits[0]?.passage, 1)
})

t.test('a section shows its opening where the opening holds every word its best passage does', async (t) => {
  const heading = 'How do I view traces?'
  const engine = engineWith([{
    id: 'tracing',
    title: 'Observability',
    passages: [
      { ordinal: 0, heading, text: 'Open Jaeger on port 16686, pick the service parley, and press Find to list the requests of the last hour.' },
      { ordinal: 1, heading, text: 'OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose which traces are kept.' },
      { ordinal: 2, heading: 'Logs', text: 'Log lines carry the trace id.' }
    ]
  }])
  // Every passage of the section holds the heading's words; the second only repeats "traces".
  const asked = engine.searchWithEvidence('how do I view traces?')
  t.equal(asked.hits[0]?.passage, 0, 'the opening, which answers the heading')
  t.match(asked.quote, /^Open Jaeger/)
  // A word only the later passage holds: it is what was asked about.
  const sampler = engine.searchWithEvidence('which traces does the sampler keep?')
  t.equal(sampler.hits[0]?.passage, 1)
  t.match(sampler.quote, /^OTEL_TRACES_SAMPLER/)
  // Another section is never shown for this one's words.
  t.equal(engine.search('trace id in log lines')[0]?.passage, 2)
})

t.test('upsert replaces every passage of a document', async (t) => {
  const engine = engineWith(CORPUS)
  engine.upsert(doc('cats', 'Caring for cats', 'Brush long-haired breeds weekly.'))
  t.equal(engine.documentCount, 5)
  t.equal(engine.passageCount, 6)
  t.same(ids(engine.search('litter')), [], 'old passages are gone')
  t.same(ids(engine.search('brush')), ['cats'])
  t.same(ids(engine.search('cat')).slice(0, 1), ['cats'], 'the title is still indexed')
})

t.test('remove removes', async (t) => {
  const engine = engineWith(CORPUS)
  t.equal(engine.remove('install'), true)
  t.equal(engine.remove('install'), false)
  t.equal(engine.remove('never-there'), false)
  t.equal(engine.documentCount, 4)
  t.equal(engine.passageCount, 5)
  t.same(engine.search('npm ci powershell'), [])
  for (const d of CORPUS) engine.remove(d.id)
  t.equal(engine.documentCount, 0)
  t.equal(engine.passageCount, 0)
  t.same(engine.search('cats'), [])
  engine.upsert(CORPUS[0] as SearchDocument)
  t.same(ids(engine.search('cats')), ['cats'], 'usable again after being emptied')
})

t.test('incremental updates score exactly like a fresh index, through compactions', async (t) => {
  const vocabulary = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'zeta']
  const makeDoc = (id: number, version: number): SearchDocument => {
    const pick = (i: number): string => vocabulary[(id * 7 + version * 3 + i * i) % vocabulary.length] as string
    const para = (n: number): string => Array.from({ length: 3 + ((id + n) % 5) }, (_, i) => pick(i + n)).join(' ')
    // A third in another collection; a new version may move a document from one to the other.
    const collection = (id + version) % 3 === 0 ? 'manual' : 'default'
    return { id: `d${id}`, title: pick(id), collection, passages: [0, 1, 2].slice(0, 1 + ((id + version) % 3)).map((n) => ({ ordinal: n, text: para(n) })) }
  }
  const engine = new SearchEngine()
  const live = new Map<string, SearchDocument>()
  for (let i = 0; i < 300; i++) {
    const d = makeDoc(i, 0)
    engine.upsert(d)
    live.set(d.id, d)
  }
  for (let i = 0; i < 300; i += 2) {
    engine.remove(`d${i}`)
    live.delete(`d${i}`)
  }
  for (let i = 0; i < 300; i += 3) {
    const d = makeDoc(i, 1)
    engine.upsert(d)
    live.set(d.id, d)
  }
  const fresh = engineWith([...live.values()])
  t.equal(engine.documentCount, fresh.documentCount)
  t.equal(engine.passageCount, fresh.passageCount)
  const freshDefault = engineWith([...live.values()].filter(d => d.collection === 'default'))
  const scope = new Set(['default'])
  for (const query of ['alpha', 'beta gamma', 'omega zeta kappa', 'delta delta sigma']) {
    t.same(engine.search(query, 50), fresh.search(query, 50), query)
    t.same(engine.searchWithEvidence(query, 50, scope), freshDefault.searchWithEvidence(query, 50), `${query}, one collection`)
  }
})

t.test('snippet: the best-matching sentence, bounded, never empty when there is text', async (t) => {
  const engine = engineWith([
    doc('a', 'Guide', 'Parley is a chatbot. It stores sessions in PostgreSQL. Backups run nightly at two.'),
    doc('b', 'Long', `Intro sentence. ${'Lorem ipsum dolor sit amet. '.repeat(20)}The rotation key is configured in settings. ${'More filler text here. '.repeat(20)}`),
    doc('c', 'Titled only', 'Nothing relevant is said in this text at all.'),
    doc('d', 'Empty body', '')
  ])
  const [backup] = engine.search('nightly backups')
  t.match(backup?.snippet, /^Backups run nightly/)
  const [rotation] = engine.search('rotation key')
  t.ok(rotation !== undefined && rotation.snippet.length <= SNIPPET_MAX_CHARS)
  t.match(rotation?.snippet, /The rotation key is configured in settings\./)
  t.notMatch(rotation?.snippet, /Intro sentence/)
  const [titled] = engine.search('titled')
  t.equal(titled?.snippet, 'Nothing relevant is said in this text at all.')
  const [empty] = engine.search('empty body')
  t.equal(empty?.docId, 'd')
  t.equal(empty?.passage, 0)
  t.equal(empty?.snippet, '')
})

t.test('a very long sentence is cut around the first match', async (t) => {
  const text = `${'word '.repeat(150)}needle ${'word '.repeat(150)}`.trim()
  const [hit] = engineWith([{ id: 'long', title: 'Long', passages: [{ ordinal: 0, text }] }]).search('needle')
  t.ok(hit !== undefined && hit.snippet.length <= SNIPPET_MAX_CHARS)
  t.match(hit?.snippet, /^….*needle.*…$/)
})

t.test('queries without indexable terms give no hits', async (t) => {
  const engine = engineWith(CORPUS)
  t.same(engine.search(''), [])
  t.same(engine.search('   '), [])
  t.same(engine.search('?!... ---'), [])
  t.same(engine.search('the and of to it is'), [])
  t.same(engine.search('unknownword'), [])
  t.same(engine.search(undefined as unknown as string), [])
})

t.test('k bounds the rows; scores are finite and rounded', async (t) => {
  const engine = engineWith(CORPUS)
  t.equal(engine.search('food cats dogs npm', 2).length, 2)
  t.equal(engine.search('food cats dogs npm', 0).length, 0)
  t.equal(engine.search('food cats dogs npm', -3).length, 0)
  t.equal(engine.search('food cats dogs npm', 2.9).length, 2)
  t.equal(engine.search('food cats dogs npm').length, 4, 'every document that matches, the default k being 10')
  for (const hit of engine.search('food cats dogs npm')) {
    t.ok(Number.isFinite(hit.score) && hit.score > 0)
    t.equal(Math.round(hit.score * 1e4) / 1e4, hit.score)
  }
})

t.test('a document without passages is still found by its title', async (t) => {
  const engine = engineWith([{ id: 'x', title: 'Release notes', passages: [] }])
  t.equal(engine.passageCount, 1)
  t.same(engine.search('release'), [{ docId: 'x', title: 'Release notes', score: engine.search('release')[0]?.score, snippet: '', passage: 0, passageText: '' }])
})

t.test('coverage counts the passage\'s terms from its postings, the title\'s and the phrasing\'s apart', async (t) => {
  const docs: SearchDocument[] = [
    { id: 'r', title: 'Refunds', questions: ['Can I get my money back?'], passages: [{ ordinal: 0, heading: 'Returns', text: 'Within 30 days of delivery.' }] },
    { id: 'o', title: 'Orders', passages: [{ ordinal: 0, text: 'Track a parcel from your account.' }] }
  ]
  for (const titleBoost of [0, 2]) {
    const indexed = engineWith(docs, { titleBoost, wordVectors: false })
    const perTurn = engineWith(docs, { titleBoost, wordVectors: false, passageTerms: 'per-turn' })
    for (const question of ['refunds returns days', 'money back delivery', 'refunds parcel', 'returns within unknownword']) {
      t.same(indexed.searchWithEvidence(question, 3), perTurn.searchWithEvidence(question, 3), `${question}, titleBoost ${titleBoost}`)
    }
    t.equal(indexed.searchWithEvidence('refunds returns days', 3).evidence.coverage, 1, 'title, heading and text')
  }
})

t.test('rejects bad options and documents', async (t) => {
  t.throws(() => new SearchEngine({ k1: -1 }), RangeError)
  t.throws(() => new SearchEngine({ b: 1.5 }), RangeError)
  t.throws(() => new SearchEngine({ titleBoost: Number.NaN }), RangeError)
  t.throws(() => new SearchEngine({ passageTerms: 'cached' as 'indexed' }), RangeError)
  const engine = new SearchEngine()
  t.throws(() => engine.upsert({ title: 'no id', passages: [] } as unknown as SearchDocument), TypeError)
  t.equal(engine.documentCount, 0)
})

t.test('property: search never throws, returns at most k rows, one per document, best first', async (t) => {
  const engine = engineWith(CORPUS)
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), fc.integer({ min: -2, max: 8 }), (query, k) => {
    const hits = engine.search(query, k)
    const docIds = new Set(hits.map((h) => h.docId))
    return hits.length <= Math.max(0, k) &&
      docIds.size === hits.length &&
      hits.every((h, i) => Number.isFinite(h.score) && (i === 0 || (hits[i - 1] as SearchHit).score >= h.score))
  }), { numRuns: 1000 })
  const words = fc.constantFrom('cats', 'dog', 'food', 'npm', 'the', 'install', 'litter', 'windows', 'postgresql', 'x')
  fc.assert(fc.property(fc.array(words, { maxLength: 6 }).map((w) => w.join(' ')), fc.integer({ min: 1, max: 6 }), (query, k) => {
    const hits = engine.search(query, k)
    return hits.length <= k && hits.every((h, i) => i === 0 || (hits[i - 1] as SearchHit).score >= h.score) &&
      hits.every((h) => h.snippet.length <= SNIPPET_MAX_CHARS)
  }), { numRuns: 500 })
  t.pass('properties held')
})
