// Greetings, thanks, goodbyes, a plain "yes", "ok" or "cool", and questions about the bot itself get
// a short reply of their own (kind 'smalltalk'), not a passage the search happened to match: "what's
// your name?" was answered from any entry that says "name", "how old are you?" from one that says
// "years old", "yes" and "sure" from entries that begin "Yes.", at 0.85 to 1. Only a whole message
// that is nothing but such words counts: "hi, how do I import documents?" is a question, and so is
// "are you open on Sundays?".
export type SmallTalk = 'greeting' | 'thanks' | 'goodbye' | 'acknowledgement' | 'identity'

const ADDRESSEE = '(?: (?:there|parley|bot|everyone|all|friend|mate))?'
const HOW_ARE_YOU = 'how are you(?: doing)?(?: today)?'
const YOU = '(?:you|u)'
const ARE_YOU = `(?:are|r) ${YOU}`
const WHAT_IS = '(?:what s|whats|what is)'
const A_BOT = '(?:an? )?(?:real )?(?:bot|robot|chat ?bot|human|person|live person|machine|computer|ai)'
// "this bot", "this chat": the bot named as a thing, where "this" alone may be anything ("what is this for").
const THIS_BOT = 'this (?:bot|chat ?bot|chat|assistant|thing)'
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
  ['acknowledgement', new RegExp(
    '^(?:(?:oh|ah|um|hmm|ok|okay) )?(?:yes|yeah|yep|yup|yea|sure|no|nope|nah|maybe|perhaps|ok|okay|k|kk|alright' +
    '|all right|got it|i see|understood|makes sense|never ?mind|nvm|no worries|no problem|lol|(?:ha){2,}|hmm+' +
    '|nice(?: one)?|cool|great|awesome|perfect|amazing|wow|good job|great job|well done' +
    `|(?:you re|youre|you are|ur|u r) (?:awesome|great|amazing|the best|so helpful|helpful))${ADDRESSEE}$`
  )],
  ['identity', new RegExp(
    '^(?:(?:hi|hello|hey|ok|okay|so|and|btw)(?: there)? )?(?:' +
    `${WHAT_IS} (?:your|ur) (?:name|age)|(?:do ${YOU} have|have ${YOU} got) a name` +
    `|who ${ARE_YOU}|what ${ARE_YOU}|${ARE_YOU} (?:${A_BOT}|real)|is this ${A_BOT}` +
    `|(?:am i|are we) (?:talking|chatting|speaking) (?:to|with) ${A_BOT}` +
    `|how old ${ARE_YOU}|who (?:made|built|created|programmed|wrote) ${YOU}|where ${ARE_YOU} from` +
    `|what can ${YOU} do|what can i ask ${YOU}|what do ${YOU} do|how can ${YOU} help(?: me)?|what ${ARE_YOU} for` +
    `|${WHAT_IS} (?:this|${THIS_BOT})(?: (?:actually|even|really|exactly))? for` +
    `|${WHAT_IS} ${THIS_BOT})${ADDRESSEE}$`
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
  goodbye: 'Goodbye! Your conversation is kept: send the same session_id to pick it up again.',
  acknowledgement: 'OK! Ask me a question whenever you like, or type /help to see what I can do.',
  identity: 'I\'m a bot: I answer questions from this service\'s knowledge base, and say so when it ' +
    'does not cover one. Ask me a question, or type /help to see what I can do.'
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
