// Users mistype ("pasword", "warrenty", "recieve"). A misspelt word is a word no passage holds: the
// search misses the entry it names, and the decision reads it as a subject the knowledge base
// lacks. Norvig's corrector, with the knowledge base as its corpus: a word that is neither English
// nor in the knowledge base becomes the word one edit away that the most passages hold; an English
// word the knowledge base spells the other region's way ("color", "colour") becomes its spelling.
import { regionalSpelling } from './regional-spellings.js'
import { analyzeTokens as uncachedTokens, type Token } from './text-analysis.js'

/** Shorter words have too many neighbours one edit away ("ned": need, red, nod…) to guess from. */
export const MIN_CORRECTED_LENGTH = 4
/**
 * A word not English is read as a name the knowledge base holds ("eduraom" as "eduroam") only from
 * this long: a short one is as often an abbreviation ("dlns") one letter from another ("dns").
 */
export const MIN_LENGTH_FOR_NAMES = 6
/** Each unknown word costs about 500 look-ups; a message of gibberish pays for this many only. */
export const MAX_CORRECTED_WORDS = 3

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
const LOWERCASE_WORD = /^[a-z]+$/

/**
 * Calls visit with every string one edit from word: a letter deleted, two neighbours swapped, a
 * letter changed or added (some more than once).
 */
export function forEachEdit (word: string, visit: (edit: string) => void): void {
  for (let i = 0; i <= word.length; i++) {
    const left = word.slice(0, i)
    const right = word.slice(i)
    if (right.length > 0) visit(left + right.slice(1))
    if (right.length > 1 && right[0] !== right[1]) visit(left + right[1] + right[0] + right.slice(2))
    for (const letter of LETTERS) {
      if (right.length > 0 && letter !== right[0]) visit(left + letter + right.slice(1))
      visit(left + letter + right)
    }
  }
}

export interface SpellingCorrection {
  /** The text with each corrected word replaced, or the text itself when nothing was. */
  text: string
  /** What was replaced, in the order of the text: "pasword" → "password". */
  corrections: Array<{ from: string, to: string }>
}

/**
 * Corrects `text` against `english` (known words by frequency rank, 0 the most frequent) and the
 * knowledge base: `passagesHolding(term)` is how many passages hold an analysed term. A word the
 * knowledge base holds is left as it is; an English word is read as its other regional spelling where
 * the knowledge base holds that, and left otherwise; any other is read as the word one edit away that
 * the most passages hold (of as many, the more frequent English word), if any is held.
 * `analyzeTokens` is the index's own analyser, whose stems are cached.
 */
export function correctSpelling (
  text: string,
  english: ReadonlyMap<string, number>,
  passagesHolding: (term: string) => number,
  analyzeTokens: (text: string) => Token[] = uncachedTokens
): SpellingCorrection {
  const corrections: SpellingCorrection['corrections'] = []
  let corrected = ''
  let copiedUpTo = 0
  let examined = 0
  const held = (word: string): boolean => passagesHolding(analyzeTokens(word)[0]?.term ?? '') > 0
  for (const { term, start, end } of analyzeTokens(text)) {
    const word = text.slice(start, end).toLowerCase()
    if (!LOWERCASE_WORD.test(word) || passagesHolding(term) > 0) continue
    const regional = regionalSpelling(word)
    let to = regional !== undefined && held(regional) ? regional : undefined
    if (to === undefined && word.length >= MIN_CORRECTED_LENGTH && !english.has(word)) {
      // Only this search costs: gibberish pays for MAX_CORRECTED_WORDS of them at most.
      if (examined++ >= MAX_CORRECTED_WORDS) continue
      to = heldOneEditAway(word, english, passagesHolding, analyzeTokens)
    }
    if (to === undefined) continue
    corrections.push({ from: word, to })
    corrected += text.slice(copiedUpTo, start) + to
    copiedUpTo = end
  }
  return corrections.length === 0 ? { text, corrections } : { text: corrected + text.slice(copiedUpTo), corrections }
}

/** The word one edit away that the most passages hold, English words first; undefined when none is held. */
function heldOneEditAway (
  word: string,
  english: ReadonlyMap<string, number>,
  passagesHolding: (term: string) => number,
  analyzeTokens: (text: string) => Token[]
): string | undefined {
  let best: { word: string, passages: number, rank: number } | undefined
  const names = word.length >= MIN_LENGTH_FOR_NAMES
  forEachEdit(word, candidate => {
    // An English word is held by its stem; a name ("eduroam") is, as a rule, its own stem.
    const rank = english.get(candidate) ?? Infinity
    if (rank === Infinity && !names) return
    const term = rank === Infinity ? candidate : analyzeTokens(candidate)[0]?.term ?? ''
    const passages = passagesHolding(term)
    if (passages === 0) return
    if (best === undefined || passages > best.passages || (passages === best.passages && rank < best.rank)) {
      best = { word: candidate, passages, rank }
    }
  })
  return best?.word
}
