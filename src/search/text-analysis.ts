// Text into index terms, the same for documents and questions (what the search matches), with a
// bounded cache of stems: a turn's words are mostly words the knowledge base has seen before.
import { stemmer } from 'stemmer'

/**
 * Lucene's English stopword set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET). Kept
 * identical so the ranking figures can be compared with published Lucene BM25 runs.
 */
export const STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into',
  'is', 'it', 'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then',
  'there', 'these', 'they', 'this', 'to', 'was', 'will', 'with'
])

export interface Token {
  /** The analysed term (lowercased, stemmed), as stored in the index. */
  term: string
  /** Offset of the first UTF-16 code unit of the word in the input. */
  start: number
  /** Offset just past the word in the input. */
  end: number
}

export type Analyzer = (text: string) => string[]

export interface AnalyzerOptions {
  /**
   * How many distinct words to remember stems for. Porter stemming is a chain of
   * regular expressions and dominates indexing time, while the vocabulary of a corpus
   * is small, so a cache makes bulk indexing several times faster. The cache is
   * dropped wholesale when full: cheaper than LRU bookkeeping, and refills quickly.
   */
  cacheSize?: number
}

// A word is a run of letters, combining marks and digits. An apostrophe between two
// word characters stays inside the word so that the possessive 's can be recognised
// and dropped, and "don't" becomes "dont" rather than "don" + "t".
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u
const FOLDED_NON_WORD = /[^\p{L}\p{M}\p{N}'’]/gu
const APOSTROPHES = /['\u2019\uFF07]/g
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/

// Tokenising is on the indexing path for every word (and with per-turn snippets on the search
// path for every snippet sentence), so ASCII is classified with a table and only other
// characters go through the Unicode regular expression.
const ASCII_WORD = new Uint8Array(128)
for (let c = 48; c <= 57; c++) ASCII_WORD[c] = 1
for (let c = 65; c <= 90; c++) ASCII_WORD[c] = 1
for (let c = 97; c <= 122; c++) ASCII_WORD[c] = 1

/** Width in code units of the word character at i (2 for an astral one), or 0. */
function wordCharAt (text: string, i: number): number {
  const code = text.charCodeAt(i)
  if (code < 128) return ASCII_WORD[code] as number
  if (code >= 0xD800 && code <= 0xDBFF && i + 1 < text.length) {
    return WORD_CHAR.test(text.slice(i, i + 2)) ? 2 : 0
  }
  return WORD_CHAR.test(text[i] as string) ? 1 : 0
}

function isApostrophe (code: number): boolean {
  return code === 39 || code === 0x2019 || code === 0xFF07
}

type OnWord = (start: number, end: number, apostrophe: boolean, hyphen: boolean) => void

const HYPHEN = 45

/**
 * Calls onWord(start, end, apostrophe, false) for every word of text, left to right;
 * apostrophe tells whether the word has one inside. Two words joined by one hyphen and
 * no more ("Wi-Fi", "e-mail", "check-in") are also a word of their own, after the second,
 * with hyphen true: users write them joined ("wifi", "email", "checkin") as often as not.
 */
function scanWords (text: string, onWord: OnWord): void {
  const length = text.length
  let i = 0
  // The words of the current run joined by single hyphens: where it starts, how many, and
  // whether any had an apostrophe (such a compound is not joined).
  let runStart = 0
  let runWords = 0
  let runApostrophe = false
  let lastEnd = -2
  while (i < length) {
    let width = wordCharAt(text, i)
    if (width === 0) {
      i++
      continue
    }
    const start = i
    let apostrophe = false
    i += width
    while (i < length) {
      width = wordCharAt(text, i)
      if (width > 0) {
        i += width
      } else if (isApostrophe(text.charCodeAt(i)) && i + 1 < length && wordCharAt(text, i + 1) > 0) {
        apostrophe = true
        i++
      } else {
        break
      }
    }
    onWord(start, i, apostrophe, false)
    if (start === lastEnd + 1 && text.charCodeAt(lastEnd) === HYPHEN) {
      runWords++
      runApostrophe ||= apostrophe
    } else {
      runStart = start
      runWords = 1
      runApostrophe = apostrophe
    }
    lastEnd = i
    const continued = text.charCodeAt(i) === HYPHEN && i + 1 < length && wordCharAt(text, i + 1) > 0
    if (runWords === 2 && !continued && !runApostrophe) onWord(runStart, i, false, true)
  }
}

/** A hyphen-joined word (one hyphen, scanWords's) as users also type it: "wi-fi" as "wifi". */
function withoutHyphen (text: string, start: number, end: number): string {
  const hyphen = text.indexOf('-', start)
  return text.slice(start, hyphen) + text.slice(hyphen + 1, end)
}

/** Drops a trailing possessive 's, then any other apostrophe. */
function stripApostrophes (word: string): string {
  let w = word
  const last = w.length - 1
  if (last >= 2 && w.charCodeAt(last) === 115 && isApostrophe(w.charCodeAt(last - 1))) w = w.slice(0, last - 1)
  return w.replace(APOSTROPHES, '')
}

type Stem = (word: string) => string
type OnTerm = (term: string, start: number, end: number) => void

// Longer than any word of a language (German compounds included): such tokens come from hostile
// or broken input and are stemmed every time rather than cached, so the cache's memory is bounded
// by its size times this (20,000 unique 3,990-character "words" took 86 MB of heap).
export const MAX_CACHED_WORD_LENGTH = 40

/**
 * Words Porter's stemmer joins to a word of another meaning, kept apart (as Lucene's
 * StemmerOverrideFilter does): "customers" is no "custom" (a bakery's "wifi for customers?" was
 * answered from its custom cakes at 0.91), "business" no "busy", "news" no "new", "experience" no
 * "experiment", "community" no "communication", "university" no "universe", "internal" and
 * "international" no "intern", "organic" no "organ", "general" no "generous" nor "generate",
 * "authority" no "author", "executive" no "execute", "paste" no "past", "several" no "severe",
 * "animal" no "animation". Each form of the word gets the one stem, so its forms still meet.
 */
const STEM_OVERRIDES: ReadonlyMap<string, string> = new Map(Object.entries({
  customer: 'customer',
  customers: 'customer',
  business: 'business',
  businesses: 'business',
  news: 'news',
  experience: 'experienc',
  experiences: 'experienc',
  community: 'community',
  communities: 'community',
  university: 'university',
  universities: 'university',
  internal: 'internal',
  internally: 'internal',
  international: 'international',
  internationally: 'international',
  organic: 'organic',
  general: 'general',
  generally: 'general',
  generous: 'generous',
  generously: 'generous',
  authority: 'authority',
  authorities: 'authority',
  executive: 'executive',
  executives: 'executive',
  paste: 'paste',
  pastes: 'paste',
  pasted: 'paste',
  pasting: 'paste',
  several: 'several',
  animal: 'animal',
  animals: 'animal'
}))

/** Porter's stem, but where it would join words of different meanings. */
function stemOf (word: string): string {
  return STEM_OVERRIDES.get(word) ?? stemmer(word)
}

function cachedStem (cacheSize: number): Stem {
  const cache = new Map<string, string>()
  return (word) => {
    if (word.length > MAX_CACHED_WORD_LENGTH) return stemOf(word)
    let stem = cache.get(word)
    if (stem === undefined) {
      stem = stemOf(word)
      if (cache.size >= cacheSize) cache.clear()
      cache.set(word, stem)
    }
    return stem
  }
}

function analyzeInto (text: string, stem: Stem, onTerm: OnTerm): void {
  if (typeof text !== 'string' || text.length === 0) return
  const lower = text.toLowerCase()
  if (lower.length === text.length && !NON_ASCII.test(lower)) {
    // Plain ASCII (nearly all English text): lowercase once, offsets stay valid.
    scanWords(lower, (start, end, apostrophe, hyphen) => {
      const word = apostrophe
        ? stripApostrophes(lower.slice(start, end))
        : hyphen ? withoutHyphen(lower, start, end) : lower.slice(start, end)
      if (!STOPWORDS.has(word)) onTerm(stem(word), start, end)
    })
    return
  }
  // The hyphen of a joined word is folded away with other punctuation below.
  scanWords(text, (start, end, apostrophe) => {
    // NFKC folds compatibility forms (ligatures, full-width letters, decomposed
    // accents), which would otherwise index apart from what users type.
    // Folding can also yield punctuation or spaces ("🄀" is "0."); those are not part of a term.
    let word = text.slice(start, end).toLowerCase().normalize('NFKC').toLowerCase().replace(FOLDED_NON_WORD, '')
    if (apostrophe) word = stripApostrophes(word)
    if (word.length > 0 && !STOPWORDS.has(word)) onTerm(stem(word), start, end)
  })
}

/**
 * Builds a function that tells which of `terms` occur in a text, much faster than
 * analysing the text: a word is only normalised and stemmed when it starts with the
 * probe of some wanted term. That is exact because Porter stemming only rewrites the
 * end of a word: all but the last two characters of a stem are a prefix of every
 * word that stems to it (checked over ~840k English words and suffix variants; one
 * character is enough in practice, two is the safety margin).
 */
function termMatcherWith (terms: Iterable<string>, stem: Stem): (text: string) => Set<string> {
  const wanted = new Set(terms)
  const probesByFirst = new Map<number, string[]>()
  for (const term of wanted) {
    if (term.length === 0) continue
    const probe = term.slice(0, Math.max(1, term.length - 2))
    const first = probe.charCodeAt(0)
    const list = probesByFirst.get(first)
    if (list === undefined) probesByFirst.set(first, [probe])
    else list.push(probe)
  }
  const starts = (text: string, start: number): boolean => {
    const probes = probesByFirst.get(text.charCodeAt(start))
    if (probes === undefined) return false
    for (const probe of probes) if (text.startsWith(probe, start)) return true
    return false
  }
  return (text) => {
    const found = new Set<string>()
    if (typeof text !== 'string' || text.length === 0 || probesByFirst.size === 0) return found
    const lower = text.toLowerCase()
    if (lower.length === text.length && !NON_ASCII.test(lower)) {
      scanWords(lower, (start, end, apostrophe, hyphen) => {
        // A probe holds word characters only, so it cannot match past the end of the
        // word; an apostrophe or a hyphen inside the word is removed before stemming,
        // so such a word is checked after normalisation instead.
        if (!apostrophe && !hyphen && !starts(lower, start)) return
        const word = apostrophe
          ? stripApostrophes(lower.slice(start, end))
          : hyphen ? withoutHyphen(lower, start, end) : lower.slice(start, end)
        if ((apostrophe || hyphen) && !starts(word, 0)) return
        if (STOPWORDS.has(word)) return
        const term = stem(word)
        if (wanted.has(term)) found.add(term)
      })
      return found
    }
    analyzeInto(text, stem, (term) => { if (wanted.has(term)) found.add(term) })
    return found
  }
}

function tokensWith (text: string, stem: Stem): Token[] {
  const tokens: Token[] = []
  analyzeInto(text, stem, (term, start, end) => { tokens.push({ term, start, end }) })
  return tokens
}

function analyzeWith (text: string, stem: Stem): string[] {
  const terms: string[] = []
  analyzeInto(text, stem, (term) => { terms.push(term) })
  return terms
}

/**
 * Turns text into index terms: Unicode-aware word split, lowercase, possessive 's
 * removal, Lucene's 33 English stopwords dropped, Porter stemming. Never throws; a
 * non-string or empty input gives [].
 */
export function analyze (text: string): string[] {
  return analyzeWith(text, stemOf)
}

/** Like analyze, but keeps where each term came from (for highlighting snippets). */
export function analyzeTokens (text: string): Token[] {
  return tokensWith(text, stemOf)
}

/**
 * A function giving the distinct members of `terms` (analysed terms) that analyze
 * would produce for a text; per-turn snippets rank sentences with it without stemming every word.
 */
export function termMatcher (terms: Iterable<string>): (text: string) => Set<string> {
  return termMatcherWith(terms, stemOf)
}

export interface CachedAnalyzer {
  analyze: Analyzer
  analyzeTokens: (text: string) => Token[]
  termMatcher: (terms: Iterable<string>) => (text: string) => Set<string>
}

/**
 * An analyze function with its own stem cache, for callers that analyse a lot of
 * text (the search engine owns one; there is no shared module-level state).
 */
export function createAnalyzer (options: AnalyzerOptions = {}): CachedAnalyzer {
  const stem = cachedStem(Math.max(1, options.cacheSize ?? 200_000))
  return {
    analyze: (text) => analyzeWith(text, stem),
    analyzeTokens: (text) => tokensWith(text, stem),
    termMatcher: (terms) => termMatcherWith(terms, stem)
  }
}
