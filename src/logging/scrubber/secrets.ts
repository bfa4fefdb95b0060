// Secrets written in words: "my password is hunter2", "mein Passwort ist Sonne123", "pin 4921",
// "the code you sent was 482913". A secret typed with a connector ("is", ":") is whatever follows,
// unless it is a word saying something about it ("my password is wrong"); without one, only a
// value that looks like a password (letters with a digit or a symbol) is.
import { anyOf, NOT_A_NAME, replaceAfterCue, Tagger, type Span } from './cues.js'

const SECRET_WORDS = [
  'password', 'passwort', 'kennwort', 'wachtwoord', 'mot de passe', 'contraseña', 'contrasena', 'senha', 'hasło',
  'haslo', 'passcode', 'passphrase', 'security answer', 'secret answer', 'security question', 'maiden name', 'pw'
]
const IS = [
  'is', 'was', 'ist', 'war', 'est', 'était', 'es', 'era', 'è', 'é', 'to', 'jest', 'is now', 'was set to', 'set to',
  "c['’]est"
]
const SAID = new RegExp(
  String.raw`\b(?:${anyOf(SECRET_WORDS)})(?:[ \t]+(?:${anyOf(IS)})[ \t]+|[ \t]*[:=][ \t]*)(?=\S)`, 'giu')
const NEXT = new RegExp(String.raw`\b(?:${anyOf(SECRET_WORDS)})[ \t]+(?=\S)`, 'giu')
const CODE_WORDS = [
  'code', 'código', 'codice', 'otp', 'passcode', 'token', 'pin', 'kod', 'bestätigungscode', 'verifizierungscode'
]
const ONE_TIME_CODE = new RegExp(String.raw`\b(?:${anyOf(CODE_WORDS)})(?:[ \t]+[\p{L}'’-]+){0,3}` +
  String.raw`[ \t]+(?:${anyOf(IS)}|:)[ \t]*(?=\d{4,8}\b)`, 'giu')
const PIN = /\b(?:pin(?:[ \t]+(?:code|number))?|code pin|pin-code|geheimzahl)(?:[ \t]+(?:is|was|ist|est|es|è|to|set to)[ \t]+|[ \t]*[:=][ \t]*|[ \t]+)(?=\d)/giu
// What follows "password is" in a sentence about it rather than a secret, in the languages above.
const NOT_SECRETS = new Set([
  'wrong', 'incorrect', 'correct', 'invalid', 'valid', 'expired', 'weak', 'strong', 'long', 'short', 'different',
  'same', 'blank', 'empty', 'visible', 'hidden', 'secure', 'safe', 'fine', 'ok', 'okay', 'right', 'good', 'bad', 'new',
  'old', 'too', 'not', 'reset', 'changed', 'saved', 'stored', 'required', 'needed', 'case', 'case-sensitive',
  'sensitive', 'manager', 'managers', 'field', 'box', 'prompt', 'requirements', 'policy', 'rules', 'change', 'recovery',
  'protected', 'protection', 'falsch', 'ungültig', 'abgelaufen', 'gesperrt', 'incorrecte', 'expiré', 'expirée',
  'bloqué', 'incorrecta', 'incorrecto', 'caducado', 'caducada', 'bloqueada', 'inválida', 'errónea', 'sbagliata',
  'errata', 'scaduto', 'scaduta', 'bloccata', 'onjuist', 'verkeerd', 'verlopen', 'geblokkeerd', 'fout', 'errada',
  'expirou', 'błędne', 'nieprawidłowe', 'wygasło'
])

function secretValue (rest: string, said: boolean, tagger: Tagger): Span | undefined {
  const value = /^\S{3,64}/.exec(rest)?.[0].replace(/[.,;:?)"'”]+$/, '')
  if (value === undefined || value.length < 3) return undefined
  // Letters with a digit or a symbol (an apostrophe or a hyphen is English: "isn't", "e-mail").
  if (/\p{L}/u.test(value) && /[\d_!@#$%^&*+=~?<>|\\/]/u.test(value)) return { start: 0, end: value.length }
  if (!said || NOT_SECRETS.has(value.toLowerCase())) return undefined
  const tags = tagger.alone(value)
  // An adjective may be a secret ("fluffy"); a verb, an adverb or a pronoun says something about it.
  if (tags !== undefined && [...tags].some(tag => NOT_A_NAME.has(tag) && tag !== 'Adjective')) return undefined
  return { start: 0, end: value.length }
}

function digitsAfter (rest: string): Span | undefined {
  const digits = /^\d{4,8}(?!\d)/.exec(rest)?.[0]
  return digits === undefined ? undefined : { start: 0, end: digits.length }
}

export function scrubSecrets (text: string): string {
  const tagger = new Tagger()
  let result = replaceAfterCue(text, SAID, '[SECRET]', rest => secretValue(rest, true, tagger))
  result = replaceAfterCue(result, NEXT, '[SECRET]', rest => secretValue(rest, false, tagger))
  result = replaceAfterCue(result, ONE_TIME_CODE, '[SECRET]', digitsAfter)
  return replaceAfterCue(result, PIN, '[SECRET]', digitsAfter)
}
