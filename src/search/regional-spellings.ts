// Users write "color" where the knowledge base writes "colour", and "organise" where it writes
// "organize". Both are English, so the spelling corrector leaves them be, and the question's word
// reads to the decision as a subject the knowledge base lacks. The pairs are the 1,714 American and
// British spellings of american-british-english-translator (MIT), a word list rather than a rule:
// "-or"/"-our" alone would read "four" for "for".
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let variants: ReadonlyMap<string, string> | undefined

/** The other region's spelling of an English word ("color": "colour"), or undefined where it has none. */
export function regionalSpelling (word: string): string | undefined {
  if (variants === undefined) {
    const data = 'american-british-english-translator/data'
    const american = require(`${data}/american_spellings.json`) as Record<string, string>
    // The British list is mostly the American one reversed; each has pairs the other lacks ("gaol").
    const british = require(`${data}/british_spellings.json`) as Record<string, string>
    variants = new Map([...Object.entries(american), ...Object.entries(british)])
  }
  return variants.get(word)
}
