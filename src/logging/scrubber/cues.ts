// What the context rules share: finding what follows a cue, and asking compromise whether a word is
// a person's name, within a budget a message cannot exhaust.
import { createRequire } from 'node:module'
import type compromise from 'compromise'

// Loaded when a cue first needs it: it takes 0.14 to 0.25 s to load, and a test's app may never
// scrub a name. The server loads it before it listens (warmUpScrubber). Its CommonJS build loads
// synchronously.
let loaded: typeof compromise | undefined
const nlp = (text: string) => (loaded ??= createRequire(import.meta.url)('compromise') as typeof compromise)(text)

/** Whether compromise is loaded (the server has it loaded before it listens: warmUpScrubber). */
export const nameTaggerLoaded = (): boolean => loaded !== undefined

/** Where a finding lies in the text after its cue. */
export interface Span { start: number, end: number }

/** An alternation of phrases, for a regular expression: the lists stay one phrase a line. */
export function anyOf (phrases: readonly string[]): string {
  return phrases.join('|')
}

/**
 * Each match of `cue` (a global expression), with what `find` finds in the text after it (it sees
 * the next 200 characters) replaced by `placeholder`; the search for the next cue goes on after it.
 */
export function replaceAfterCue (
  text: string,
  cue: RegExp,
  placeholder: string,
  find: (rest: string, cue: string) => Span | undefined
): string {
  let out = ''
  let from = 0
  cue.lastIndex = 0
  for (let match = cue.exec(text); match !== null; match = cue.exec(text)) {
    const after = match.index + match[0].length
    if (match[0].length === 0) cue.lastIndex++
    if (after < from) continue
    const found = find(text.slice(after, after + 200), match[0])
    if (found === undefined) continue
    out += `${text.slice(from, after + found.start)}${placeholder}`
    from = after + found.end
    cue.lastIndex = from
  }
  return out + text.slice(from)
}

/** Tags that say a word is not a person's name (nor a secret), whatever its case: "I'm Unable", "this is Google". */
export const NOT_A_NAME: ReadonlySet<string> = new Set([
  'Adjective', 'Verb', 'Adverb', 'Pronoun', 'Determiner', 'Preposition', 'Conjunction', 'Organization', 'Place', 'Date',
  'Value', 'Acronym', 'QuestionWord', 'Negative', 'Expression', 'Copula', 'Modal', 'Plural', 'Possessive'
])

interface Term { text: string, tags: string[] }

// Words' own tags, remembered: names and the words after cues repeat. Dropped wholesale when full.
const WORD_TAGS = new Map<string, Set<string>>()
const MAX_WORD_TAGS = 5000
const CALLS_PER_MESSAGE = 24

/**
 * compromise's tags, asked at most 24 times for one message: a message made of cues must not cost a
 * tagging per cue. Past the budget, a caller takes a word after a cue for personal data: scrubbed, not leaked.
 */
export class Tagger {
  private calls = CALLS_PER_MESSAGE

  /**
   * Each word's tags, read in the sentence it stands in ("call me back": back is no name); undefined past
   * the budget.
   */
  inContext (cue: string, words: string[]): Array<Set<string>> | undefined {
    if (this.calls-- <= 0) return undefined
    const sentences = nlp(`${cue} ${words.join(' ')}`).json() as Array<{ terms: Term[] }>
    const last = sentences.flatMap(sentence => sentence.terms).slice(-words.length)
    const aligned = last.length === words.length &&
      last.every((term, i) => term.text.toLowerCase() === words[i]?.toLowerCase())
    return words.map((word, i) => aligned ? new Set(last[i]!.tags) : this.alone(word) ?? new Set())
  }

  /**
   * A word's tags on its own, in lower case (capitalised, any word reads as a proper noun); undefined past
   * the budget.
   */
  alone (word: string): Set<string> | undefined {
    const lower = word.toLowerCase()
    let tags = WORD_TAGS.get(lower)
    if (tags === undefined) {
      if (this.calls-- <= 0) return undefined
      if (WORD_TAGS.size >= MAX_WORD_TAGS) WORD_TAGS.clear()
      WORD_TAGS.set(lower, tags = new Set((nlp(lower).json() as Array<{ terms: Term[] }>)[0]?.terms[0]?.tags ?? []))
    }
    return tags
  }
}
