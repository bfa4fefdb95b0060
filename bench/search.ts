/**
 * Search benchmark: ranking quality on judged test collections, query latency at 5k
 * and 100k documents, index build time and heap.
 *
 *   npm run bench:search                 # full report
 *   npm run bench:search -- --tune       # grid search k1 / b / titleBoost on SciFact TRAIN
 *   npm run bench:search -- --minisearch # also measure MiniSearch, configured the same way (slow at 100k)
 *   npm run bench:search -- --no-100k    # skip the 100k-document latency run
 *   npm run bench:search -- --snippets   # only the snippets: stored when indexed against made at every search
 *   npm run bench:search -- --snippets --baseline ../old/dist   # and against another build's search
 *   npm run bench:search -- --no-snippets
 *
 * Datasets: $DATASETS_DIR, else ../shared/datasets next to the project (see its README).
 */
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import MiniSearch from 'minisearch'
import { DEFAULT_SEARCH_OPTIONS, SearchEngine, type SearchDocument, type SearchEngineOptions } from '../src/search/search-engine.js'
import { analyze } from '../src/search/text-analysis.js'
import { readDocuments } from '../src/kb/document-files.js'
import { projectRoot } from '../src/project.js'
import { benchFlags } from './bench-flags.js'
import { MIX } from './chat-load.js'
import { loadCorpus, loadQrels, loadQueries, toSearchDocument, type CorpusDoc, type Qrels } from './datasets.js'

interface Ranked { docId: string, score: number }
interface Retriever {
  upsert: (doc: SearchDocument) => void
  search: (query: string, k: number) => Ranked[]
}

const flags = benchFlags('bench:search', {
  tune: { kind: 'switch', meaning: 'grid search k1 / b / titleBoost on SciFact TRAIN' },
  minisearch: { kind: 'switch', meaning: 'also measure MiniSearch, configured the same way' },
  'no-100k': { kind: 'switch', meaning: 'skip the 100k-document runs' },
  snippets: { kind: 'switch', meaning: 'only the snippets' },
  'no-snippets': { kind: 'switch', meaning: 'leave the snippets out' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder, for the snippets' }
})

// Heap figures are only meaningful after a forced collection; re-run ourselves with
// --expose-gc rather than asking every caller to remember the flag.
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined && process.env.PARLEY_BENCH_CHILD === undefined) {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PARLEY_BENCH_CHILD: '1' }
  })
  process.exit(child.status ?? 1)
}

function engineRetriever (options: SearchEngineOptions): Retriever & { engine: SearchEngine } {
  const engine = new SearchEngine(options)
  return {
    engine,
    upsert: (doc) => engine.upsert(doc),
    search: (query, k) => engine.search(query, k)
  }
}

/**
 * MiniSearch 7 with the same analyzer, passages and BM25 parameters (d = 0 turns its
 * BM25+ into plain BM25), one MiniSearch document per passage, best passage per
 * document. Two set-ups:
 * - 'fields': title and passage as two fields, title boost 1 (MiniSearch sums one BM25
 *   per field, so a higher boost only lowered SciFact train nDCG@10: 0.67 -> 0.65 at 2);
 * - 'flat': one field, title + passage, which is the engine's model at titleBoost 1,
 *   with MiniSearch's coordination factor (score x matched query terms) divided out.
 * MiniSearch returns every matching document, so k cannot bound the work per query.
 */
function miniSearchRetriever (options: Required<SearchEngineOptions>, setup: 'fields' | 'flat'): Retriever {
  const mini = new MiniSearch<{ id: number, docId: string, title: string, body: string }>({
    fields: setup === 'fields' ? ['title', 'body'] : ['body'],
    storeFields: ['docId'],
    tokenize: (text) => analyze(text),
    processTerm: (term) => term,
    searchOptions: { bm25: { k: options.k1, b: options.b, d: 0 } }
  })
  let next = 0
  return {
    upsert: (doc) => {
      mini.addAll(doc.passages.map((p) => {
        const body = p.heading === undefined ? p.text : `${p.heading}\n${p.text}`
        return { id: next++, docId: doc.id, title: doc.title, body: setup === 'fields' ? body : `${doc.title}\n${body}` }
      }))
    },
    search: (query, k) => {
      const best = new Map<string, number>()
      for (const r of mini.search(query)) {
        const score = setup === 'flat' ? r.score / Math.max(1, r.queryTerms.length) : r.score
        const docId = r.docId as string
        if (score > (best.get(docId) ?? 0)) best.set(docId, score)
      }
      return [...best].map(([docId, score]) => ({ docId, score })).sort((a, b) => b.score - a.score).slice(0, k)
    }
  }
}

