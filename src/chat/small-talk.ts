// Greetings, thanks and goodbyes get a short reply of their own (kind 'smalltalk'), not a passage
// the search happened to match. Only a whole message that is nothing but such words counts: "hi,
// how do I import documents?" is a question.
export type SmallTalk = 'greeting' | 'thanks' | 'goodbye'

const ADDRESSEE = '(?: (?:there|parley|bot|everyone|all|friend|mate))?'
const HOW_ARE_YOU = 'how are you(?: doing)?(?: today)?'
const PATTERNS: Array<[SmallTalk, RegExp]> = [
  ['greeting', new RegExp(
    '^(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)|hi there|hello there)' +
    `${ADDRESSEE}(?: ${HOW_ARE_YOU}| how s it going| what s up)?$` +
    `|^(?:${HOW_ARE_YOU}|how s it going|what s up|nice to meet you)${ADDRESSEE}$`
  )],
  ['thanks', new RegExp(
    '^(?:(?:ok|okay|great|cool|perfect|awesome|nice|brilliant) )?' +
    '(?:thanks|thank you|thx|ty|cheers|many thanks|thanks a lot|thank you so much|thanks so much|much appreciated)' +
    `${ADDRESSEE}(?: (?:that|this) (?:helped|helps|was helpful|is great))?$`
  )],
  ['goodbye', new RegExp(
    '^(?:(?:ok|okay|thanks|thank you) )?' +
    '(?:bye|goodbye|bye bye|see you|see you later|see ya|later|good night|goodnight|farewell' +
    `|have a (?:nice|good|great) day|that s all)${ADDRESSEE}$`
  )]
]

const REPLIES: Record<SmallTalk, string> = {
  greeting: 'Hello! Ask me a question, or type /help to see what I can do.',
  thanks: 'You\'re welcome! Ask me anything else whenever you like.',
  goodbye: 'Goodbye! Your conversation is kept: send the same session_id to pick it up again.'
}

/** Lower case, apostrophes and punctuation as spaces, so "Thanks!!" and "what's up?" match. */
function normalise (text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()
}

/** The kind of small talk a message is, if it is nothing else. */
export function smallTalkOf (text: string): SmallTalk | undefined {
  if (text.length > 80) return undefined
  const normalised = normalise(text)
  return PATTERNS.find(([, pattern]) => pattern.test(normalised))?.[0]
}

export function smallTalkReply (kind: SmallTalk): string {
  return REPLIES[kind]
}
