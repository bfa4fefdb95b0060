// Removes personal data and secrets from free text (chat messages, error messages) before it can
// reach a log line, a span attribute, a turn trace, the analyst's copy of a message or a report.
// Key-based redaction (pino `redact`) cannot see inside a sentence, so this works on the text
// itself and replaces each finding by a typed placeholder, keeping the rest readable.
//
// Two kinds of rule: values with a shape of their own (an e-mail address, a card that passes Luhn,
// a MAC address), found anywhere, here; and values that only their context tells apart (a name after
// "my name is", a number after "passport", a street and house number, a date after "born"), in
// ./scrubber/. Hand-written, with compromise's tagger for names: bench/README.md
// (`npm run bench:scrubber`) and DEVELOPING.md give the libraries measured against these rules.
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { scrubAddresses } from './scrubber/addresses.js'
import { scrubDocuments } from './scrubber/documents.js'
import { scrubNames } from './scrubber/names.js'
import { scrubSecrets } from './scrubber/secrets.js'

/**
 * The rules' version: raise it when they find more, and the analyst's stored copies of messages
 * (search_text) are scrubbed again by them (rescrubMessages). 2: names, addresses, documents, secrets
 * in words. 3: a phone number whose first group after the country code is one digit. 4: an
 * address whose local part is quotes alone. 5: a customer scheme's number (a railcard, a membership).
 * 6: an address written with "(at)" or "at … dot" for "@" and ".".
 */
export const SCRUBBER_VERSION = 6

type Rule = {
  placeholder: string
  pattern: RegExp
  /** A cheap test a text must pass before the pattern is run over it, where the pattern tries every word. */
  only?: RegExp
  accept?: (match: string) => boolean
  replace?: (match: string) => string
}

const digitsOf = (text: string): string => text.replace(/\D/g, '')

/** Payment card numbers pass the Luhn check; most other 13-19 digit runs do not. */
export function luhnValid (digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2
    sum += digit
  }
  return digits.length >= 13 && sum % 10 === 0
}

/** IBANs carry a mod-97 check (ISO 13616): the rearranged number mod 97 is 1. */
export function ibanValid (iban: string): boolean {
  const compact = iban.replace(/\s/g, '').toUpperCase()
  const rearranged = compact.slice(4) + compact.slice(0, 4)
  let remainder = 0
  for (const char of rearranged) {
    const value = /\d/.test(char) ? char : String(char.charCodeAt(0) - 55)
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97
  }
  return remainder === 1
}

/** An IBAN, or one followed by a short word the pattern took for its last group ("… 1332 por favor"). */
function replaceIban (match: string): string {
  if (ibanValid(match)) return '[IBAN]'
  const lastGroup = match.lastIndexOf(' ')
  return lastGroup > 0 && ibanValid(match.slice(0, lastGroup)) ? `[IBAN]${match.slice(lastGroup)}` : match
}

function isPhone (match: string): boolean {
  const digits = digitsOf(match)
  if (digits.length < 8 || digits.length > 15) return false
  const text = match.trim()
  // A date is no phone number: "2024-03-12", "12.03.2024" (a date of birth is found from its context).
  if (/^(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{4})$/.test(text)) return false
  if (/[\s().+-]/.test(text) || (/^(?:00[1-9]|0[1-9])/.test(text) && digits.length >= 10)) return true
  // Ten digits with a North American area code (it never starts with 0 or 1): how people there
  // write their number; an order number rarely has that shape.
  return /^[2-9]\d{9}$/.test(text)
}

/** A word in brackets, as an obfuscated address writes its "at" and "dot": " (at) ", "[dot]". */
const spelled = (word: string): string => `\\s*[([{<]\\s*${word}\\s*[)\\]}>]\\s*`

// A top-level domain as a spelled-out address ends: a country's two letters or a common generic
// one. Any word would do for "me at tom dot baker at proton dot me", which then lost only
// "me at tom dot baker" and left "proton dot me".
const SPELLED_TLD = '(?:\\p{L}{2}|com|org|net|edu|gov|info|biz|app|dev|online|email|mail)'

