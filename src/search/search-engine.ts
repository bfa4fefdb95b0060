// The knowledge base's search, in memory: every instance holds the whole index (documents are
// few and turns many, so a turn's search costs no round trip), ranks by words (BM25 over
// passages, plus the FAQ's question field) and re-ranks the best by meaning (word vectors), and
// measures how well the best passage covers the question for the answer decision.
import type { Passage } from './passages.js'
import { QuestionIndex } from './question-index.js'
import { perTurnSnippet, SnippetIndex, type TermMatcher } from './snippets.js'
import { readCompounds } from './compounds.js'
import { correctSpelling, type SpellingCorrection } from './spelling.js'
import { analyze, createAnalyzer, type Analyzer, type CachedAnalyzer } from './text-analysis.js'
import { dot, shippedWordVectors, type WordVectors } from './word-vectors.js'

export interface SearchDocument {
  id: string
  title: string
  passages: Passage[]
  /** The collection the document belongs to, by which searches can be scoped. */
  collection?: string
  /** Other phrasings of the question the document answers (an FAQ entry's title is one). */
  questions?: string[]
}

export const DEFAULT_COLLECTION = 'default'

/**
 * How well the best passage covers the question, in measures that do not grow with the size of
 * the knowledge base (as raw BM25 scores do), for the decision to answer (answer-decision.ts).
 * Term weights are IDFs; a question term found nowhere in the index weighs what a term in one
 * passage would, the most specific kind.
 */
export interface AnswerEvidence {
  /** Informative terms of the question (question words such as "how" or "my" left out). */
  terms: number
  /**
   * Share of the informative terms' weight that the best passage contains, with its document's title
   * and the phrasing of it (metadata.questions) the user asks most of (0 to 1).
   */
  coverage: number
  /** The best score divided by the most a passage could score for the informative terms (0 to 1). */
  relativeScore: number
  /** How far the best document is ahead of the second: (first - second) / first; 1 when alone. */
  lead: number
  /**
   * Share of the informative weight of the question the best passage answers (its document's title
   * with the passage's heading, or another phrasing of it) that the user's question holds (0 to 1).
   */
  questionRecall: number
  /** Share of the informative terms' weight on terms no passage holds (0 to 1). */
  unseen: number
  /**
   * Both ways at once, the lesser of coverage and questionRecall (0 to 1): the user asks what the
   * passage answers, and the passage answers what the user asks. A one-word title is all asked by
   * any question that names it; the lesser of the two is not.
   */
  mutual: number
  /** Cosine of the best document's word vector with the question's (word-vectors.ts); 0 when off. */
  similarity: number
  /**
   * How many of the question's words were read as another: misspelt or in the other region's spelling
   * (spelling.ts), or compound (compounds.ts).
   */
  corrected: number
  /**
   * 1 when every informative word of the question is an everyday one, among the EVERYDAY_WORDS most
   * frequent English words ("what time is it?", "can I talk to a person?"), else 0.
   */
  everyday: number
}

export interface SearchResult {
  hits: SearchHit[]
  evidence: AnswerEvidence
  /** What a reply quotes of the best passage: all of it up to QUOTE_MAX_CHARS, else its best sentences, whole. */
  quote: string
}

/**
 * What IDF and length normalisation read, over the collections searched: a team's FAQ is weighed by
 * its own words, not by the bundled manual's that sit beside it in the index but do not answer.
 */
interface TermStatistics {
  passages: number
  avgLength: number
  /** How many live passages of the searched collections hold the term. */
  df: (term: string) => number
}

/** A collection's documents and its share of the statistics, kept as documents come and go. */
interface CollectionStatistics {
  documents: number
  passages: number
  length: number
  df: Map<string, number>
}

interface Ranking {
  queryTerms: Map<string, number>
  weights: Map<string, number>
  statistics: TermStatistics
  /** The best documents, best first. */
  candidates: Candidate[]
  /** For snippets made at every turn ('per-turn'); the index's need none. */
  matches: TermMatcher | undefined
  /** How many of the question's words were read as another (spelling.ts, compounds.ts). */
  corrected: number
}

export interface SearchHit {
  docId: string
  title: string
  score: number
  /** The best-matching sentence(s) of the best passage, at most SNIPPET_MAX_CHARS. */
  snippet: string
  /** Ordinal of the best passage. */
  passage: number
  passageText: string
}

export interface SearchEngineOptions {
  /** BM25 term-frequency saturation. */
  k1?: number
  /** BM25 length normalisation, 0 (none) to 1 (full). */
  b?: number
  /** How many body words one title word counts as (BM25F-style field weight). */
  titleBoost?: number
  /** How much the question field's score (question-index.ts) adds to the best passage's; 0: off. */
  questionWeight?: number
  /** Whether the meaning of words counts too (word-vectors.ts), SEARCH_WORD_VECTORS. */
  wordVectors?: boolean
  /**
   * Whether a misspelt word, another region's spelling or a compound of a question is read as the
   * knowledge base writes it (spelling.ts, compounds.ts), SEARCH_SPELLING.
   */
  spelling?: boolean
  /**
   * How much the meaning adds: a matching document gains this times the best words' score times
   * the cosine of its word vectors with the question's.
   */
  vectorWeight?: number
  /**
   * Where a search finds the terms of the passages it shows. 'indexed' (the default): each passage's
   * sentences and their terms are stored when it is indexed (snippets.ts), and whether it holds a
   * question's term is read from the postings, for about a fifth more index memory; 'per-turn': the
   * passages are split and analysed again at every search, as before, which is what 'indexed' is
   * tested and measured against.
   */
  passageTerms?: 'indexed' | 'per-turn'
}

