/**
 * Answer benchmark: does the bot answer when the knowledge base knows, from a relevant document,
 * and refuse when it does not? Each development collection and each FAQ in bench/answers/faqs/ in
 * turn is the knowledge base: its judged queries are the answerable turns; its users' other
 * messages (a written FAQ's), the out-of-scope messages in bench/answers/, the small-talk lines and
 * the other collections' queries are turns it should not answer. Every turn
 * goes through the chat turn's own decision (src/chat/reply-decision.ts): small talk first, then
 * the search and the answer decision.
 *
 *   npm run bench:answers            # train and test splits, with the model in src/search/answer-decision.ts
 *   npm run bench:answers -- --fit   # fit the model on the train splits only, and print it
 *   npm run bench:answers -- --fit --features coverage,unseen   # with only these measures
 *   npm run bench:answers -- --smoke # a small slice, as CI runs it
 *   npm run bench:answers -- --baseline ../old/dist   # also another build's search and decision, on the same turns
 *   npm run bench:answers -- --words-only   # the search without word vectors (SEARCH_WORD_VECTORS=false) and its model
 *   npm run bench:answers -- --no-spelling  # questions read as typed (SEARCH_SPELLING=false)
 *   npm run bench:answers -- --turns --baseline ../old/dist   # also a whole chat turn's latency on SciFact (answer-turns.ts)
 *
 * Each test FAQ is also cut to 10 and 25 entries (smallDraws): a knowledge base of a dozen entries
 * is where many teams start.
 *
 * Splits, so that nothing is tuned on what it is judged on: stackfaq-dev by thread (thread % 4 is
 * 0: train, 2: test; no thread's rephrasings are in both), SciFact by its train and test
 * judgments, Cranfield's queries by id (odd: train, even: test), the out-of-scope and small-talk
 * lines by position (odd lines: train), the written FAQs whole (WRITTEN_FAQS). Fitting reads the
 * FAQs' train parts only: the test FAQs, SciFact and Cranfield say whether the decision holds on a
 * knowledge base it was not fitted on.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decideReply } from '../src/chat/reply-decision.js'
import { answerWeightsFor, DEFAULT_ANSWER_WEIGHTS, FEATURES, features, type AnswerWeights, type Feature } from '../src/search/answer-decision.js'
import { DEFAULT_COLLECTION, SearchEngine, type SearchDocument } from '../src/search/search-engine.js'
import { splitIntoPassages } from '../src/search/passages.js'
import { readDocuments } from '../src/kb/document-files.js'
import { BUNDLED_COLLECTION } from '../src/kb/knowledge-base.js'
import { projectRoot } from '../src/project.js'
import { measureAnswerTurns } from './answer-turns.js'
import { benchFlags } from './bench-flags.js'
import { loadCorpus, loadQrels, loadQueryRecords, toSearchDocument, type Qrels } from './datasets.js'

type Split = 'train' | 'test'
/** A turn with no relevant document is out of scope; `own` when its knowledge base's users wrote it (a written FAQ's). */
interface Turn { text: string, split: Split, relevant?: Map<string, number>, own?: boolean }
interface Outcome { turn: Turn, features: number[] | undefined, answeredFrom: string | undefined, ranked: string[] }

