// What a hit shows of its passage: the sentence (or table row) that holds the most of the query's
// weight, with the ones after it while they fit. A passage's sentences never change between turns,
// so where each starts and ends and which terms it holds are worked out once, when the passage is
// indexed (SnippetIndex); a turn then only adds up the query's weights over stored term ids and
// cuts the text at stored offsets. perTurnSnippet is the same choice made from the text at every
// turn, as it was before: no memory for the term lists, and the reference the index must equal.
import { isTableRow, sentenceAndRowSpans, splitSentencesAndRows } from './passages.js'
import type { Token } from './text-analysis.js'

/** The distinct query terms (analysed) that a text holds, in the order they first occur in it. */
export type TermMatcher = (text: string) => Set<string>
type Tokenize = (text: string) => Token[]

const WHITE_SPACE = /\s+/g
/** White space that WHITE_SPACE would change: a run of two, or any but a plain space. */
const COLLAPSIBLE = /\s\s|[^\S ]/

/**
 * The sentence of the passage that covers the most query weight (sum of the weights of the
 * distinct query terms it contains), extended with the following sentences while they fit, then
 * cut to max characters around the first match. When no sentence matches (the passage matched on
 * its title or heading), the passage's opening is used, so a passage with text never gets an empty
 * snippet. Splits and analyses the text on every call.
 */
export function perTurnSnippet (
  text: string,
  weights: ReadonlyMap<string, number>,
  matches: TermMatcher,
  analyzeTokens: Tokenize,
  max: number
): string {
  const sentences = splitSentencesAndRows(text)
  if (sentences.length === 0) return ''
  const bestIndex = sentences.length === 1 ? 0 : bestSentence(sentences, weights, matches)
  let snippet = (sentences[bestIndex] as string).replace(WHITE_SPACE, ' ')
  for (let i = bestIndex + 1; i < sentences.length && snippet.length < max; i++) {
    const next = sentences[i] as string
    const longer = `${snippet}${isTableRow(next) ? '\n' : ' '}${next.replace(WHITE_SPACE, ' ')}`
    if (longer.length > max) break
    snippet = longer
  }
  if (snippet.length <= max) return snippet
  const firstMatch = analyzeTokens(snippet).find((t) => weights.has(t.term))
  return cutAround(snippet, firstMatch?.start ?? 0, max)
}

/** Index of the sentence with the most query weight; the earliest on a tie or when nothing matches. */
function bestSentence (sentences: string[], weights: ReadonlyMap<string, number>, matches: TermMatcher): number {
  let bestIndex = 0
  let bestScore = 0
  for (let i = 0; i < sentences.length; i++) {
    let score = 0
    for (const term of matches(sentences[i] as string)) score += weights.get(term) ?? 0
    if (score > bestScore) {
      bestScore = score
      bestIndex = i
    }
  }
  return bestIndex
}

/** A window of at most max characters that starts a little before `at`, cut between words. */
export function cutAround (text: string, at: number, max: number): string {
  const ellipsis = '\u2026'
  let start = Math.max(0, at - 60)
  if (start > 0) {
    const space = text.indexOf(' ', start)
    start = space >= 0 && space < at ? space + 1 : start
  }
  const budget = max - (start > 0 ? 1 : 0) - 1
  let end = Math.min(text.length, start + budget)
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end)
    if (space > start) end = space
  }
  return `${start > 0 ? ellipsis : ''}${text.slice(start, end).trim()}${end < text.length ? ellipsis : ''}`
}

// A record, at its offset in the pool (all offsets inside it relative to that offset):
//   [0]                      n, the passage's units (sentences and table rows)
//   [1 + 4i .. 4 + 4i]       unit i: start and end in the passage's text, INFO, end of its terms
//   [1 + 4n .. record end]   each unit's terms in turn: the ids of its distinct terms in the order
//                            they first occur; a unit longer than cutAbove (once its white space is
//                            one space) then also each term's first offset in that collapsed text.
const HEADER = 4
// INFO: the unit's length with its white space collapsed, times 4, plus these flags. Collapsed
// length is at most a string's, under 2^29 in V8, so the sum fits in an int32.
const INFO_ROW = 2
const INFO_COLLAPSES = 1

function growInt32 (array: Int32Array, min: number): Int32Array {
  if (array.length >= min) return array
  const next = new Int32Array(Math.max(min, array.length * 2, 16))
  next.set(array)
  return next
}

/**
 * Each indexed passage's units and their terms, by the search engine's passage slot, in one pool
 * of int32s (a typed array per passage would cost more in headers than its data): terms are ids
 * of a vocabulary counted by reference, so a removed passage frees its words. A removed passage's
 * record stays in the pool until the engine compacts its slots, which it does once they are a
 * third dead: the pool is bounded by the live passages' records times about 1.5.
 */