/**
 * The meaning's share, chosen on the train parts of stackfaq-dev and two written FAQs: the best
 * document's relevance rose from 0.834, 0.701, 0.701 to 0.841, 0.729, 0.738 there, and on the
 * test FAQs never chosen on from 0.791 and 0.716 to 0.809 and 0.761 (bench:answers, bench/README.md).
 * Only the documents the words rank best are ranked again: the words decide what is found, the
 * meaning which of them comes first.
 */
const VECTOR_WEIGHT = 1.5
/** How many of the words' best documents the meaning ranks again (as many as asked, if more). */
const MEANING_POOL = 50
/** A document's vector: mostly its whole text's, a little its question's (tuned with the weight). */
const QUESTION_VECTOR_SHARE = 0.1
/**
 * How many of the most frequent English words are everyday ones. Chosen on the train parts of
 * bench:answers: 300 caught 2 of the wrong answers a question of such words got, 1,000 caught 11
 * and lost no right one, 3,000 lost 2 ("how do i check my bank balance" is answerable).
 */
const EVERYDAY_WORDS = 1000
let everydayTerms: ReadonlySet<string> | undefined

/** The everyday words' terms, as the index analyses them (read once). */
function everyday (): ReadonlySet<string> {
  everydayTerms ??= new Set([...shippedWordVectors().ranks]
    .filter(([, rank]) => rank < EVERYDAY_WORDS).flatMap(([word]) => analyze(word)))
  return everydayTerms
}

/** How many passages holding every word are read for the words as written (compounds.ts). */
const MAX_WRITTEN_SCANS = 200

/**
 * Chosen with `npm run bench:search -- --tune` on SciFact's train judgments (never the
 * test ones). The surface is flat (nDCG@10 0.69 to 0.70 over k1 0.6 to 1.8, b 0.3 to
 * 0.9); counting title words twice was the one consistent gain (0.6938 -> 0.7003).
 */
export const DEFAULT_SEARCH_OPTIONS: Readonly<Required<SearchEngineOptions>> = Object.freeze({
  k1: 1.2,
  b: 0.75,
  titleBoost: 2,
  questionWeight: 0.3,
  wordVectors: true,
  spelling: true,
  vectorWeight: VECTOR_WEIGHT,
  passageTerms: 'indexed'
})

export const SNIPPET_MAX_CHARS = 300
export const QUOTE_MAX_CHARS = 600

interface PostingList {
  /** Passage slots, in insertion order; slots of removed passages stay until compaction. */
  slots: Int32Array
  /** Title-weighted term frequency in the passage (title counted in every passage). */
  tfs: Float32Array
  size: number
  /** Live passages containing the term. */
  df: number
}

interface DocEntry {
  id: string
  title: string
  collection: string
  passages: Passage[]
  /** Passage slot of each entry of `passages`. */
  slots: number[]
  /** The other phrasings of the question it answers, besides its title. */
  questions: string[]
  /** Its word vector (word-vectors.ts), when the engine weighs meaning and any of its words is known. */
  vector: Float32Array | undefined
}

interface Candidate {
  doc: number
  slot: number
  /** What ranks it: the words' score, plus the meaning's when the engine weighs meaning. */
  score: number
  /** The words' score alone (BM25 of its best passage and of its question field). */
  wordScore: number
  /** Cosine of its word vector with the question's; 0 when either has none. */
  similarity: number
}

function growInt32 (array: Int32Array, min: number): Int32Array {
  if (array.length >= min) return array
  const next = new Int32Array(Math.max(min, array.length * 2, 16))
  next.set(array)
  return next
}

function growFloat32 (array: Float32Array, min: number): Float32Array {
  if (array.length >= min) return array
  const next = new Float32Array(Math.max(min, array.length * 2, 16))
  next.set(array)
  return next
}

function growFloat64 (array: Float64Array, min: number): Float64Array {
  if (array.length >= min) return array
  return new Float64Array(Math.max(min, array.length * 2, 16))
}

function checkOption (name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new RangeError(`SearchEngine: ${name} must be a number between 0 and ${max}, got ${String(value)}`)
  }
  return value
}

/** Scores are shown to API clients; more digits would only expose float noise. */
function round (score: number): number {
  return Math.round(score * 1e4) / 1e4
}

/**
 * In-memory BM25 index over document passages. A document's score is the score of
 * its best passage; each passage is scored as the document title plus the passage's
 * heading and text, with title words weighted by `titleBoost` both in term frequency
 * and in length (BM25F with one shared length normalisation). IDF is Lucene's
 * `ln(1 + (N - n + 0.5) / (n + 0.5))` over passages, always positive.
 *
 * Upsert and remove are incremental: removed passages are tombstoned and skipped, and
 * the posting lists are compacted once tombstones make up a third of the index.
 */
export class SearchEngine {
  readonly k1: number
  readonly b: number
  readonly titleBoost: number
  readonly questionWeight: number
  readonly vectorWeight: number