interface Quality { ndcg10: number, map100: number, recall100: number, queries: number }

/** trec_eval definitions: linear gains for nDCG, judged grades > 0 count as relevant. */
function evaluate (retriever: Retriever, queries: Map<string, string>, qrels: Qrels): Quality {
  let ndcg = 0
  let map = 0
  let recall = 0
  let count = 0
  for (const [qid, judged] of qrels) {
    const text = queries.get(qid)
    if (text === undefined) continue
    const ranked = retriever.search(text, 100)
    const relevant = [...judged.values()].filter((g) => g > 0)
    if (relevant.length === 0) continue
    count++
    let dcg = 0
    let hits = 0
    let precisionSum = 0
    ranked.forEach((r, i) => {
      const gain = judged.get(r.docId) ?? 0
      if (i < 10 && gain > 0) dcg += gain / Math.log2(i + 2)
      if (gain > 0) {
        hits++
        precisionSum += hits / (i + 1)
      }
    })
    const ideal = relevant.sort((a, b) => b - a).slice(0, 10).reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0)
    ndcg += dcg / ideal
    map += precisionSum / relevant.length
    recall += hits / relevant.length
  }
  return { ndcg10: ndcg / count, map100: map / count, recall100: recall / count, queries: count }
}

function buildIndex (retriever: Retriever, docs: SearchDocument[]): void {
  for (const doc of docs) retriever.upsert(doc)
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[index] as number
}

interface Latency { p50: number, p99: number, mean: number, max: number, samples: number }

function measureLatency (retriever: Retriever, queries: string[], rounds: number): Latency {
  for (const q of queries.slice(0, 200)) retriever.search(q, 10) // warm up the JIT
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (const q of queries) {
      const start = process.hrtime.bigint()
      retriever.search(q, 10)
      times.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
  }
  times.sort((a, b) => a - b)
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((s, t) => s + t, 0) / times.length,
    max: times[times.length - 1] as number,
    samples: times.length
  }
}

/** JS heap plus ArrayBuffer memory: posting lists live in typed arrays, off the JS heap. */
function memoryUsed (): { heap: number, buffers: number } {
  gc?.()
  gc?.()
  const usage = process.memoryUsage()
  return { heap: usage.heapUsed, buffers: usage.arrayBuffers }
}

/** Deterministic PRNG so the grown corpus is the same on every run. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Grows a corpus to `size` documents by repeating it with perturbed text (10% of words
 * dropped, 10% swapped with a neighbour) and fresh ids: the vocabulary and length
 * distribution stay realistic while the posting lists grow with the document count.
 */
function growCorpus (docs: CorpusDoc[], size: number): CorpusDoc[] {
  const random = mulberry32(42)
  const perturb = (text: string): string => {
    const words = text.split(/\s+/).filter((w) => w.length > 0 && random() >= 0.1)
    for (let i = 0; i + 1 < words.length; i++) {
      if (random() < 0.1) [words[i], words[i + 1]] = [words[i + 1] as string, words[i] as string]
    }
    return words.join(' ')
  }
  const grown = [...docs]
  for (let copy = 1; grown.length < size; copy++) {
    for (const doc of docs) {
      if (grown.length >= size) break
      grown.push({ id: `${doc.id}~${copy}`, title: perturb(doc.title), text: perturb(doc.text) })
    }
  }
  return grown
}

const fmt = (n: number, digits = 4): string => n.toFixed(digits)
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

function printMachine (): void {
  const cpus = os.cpus()
  console.log('Machine')
  console.log(`  cpu      ${cpus[0]?.model ?? 'unknown'} x ${cpus.length} logical cores`)
  console.log(`  memory   ${(os.totalmem() / 1024 ** 3).toFixed(1)} GB`)
  console.log(`  os       ${os.type()} ${os.release()} (${os.arch()})`)
  console.log(`  node     ${process.version}${gc === undefined ? '' : ' (--expose-gc)'}`)
  console.log(`  load     ${os.loadavg().map(load => load.toFixed(2)).join(' ')} (1, 5, 15 min averages at the start)`)
  console.log('')
}

