// Users write "color" where the knowledge base writes "colour", and "organise" where it writes
// "organize". Both are English, so the spelling corrector leaves them be, and the question's word
// reads to the decision as a subject the knowledge base lacks. The pairs are the American and
// British spellings of american-british-english-translator (MIT): a word list rather than a rule,
// as "-or"/"-our" alone would read "four" for "for".
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * Pairs in the list that are two words in British English, not one spelt two ways: a gas meter and
 * a metre, a computer program and a TV programme, a tire and a tyre, a licence and to license, a draft
 * and a draught; and the list's mistakes ("filter" is no "philtre", "gram" is seldom "gramme").
 */
const DIFFERENT_WORDS = new Set([
  'meter', 'meters', 'program', 'programs', 'tire', 'tires', 'ton', 'tons', 'disk', 'disks', 'disc', 'discs',
  'license', 'licenses', 'licensed', 'licensing', 'practice', 'practiced', 'practices', 'practicing',
  'draft', 'drafts', 'drafty', 'draftsman', 'install', 'installs', 'gauge', 'gauges',
  'gram', 'grams', 'filter', 'filters', 'tranquility', 'pummel', 'pummeled', 'snowplow', 'bevy'
])

let variants: ReadonlyMap<string, string> | undefined

/** The other region's spelling of an English word ("color": "colour"), or undefined where it has none. */
export function regionalSpelling (word: string): string | undefined {
  if (variants === undefined) {
    const data = 'american-british-english-translator/data'
    const american = require(`${data}/american_spellings.json`) as Record<string, string>
    // The British list is mostly the American one reversed; each has pairs the other lacks ("gaol").
    const british = require(`${data}/british_spellings.json`) as Record<string, string>
    variants = new Map([...Object.entries(american), ...Object.entries(british)]
      .filter(([one, other]) => !DIFFERENT_WORDS.has(one) && !DIFFERENT_WORDS.has(other)))
  }
  return variants.get(word)
}