  private readonly analyze: Analyzer
  private readonly analyzeTokens: CachedAnalyzer['analyzeTokens']
  private readonly termMatcher: CachedAnalyzer['termMatcher']
  private readonly postings = new Map<string, PostingList>()
  private readonly docIndex = new Map<string, number>()
  private readonly docs: Array<DocEntry | undefined> = []
  private readonly collectionStatistics = new Map<string, CollectionStatistics>()
  private readonly freeDocs: number[] = []
  private readonly questions: QuestionIndex
  private readonly wordVectors: WordVectors | undefined
  /** The English words a misspelling is read against, by frequency rank; undefined when spelling is off. */
  private readonly english: ReadonlyMap<string, number> | undefined
  /** Each passage's sentences and their terms; undefined when passageTerms is 'per-turn'. */
  private readonly snippets: SnippetIndex | undefined

  // Per passage slot: owning document (-1 once removed), index in doc.passages, length.
  private slotDoc: Int32Array = new Int32Array(0)
  private slotPassage: Int32Array = new Int32Array(0)
  private slotLength: Float32Array = new Float32Array(0)
  private usedSlots = 0
  private deadSlots = 0
  private livePassages = 0
  private totalLength = 0

  // Scratch space reused by every search, sized to the index, so a query allocates
  // nothing proportional to the corpus.
  private scores: Float64Array = new Float64Array(0)
  private touched: Int32Array = new Int32Array(0)
  private docScores: Float64Array = new Float64Array(0)
  private docBestSlot: Int32Array = new Int32Array(0)
  private touchedDocs: Int32Array = new Int32Array(0)

  constructor (options: SearchEngineOptions = {}) {
    this.k1 = checkOption('k1', options.k1, DEFAULT_SEARCH_OPTIONS.k1, 100)
    this.b = checkOption('b', options.b, DEFAULT_SEARCH_OPTIONS.b, 1)
    this.titleBoost = checkOption('titleBoost', options.titleBoost, DEFAULT_SEARCH_OPTIONS.titleBoost, 1000)
    this.questionWeight =
      checkOption('questionWeight', options.questionWeight, DEFAULT_SEARCH_OPTIONS.questionWeight, 100)
    this.vectorWeight = checkOption('vectorWeight', options.vectorWeight, DEFAULT_SEARCH_OPTIONS.vectorWeight, 100)
    this.wordVectors = (options.wordVectors ?? DEFAULT_SEARCH_OPTIONS.wordVectors) && this.vectorWeight > 0
      ? shippedWordVectors()
      : undefined
    this.english = (options.spelling ?? DEFAULT_SEARCH_OPTIONS.spelling) ? shippedWordVectors().ranks : undefined
    const analyzer = createAnalyzer()
    this.analyze = analyzer.analyze
    this.analyzeTokens = analyzer.analyzeTokens
    this.termMatcher = analyzer.termMatcher
    this.questions = new QuestionIndex(this.analyze)
    const passageTerms = options.passageTerms ?? DEFAULT_SEARCH_OPTIONS.passageTerms
    if (passageTerms !== 'indexed' && passageTerms !== 'per-turn') {
      throw new RangeError(`SearchEngine: passageTerms must be 'indexed' or 'per-turn', got ${String(passageTerms)}`)
    }
    this.snippets = passageTerms === 'indexed' ? new SnippetIndex(this.analyzeTokens, SNIPPET_MAX_CHARS) : undefined
  }

  /** Whether the meaning of words counts in the ranking, and so in the evidence's `similarity`. */
  get weighsMeaning (): boolean {
    return this.wordVectors !== undefined
  }

  get documentCount (): number {
    return this.docIndex.size
  }

  get passageCount (): number {
    return this.livePassages
  }

  /** Documents per collection, of the collections that have any. */
  collections (): ReadonlyMap<string, number> {
    return new Map([...this.collectionStatistics].map(([name, { documents }]) => [name, documents]))
  }

  hasDocument (id: string): boolean {
    return this.docIndex.has(id)
  }

  /** Ids of the indexed documents. */
  documentIds (): string[] {
    return [...this.docIndex.keys()]
  }

