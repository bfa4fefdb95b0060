// Users write "color" where the knowledge base writes "colour", and "organise" where it writes
// "organize". Both are English, so the spelling corrector leaves them be, and the question's word
// reads to the decision as a subject the knowledge base lacks. The pairs are the American and
// British spellings of american-british-english-translator (MIT): a word list rather than a rule,
// as "-or"/"-our" alone would read "four" for "for".
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * Words never read as their other spelling: American words with a meaning the British spelling
 * lacks (a gas meter is no metre, a computer program no programme, to tire, to license, a draft of
 * a letter, a dental practice), and the list's mistakes ("gram" is seldom "gramme", "filter" is no
 * "philtre", "bevy" no "bevvy"). The British spelling has the one meaning, so it is read as the
 * American: "tyre" as "tire", "metre" as "meter", "programme" as "program".
 */
const NEVER_READ_AS_OTHER = new Set([
  'meter', 'meters', 'program', 'programs', 'tire', 'tires', 'ton', 'tons', 'disk', 'disks', 'disc', 'discs',
  'license', 'licenses', 'licensed', 'licensing', 'practice', 'practiced', 'practices', 'practicing',
  'draft', 'drafts', 'drafty', 'draftsman', 'install', 'installs', 'gauge', 'gauges',
  'gram', 'grams', 'filter', 'filters', 'tranquility', 'pummel', 'pummeled', 'snowplow', 'bevy'
])
/** Nor read from another: pairs that are two words either way ("tonne" is no "ton", "gage" a pledge). */
const NEVER_READ_FROM = new Set([
  'ton', 'tons', 'disk', 'disks', 'disc', 'discs', 'gauge', 'gauges', 'filter', 'filters'
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
      .filter(([one, other]) => !NEVER_READ_AS_OTHER.has(one) && !NEVER_READ_FROM.has(other)))
  }
  return variants.get(word)
}
