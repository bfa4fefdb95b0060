// Removes personal data and secrets from free text (chat messages, error messages) before it can
// reach a log line or, later, a span attribute. Key-based redaction (pino `redact`) cannot see
// inside a sentence, so this works on the text itself and replaces each finding by a typed
// placeholder, keeping the rest readable for debugging.
//
// Written here rather than taken from a library: the npm packages for this either call a cloud
// service or ship a large, unmaintained rule set without checksums, and a log pipeline needs a
// small, fast, dependency-free function whose every rule is tested.

type Rule = { placeholder: string, pattern: RegExp, accept?: (match: string) => boolean }

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

function isPhone (match: string): boolean {
  const digits = digitsOf(match)
  if (digits.length < 8 || digits.length > 15) return false
  const text = match.trim()
  return /[\s().+-]/.test(text) || (/^(?:00[1-9]|0[1-9])/.test(text) && digits.length >= 10)
}

// Order matters: secrets and structured numbers go first, so a phone rule never eats half a card.
const RULES: Rule[] = [
  // The signature may be short or empty (alg "none"); header and payload identify a JWT.
  // It starts only where a run of base64url characters starts, so a long run is scanned once.
  { placeholder: '[JWT]', pattern: /(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g },
  { placeholder: 'Bearer [TOKEN]', pattern: /\bBearer\s+[\w~+/.=-]{8,}/gi },
  // Basic credentials are base64 of user:password; the check spares "Basic questions".
  { placeholder: 'Basic [TOKEN]', pattern: /\bBasic\s+[A-Za-z0-9+/]{8,}={0,2}/g, accept: match => Buffer.from(match.replace(/^Basic\s+/, ''), 'base64').toString('latin1').includes(':') },
  { placeholder: '[API_KEY]', pattern: /\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_])?[A-Za-z0-9]{16,}\b|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}\b|\bAIza[\w-]{35}\b/g },
  { placeholder: '[SECRET]', pattern: /\b(?:api[_-]?key|secret|password|passwd|pwd|token)\b(\s*[:=]\s*)["']?[^\s"',;]{4,}["']?/gi },
  // The look-behind starts a match only where an address can start, so a long run of such
  // characters is scanned once, not once per position.
  { placeholder: '[EMAIL]', pattern: /(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  { placeholder: '[IBAN]', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/gi, accept: ibanValid },
  { placeholder: '[CARD]', pattern: /\b\d(?:[ .-]?\d){12,18}\b/g, accept: match => luhnValid(digitsOf(match)) },
  // A US social security number: 3-2-4 digits with hyphens, as written; an area of 000, 666 or 9xx,
  // a group of 00 or a serial of 0000 is never issued. Before phones, which would take it for one.
  { placeholder: '[SSN]', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { placeholder: '[IP]', pattern: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g },
  // Every group but the last ends in a colon, so a run of hex digits splits into groups one way
  // only (an optional colon let "aaaa…g" split in thousands of ways before failing).
  { placeholder: '[IP]', pattern: /\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b/gi },
  // Phone numbers: an optional +country code, then 7 to 14 digits in groups; a plain year or count is
  // too short. Unseparated digits are a phone only with a trunk or international prefix (0, 00, +):
  // an order number or an id has none.
  { placeholder: '[PHONE]', pattern: /(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}(?!\d)/g, accept: isPhone }
]

/** The text with every e-mail address, phone, card, IBAN, SSN, IP address, token and key replaced by a placeholder. */
export function scrub (text: string): string {
  let result = text
  for (const rule of RULES) {
    result = result.replace(rule.pattern, (match, separator?: unknown) => {
      if (rule.accept !== undefined && !rule.accept(match)) return match
      // Keep "password=" readable, drop only the value.
      if (rule.placeholder === '[SECRET]' && typeof separator === 'string') return `${match.slice(0, match.indexOf(separator) + separator.length)}${rule.placeholder}`
      return rule.placeholder
    })
  }
  return result
}