  /**
   * Adds a document, or replaces every passage of the document with the same id. A
   * document without passages is indexed as one empty passage (ordinal 0), so its
   * title stays searchable.
   */
  upsert (doc: SearchDocument): void {
    if (doc === null || typeof doc !== 'object' || typeof doc.id !== 'string') {
      throw new TypeError('SearchEngine.upsert: document must have a string id')
    }
    const title = typeof doc.title === 'string' ? doc.title : ''
    const given = Array.isArray(doc.passages) ? doc.passages : []
    // Copied so that later changes to the caller's objects cannot desynchronise the
    // index from the text used to undo it on remove.
    const passages: Passage[] = given.length > 0
      ? given.map((p) => copyPassage(p))
      : [{ ordinal: 0, text: '' }]
    this.remove(doc.id)

    const docSlot = this.freeDocs.pop() ?? this.docs.length
    const collection = typeof doc.collection === 'string' ? doc.collection : DEFAULT_COLLECTION
    const questions = Array.isArray(doc.questions)
      ? doc.questions.filter((q): q is string => typeof q === 'string')
      : []
    const entry: DocEntry = {
      id: doc.id,
      title,
      collection,
      passages,
      slots: [],
      questions,
      vector: this.documentVector(title, questions, passages)
    }
    this.docs[docSlot] = entry
    this.docIndex.set(doc.id, docSlot)
    let statistics = this.collectionStatistics.get(collection)
    if (statistics === undefined) {
      this.collectionStatistics.set(collection, statistics = { documents: 0, passages: 0, length: 0, df: new Map() })
    }
    statistics.documents++

    if (this.questionWeight > 0) this.questions.set(docSlot, [title, ...questions], collection)
    const titleTerms = this.analyze(title)
    const boost = this.titleBoost
    const needed = this.usedSlots + passages.length
    this.slotDoc = growInt32(this.slotDoc, needed)
    this.slotPassage = growInt32(this.slotPassage, needed)
    this.slotLength = growFloat32(this.slotLength, needed)

    for (let i = 0; i < passages.length; i++) {
      const passage = passages[i] as Passage
      const slot = this.usedSlots++
      const body = passageBody(passage)
      // With offsets when the snippet index needs them, so that the text is analysed once.
      const tokens = this.snippets === undefined ? undefined : this.analyzeTokens(body)
      const bodyTerms = tokens === undefined ? this.analyze(body) : tokens.map(token => token.term)
      const tf = new Map<string, number>()
      if (boost > 0) for (const term of titleTerms) tf.set(term, (tf.get(term) ?? 0) + boost)
      for (const term of bodyTerms) tf.set(term, (tf.get(term) ?? 0) + 1)
      for (const [term, freq] of tf) {
        this.addPosting(term, slot, freq)
        statistics.df.set(term, (statistics.df.get(term) ?? 0) + 1)
      }
      const length = boost * titleTerms.length + bodyTerms.length
      this.slotDoc[slot] = docSlot
      this.slotPassage[slot] = i
      this.slotLength[slot] = length
      // Sum the stored (float32) value: remove subtracts that same value, so the total
      // does not drift with a fractional titleBoost.
      this.totalLength += this.slotLength[slot] as number
      this.livePassages++
      statistics.length += this.slotLength[slot] as number
      statistics.passages++
      entry.slots.push(slot)
      if (this.snippets !== undefined && tokens !== undefined) {
        this.snippets.add(slot, passage.text, { tokens, from: body.length - passage.text.length })
      }
    }
  }

  private documentVector (title: string, questions: string[], passages: Passage[]): Float32Array | undefined {
    if (this.wordVectors === undefined) return undefined
    const whole = this.wordVectors.embed(`${title}\n${passages.map(passageBody).join('\n')}`)
    if (whole === undefined) return undefined
    const asked = this.wordVectors.embed([title, ...questions].join('\n'))
    if (asked === undefined) return whole
    return whole.map((value, i) => (1 - QUESTION_VECTOR_SHARE) * value + QUESTION_VECTOR_SHARE * (asked[i] as number))
  }

  /** Removes a document and its passages; false if it was not indexed. */
  remove (docId: string): boolean {
    const docSlot = this.docIndex.get(docId)
    if (docSlot === undefined) return false
    const entry = this.docs[docSlot] as DocEntry
    // Document frequencies are recomputed from the stored text instead of keeping every
    // passage's term list in memory: analysis is deterministic, so this is exact.
    const titleTerms = this.titleBoost > 0 ? this.analyze(entry.title) : []
    const statistics = this.collectionStatistics.get(entry.collection) as CollectionStatistics
    for (let i = 0; i < entry.passages.length; i++) {
      const slot = entry.slots[i] as number
      const unique = new Set(titleTerms)
      for (const term of this.analyze(passageBody(entry.passages[i] as Passage))) unique.add(term)
      for (const term of unique) {
        const list = this.postings.get(term)
        if (list !== undefined) list.df--
        const df = (statistics.df.get(term) ?? 1) - 1
        if (df === 0) statistics.df.delete(term)
        else statistics.df.set(term, df)
      }
      this.totalLength -= this.slotLength[slot] as number
      statistics.length -= this.slotLength[slot] as number
      statistics.passages--
      this.slotDoc[slot] = -1
      this.snippets?.remove(slot)
      this.livePassages--
      this.deadSlots++
    }
    this.docs[docSlot] = undefined
    this.questions.remove(docSlot)
    if (--statistics.documents === 0) this.collectionStatistics.delete(entry.collection)
    this.freeDocs.push(docSlot)
    this.docIndex.delete(docId)
    if (this.livePassages === 0) this.totalLength = 0 // no float drift on an empty index
    if (this.deadSlots >= 64 && this.deadSlots * 3 >= this.usedSlots) this.compact()
    return true
  }

  /**
   * Best documents for a free-text query, best first, one row per document (its best
   * passage), at most k rows. A query with no indexable terms (empty, punctuation,
   * only stopwords) gives []. With `collections`, only documents of those collections.
   */
  search (query: string, k = 10, collections?: ReadonlySet<string>): SearchHit[] {
    const ranked = this.rank(query, k, collections)
    return ranked === undefined ? [] : ranked.candidates.map((c) => this.toHit(c, this.shownSlot(c, ranked), ranked))
  }

  /**
   * search(), and for the decision to answer: how well the best passage covers the question (see
   * AnswerEvidence) and what a reply quotes of it. Plain searches (/search, the admin route) do
   * without either.
   */
  searchWithEvidence (query: string, k = 10, collections?: ReadonlySet<string>): SearchResult {
    const ranked = this.rank(query, k, collections)
    if (ranked === undefined) return { hits: [], evidence: NO_EVIDENCE, quote: '' }
    // The best candidate's shown passage is both its hit and the quote: found once.
    const shown = ranked.candidates.map((c) => this.shownSlot(c, ranked))
    return {
      hits: ranked.candidates.map((c, i) => this.toHit(c, shown[i] as number, ranked)),
      evidence: this.evidence(ranked),
      quote: shown[0] === undefined ? '' : this.quote(shown[0], ranked)
    }
  }

