// People's names: after a cue that says one follows ("my name is", "je m'appelle"), after one that
// may ("I'm", "this is", "my wife"), and under a sign-off at the end of a message. Whether a word
// there is a name is asked of compromise's lexicon and tagger, which patterns cannot know.
import { anyOf, NOT_A_NAME, replaceAfterCue, Tagger, type Span } from './cues.js'

const NAME_WORD = String.raw`\p{L}[\p{L}'’-]*`
/** Up to four words after a cue; a comma or any other punctuation ends a name. */
const WORDS_AFTER = new RegExp(String.raw`^[ \t]*(${NAME_WORD})(?:[ \t]+(${NAME_WORD}))?` +
  String.raw`(?:[ \t]+(${NAME_WORD}))?(?:[ \t]+(${NAME_WORD}))?`, 'u')
/** Lower-case words that join a name's parts: "Daan de Vries", "Ludwig van Beethoven". */
const NAME_PARTICLES = new Set([
  'de', 'da', 'di', 'del', 'della', 'van', 'von', 'der', 'den', 'du', 'la', 'le', 'bin', 'al', 'el', 'ter', 'zu'
])
/** Words that end a name typed in lower case ("my name is ahmed and …"). */
const NOT_NAMES = new Set([
  'and', 'or', 'but', 'from', 'with', 'at', 'of', 'in', 'on', 'for', 'to', 'here', 'there', 'again', 'please', 'pls',
  'plz', 'i', 'im', 'my', 'me', 'the', 'a', 'an', 'is', 'und', 'et', 'y', 'e', 'en', 'ik', 'je', 'ich', 'mi', 'yo',
  'io', 'also', 'too', 'so', 'not', 'just', 'lot', 'you', 'very', 'much', 'all', 'everyone', 'team', 'guys', 'folks',
  'advance', 'anyway'
])
const PERSON = new Set(['Person', 'FirstName', 'LastName'])