export class SnippetIndex {
  /**
   * The shortest `max` a snippet will be asked for: a unit longer than this keeps where its terms
   * are, to cut around the first match without analysing it again.
   */
  readonly cutAbove: number
  private readonly analyzeTokens: Tokenize
  private pool: Int32Array = new Int32Array(0)
  private poolUsed = 0
  /** Offset of each slot's record in the pool; -1 once removed. */
  private slotRecord: Int32Array = new Int32Array(0)
  private slotCount = 0
  private readonly termIds = new Map<string, number>()
  private readonly termById: Array<string | undefined> = []
  private termRefs: Int32Array = new Int32Array(0)
  private readonly freeIds: number[] = []
  private idCount = 0
  /** A query term's weight by id, during a snippet() call; 0 for every other id and at rest. */
  private weightById: Float64Array = new Float64Array(0)

  constructor (analyzeTokens: Tokenize, cutAbove: number) {
    this.analyzeTokens = analyzeTokens
    this.cutAbove = cutAbove
  }

  /** Int32s the pool holds, live and dead: what the records cost, at 4 bytes each. */
  get poolSize (): number {
    return this.poolUsed
  }

  /** Distinct terms of the live passages' units. */
  get vocabularySize (): number {
    return this.termIds.size
  }

  /**
   * Splits a passage's text into units and stores their terms; `slot` must follow the slots added
   * before it. `analysed`, when given, is the analysis of a text that holds this one from offset
   * `from` (the engine's passage body: heading, line break, text), so that the text is not analysed
   * twice: units are separated by white space, so each unit's tokens are those of the whole text that
   * start inside it, as the tests check against analysing each unit on its own.
   */
  add (slot: number, text: string, analysed?: { tokens: Token[], from: number }): void {
    const spans = sentenceAndRowSpans(text)
    const n = spans.length / 2
    const tokens = analysed?.tokens ?? this.analyzeTokens(text)
    const from = analysed?.from ?? 0
    const record: number[] = [n]
    for (let i = 0; i < n * HEADER; i++) record.push(0)
    let next = 0
    for (let i = 0; i < n; i++) {
      const start = spans[2 * i] as number
      const end = spans[2 * i + 1] as number
      // The first offset in the unit of each distinct term, in the order analysis gives terms: the
      // order the query's weights were added in, and the token the cut goes to first. (A word
      // joined by a hyphen comes after its second half but starts at its first: the same unit.)
      const firstAt = new Map<string, number>()
      for (; next < tokens.length; next++) {
        const token = tokens[next] as Token
        const at = token.start - from
        if (at >= end) break
        if (at >= start && !firstAt.has(token.term)) firstAt.set(token.term, at - start)
      }
      for (const term of firstAt.keys()) record.push(this.reference(term))
      const unit = text.slice(start, end)
      // Where runs of white space are, to move the offsets into the unit with each run one space;
      // most units have none but single spaces, and are their own collapsed text.
      const runs: number[] = []
      const collapsed = !COLLAPSIBLE.test(unit)
        ? unit
        : unit.replace(WHITE_SPACE, (run: string, at: number) => {
          runs.push(at, run.length)
          return ' '
        })
      if (collapsed.length > this.cutAbove) {
        for (const at of firstAt.values()) {
          let shift = 0
          for (let r = 0; r < runs.length && (runs[r] as number) < at; r += 2) shift += (runs[r + 1] as number) - 1
          record.push(at - shift)
        }
      }
      const header = 1 + HEADER * i
      record[header] = start
      record[header + 1] = end
      record[header + 2] = collapsed.length * 4 + (isTableRow(unit) ? INFO_ROW : 0) +
        (collapsed === unit ? 0 : INFO_COLLAPSES)
      record[header + 3] = record.length
    }
    if (this.pool.length < this.poolUsed + record.length) {
      // By a quarter, not double: the pool is most of the index's added memory, and its slack is waste.
      const grown = new Int32Array(Math.max(this.poolUsed + record.length, Math.ceil(this.pool.length * 1.25), 1024))
      grown.set(this.pool.subarray(0, this.poolUsed))
      this.pool = grown
    }
    this.pool.set(record, this.poolUsed)
    this.slotRecord = growInt32(this.slotRecord, slot + 1)
    this.slotRecord[slot] = this.poolUsed
    this.slotCount = slot + 1
    this.poolUsed += record.length
  }

  /** Drops a removed passage's words; its record is left for compact() to reclaim. */
  remove (slot: number): void {
    const at = this.slotRecord[slot] as number
    if (at < 0) return
    const pool = this.pool
    const n = pool[at] as number
    let from = at + 1 + HEADER * n
    for (let i = 0; i < n; i++) {
      const to = at + (pool[at + 1 + HEADER * i + 3] as number)
      const count = this.termCount(at, i, to - from)
      for (let j = from; j < from + count; j++) this.release(pool[j] as number)
      from = to
    }
    this.slotRecord[slot] = -1
  }