  private rank (asked: string, k: number, collections: ReadonlySet<string> | undefined): Ranking | undefined {
    const limit = Number.isFinite(k) ? Math.floor(k) : 10
    if (limit < 1 || typeof asked !== 'string') return undefined
    const statistics = this.statisticsOf(collections)
    if (statistics.passages === 0) return undefined
    const { text: query, corrections } = this.english === undefined
      ? { text: asked, corrections: [] }
      : this.readAsWritten(asked, this.english, statistics, collections)
    const queryTerms = new Map<string, number>()
    for (const term of this.analyze(query)) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1)
    if (queryTerms.size === 0) return undefined

    const n = statistics.passages
    const avgLength = statistics.avgLength
    const k1 = this.k1
    const b = this.b
    this.scores = growFloat64(this.scores, this.usedSlots)
    this.touched = growInt32(this.touched, this.usedSlots)
    const scores = this.scores
    const touched = this.touched
    const slotDoc = this.slotDoc
    const slotLength = this.slotLength
    let touchedCount = 0

    // Weight of each query term for the snippet: a term repeated in the query counts
    // more, as in Lucene's boolean query of term clauses.
    const weights = new Map<string, number>()
    for (const [term, qtf] of queryTerms) {
      const df = statistics.df(term)
      if (df <= 0) continue
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
      const weight = idf * qtf
      weights.set(term, weight)
      const { slots, tfs, size } = this.postings.get(term) as PostingList
      for (let i = 0; i < size; i++) {
        const slot = slots[i] as number
        if ((slotDoc[slot] as number) < 0) continue
        const tf = tfs[i] as number
        const norm = k1 * (1 - b + b * (slotLength[slot] as number) / avgLength)
        if (scores[slot] === 0) touched[touchedCount++] = slot
        scores[slot] = (scores[slot] as number) + weight * tf / (tf + norm)
      }
    }
    const questionScores = new Map<number, number>()
    if (this.questionWeight > 0) {
      this.questions.addScores(queryTerms, this.questionWeight, questionScores, {
        collections,
        informative: term => !QUESTION_WORDS.has(term),
        inPassages: term => statistics.df(term) > 0
      })
    }
    const found = touchedCount > 0 || questionScores.size > 0
    const queryVector = found ? this.wordVectors?.embed(query) : undefined
    const candidates = found ? this.bestPerDocument(touchedCount, questionScores, queryVector, limit, collections) : []
    const matches = this.snippets === undefined ? this.termMatcher(weights.keys()) : undefined
    return { queryTerms, weights, statistics, candidates, matches, corrected: corrections.length }
  }

  /** The question's compounds, misspelt words and other regions' spellings read as the knowledge base writes them. */
  private readAsWritten (
    asked: string,
    english: ReadonlyMap<string, number>,
    statistics: TermStatistics,
    collections: ReadonlySet<string> | undefined
  ): SpellingCorrection {
    const compounds = readCompounds(asked, {
      passagesHolding: word => {
        const term = this.analyze(word)[0]
        return term === undefined ? 0 : statistics.df(term)
      },
      writes: (...words) => this.writes(words, collections),
      isEnglish: word => english.has(word)
    })
    const spelling = correctSpelling(compounds.text, english, statistics.df, this.analyzeTokens)
    return { text: spelling.text, corrections: [...compounds.corrections, ...spelling.corrections] }
  }

  /**
   * Whether a passage of the searched collections, its title or a phrasing has the words as written,
   * side by side ("car park", or "login" whole): read through the postings of the rarest word (a
   * stopword has none). Undefined when MAX_WRITTEN_SCANS passages holding every word were read and
   * none wrote them: whether one further on does is not known.
   */
  private writes (words: string[], collections: ReadonlySet<string> | undefined): boolean | undefined {
    const terms = words.flatMap(word => this.analyze(word))
    let rarest: PostingList | undefined
    for (const term of terms) {
      const list = this.postings.get(term)
      if (list === undefined) return false
      if (rarest === undefined || list.df < rarest.df) rarest = list
    }
    if (rarest === undefined) return false
    const written = new RegExp(`(?<![\\p{L}\\p{N}])${words.map(anyNumber).join('\\s+')}(?![\\p{L}\\p{N}])`, 'iu')
    let read = 0
    for (let i = 0; i < rarest.size; i++) {
      const slot = rarest.slots[i] as number
      const doc = this.slotDoc[slot] as number
      if (doc < 0) continue
      const entry = this.docs[doc] as DocEntry
      if (collections !== undefined && !collections.has(entry.collection)) continue
      if (entry.questions.some(text => written.test(text))) return true
      // A passage (with its title) that lacks a word cannot write the words side by side: only the
      // others are read, which spares long passages of common words ("up regulated" in SciFact).
      if (terms.some(term => !this.holds(slot, term))) continue
      if (read++ === MAX_WRITTEN_SCANS) return undefined
      const passage = entry.passages[this.slotPassage[slot] as number] as Passage
      if (written.test(passage.text) || written.test(entry.title)) return true
    }
    return false
  }

  private evidence ({ queryTerms, weights, statistics, candidates, corrected }: Ranking): AnswerEvidence {
    // A term no passage holds is as specific as a term can be: weighed as if one passage held it.
    const unseen = Math.log(1 + (statistics.passages - 0.5) / 1.5)
    const informative = [...queryTerms]
      .filter(([term]) => !QUESTION_WORDS.has(term))
      .map(([term, qtf]) => ({ term, weight: weights.get(term) ?? unseen * qtf }))
    const total = informative.reduce((sum, { weight }) => sum + weight, 0)
    const unseenWeight = informative.reduce((sum, { term, weight }) => weights.has(term) ? sum : sum + weight, 0)
    const best = candidates[0]
    if (best === undefined || total === 0) {
      return { ...NO_EVIDENCE, terms: informative.length, unseen: total === 0 ? 0 : unseenWeight / total, corrected }
    }
    const entry = this.docs[best.doc] as DocEntry
    const passage = this.passageAt(best.slot)
    // The question the passage answers: its document's title with the heading above it, or another
    // phrasing of the title; the one the user's question asks most of.
    const asked = [`${entry.title}\n${passage.heading ?? ''}`, ...entry.questions]
    const recalls = asked.map(question => this.recall(question, queryTerms, statistics))
    const questionRecall = Math.max(...recalls)
    // A phrasing the team gave says in users' words what the passage answers: its words count as
    // the title's do (asked[0] is the title, already counted).
    const mostAsked = recalls.indexOf(questionRecall)
    const phrasing = mostAsked > 0 ? asked[mostAsked] : ''
    // Joined by line breaks, the title, the phrasing and the passage have the terms they have apart:
    // the passage's are the ones whose postings hold its slot, so only the short texts are analysed.
    const indexed = this.snippets !== undefined
    const words = new Set(this.analyze(`${entry.title}\n${phrasing}${indexed ? '' : `\n${passageBody(passage)}`}`))
    const inPassage = (term: string): boolean => words.has(term) || (indexed && this.holds(best.slot, term))
    const covered = informative.reduce((sum, { term, weight }) => inPassage(term) ? sum + weight : sum, 0)
    const second = candidates[1]?.score ?? 0
    const coverage = covered / total
    return {
      terms: informative.length,
      coverage,
      // Question words add to the score but not to the most it could be: capped at 1.
      relativeScore: Math.min(1, best.wordScore / total),
      lead: (best.score - second) / best.score,
      questionRecall,
      unseen: unseenWeight / total,
      mutual: Math.min(coverage, questionRecall),
      similarity: best.similarity,
      corrected,
      everyday: informative.every(({ term }) => everyday().has(term)) ? 1 : 0
    }
  }

  /** Share of the informative weight of `text` that the query's terms hold (0 when it has none). */
  private recall (text: string, queryTerms: ReadonlyMap<string, number>, statistics: TermStatistics): number {
    let total = 0
    let held = 0
    for (const term of new Set(this.analyze(text))) {
      if (QUESTION_WORDS.has(term)) continue
      const df = statistics.df(term)
      const weight = Math.log(1 + (statistics.passages - df + 0.5) / (df + 0.5))
      total += weight
      if (queryTerms.has(term)) held += weight
    }
    return total === 0 ? 0 : held / total
  }

  /** The term statistics of the searched collections: the whole index's when all are searched. */
  private statisticsOf (collections: ReadonlySet<string> | undefined): TermStatistics {
    const searched = collections === undefined
      ? []
      : [...this.collectionStatistics].filter(([name]) => collections.has(name)).map(([, statistics]) => statistics)
    if (collections === undefined || searched.length === this.collectionStatistics.size) {
      const passages = this.livePassages
      return {
        passages,
        avgLength: this.totalLength > 0 ? this.totalLength / passages : 1,
        df: term => this.postings.get(term)?.df ?? 0
      }
    }
    const passages = searched.reduce((sum, { passages }) => sum + passages, 0)
    const length = searched.reduce((sum, { length }) => sum + length, 0)
    return {
      passages,
      avgLength: length > 0 ? length / passages : 1,
      df: searched.length === 1
        ? term => (searched[0] as CollectionStatistics).df.get(term) ?? 0
        : term => searched.reduce((sum, { df }) => sum + (df.get(term) ?? 0), 0)
    }
  }

  /**
   * Whether the term is in the passage at `slot` (or its title, when titles are weighted): every
   * posting list holds its slots in ascending order, as they are added and as compaction keeps them.
   */
  private holds (slot: number, term: string): boolean {
    const list = this.postings.get(term)
    if (list === undefined) return false
    let low = 0
    let high = list.size - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const at = list.slots[middle] as number
      if (at === slot) return true
      if (at < slot) low = middle + 1
      else high = middle - 1
    }
    return false
  }

  private addPosting (term: string, slot: number, tf: number): void {
    let list = this.postings.get(term)
    if (list === undefined) {
      list = { slots: new Int32Array(2), tfs: new Float32Array(2), size: 0, df: 0 }
      this.postings.set(term, list)
    } else if (list.size === list.slots.length) {
      list.slots = growInt32(list.slots, list.size + 1)
      list.tfs = growFloat32(list.tfs, list.size + 1)
    }
    list.slots[list.size] = slot
    list.tfs[list.size] = tf
    list.size++
    list.df++
  }

  /**
   * Folds passage scores into one per document, adds its question field's and its meaning's, and
   * keeps the top `limit`.
   */
  private bestPerDocument (
    touchedCount: number,
    questionScores: ReadonlyMap<number, number>,
    queryVector: Float32Array | undefined,
    limit: number,
    collections: ReadonlySet<string> | undefined
  ): Candidate[] {
    const docCount = this.docs.length
    this.docScores = growFloat64(this.docScores, docCount)
    this.docBestSlot = growInt32(this.docBestSlot, docCount)
    this.touchedDocs = growInt32(this.touchedDocs, docCount)
    const { scores, touched, slotDoc, docScores, docBestSlot, touchedDocs } = this
    let docsTouched = 0
    for (let i = 0; i < touchedCount; i++) {
      const slot = touched[i] as number
      const score = scores[slot] as number
      scores[slot] = 0
      const doc = slotDoc[slot] as number
      if (collections !== undefined && !collections.has((this.docs[doc] as DocEntry).collection)) continue
      const best = docScores[doc] as number
      if (best === 0) touchedDocs[docsTouched++] = doc
      // Ties go to the earlier passage, so the shown passage is stable.
      if (score > best || (score === best && slot < (docBestSlot[doc] as number))) {
        docScores[doc] = score
        docBestSlot[doc] = slot
      }
    }
    for (const [doc, score] of questionScores) {
      const entry = this.docs[doc] as DocEntry
      if (collections !== undefined && !collections.has(entry.collection)) continue
      if (docScores[doc] === 0) {
        touchedDocs[docsTouched++] = doc
        // Matched by its question alone: the answer shown is its opening passage.
        docBestSlot[doc] = entry.slots[0] as number
      }
      docScores[doc] = (docScores[doc] as number) + score
    }

    // Bounded min-heap: O(d log k) instead of sorting every matching document.
    const pool = queryVector === undefined ? limit : Math.max(limit, MEANING_POOL)
    const heap: Candidate[] = []
    const worse = (a: Candidate, c: Candidate): boolean => this.ranksBelow(a, c)
    for (let i = 0; i < docsTouched; i++) {
      const doc = touchedDocs[i] as number
      const score = docScores[doc] as number
      const candidate = { doc, slot: docBestSlot[doc] as number, score, wordScore: score, similarity: 0 }
      docScores[doc] = 0
      if (heap.length < pool) {
        heap.push(candidate)
        siftUp(heap, heap.length - 1, worse)
      } else if (worse(heap[0] as Candidate, candidate)) {
        heap[0] = candidate
        siftDown(heap, 0, worse)
      }
    }
    const byScore = (a: Candidate, c: Candidate): number => (this.ranksBelow(a, c) ? 1 : -1)
    heap.sort(byScore)
    if (queryVector === undefined) return heap
    return this.addMeaning(queryVector, heap).sort(byScore).slice(0, limit)
  }

  /**
   * The candidates (best first) with the weighted cosine of their vectors with the question's added,
   * in the best score's units.
   */
  private addMeaning (queryVector: Float32Array, candidates: Candidate[]): Candidate[] {
    const scale = this.vectorWeight * (candidates[0]?.score ?? 0)
    return candidates.map(candidate => {
      const vector = (this.docs[candidate.doc] as DocEntry).vector
      if (vector === undefined) return candidate
      const similarity = Math.max(0, dot(queryVector, vector))
      return { ...candidate, score: candidate.score + scale * similarity, similarity }
    })
  }

  /** Lower score ranks below; equal scores fall back to document id for a stable order. */
  private ranksBelow (a: Candidate, c: Candidate): boolean {
    if (a.score !== c.score) return a.score < c.score
    const idA = (this.docs[a.doc] as DocEntry).id
    const idC = (this.docs[c.doc] as DocEntry).id
    return idA > idC
  }

  /** A candidate as a hit, showing the passage at `slot` (shownSlot). */
  private toHit (candidate: Candidate, slot: number, ranked: Ranking): SearchHit {
    const passage = this.passageAt(slot)
    const entry = this.docs[candidate.doc] as DocEntry
    return {
      docId: entry.id,
      title: entry.title,
      score: round(candidate.score),
      snippet: this.snippet(slot, passage.text, ranked, SNIPPET_MAX_CHARS),
      passage: passage.ordinal,
      passageText: passage.text
    }
  }

  /** What a reply quotes of a passage: all of it up to QUOTE_MAX_CHARS, else its best sentences, whole. */
  private quote (slot: number, ranked: Ranking): string {
    const { text } = this.passageAt(slot)
    const trimmed = text.trim()
    if (trimmed.length <= QUOTE_MAX_CHARS) return trimmed
    // Trimmed or not, the text has the same sentences: the index's offsets are into the text as it was given.
    return this.snippet(slot, this.snippets === undefined ? trimmed : text, ranked, QUOTE_MAX_CHARS)
  }

  /**
   * The passage a hit shows: its best passage, or the opening of that passage's section where the
   * opening holds every query term the best one does. A section's heading is indexed with each of
   * its passages, so a question its heading asks ties them all, and a later passage won on a word it
   * only repeats ("how do I view traces?" quoted the `OTEL_TRACES_*` variables): a section opens
   * with the answer to its heading. Only what is shown: the decision weighs the best passage.
   */
  private shownSlot (candidate: Candidate, { weights }: Ranking): number {
    const { passages, slots } = this.docs[candidate.doc] as DocEntry
    let ordinal = this.slotPassage[candidate.slot] as number
    const heading = (passages[ordinal] as Passage).heading
    while (ordinal > 0 && (passages[ordinal - 1] as Passage).heading === heading) ordinal--
    const opening = slots[ordinal] as number
    if (opening === candidate.slot) return opening
    for (const term of weights.keys()) {
      if (this.holds(candidate.slot, term) && !this.holds(opening, term)) return candidate.slot
    }
    return opening
  }

  private passageAt (slot: number): Passage {
    return (this.docs[this.slotDoc[slot] as number] as DocEntry).passages[this.slotPassage[slot] as number] as Passage
  }

  /** The best-matching sentences of the passage, at most max characters (snippets.ts). */
  private snippet (slot: number, text: string, ranked: Ranking, max: number): string {
    if (this.snippets !== undefined) return this.snippets.snippet(slot, text, ranked.weights, max)
    return perTurnSnippet(text, ranked.weights, ranked.matches as TermMatcher, this.analyzeTokens, max)
  }

  /** Rewrites posting lists without tombstoned passages and renumbers the slots. */
  private compact (): void {
    const remap = new Int32Array(this.usedSlots)
    let next = 0
    for (let slot = 0; slot < this.usedSlots; slot++) {
      const doc = this.slotDoc[slot] as number
      if (doc < 0) {
        remap[slot] = -1
        continue
      }
      remap[slot] = next
      this.slotDoc[next] = doc
      this.slotPassage[next] = this.slotPassage[slot] as number
      this.slotLength[next] = this.slotLength[slot] as number
      next++
    }
    for (const [term, list] of this.postings) {
      let size = 0
      for (let i = 0; i < list.size; i++) {
        const slot = remap[list.slots[i] as number] as number
        if (slot < 0) continue
        list.slots[size] = slot
        list.tfs[size] = list.tfs[i] as number
        size++
      }
      list.size = size
      if (size === 0) this.postings.delete(term)
    }
    for (const entry of this.docs) {
      if (entry !== undefined) entry.slots = entry.slots.map((slot) => remap[slot] as number)
    }
    this.snippets?.compact(remap)
    this.usedSlots = next
    this.deadSlots = 0
  }
}

