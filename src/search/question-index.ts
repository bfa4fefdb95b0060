// The question field of an FAQ: each document's title and the other phrasings of its question a
// team gives (metadata.questions), scored apart from the passages. A user's question is matched
// against the entry's question as well as against its answer: on stackfaq-dev's train threads,
// adding this field to the passages' score (QUESTION_FIELD_WEIGHT) moved the best document's
// relevance from 0.816 to 0.831 and nDCG@10 from 0.828 to 0.843 (bench/README.md). Titles are
// short and few, so plain maps keyed by document slot are enough here.
import type { Analyzer } from './text-analysis.js'

/** BM25 over the question field: full length normalisation, as a long title says less per word. */
const K1 = 1.2
const B = 1

interface Phrasing {
  doc: number
  collection: string
  length: number
  /** Its distinct terms, so that removing it touches only their postings. */
  terms: string[]
}

/** A collection's phrasings: how many, their length, and how many hold each term. */
interface CollectionPhrasings {
  count: number
  length: number
  df: Map<string, number>
}

export class QuestionIndex {
  private readonly analyze: Analyzer
  /** Term → phrasing id → term frequency. */
  private readonly postings = new Map<string, Map<number, number>>()
  private readonly phrasings = new Map<number, Phrasing>()
  private readonly byDoc = new Map<number, number[]>()
  private readonly byCollection = new Map<string, CollectionPhrasings>()
  private nextPhrasing = 0

  constructor (analyze: Analyzer) {
    this.analyze = analyze
  }

  /** Indexes a document's phrasings of its question under its slot, replacing any before. */
  set (doc: number, questions: readonly string[], collection: string): void {
    this.remove(doc)
    const ids: number[] = []
    for (const question of questions) {
      const terms = this.analyze(question)
      if (terms.length === 0) continue
      const id = this.nextPhrasing++
      ids.push(id)
      const phrasing = { doc, collection, length: terms.length, terms: [...new Set(terms)] }
      this.phrasings.set(id, phrasing)
      for (const term of terms) {
        let list = this.postings.get(term)
        if (list === undefined) this.postings.set(term, list = new Map())
        list.set(id, (list.get(id) ?? 0) + 1)
      }
      this.count(phrasing, 1)
    }
    if (ids.length > 0) this.byDoc.set(doc, ids)
  }

  /** Adds a phrasing to its collection's statistics (by 1) or takes it away (by -1). */
  private count (phrasing: Phrasing, by: 1 | -1): void {
    let counts = this.byCollection.get(phrasing.collection)
    if (counts === undefined) {
      this.byCollection.set(phrasing.collection, counts = { count: 0, length: 0, df: new Map() })
    }
    counts.count += by
    counts.length += by * phrasing.length
    if (counts.count === 0) {
      this.byCollection.delete(phrasing.collection)
      return
    }
    for (const term of phrasing.terms) {
      const df = (counts.df.get(term) ?? 0) + by
      if (df === 0) counts.df.delete(term)
      else counts.df.set(term, df)
    }
  }

  remove (doc: number): void {
    const ids = this.byDoc.get(doc)
    if (ids === undefined) return
    this.byDoc.delete(doc)
    for (const id of ids) {
      const phrasing = this.phrasings.get(id) as Phrasing
      this.phrasings.delete(id)
      this.count(phrasing, -1)
      for (const term of phrasing.terms) {
        const list = this.postings.get(term) as Map<number, number>
        list.delete(id)
        if (list.size === 0) this.postings.delete(term)
      }
    }
  }

  /**
   * Each matching document's best phrasing score for the query terms (term → times in the query),
   * added to `into` times `weight`, except where a phrasing is the only evidence. A word no passage
   * holds (`inPassages`), only a phrasing ("coffee" in "Can I buy coffee on the train?"), counts in
   * full: at the weight, a passage sharing the question's other word ("board") ranked first. And a
   * phrasing asked whole, its informative words (`informative`) the query's own, counts in full, as
   * the passages do: a team that adds the words users type to an entry's phrasings (the console's
   * "Add to test set") sees them answered from it, where a passage that merely shares them ("used"
   * and "train" against "Can I use the internet on the train?") would otherwise rank first. Only
   * the phrasings of `collections` (all when undefined) are scored, and weighed among themselves.
   */
  addScores (
    queryTerms: ReadonlyMap<string, number>,
    weight: number,
    into: Map<number, number>,
    options: {
      collections?: ReadonlySet<string> | undefined
      informative?: (term: string) => boolean
      inPassages?: (term: string) => boolean
    } = {}
  ): void {
    const { collections, informative = () => true, inPassages = () => true } = options
    const searched = [...this.byCollection]
      .filter(([name]) => collections?.has(name) ?? true)
      .map(([, counts]) => counts)
    const n = searched.reduce((sum, { count }) => sum + count, 0)
    if (n === 0) return
    const avgLength = searched.reduce((sum, { length }) => sum + length, 0) / n
    const perPhrasing = new Map<number, { shared: number, own: number, informative: number }>()
    for (const [term, qtf] of queryTerms) {
      const list = this.postings.get(term)
      if (list === undefined) continue
      const df = searched.reduce((sum, counts) => sum + (counts.df.get(term) ?? 0), 0)
      if (df === 0) continue
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
      const counted = informative(term) ? 1 : 0
      const own = !inPassages(term)
      for (const [id, tf] of list) {
        const phrasing = this.phrasings.get(id) as Phrasing
        if (collections !== undefined && !collections.has(phrasing.collection)) continue
        const norm = K1 * (1 - B + B * phrasing.length / avgLength)
        const found = perPhrasing.get(id) ?? { shared: 0, own: 0, informative: 0 }
        const score = idf * qtf * tf / (tf + norm)
        if (own) found.own += score
        else found.shared += score
        found.informative += counted
        perPhrasing.set(id, found)
      }
    }
    const asked = [...queryTerms.keys()].filter(informative).length
    const best = new Map<number, number>()
    for (const [id, found] of perPhrasing) {
      const phrasing = this.phrasings.get(id) as Phrasing
      const whole = asked > 0 && found.informative === asked && phrasing.terms.filter(informative).length === asked
      const score = found.own + found.shared * (whole ? 1 : weight)
      if (score > (best.get(phrasing.doc) ?? 0)) best.set(phrasing.doc, score)
    }
    for (const [doc, score] of best) into.set(doc, (into.get(doc) ?? 0) + score)
  }
}