function tune (): void {
  const corpus = loadCorpus('scifact')
  const queries = loadQueries('scifact')
  const train = loadQrels('scifact', 'train')
  const docs = corpus.map((d) => toSearchDocument(d))
  const results: Array<{ options: Required<SearchEngineOptions>, quality: Quality }> = []
  console.log(`Tuning on SciFact train (${train.size} queries); the test qrels are not read.`)
  for (const titleBoost of [0.5, 1, 1.5, 2, 3]) {
    for (const k1 of [0.6, 0.9, 1.2, 1.5, 1.8]) {
      for (const b of [0.3, 0.4, 0.5, 0.6, 0.75, 0.9]) {
        const retriever = engineRetriever({ k1, b, titleBoost })
        buildIndex(retriever, docs)
        const quality = evaluate(retriever, queries, train)
        results.push({ options: { ...DEFAULT_SEARCH_OPTIONS, k1, b, titleBoost }, quality })
        console.log(`  k1=${k1} b=${b} titleBoost=${titleBoost}  nDCG@10 ${fmt(quality.ndcg10)}  MAP@100 ${fmt(quality.map100)}`)
      }
    }
  }
  results.sort((x, y) => y.quality.ndcg10 - x.quality.ndcg10)
  console.log('\nBest on train:')
  for (const r of results.slice(0, 5)) {
    console.log(`  k1=${r.options.k1} b=${r.options.b} titleBoost=${r.options.titleBoost}  nDCG@10 ${fmt(r.quality.ndcg10)}`)
  }
}

function qualityReport (name: string, make: () => Retriever): void {
  const corpus = loadCorpus(name)
  const queries = loadQueries(name)
  const qrels = loadQrels(name, 'test')
  const retriever = make()
  buildIndex(retriever, corpus.map((d) => toSearchDocument(d)))
  const q = evaluate(retriever, queries, qrels)
  console.log(`  ${name.padEnd(10)} nDCG@10 ${fmt(q.ndcg10)}   MAP@100 ${fmt(q.map100)}   recall@100 ${fmt(q.recall100)}   (${q.queries} test queries, ${corpus.length} docs)`)
}

function scaleReport (label: string, corpus: CorpusDoc[], queries: string[], make: () => Retriever, rounds: number): void {
  const docs = corpus.map((d) => toSearchDocument(d))
  const before = memoryUsed()
  const start = process.hrtime.bigint()
  const retriever = make()
  buildIndex(retriever, docs)
  const buildMs = Number(process.hrtime.bigint() - start) / 1e6
  const after = memoryUsed()
  const heap = after.heap - before.heap
  const buffers = after.buffers - before.buffers
  const passages = docs.reduce((n, d) => n + d.passages.length, 0)
  const chars = docs.reduce((n, d) => n + d.title.length + d.passages.reduce((m, p) => m + p.text.length, 0), 0)
  const latency = measureLatency(retriever, queries, rounds)
  console.log(`  ${label}: ${corpus.length} docs, ${passages} passages, ${(chars / 1e6).toFixed(1)} M characters of text`)
  console.log(`    build   ${(buildMs / 1000).toFixed(2)} s (${(corpus.length / buildMs * 1000).toFixed(0)} docs/s)   memory +${mb(heap + buffers)} (JS heap ${mb(heap)} + typed arrays ${mb(buffers)})${gc === undefined ? ' without forced gc' : ' after gc'}`)
  console.log('            (the index alone: the passage text it keeps for snippets is shared with the caller, not counted)')
  console.log(`    query   p50 ${fmt(latency.p50, 3)} ms   p99 ${fmt(latency.p99, 3)} ms   mean ${fmt(latency.mean, 3)} ms   max ${fmt(latency.max, 3)} ms   (${latency.samples} queries)`)
}

interface SnippetEngine { label: string, engine: SearchEngine, buildMs: number, memory: number }
type EngineClass = new (options?: SearchEngineOptions) => SearchEngine