const NO_EVIDENCE: AnswerEvidence = Object.freeze({
  terms: 0,
  coverage: 0,
  relativeScore: 0,
  lead: 0,
  questionRecall: 0,
  unseen: 0,
  mutual: 0,
  similarity: 0,
  corrected: 0,
  everyday: 0
})

// Words that shape a question without saying what it is about: in a question about refunds only
// "refund" is evidence that a passage answers it. Stemmed as the index stems them. Users type them
// contracted ("I'm", "can't": the analyser drops the apostrophe) and in chat shorthand ("do u guys
// open", "r u"), and read as words the knowledge base lacks, they made it refuse.
const QUESTION_WORDS: ReadonlySet<string> = new Set(analyze(
  'how what why when where which who whom whose can could do does did done i me my mine we us our you your yours ' +
  'he she him her his its them am been being have has had having would should shall may might must ' +
  'please tell know want need get got help thank thanks hi hello hey also just about any some ' +
  'up down out so than too very more most other own same again once here all each both few only ' +
  'from like ' +
  "i'm i've you're you've we're we've he's she's can't don't doesn't didn't isn't aren't won't " +
  "wouldn't couldn't shouldn't haven't hasn't im ive youre hes shes cant dont doesnt didnt isnt arent " +
  'wont u ur r ya yall guys pls plz thx ok okay'))