const flags = benchFlags('bench:answers', {
  smoke: { kind: 'switch', meaning: 'a small slice, as CI runs it' },
  fit: { kind: 'switch', meaning: 'fit the model on the train splits only, and print it' },
  features: { kind: 'text', default: '', meaning: 'the measures --fit uses, comma-separated (all)' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder' },
  'words-only': { kind: 'switch', meaning: 'the search without word vectors' },
  'no-spelling': { kind: 'switch', meaning: 'questions read as typed' },
  turns: { kind: 'switch', meaning: 'also a whole chat turn\'s latency on SciFact' }
})
/** The measures --fit is told to use; none named: all of them. */
const namedFeatures = flags.features === '' ? [] : flags.features.split(',')
const unknownFeatures = namedFeatures.filter(name => !(FEATURES as readonly string[]).includes(name))
if (unknownFeatures.length > 0) {
  console.error(`--features: no measure named ${unknownFeatures.join(', ')}; the measures are ${FEATURES.join(', ')}`)
  process.exit(1)
}
const { smoke } = flags
const wordVectors = !flags['words-only']
const spelling = !flags['no-spelling']
/** The judged collections in ../shared/datasets; each is a knowledge base, and its queries are out of scope for the others. */
const COLLECTIONS = ['stackfaq-dev', 'scifact', 'cranfield'] as const
/**
 * Small FAQs written for this benchmark (bench/answers/faqs/, see its README): an organisation's
 * entries, and messages in users' own words, answerable and out of scope. Each FAQ is in one split
 * whole, so that the test part is knowledge bases the decision never saw.
 */
const WRITTEN_FAQS: Readonly<Record<string, Split>> = {
  clinic: 'train',
  bikeshop: 'train',
  bank: 'test',
  'campus-it': 'test',
  // Plain FAQs (title and answer, no phrasings) whose users' messages were written without the
  // entries' words in view: the knowledge bases most teams bring (bench/answers/faqs/README.md).
  energy: 'train',
  hotel: 'train',
  mobile: 'train',
  dental: 'train',
  library: 'test',
  health: 'test',
  shop: 'test',
  council: 'test'
}
const WRITTEN_FAQS_DIR = join(projectRoot, 'bench/answers/faqs')
/** The knowledge bases shaped like the users': the decision is fitted on their train parts only. */
const FITTED_ON = new Set(['stackfaq-dev', ...Object.keys(WRITTEN_FAQS).filter(name => WRITTEN_FAQS[name] === 'train')])

const byParity = (id: string): Split => Number(id) % 2 === 1 ? 'train' : 'test'
const byThread = (thread: unknown): Split => Number(thread) % 4 === 0 ? 'train' : 'test'

/** Every query of a collection with its split and, where judged, its relevant documents by grade. */
function collectionTurns (name: string): Turn[] {
  const written = WRITTEN_FAQS[name]
  const dir = written === undefined ? undefined : WRITTEN_FAQS_DIR
  const records = loadQueryRecords(name, dir)
  const judged: Qrels = new Map()
  const splitOf = new Map<string, Split>()
  for (const split of name === 'scifact' ? ['train', 'test'] as const : ['test'] as const) {
    for (const [id, docs] of loadQrels(name, split, dir)) {
      judged.set(id, docs)
      if (name === 'scifact') splitOf.set(id, split)
    }
  }
  return records.map(({ id, text, metadata }) => {
    const split = written ?? (name === 'stackfaq-dev' ? byThread(metadata?.thread) : name === 'cranfield' ? byParity(id) : splitOf.get(id) ?? 'train')
    const relevant = new Map([...judged.get(id) ?? []].filter(([, grade]) => grade > 0))
    return relevant.size > 0 ? { text, split, relevant } : { text, split, own: written !== undefined }
  })
}

function lines (file: string): Turn[] {
  return readFileSync(join(projectRoot, 'bench/answers', file), 'utf8').split('\n')
    .filter(line => line.trim() !== '').map((text, index) => ({ text, split: index % 2 === 0 ? 'train' : 'test' }))
}

/** The smoke slice: a few turns of each split. */
function pick (turns: Turn[], size: number): Turn[] {
  if (!smoke) return turns
  return [...turns.filter(turn => turn.split === 'train').slice(0, size), ...turns.filter(turn => turn.split === 'test').slice(0, size)]
}

const SMALL_SIZES = [10, 25]
const SMALL_DRAWS = 6

/** Draws of `entries` documents, by a fixed seed: every run and every build gets the same ones. */
function smallDraws<T> (docs: readonly T[], entries: number): T[][] {
  let seed = entries
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
  return Array.from({ length: smoke ? 1 : SMALL_DRAWS }, () => docs
    .map(doc => ({ doc, order: random() })).sort((a, b) => a.order - b.order).slice(0, entries).map(({ doc }) => doc))
}

const WITH_PERSONAL_DATA: ReadonlyArray<(question: string) => string> = [
  question => `Hi, I'm Maria Gonzalez. ${question}`,
  question => `${question} My email is maria.gonzalez@example.com`,
  question => `${question} You can call me on +44 7700 900123.`,
  question => `${question} I live at 12 Baker Street, London NW1 6XE.`,
  question => `My card 4111 1111 1111 1111 - ${question}`,
  question => `this is Priya Natarajan, ${question}`,
  question => `${question} my email is jane.doe@example.com and my phone number is 07700 900123`
]

/** The search and decision being measured: this build's, or another's (--baseline) with its own model. */
interface Implementation {
  label: string
  newEngine: () => SearchEngine
  decide: (engine: SearchEngine, text: string, model: AnswerWeights | undefined, collections?: ReadonlySet<string>) => ReturnType<typeof decideReply>
}

const thisBuild: Implementation = {
  label: 'this build',
  newEngine: () => new SearchEngine({ wordVectors, spelling }),
  decide: (engine, text, model, collections) => decideReply(engine, text, { model, k: 10, collections })
}

async function baseline (dist: string): Promise<Implementation> {
  const search = await import(resolve(dist, 'src/search/search-engine.js')) as { SearchEngine: new () => SearchEngine }
  const reply = await import(resolve(dist, 'src/chat/reply-decision.js')) as { decideReply: typeof decideReply }
  return {
    label: `baseline (${dist})`,
    newEngine: () => new search.SearchEngine(),
    decide: (engine, text, _model, collections) => reply.decideReply(engine, text, { k: 10, collections })
  }
}

function run (engine: SearchEngine, turns: Turn[], model: AnswerWeights, implementation = thisBuild, collections?: ReadonlySet<string>): Outcome[] {
  return turns.map(turn => {
    const decision = implementation.decide(engine, turn.text, model, collections)
    return {
      turn,
      features: decision.kind === 'smalltalk' || implementation !== thisBuild ? undefined : features(decision.evidence),
      answeredFrom: decision.kind === 'answer' ? decision.hits[0]?.docId : undefined,
      ranked: decision.hits.map(hit => hit.docId)
    }
  })
}

interface Scores { answerable: number, bestRelevant: number, answeredRight: number, answeredWrong: number, own: number, ownRefused: number, outOfScope: number, refused: number, ndcg: number }

/** nDCG@10 as trec_eval computes it: linear gains, the ideal from every judged document. */
function ndcgAt10 (ranked: string[], relevant: Map<string, number>): number {
  const dcg = ranked.slice(0, 10).reduce((sum, doc, i) => sum + (relevant.get(doc) ?? 0) / Math.log2(i + 2), 0)
  const ideal = [...relevant.values()].sort((a, b) => b - a).slice(0, 10).reduce((sum, grade, i) => sum + grade / Math.log2(i + 2), 0)
  return dcg / ideal
}

function score (outcomes: Outcome[]): Scores {
  const scores: Scores = { answerable: 0, bestRelevant: 0, answeredRight: 0, answeredWrong: 0, own: 0, ownRefused: 0, outOfScope: 0, refused: 0, ndcg: 0 }
  for (const { turn, answeredFrom, ranked } of outcomes) {
    if (turn.relevant === undefined) {
      scores.outOfScope++
      if (answeredFrom === undefined) scores.refused++
      if (turn.own === true) {
        scores.own++
        if (answeredFrom === undefined) scores.ownRefused++
      }
    } else {
      scores.answerable++
      scores.ndcg += ndcgAt10(ranked, turn.relevant)
      if (ranked[0] !== undefined && turn.relevant.has(ranked[0])) scores.bestRelevant++
      if (answeredFrom !== undefined) scores[turn.relevant.has(answeredFrom) ? 'answeredRight' : 'answeredWrong']++
    }
  }
  return scores
}

const share = (part: number, whole: number): string => whole === 0 ? '-' : (part / whole).toFixed(3)

function row (label: string, s: Scores): string {
  return `${label} | ${s.answerable} | ${share(s.bestRelevant, s.answerable)} | ${share(s.answeredRight, s.answerable)} | ${share(s.answeredWrong, s.answerable)} | ${s.outOfScope} | ${share(s.refused, s.outOfScope)} | ${s.own === 0 ? '-' : `${share(s.ownRefused, s.own)} of ${s.own}`} | ${share(s.answeredRight + s.refused, s.answerable + s.outOfScope)} | ${share(s.ndcg, s.answerable)} |`
}

interface Sample { x: number[], y: number, weight: number }

/**
 * Logistic regression by gradient descent on the train turns: an answerable turn whose best
 * document is relevant should be answered (1), an out-of-scope turn refused (0). Answerable turns
 * whose best document is wrong are left out: the decision cannot make them right. Each class
 * weighs the same, so neither's count sets the threshold.
 */
function fit (all: Sample[], used: readonly Feature[]): AnswerWeights {
  const columns = used.map(name => FEATURES.indexOf(name))
  const samples = all.map(sample => ({ ...sample, x: columns.map(column => sample.x[column]!) }))
  const dims = columns.length
  const w = new Array<number>(dims + 1).fill(0)
  const totalWeight = samples.reduce((sum, s) => sum + s.weight, 0)
  for (let step = 0; step < 20_000; step++) {
    const gradient = new Array<number>(dims + 1).fill(0)
    for (const { x, y, weight } of samples) {
      const logit = w[0]! + x.reduce((sum, value, i) => sum + value * w[i + 1]!, 0)
      const error = (1 / (1 + Math.exp(-logit)) - y) * weight
      gradient[0]! += error
      for (let i = 0; i < dims; i++) gradient[i + 1]! += error * x[i]!
    }
    for (let i = 0; i <= dims; i++) w[i]! -= 2 * gradient[i]! / totalWeight
  }
  const round = (value: number) => Math.round(value * 100) / 100
  const weights = Object.fromEntries(FEATURES.map(name => [name, used.includes(name) ? round(w[used.indexOf(name) + 1]!) : 0]))
  return { intercept: round(w[0]!), weights: weights as AnswerWeights['weights'], threshold: DEFAULT_ANSWER_WEIGHTS.threshold }
}

async function main (): Promise<void> {
  console.log(`# Answer benchmark (${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})${smoke ? ' — smoke slice' : ''}\n`)
  const outOfScope = [...lines('out-of-scope.txt'), ...lines('small-talk.txt')]
  const names = [...COLLECTIONS, ...Object.keys(WRITTEN_FAQS)]
  const turnsOf = new Map(names.map(name => [name, collectionTurns(name)]))
  const setups = names.map(name => {
    // A written FAQ's own out-of-scope messages are its users': near its domain, or not.
    const own = pick(turnsOf.get(name)!, 20)
    const needed = new Set(own.flatMap(turn => [...turn.relevant?.keys() ?? []]))
    const dir = name in WRITTEN_FAQS ? WRITTEN_FAQS_DIR : undefined
    const docs = loadCorpus(name, dir).filter((doc, index) => !smoke || index < 300 || needed.has(doc.id)).map(doc => toSearchDocument(doc))
    const others = COLLECTIONS.filter(other => other !== name).flatMap(other => pick(turnsOf.get(other)!.map(({ text, split }) => ({ text, split })), 10))
    return { name, docs, turns: [...own, ...pick(outOfScope, 40), ...others] }
  })
  const indexed = (implementation: Implementation) => setups.map(setup => {
    const engine = implementation.newEngine()
    for (const doc of setup.docs) engine.upsert(doc)
    return { ...setup, engine }
  })
  const implementations = [thisBuild]
  if (flags.baseline !== '') implementations.push(await baseline(flags.baseline))

  const ours = indexed(thisBuild)
  let model = answerWeightsFor(ours[0]!.engine)
  if (flags.fit) {
    // Within each knowledge base, the turns to answer and the out-of-scope turns weigh the same,
    // each class as a whole: neither a large collection nor a class's count sets the threshold.
    const samples = ours.filter(setup => FITTED_ON.has(setup.name)).flatMap(({ engine, turns }) => {
      const labelled = run(engine, turns.filter(turn => turn.split === 'train'), model).flatMap(({ turn, features: x, ranked }) => {
        if (x === undefined) return []
        if (turn.relevant === undefined) return [{ x, y: 0 }]
        return ranked[0] !== undefined && turn.relevant.has(ranked[0]) ? [{ x, y: 1 }] : []
      })
      const positives = labelled.filter(sample => sample.y === 1).length
      return labelled.map(sample => ({ ...sample, weight: 1 / (sample.y === 1 ? positives : labelled.length - positives) }))
    })
    const used = FEATURES.filter(name => namedFeatures.length === 0 || namedFeatures.includes(name))
    model = fit(samples, used)
    console.log(`Fitted on the train parts of ${[...FITTED_ON].join(', ')} (${samples.length} turns):\n${JSON.stringify(model)}\n`)
  }

  console.log('| search and decision | knowledge base, split | answerable | best document relevant (the ceiling) | answered, relevant | answered, wrong document | out of scope | refused | its own users\' out of scope, refused | reply accuracy | nDCG@10 |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  const engines = new Map<Implementation, ReturnType<typeof indexed>>([[thisBuild, ours]])
  for (const implementation of implementations) {
    if (!engines.has(implementation)) engines.set(implementation, indexed(implementation))
    for (const split of ['train', 'test'] as const) {
      for (const { name, engine, turns } of engines.get(implementation)!) {
        if (!turns.some(turn => turn.split === split && turn.relevant !== undefined)) continue
        console.log(`| ${implementation.label} | ${row(`${name}, ${split}`, score(run(engine, turns.filter(turn => turn.split === split), model, implementation)))}`)
      }
    }
  }

  // A team's first FAQ is often a dozen entries: the test FAQs cut to a few entries, several draws.
  // A message whose entry was cut is one more of its users' messages the knowledge base cannot answer.
  console.log(`\nThe test FAQs cut to a few entries (${SMALL_DRAWS} draws each, the same for every build):\n`)
  console.log('| search and decision | knowledge base | answerable | best document relevant (the ceiling) | answered, relevant | answered, wrong document | out of scope | refused | its own users\' out of scope, refused | reply accuracy | nDCG@10 |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const implementation of implementations) {
    for (const { name, docs, turns } of setups.filter(setup => WRITTEN_FAQS[setup.name] === 'test')) {
      for (const entries of SMALL_SIZES) {
        const outcomes = smallDraws(docs, entries).flatMap(kept => {
          const engine = implementation.newEngine()
          for (const doc of kept) engine.upsert(doc)
          const ids = new Set(kept.map(doc => doc.id))
          const cut = turns.filter(turn => turn.split === 'test').map(turn =>
            turn.relevant === undefined || [...turn.relevant.keys()].some(id => ids.has(id)) ? turn : { text: turn.text, split: turn.split, own: true })
          return run(engine, cut, model, implementation)
        })
        console.log(`| ${implementation.label} | ${row(`${name}, ${entries} entries`, score(outcomes))}`)
      }
    }
  }

  // Users give their name, e-mail, number or address with the question: the question is what the
  // knowledge base answers (each answerable test question with one of these, in turn).
  console.log('\nThe test FAQs\' answerable questions, each with personal data added (a name, an e-mail, a phone, an address, a card, or an e-mail and a phone):\n')
  console.log('| search and decision | knowledge base | answerable | best document relevant | answered, relevant | answered, wrong document |')
  console.log('|---|---|---|---|---|---|')
  for (const implementation of implementations) {
    for (const { name, engine, turns } of engines.get(implementation)!.filter(setup => setup.name === 'stackfaq-dev' || WRITTEN_FAQS[setup.name] === 'test')) {
      const given = turns.filter(turn => turn.split === 'test' && turn.relevant !== undefined)
        .map((turn, i) => ({ ...turn, text: WITH_PERSONAL_DATA[i % WITH_PERSONAL_DATA.length]!(turn.text) }))
      const s = score(run(engine, given, model, implementation))
      const ofAnswerable = (part: number): string => share(part, s.answerable)
      console.log(`| ${implementation.label} | ${name} | ${s.answerable} | ${ofAnswerable(s.bestRelevant)} | ${ofAnswerable(s.answeredRight)} | ${ofAnswerable(s.answeredWrong)} |`)
    }
  }

  // A new install holds Parley's manual (docs/*.md, the collection `parley`) when a team imports its
  // FAQ: the chat then answers from the FAQ's collection alone, and the manual stays in the index.
  console.log('\nThe test parts beside the bundled docs, as on a new install (the chat answers from the FAQ\'s collection only):\n')
  console.log('| search and decision | knowledge base, split | answerable | best document relevant (the ceiling) | answered, relevant | answered, wrong document | out of scope | refused | its own users\' out of scope, refused | reply accuracy | nDCG@10 |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  const bundled: SearchDocument[] = []
  for await (const result of readDocuments(join(projectRoot, 'docs'))) {
    if ('document' in result) {
      const { id, title, text } = result.document
      bundled.push({ id: id ?? title, title, collection: BUNDLED_COLLECTION, passages: splitIntoPassages(text) })
    }
  }
  const answering = new Set([DEFAULT_COLLECTION])
  for (const implementation of implementations) {
    for (const { name, docs, turns } of setups.filter(setup => setup.name === 'stackfaq-dev' || WRITTEN_FAQS[setup.name] === 'test')) {
      const engine = implementation.newEngine()
      for (const doc of [...bundled, ...docs]) engine.upsert(doc)
      const outcomes = run(engine, turns.filter(turn => turn.split === 'test'), model, implementation, answering)
      console.log(`| ${implementation.label} | ${row(`${name}, test, beside ${bundled.length} bundled docs`, score(outcomes))}`)
    }
  }

  // What a turn's search and decision cost, on the largest knowledge base: each build's, and ours
  // against its search alone. Alternating rounds, the fastest of each: one noisy round does not decide.
  const texts = setups.find(setup => setup.name === 'scifact')!.turns.map(turn => turn.text)
  const time = (fn: (text: string) => unknown) => {
    const started = performance.now()
    for (const text of texts) fn(text)
    return (performance.now() - started) * 1000 / texts.length
  }
  const best = new Map<string, number>()
  for (let round = 0; round < (smoke ? 2 : 7); round++) {
    for (const implementation of implementations) {
      const { engine } = engines.get(implementation)!.find(setup => setup.name === 'scifact')!
      const measured = [[`${implementation.label}: search alone`, time(text => engine.search(text, 3))], [`${implementation.label}: search and decision`, time(text => implementation.decide(engine, text, model))]] as const
      for (const [label, micros] of measured) best.set(label, Math.min(best.get(label) ?? Infinity, micros))
    }
  }
  console.log(`\nPer turn on scifact (${setups.find(setup => setup.name === 'scifact')!.docs.length} documents), fastest of ${smoke ? 2 : 7} rounds:`)
  for (const [label, micros] of best) console.log(`- ${label}: ${micros.toFixed(0)} µs`)

  if (flags.turns) {
    const dist = flags.baseline === '' ? undefined : flags.baseline
    const builds = [
      { label: 'this build', script: fileURLToPath(new URL('./chat-server.js', import.meta.url)) },
      ...dist === undefined ? [] : [{ label: `baseline (${dist})`, script: resolve(dist, 'bench/chat-server.js') }]
    ]
    const questions = turnsOf.get('scifact')!.filter(turn => turn.split === 'test' && turn.relevant !== undefined).map(turn => turn.text)
    const docs = loadCorpus('scifact')
    const lines = smoke
      ? await measureAnswerTurns(builds, docs.slice(0, 300), questions.slice(0, 20), 1)
      : await measureAnswerTurns(builds, docs, questions, 5)
    console.log(`\n${lines.join('\n')}`)
  }
}

await main()