// "my name is", in the languages users write to a European support desk.
const SAID = [
  'my name is', "my name's", 'my names', 'name is', 'i am called', "i'm called", 'call me', String.raw`name\s*:`,
  'under the name(?: of)?', String.raw`account holder\s*:?`, String.raw`card ?holder\s*:?`,
  String.raw`name on (?:the )?(?:card|account)\s*:?`, 'mein name ist', 'ich heiße', 'ich heisse', 'hier ist',
  'hier spricht', "je m['’]appelle", 'mon nom est', 'me llamo', 'mi nombre es', 'mi chiamo', 'il mio nome è',
  'mijn naam is', 'ik heet', 'u spreekt met', 'chamo-me', 'o meu nome é', 'meu nome é', 'nazywam się', 'mam na imię'
]
// Cues that a name may follow, or may not ("I'm stuck", "this is Google Docs", "my wife booked").
const MAYBE = [
  'this is', "i['’]m", 'i am', "it['’]s", 'its', 'ich bin', 'je suis', "c['’]est", 'soy', 'sono', 'ik ben', 'sou',
  'jestem', 'hi', 'hello', 'hey', 'dear', 'hallo', 'bonjour', 'hola', 'ciao', 'olá',
  'my (?:wife|husband|partner|son|daughter|mother|father|mum|mom|dad|brother|sister|colleague|boss|manager|friend)'
]
const SIGN_OFFS = [
  'thanks', 'thank you', 'many thanks', 'thx', 'ty', 'cheers', 'regards', 'best regards', 'kind regards',
  'warm regards', 'best wishes', 'best', 'sincerely', 'yours', 'cordialement', 'bien à vous', 'merci',
  'mit freundlichen grüßen', 'freundliche grüße', 'viele grüße', 'liebe grüße', 'grüße', 'gruß', 'saludos',
  'saludos cordiales', 'un saludo', 'atentamente', 'gracias', 'cordiali saluti', 'distinti saluti', 'saluti', 'grazie',
  'met vriendelijke groet', 'vriendelijke groet', 'groeten', 'groetjes', 'bedankt', 'obrigado', 'obrigada',
  'atenciosamente', 'cumprimentos', 'pozdrawiam', 'dziękuję', 'dzięki'
]
const AFTER_WORD = String.raw`(?:^|(?<=[\s,.!;]))`
const SAID_CUE = new RegExp(String.raw`\b(?:${anyOf(SAID)})(?=[ \t])`, 'giu')
const MAYBE_CUE = new RegExp(String.raw`${AFTER_WORD}(?:${anyOf(MAYBE)})(?=[ \t])`, 'giu')
// What follows a name said on the telephone or at the door: "it's maria gonzalez here", "this is tom
// calling".
const NAME_THEN = /^[ \t]*(?:\p{L}[\p{L}'’-]*[ \t]+){1,3}(?:here|calling|speaking|from)\b/iu
// What a mail program adds under a signature.
const TRAILER = String.raw`(?:(?:sent from my|envoyé de mon|von meinem|enviado desde mi|inviato da)[^\n]{0,40}\s*)?$`
const LAST_WORDS = String.raw`(?=[\p{L}][\p{L}'’ \t-]{0,60}[.!]?\s*${TRAILER})`
// A sign-off, then the name at the very end of the message.
const SIGN_OFF = new RegExp(String.raw`${AFTER_WORD}(?:${anyOf(SIGN_OFFS)})[ \t]*[,.!]*[ \t]*` +
  String.raw`(?:\r?\n[ \t]*)?(?:--?[ \t]*)?${LAST_WORDS}`, 'giu')
// "-- Kenji Watanabe" or "- Emma" on the last line.
const DASH_SIGNATURE = new RegExp(String.raw`(?:^|(?<=\n)|(?<=[.!?][ \t]))[ \t]*--?[ \t]*${LAST_WORDS}`, 'gu')
const SIGNED = new RegExp(String.raw`^[\s\p{L}'’-]*[.!]?\s*${TRAILER}`, 'u')

function isCapitalised (word: string): boolean {
  return /^\p{Lu}/u.test(word)
}

function couldBeName (word: string, tags: Set<string> | undefined, tagger: Tagger): boolean {
  const lower = word.toLowerCase()
  if (tags !== undefined && [...tags].some(tag => PERSON.has(tag))) return true
  if (NOT_NAMES.has(lower) || NAME_PARTICLES.has(lower)) return false
  const alone = tags === undefined ? undefined : tagger.alone(word)
  if (tags === undefined || alone === undefined) return true
  return ![...tags, ...alone].some(tag => NOT_A_NAME.has(tag))
}

/**
 * How many of the words after a cue make a name (0 when none does). `said` when the cue says a
 * name follows ("my name is"): then a lower-case first word counts; else only a capitalised name,
 * two words of one or a known first name, does; a signature in lower case, only a known first name.
 */
function nameWords (cue: string, words: string[], said: boolean | 'signature', tagger: Tagger): number {
  const first = words[0]
  // Before any tagging: most cues ("it's", "hi") are followed by no capitalised word.
  if (first === undefined || (said === false && !isCapitalised(first))) return 0
  const tags = tagger.inContext(cue, words)
  const sure = said === 'signature' ? isCapitalised(first) || tags === undefined || tags[0]!.has('FirstName') : said
  if ((!sure && !isCapitalised(first)) || !couldBeName(first, tags?.[0], tagger)) return 0
  let count = 1
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string
    const next = words[i + 1]
    if (NAME_PARTICLES.has(word.toLowerCase()) && next !== undefined && isCapitalised(next)) continue
    const lowerCaseName = !isCapitalised(first) && !isCapitalised(word)
    if (!(isCapitalised(word) || lowerCaseName) || !couldBeName(word, tags?.[i], tagger)) break
    count = i + 1
  }
  if (!sure && count === 1 && tags !== undefined && !tags[0]!.has('FirstName')) return 0
  return count
}

function wordsAfter (text: string): string[] {
  const match = WORDS_AFTER.exec(text)
  return match === null ? [] : match.slice(1).filter((word): word is string => word !== undefined)
}

/** The span of the first `count` words in the text after a cue. */
function wordsSpan (rest: string, words: string[], count: number): Span {
  const start = rest.indexOf(words[0] as string)
  let end = start
  for (let i = 0; i < count; i++) end = rest.indexOf(words[i] as string, end) + (words[i] as string).length
  return { start, end }
}

export function scrubNames (text: string): string {
  const tagger = new Tagger()
  const named = (said: (rest: string) => boolean) => (rest: string, cue: string): Span | undefined => {
    const words = wordsAfter(rest)
    const count = nameWords(cue, words, said(rest), tagger)
    return count === 0 ? undefined : wordsSpan(rest, words, count)
  }
  let result = replaceAfterCue(text, SAID_CUE, '[NAME]', named(() => true))
  result = replaceAfterCue(result, MAYBE_CUE, '[NAME]', named(rest => NAME_THEN.test(rest)))
  for (const cue of [SIGN_OFF, DASH_SIGNATURE]) {
    result = replaceAfterCue(result, cue, '[NAME]', (rest, signOff) => {
      const words = wordsAfter(rest)
      // The name must be all that is left: "thanks for the help" is no signature.
      if (words.length === 0 || words.length > 3 || !SIGNED.test(rest)) return undefined
      return nameWords(signOff, words, 'signature', tagger) === words.length
        ? wordsSpan(rest, words, words.length)
        : undefined
    })
  }
  return result
}