/**
 * A local part, then `at`, then a domain's labels joined by dots written or spelled out, of which
 * the last, before the top-level domain, is spelled out if `spelledOnly` (and the top-level
 * domain then one of SPELLED_TLD).
 */
function obfuscatedEmail (at: string, { spelledOnly }: { spelledOnly: boolean }): RegExp {
  const local = '[\\p{L}\\p{N}._%+-]+'
  const label = '[\\p{L}\\p{N}-]+'
  const spelledDot = `(?:${spelled('dot')}|\\s+dot\\s+)`
  const dot = `(?:\\.|${spelledDot})`
  const end = spelledOnly ? `${spelledDot}${SPELLED_TLD}` : `${dot}\\p{L}{2,}`
  return new RegExp(`(?<![\\p{L}\\p{N}._%+-])${local}(?:${spelledDot}${local})*${at}${label}(?:${dot}${label})*` +
    `${end}(?![\\p{L}\\p{N}])`, 'giu')
}

// Order matters: secrets and structured numbers go first, so a phone rule never eats half a card.
const RULES: Rule[] = [
  // The signature may be short or empty (alg "none"); header and payload identify a JWT.
  // It starts only where a run of base64url characters starts, so a long run is scanned once.
  { placeholder: '[JWT]', pattern: /(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g },
  { placeholder: 'Bearer [TOKEN]', pattern: /\bBearer\s+[\w~+/.=-]{8,}/gi },
  // Basic credentials are base64 of user:password; the check spares "Basic questions".
  {
    placeholder: 'Basic [TOKEN]',
    pattern: /\bBasic\s+[A-Za-z0-9+/]{8,}={0,2}/g,
    accept: match => Buffer.from(match.replace(/^Basic\s+/, ''), 'base64').toString('latin1').includes(':')
  },
  // Stripe-style (sk_live_…), OpenAI's (sk-…, sk-proj-…), Anthropic's (sk-ant-…), AWS, GitHub, Slack, Google.
  {
    placeholder: '[API_KEY]',
    pattern: /\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_])?[A-Za-z0-9]{16,}\b|\bsk-(?:proj-|ant-|svcacct-)?[\w-]{20,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}\b|\bAIza[\w-]{35}\b/g
  },
  {
    placeholder: '[SECRET]',
    pattern: /\b(?:api[_-]?key|secret|password|passwd|pwd|pw|token)\b(\s*[:=]\s*)["']?[^\s"',;]{4,}["']?/gi
  },
  // Letters of any script before the @ and in the domain: "jürgen.müller@beispiel.de". The
  // look-behinds start a match only where an address can start, so a long run is scanned once: not
  // within a run of the address's characters, nor after an apostrophe within one ("o'brien@…" is
  // one address); an opening quote ('anna@…') is left out of it, but a local part of quotes alone
  // ("'@example.com", valid) is an address.
  {
    placeholder: '[EMAIL]',
    pattern: /(?<![\p{L}\p{N}.!#$%&*+/=?^_`{|}~-])(?<![\p{L}\p{N}.!#$%&*+/=?^_`{|}~-]')(?!'[\p{L}\p{N}.!#$%&*+/=?^_`{|}~-])[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu
  },
  // An address written so that harvesters miss it: "bob_smith(at)gmail.com", "bob [at] gmail [dot]
  // com", "bob @ gmail.com", "bob at gmail dot com". A spelled-out "at" counts only with a
  // spelled-out "dot" after it: "meet me at noon.com" is rarer than an "at" before a sentence's dot.
  {
    placeholder: '[EMAIL]',
    only: /[([{<]\s*at\s*[)\]}>]|\s@|@\s/i,
    pattern: obfuscatedEmail(`(?:${spelled('at')}|\\s+@\\s*|@\\s+)`, { spelledOnly: false })
  },
  { placeholder: '[EMAIL]', only: /\bdot\b/i, pattern: obfuscatedEmail('\\s+at\\s+', { spelledOnly: true }) },
  {
    placeholder: '[IBAN]',
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/gi,
    replace: replaceIban
  },
  // Digits grouped by spaces, dots, hyphens, slashes, commas or underscores, one or two between
  // groups ("4111  1111", "4111_1111"); the Luhn check keeps lists of numbers out.
  {
    placeholder: '[CARD]',
    pattern: /(?<![\w.,/-])\d(?:[ .,/_-]{0,2}\d){12,18}(?!\w)/g,
    accept: match => luhnValid(digitsOf(match))
  },
  // A card's security code and expiry, after the word for them: "cvv 123", "exp 08/27".
  {
    placeholder: '[SECRET]',
    pattern: /\b(?=\d{3,4}\b)(?<=\b(?:cvv2?|cvc2?|cid|csc|cvn|security code|card code|cryptogramme|prüfnummer|prüfziffer|código de seguridad|codice di sicurezza)[ \t]{0,3}(?:is|:|=|code)?[ \t]{0,3})\d{3,4}\b/giu
  },
  {
    placeholder: '[EXPIRY]',
    pattern: /\b(?=\d{1,2}[/-]\d)(?<=\b(?:exp(?:iry|ires|iration)?|valid (?:thru|until|to)|gültig bis|caduca|expire le|scadenza|vence|geldig tot)\.?(?:[ \t]{1,3}(?:date|on|is|en|le))?[ \t]{0,3}:?[ \t]{0,3})(?:0?[1-9]|1[0-2])[/-](?:\d{2}|20\d{2})\b/giu
  },
  // A US social security number: 3-2-4 digits with hyphens, as written; an area of 000, 666 or 9xx,
  // a group of 00 or a serial of 0000 is never issued. Before phones, which would take it for one.
  { placeholder: '[SSN]', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  // Six hex pairs joined by one kind of separator, or Cisco's three dotted groups of four. Before
  // the IPv6 rule, which a colon-separated MAC address would otherwise half-match.
  {
    placeholder: '[MAC]',
    pattern: /\b[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b/gi
  },
  // Four dotted numbers after "version" or "firmware" are a version.
  {
    placeholder: '[IP]',
    pattern: /(?<!\b(?:version|firmware|release|build|ver\.?|v)[ \t]?)\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/gi
  },
  // Every group but the last ends in a colon, so a run of hex digits splits into groups one way
  // only (an optional colon let "aaaa…g" split in thousands of ways before failing).
  {
    placeholder: '[IP]',
    pattern: /\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b/gi
  },
  // Phone numbers: an optional +country code (after which a group may be one digit: "+33 6 12 34 56
  // 78"), then 7 to 14 digits in groups; a plain year or count is too short. Unseparated digits are
  // a phone only with a trunk or international prefix (0, 00, +), or as ten North American digits
  // (isPhone): an order number or an id has neither.
  {
    placeholder: '[PHONE]',
    pattern: /(?<![\w+]|[\p{L}\d]-)(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}|(?:\(\d{1,4}\)[\s.-]?)?\d{2,4})(?:[\s.-]?\d{2,4}){1,4}(?!\d)/gu,
    accept: isPhone
  },
  // A long run of letters of both cases and digits, as a cloud provider's secret key is written.
  {
    placeholder: '[SECRET]',
    pattern: /(?<![\w/+=.:-])(?=[\w/+=-]*[a-z])(?=[\w/+=-]*[A-Z])(?=[\w/+=-]*\d)[\w/+=-]{32,}(?![\w/+=-])/g,
    accept: match => !match.includes('//')
  }
]

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/

/**
 * The text with personal data and secrets replaced by placeholders: `[EMAIL]`, `[PHONE]`, `[CARD]`,
 * `[EXPIRY]`, `[IBAN]`, `[SSN]`, `[IP]`, `[MAC]`, `[TOKEN]`, `[JWT]`, `[API_KEY]`, `[SECRET]`, and from their
 * context `[NAME]`, `[ADDRESS]`, `[POSTCODE]`, `[DATE_OF_BIRTH]`, `[ID_NUMBER]`, `[PLATE]`.
 */
export function scrub (text: string): string {
  const known = recent.get(text)
  if (known !== undefined) return known
  const key = text.length >= MIN_REMEMBERED_LENGTH ? hash('sha256', text, 'base64') : undefined
  if (key !== undefined && clean.has(key)) return text
  // Compatibility forms are folded first, so that full-width digits, a full-width ＠ or
  // no-break spaces between a card's groups read as the ASCII they stand for.
  let result = NON_ASCII.test(text) ? text.normalize('NFKC') : text
  for (const rule of RULES) {
    if (rule.only !== undefined && !rule.only.test(result)) continue
    result = result.replace(rule.pattern, (match, separator?: unknown) => {
      if (rule.replace !== undefined) return rule.replace(match)
      if (rule.accept !== undefined && !rule.accept(match)) return match
      // Keep "password=" readable, drop only the value.
      if (rule.placeholder === '[SECRET]' && typeof separator === 'string') {
        return `${match.slice(0, match.indexOf(separator) + separator.length)}${rule.placeholder}`
      }
      return rule.placeholder
    })
  }
  // Secrets first ("my password is Anna1" is no name), names last (a street is no signature). Every
  // address, postcode, date, document number and plate holds a digit: a text with none skips them.
  result = scrubSecrets(result)
  if (/\d/.test(result)) result = scrubAddresses(scrubDocuments(result))
  const scrubbed = scrubNames(result)
  keepRecent(text, scrubbed)
  if (key !== undefined && scrubbed === text) remember(key)
  return scrubbed
}

// Long texts scrubbing found nothing in, known by their SHA-256 alone (what is held in memory must
// never be a person's words: an erasure could not reach them), so that they are not scrubbed again.
// Every answer taken from the knowledge base is one of its passages: a turn stores the reply's
// scrubbed copy (scrubbedCopy), at 60 µs a scrub of a 400-character answer against under 1 µs
// for its hash (bench:load --baseline on PostgreSQL: 0.62 against 0.66 ms of main thread an answer).
// Full, each new text evicts the oldest: a Set's first value, found behind the thousands deleted
// before it, took 4.6 µs with 10,000 remembered; lru-cache's own order, 0.4 µs (a loop of 300,000).
const MIN_REMEMBERED_LENGTH = 64
const MAX_REMEMBERED = 10_000
const clean = new LRUCache<string, true>({ max: MAX_REMEMBERED })
function remember (key: string): void {
  clean.set(key, true)
}

// A turn scrubs its user's message more than once (its log line, its search, its stored copy), and
// under load the stored copy is made when other turns' messages have been scrubbed since: with only
// the last text's result kept, it was scrubbed again, at 12 to 60 µs a scrub. The last RECENT_MAX
// texts' results are kept, and all of them forgotten RECENT_MS after the first was kept, so that a
// person's words stay in memory no longer than a turn takes.
const RECENT_MAX = 64
const RECENT_MS = 1000
const recent = new Map<string, string>()
let forgetRecent: NodeJS.Timeout | undefined
function keepRecent (text: string, scrubbed: string): void {
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!)
  recent.set(text, scrubbed)
  forgetRecent ??= setTimeout(() => {
    recent.clear()
    forgetRecent = undefined
  }, RECENT_MS).unref()
}

// One finding of each kind, fictional: scrubbed once, so that the first message holding one does
// not pay for loading compromise and for the rules' first run on the thread that answers chat,
// with every turn in flight waiting (the first scrub of "hi, I am Jane Smith, email …" took 0.43 s).
const WARM_UP_TEXT = 'Hi, I am Anna Smith, my email is anna.smith@example.com, call me on +44 7700 900123. ' +
  'I live at 12 Baker Street, London NW1 6XE; born 02/03/1980, card 4111 1111 1111 1111. Regards, Anna'

/** Readies the scrubber for any message: the server calls it before it listens. */
export function warmUpScrubber (): void {
  scrub(WARM_UP_TEXT)
}

/**
 * A message's scrubbed copy as the database keeps it (messages.search_text): null where scrubbing
 * changed nothing, so that most messages are stored and indexed once.
 */
export function scrubbedCopy (text: string, scrubText: (text: string) => string = scrub): string | null {
  const scrubbed = scrubText(text)
  return scrubbed === text ? null : scrubbed
}