function copyPassage (p: Passage): Passage {
  const ordinal = typeof p?.ordinal === 'number' && Number.isFinite(p.ordinal) ? p.ordinal : 0
  const passage: Passage = { ordinal, text: typeof p?.text === 'string' ? p.text : '' }
  if (typeof p?.heading === 'string') passage.heading = p.heading
  return passage
}

/**
 * A word of a compound as a pattern that also reads its plural or possessive, either way round: a
 * knowledge base that writes "gift cards" writes the parts of "giftcard", and one that writes "gift
 * card" those of "giftcards". The words come from compounds.ts, letters only.
 */
function anyNumber (word: string): string {
  const singular = word.length > 3 && /[^s]s$/.test(word) ? word.slice(0, -1) : word
  return `${singular}(?:s|es|['’]s)?`
}

/** The heading is indexed with the passage: it names the topic of short sections. */
function passageBody (p: Passage): string {
  return p.heading === undefined ? p.text : `${p.heading}\n${p.text}`
}

function siftUp<T> (heap: T[], index: number, below: (a: T, b: T) => boolean): void {
  let i = index
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (!below(heap[i] as T, heap[parent] as T)) break
    swap(heap, i, parent)
    i = parent
  }
}

function siftDown<T> (heap: T[], index: number, below: (a: T, b: T) => boolean): void {
  let i = index
  for (;;) {
    const left = 2 * i + 1
    const right = left + 1
    let smallest = i
    if (left < heap.length && below(heap[left] as T, heap[smallest] as T)) smallest = left
    if (right < heap.length && below(heap[right] as T, heap[smallest] as T)) smallest = right
    if (smallest === i) return
    swap(heap, i, smallest)
    i = smallest
  }
}

function swap<T> (heap: T[], i: number, j: number): void {
  const tmp = heap[i] as T
  heap[i] = heap[j] as T
  heap[j] = tmp
}