  /**
   * Follows the engine's compaction: `remap` gives each slot's new number, or -1 for a removed
   * one; live slots keep their order, so every record moves towards the start of the pool.
   */
  compact (remap: Int32Array): void {
    const pool = this.pool
    let write = 0
    let slots = 0
    for (let slot = 0; slot < this.slotCount; slot++) {
      const next = remap[slot] as number
      const at = this.slotRecord[slot] as number
      if (next < 0 || at < 0) continue
      const length = this.recordLength(at)
      pool.copyWithin(write, at, at + length)
      this.slotRecord[next] = write
      write += length
      slots = next + 1
    }
    this.poolUsed = write
    this.slotCount = slots
  }

  /**
   * perTurnSnippet's snippet of the slot's passage, from its stored units; `text` must be the text
   * it was added with. Weights are summed over the term ids in perTurnSnippet's order, so that even
   * a tie to the last bit goes the same way.
   */
  snippet (slot: number, text: string, weights: ReadonlyMap<string, number>, max: number): string {
    if (max < this.cutAbove) throw new RangeError(`SnippetIndex: max must be at least ${this.cutAbove}, got ${max}`)
    const at = this.slotRecord[slot] as number
    const pool = this.pool
    const n = at < 0 ? 0 : pool[at] as number
    if (n === 0) return ''
    const queried: number[] = []
    for (const [term, weight] of weights) {
      const id = this.termIds.get(term)
      if (id === undefined) continue
      this.weightById[id] = weight
      queried.push(id)
    }
    try {
      return this.choose(at, n, text, queried, max)
    } finally {
      for (const id of queried) this.weightById[id] = 0
    }
  }

  private choose (at: number, n: number, text: string, queried: number[], max: number): string {
    const pool = this.pool
    const weightById = this.weightById
    let best = 0
    let bestFrom = at + 1 + HEADER * n
    if (n > 1) {
      let bestScore = 0
      let from = bestFrom
      for (let i = 0; i < n; i++) {
        const to = at + (pool[at + 1 + HEADER * i + 3] as number)
        const end = from + this.termCount(at, i, to - from)
        let score = 0
        // Adding 0 for the unit's other terms leaves the sum as the query's terms alone make it.
        for (let j = from; j < end; j++) score += weightById[pool[j] as number] as number
        if (score > bestScore) {
          bestScore = score
          best = i
          bestFrom = from
        }
        from = to
      }
    }
    let length = this.info(at, best) >> 2
    let last = best
    for (let i = best + 1; i < n && length < max; i++) {
      const longer = length + 1 + (this.info(at, i) >> 2)
      if (longer > max) break
      length = longer
      last = i
    }
    if (length <= max) {
      let snippet = this.unitText(at, best, text)
      for (let i = best + 1; i <= last; i++) {
        snippet += `${(this.info(at, i) & INFO_ROW) === 0 ? ' ' : '\n'}${this.unitText(at, i, text)}`
      }
      return snippet
    }
    // Longer than max: the best unit alone, which is longer than cutAbove, so its offsets are kept.
    const collapsed = this.unitText(at, best, text)
    const to = at + (pool[at + 1 + HEADER * best + 3] as number)
    const count = (to - bestFrom) / 2
    let cutAt = 0
    for (let j = 0; j < count; j++) {
      if (queried.includes(pool[bestFrom + j] as number)) {
        cutAt = pool[bestFrom + count + j] as number
        break
      }
    }
    return cutAround(collapsed, cutAt, max)
  }

  private recordLength (at: number): number {
    const n = this.pool[at] as number
    // The last unit's end of terms is the record's end.
    return n === 0 ? 1 : this.pool[at + HEADER * n] as number
  }

  private info (at: number, unit: number): number {
    return this.pool[at + 1 + HEADER * unit + 2] as number
  }

  /** How many of the `size` int32s of the unit's terms are term ids (the rest are offsets). */
  private termCount (at: number, unit: number, size: number): number {
    return this.info(at, unit) >> 2 > this.cutAbove ? size / 2 : size
  }

  private unitText (at: number, unit: number, text: string): string {
    const header = at + 1 + HEADER * unit
    const raw = text.slice(this.pool[header], this.pool[header + 1])
    return ((this.pool[header + 2] as number) & INFO_COLLAPSES) === 0 ? raw : raw.replace(WHITE_SPACE, ' ')
  }

  private reference (term: string): number {
    let id = this.termIds.get(term)
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.idCount++
      this.termIds.set(term, id)
      this.termById[id] = term
      this.termRefs = growInt32(this.termRefs, id + 1)
      if (this.weightById.length <= id) {
        const grown = new Float64Array(this.termRefs.length)
        grown.set(this.weightById)
        this.weightById = grown
      }
    }
    this.termRefs[id] = (this.termRefs[id] as number) + 1
    return id
  }

  private release (id: number): void {
    const refs = (this.termRefs[id] as number) - 1
    this.termRefs[id] = refs
    if (refs > 0) return
    this.termIds.delete(this.termById[id] as string)
    this.termById[id] = undefined
    this.freeIds.push(id)
  }
}