/**
 * The per-search cost of the snippets, this build's (each passage's sentences and their terms stored
 * when it is indexed) against the same engine analysing them at every search, as before, and
 * optionally against another build's engine (--baseline <dist>), on the same documents and queries:
 * the engines are built and kept, and searched in rounds in turn, so that what the machine's
 * neighbours do falls on each. A search is timed as /search asks (k = 10, ten snippets) and as a
 * chat turn asks (k = 3 and the quote, with the answer's evidence), in main-thread CPU time, which
 * other processes on the machine move less than the time on the clock.
 */
function snippetReport (label: string, corpus: CorpusDoc[], asked: string[], rounds: number, Baseline?: EngineClass): void {
  // A few questions are asked again, so that a round is long enough to time.
  const queries = Array.from({ length: Math.max(asked.length, 1000) }, (_, i) => asked[i % asked.length] as string)
  const docs = corpus.map((d) => toSearchDocument(d))
  const makers: Array<{ label: string, make: () => SearchEngine }> = [
    { label: 'per-turn', make: () => new SearchEngine({ ...DEFAULT_SEARCH_OPTIONS, passageTerms: 'per-turn' }) },
    { label: 'indexed', make: () => new SearchEngine({ ...DEFAULT_SEARCH_OPTIONS, passageTerms: 'indexed' }) }
  ]
  if (Baseline !== undefined) makers.push({ label: 'baseline', make: () => new Baseline() })
  const cpu = (): number => {
    const usage = process.threadCpuUsage?.() ?? process.cpuUsage()
    return usage.user + usage.system
  }
  // Warmed up first, so that neither the code compiled nor the word vectors read (once per build) count
  // in the first engine's time and memory.
  for (const { make } of makers) {
    const engine = make()
    for (const doc of docs.slice(0, 300)) engine.upsert(doc)
  }
  const engines: SnippetEngine[] = makers.map(({ label, make }) => {
    const before = memoryUsed()
    const start = cpu()
    const engine = make()
    for (const doc of docs) engine.upsert(doc)
    const buildMs = (cpu() - start) / 1e3
    const after = memoryUsed()
    return { label, engine, buildMs, memory: after.heap + after.buffers - before.heap - before.buffers }
  })
  const ways = [
    { label: '/search, k = 10', run: (engine: SearchEngine, q: string) => engine.search(q, 10) },
    { label: 'turn, k = 3 + quote', run: (engine: SearchEngine, q: string) => engine.searchWithEvidence(q, 3) }
  ]
  // Microseconds a search, one figure per round, by way and engine: CPU, and on the clock.
  const perSearch = ways.map(() => engines.map((): number[] => []))
  const wall = ways.map(() => engines.map((): number[] => []))
  for (const { engine } of engines) for (const q of queries.slice(0, 200)) for (const way of ways) way.run(engine, q)
  for (let round = 0; round < rounds; round++) {
    ways.forEach((way, w) => {
      for (let i = 0; i < engines.length; i++) {
        const e = (i + round) % engines.length
        const { engine } = engines[e] as SnippetEngine
        const startCpu = cpu()
        const start = process.hrtime.bigint()
        for (const q of queries) way.run(engine, q)
        wall[w]?.[e]?.push(Number(process.hrtime.bigint() - start) / 1e3 / queries.length)
        perSearch[w]?.[e]?.push((cpu() - startCpu) / queries.length)
      }
    })
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const range = (times: number[]): string =>
    `${median(times).toFixed(1)} (${Math.min(...times).toFixed(1)}-${Math.max(...times).toFixed(1)})`
  const passages = docs.reduce((n, d) => n + d.passages.length, 0)
  console.log(`  ${label}: ${corpus.length} docs, ${passages} passages, ${asked.length} queries ` +
    `(${queries.length} searches a round), ${rounds} rounds`)
  console.log(`    ${'passage terms'.padEnd(15)}${'build CPU'.padEnd(11)}${'index memory'.padEnd(14)}` +
    ways.map(way => `${way.label}: CPU µs a search, median (min-max)`.padEnd(56)).join('').trimEnd())
  engines.forEach(({ label: name, buildMs, memory }, e) => {
    const cells = ways.map((_, w) => range(perSearch[w]?.[e] ?? []).padEnd(56)).join('')
    console.log(`    ${name.padEnd(15)}${`${(buildMs / 1000).toFixed(2)} s`.padEnd(11)}${`+${mb(memory)}`.padEnd(14)}${cells}`.trimEnd())
  })
  const indexed = engines[1] as SnippetEngine
  // The rounds of a pair ran close together: the median of their ratios is what the noise moves least.
  const ratio = (times: number[][] | undefined, e: number): string => {
    const before = times?.[e] ?? []
    const now = times?.[1] ?? []
    return `${median(before.map((time, round) => time / (now[round] as number))).toFixed(2)}x`
  }
  for (const e of engines.keys()) {
    if (e === 1) continue
    const other = engines[e] as SnippetEngine
    const speed = ways.map((way, w) => `${way.label} ${ratio(perSearch[w], e)} (clock ${ratio(wall[w], e)})`)
    console.log(`    indexed against ${other.label}, searches a CPU second: ${speed.join(', ')}; index memory ` +
      `+${mb(indexed.memory - other.memory)} (${((indexed.memory / other.memory - 1) * 100).toFixed(0)} %)`)
  }
}

async function main (): Promise<void> {
  printMachine()
  if (flags.tune) {
    tune()
    return
  }
  const scifact = loadCorpus('scifact')
  const scifactQueries = [...loadQueries('scifact').values()]
  if (flags.snippets || !flags['no-snippets']) {
    const dist = flags.baseline === '' ? undefined : flags.baseline
    const baseline = dist === undefined
      ? undefined
      : (await import(resolve(dist, 'src/search/search-engine.js')) as { SearchEngine: EngineClass }).SearchEngine
    console.log('Snippets, stored when indexed against made at every search (default options: word vectors on)' +
      `${dist === undefined ? '' : `, and the baseline ${dist}`}, single thread`)
    // The documents Parley ships and seeds, asked the chat benchmarks' questions (bench/chat-load.ts's
    // mix) and its /search command's query: the turns whose profile the snippets were 12 % of.
    const bundled: CorpusDoc[] = []
    for await (const read of readDocuments(join(projectRoot, 'docs'))) {
      if ('document' in read) bundled.push({ id: read.document.id ?? read.source, title: read.document.title, text: read.document.text })
    }
    const mixed = [...MIX.filter(turn => turn.kind !== 'command').map(turn => turn.message), 'traces']
    snippetReport('bundled docs', bundled, mixed, 9, baseline)
    snippetReport('stackfaq-dev', loadCorpus('stackfaq-dev'), [...loadQueries('stackfaq-dev').values()], 9, baseline)
    snippetReport('SciFact', scifact, scifactQueries, 9, baseline)
    if (!flags['no-100k']) snippetReport('SciFact grown', growCorpus(scifact, 100_000), scifactQueries, 3, baseline)
    console.log('')
    if (flags.snippets) return
  }
  const options = { ...DEFAULT_SEARCH_OPTIONS }
  const engines: Array<{ label: string, make: () => Retriever, speed: boolean }> = [
    { label: `SearchEngine (k1=${options.k1}, b=${options.b}, titleBoost=${options.titleBoost})`, make: () => engineRetriever(options), speed: true }
  ]
  if (flags.minisearch) {
    // Speed is measured once: both set-ups do the same work per query.
    engines.push({ label: 'MiniSearch 7 (two fields, title boost 1)', make: () => miniSearchRetriever(options, 'fields'), speed: true })
    engines.push({ label: 'MiniSearch 7 (one field title + passage, coordination factor divided out)', make: () => miniSearchRetriever(options, 'flat'), speed: false })
  }
  for (const { label, make, speed } of engines) {
    console.log(label)
    console.log(' Quality (test qrels; documents = title + text split into passages, document score = best passage)')
    qualityReport('scifact', make)
    qualityReport('cranfield', make)
    if (speed) {
      console.log(' Speed (all SciFact queries, k=10, single thread; SearchEngine times include building the snippets)')
      scaleReport('SciFact', scifact, scifactQueries, make, 5)
      // Grown here, after the 5k run, so its 100k documents do not slow the 5k run's GC.
      if (!flags['no-100k']) scaleReport('SciFact grown', growCorpus(scifact, 100_000), scifactQueries, make, 2)
    }
    console.log('')
  }
}

await main()
