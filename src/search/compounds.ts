// Users write "carpark" where the knowledge base writes "car park", and "log in" where it writes
// "login": a word no passage holds reads to the search as a subject the knowledge base lacks, and the
// entry that names it is missed. Words joined by a hyphen are indexed both ways already
// (text-analysis.ts); these are the spaced and the closed forms. A question's words are read as the
// knowledge base writes them only on the knowledge base's own evidence: split where a passage has
// the two parts side by side, joined where one has the joined word and none has the two apart.
import type { SpellingCorrection } from './spelling.js'
import { STOPWORDS } from './text-analysis.js'

/** The shortest words read as compounds: "wi fi" joined as "wifi", "login" split as "log in". */
export const MIN_JOINED_LENGTH = 4
export const MIN_SPLIT_LENGTH = 5
/** A part of a compound is at least this long ("log" + "in"). */
const MIN_PART_LENGTH = 2
/** Each word tried costs a look-up per place it could split; a long message pays for this many only. */
export const MAX_SPLIT_WORDS = 6

export interface CompoundKnowledgeBase {
  /** How many passages hold the word (0 for a stopword, which no passage is indexed by). */
  passagesHolding: (word: string) => number
  /**
   * Whether some passage, title or phrasing has these words as written, side by side; undefined when
   * that is not known (a search of a bounded number of passages found none).
   */
  writes: (...words: string[]) => boolean | undefined
  /** Whether the word is everyday English: "maybe" is not read as "may be". */
  isEnglish: (word: string) => boolean
}

const WORD = /[A-Za-z]+/g
const SPACES = /^[ \t]+$/

/** The question with its compounds written as the knowledge base writes them, and what was changed. */
export function readCompounds (text: string, knowledgeBase: CompoundKnowledgeBase): SpellingCorrection {
  const { passagesHolding, writes, isEnglish } = knowledgeBase
  const words = [...text.matchAll(WORD)].map(match => {
    const word = match[0].toLowerCase()
    return { word, start: match.index, end: match.index + word.length, held: passagesHolding(word) > 0 }
  })
  const corrections: SpellingCorrection['corrections'] = []
  let read = ''
  let copiedUpTo = 0
  let splitsTried = 0
  const replace = (start: number, end: number, to: string): void => {
    corrections.push({ from: text.slice(start, end).toLowerCase(), to })
    read += text.slice(copiedUpTo, start) + to
    copiedUpTo = end
  }
  for (let i = 0; i < words.length; i++) {
    const { word, start, end, held } = words[i]!
    const next = words[i + 1]
    if (next !== undefined && SPACES.test(text.slice(end, next.start))) {
      // Two stopwords ("are a", "for the") are no compound, nor is a lone letter ("a dad"), whatever
      // a passage writes ("adad" is an abbreviation in SciFact).
      const joined = word + next.word
      const parts = Math.min(word.length, next.word.length) >= MIN_PART_LENGTH
      const stopwords = STOPWORDS.has(word) && STOPWORDS.has(next.word)
      // Where a part is held elsewhere ("audio" in an entry on audio guides), the question's words
      // would find that entry, and "audiobooks" would count as unseen: joined all the same, unless
      // the knowledge base writes the two apart too, or the joined word is one English has for
      // itself ("work out" is no "workout", "set up" no "setup").
      const onlyJoined = (): boolean =>
        (!held && !next.held) || (!isEnglish(joined) && writes(word, next.word) === false)
      if (joined.length >= MIN_JOINED_LENGTH && parts && !stopwords && writes(joined) === true && onlyJoined()) {
        replace(start, next.end, joined)
        i++
        continue
      }
    }
    if (word.length < MIN_SPLIT_LENGTH || held || isEnglish(word)) continue
    if (splitsTried++ >= MAX_SPLIT_WORDS) continue
    for (let cut = MIN_PART_LENGTH; cut <= word.length - MIN_PART_LENGTH; cut++) {
      const first = word.slice(0, cut)
      const second = word.slice(cut)
      if (writes(first, second) === true) {
        replace(start, end, `${first} ${second}`)
        break
      }
    }
  }
  return corrections.length === 0 ? { text, corrections } : { text: read + text.slice(copiedUpTo), corrections }
}
