// Chat command parser: turns one raw chat message into a question, a command
// or a helpful error. Pure and total: no I/O, and it never throws, whatever
// the input (lone surrogates, NUL, unbalanced quotes, very long text).
import { DOCUMENT_LIMITS } from '../kb/document-files.js'
import { distance } from 'fastest-levenshtein'
import { log } from '../logging/log-context.js'

export type CommandName = 'help' | 'search' | 'history' | 'reset' | 'feedback'

export interface CommandSpec { name: CommandName, usage: string, summary: string }

export type Command =
  | { name: 'help', topic?: CommandName }
  | { name: 'search', query: string, k: number, collection?: string }
  | { name: 'history', count: number }
  | { name: 'reset' }
  | { name: 'feedback', rating: 'up' | 'down', comment?: string }

export type ParsedMessage =
  | { type: 'question', text: string }
  | { type: 'command', command: Command }
  | {
    type: 'invalid'
    /** The command word as typed, lower-cased, without the slash. */
    command?: string
    /** One human sentence naming what was wrong and the limit. */
    reason: string
    usage?: string
    suggestion?: CommandName
  }

export const SEARCH_K = { min: 1, max: 100, default: 5 } as const
export const HISTORY_COUNT = { min: 1, max: 50, default: 10 } as const
export const FEEDBACK_COMMENT_MAX = 500

const SPEC_LIST: CommandSpec[] = [
  {
    name: 'help',
    usage: '/help [command]',
    summary: 'Show the commands, or details about one command.'
  },
  {
    name: 'search',
    usage: '/search <query> [--k N] [--in COLLECTION]',
    summary: `Search the knowledge base; --k sets how many results to return (${SEARCH_K.min}-${SEARCH_K.max}, ` +
      `default ${SEARCH_K.default}); --in searches one of the collections that answer questions (the bundled docs, ` +
      '"parley", while they answer).'
  },
  {
    name: 'history',
    usage: '/history [n]',
    summary: 'Show the last n turns of this session ' +
      `(${HISTORY_COUNT.min}-${HISTORY_COUNT.max}, default ${HISTORY_COUNT.default}).`
  },
  {
    name: 'reset',
    usage: '/reset',
    summary: 'Close this session and start a new one; the old conversation stays stored.'
  },
  {
    name: 'feedback',
    usage: '/feedback up|down [comment]',
    summary: `Rate the last answer, with an optional comment (up to ${FEEDBACK_COMMENT_MAX} characters).`
  }
]
export const COMMANDS: readonly CommandSpec[] = Object.freeze(SPEC_LIST.map(spec => Object.freeze(spec)))

const EXAMPLES: Record<CommandName, string> = {
  help: '/help search',
  search: '/search "rate limits" --k 3',
  history: '/history 20',
  reset: '/reset',
  feedback: '/feedback down the link was broken'
}

const SPECS = new Map(COMMANDS.map(spec => [spec.name, spec]))
const COMMAND_LIST = COMMANDS.map(spec => `/${spec.name}`).join(', ')

export function isCommandName (word: string): word is CommandName {
  return SPECS.has(word as CommandName)
}

export const UNKNOWN_COMMAND = '(unknown)'

/**
 * The command as logs, spans and every report name it: one of ours by name, anything else typed
 * after a slash '(unknown)': that word is chat text, and as a label it would have no bound.
 */
export function reportedCommand (word: string): string {
  return isCommandName(word) ? word : UNKNOWN_COMMAND
}

/** Text the bot replies to `/help` (all commands) and `/help <command>`. */
export function helpText (topic?: CommandName): string {
  const spec = topic === undefined ? undefined : SPECS.get(topic)
  if (spec !== undefined) {
    return `${spec.usage}\n${spec.summary}\nExample: ${EXAMPLES[spec.name]}`
  }
  const lines = COMMANDS.map(c => `  ${c.usage} - ${c.summary}`)
  return ['Commands:', ...lines, 'Anything that does not start with / is a question.'].join('\n')
}

// ---- tokenizer ------------------------------------------------------------

interface Token { text: string, quoted: boolean, end: number }

const isSpace = (ch: string): boolean => /\s/.test(ch)

/**
 * Splits on any whitespace (tabs, NBSP, ...). A quote opens a phrase only at
 * the start of a word and closes only before whitespace or the end, so
 * apostrophes inside words (don't) are plain text; a quote that never closes
 * is plain text too, which keeps unbalanced input lenient.
 */
function tokenize (s: string): Token[] {
  const tokens: Token[] = []
  // Once no closing quote of a kind exists past some point, none exists past
  // any later point either: remembering that keeps quote-heavy input linear.
  const unclosed = new Set<string>()
  let i = 0
  while (i < s.length) {
    const ch = s.charAt(i)
    if (isSpace(ch)) { i++; continue }
    if ((ch === '"' || ch === "'") && !unclosed.has(ch)) {
      const close = findClosingQuote(s, ch, i + 1)
      if (close !== -1) {
        tokens.push({ text: s.slice(i + 1, close), quoted: true, end: close + 1 })
        i = close + 1
        continue
      }
      unclosed.add(ch)
    }
    let j = i
    while (j < s.length && !isSpace(s.charAt(j))) j++
    tokens.push({ text: s.slice(i, j), quoted: false, end: j })
    i = j
  }
  return tokens
}

function findClosingQuote (s: string, quote: string, from: number): number {
  for (let k = s.indexOf(quote, from); k !== -1; k = s.indexOf(quote, k + 1)) {
    if (k + 1 === s.length || isSpace(s.charAt(k + 1))) return k
  }
  return -1
}

// ---- per-command argument handling ----------------------------------------

/** A problem with a command's arguments; the caller adds the command and usage. */
interface Problem { problem: string, suggestion?: CommandName }
type Outcome = Command | Problem

/** Shortens user text echoed in a reason so it cannot flood the reply. */
function clip (text: string): string {
  const chars = Array.from(text)
  return chars.length > 24 ? `${chars.slice(0, 24).join('')}…` : text
}

const show = (text: string): string => `"${clip(text)}"`

/** Parses a whole decimal number within [min, max]; undefined otherwise. */
function parseBounded (text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= min && n <= max ? n : undefined
}

function unknownTopic (word: string): Problem {
  const suggestion = closestCommand(word)
  return suggestion === undefined
    ? { problem: `There is no /${clip(word)} command. Available commands: ${COMMAND_LIST}.` }
    : { problem: `There is no /${clip(word)} command. Did you mean /${suggestion}?`, suggestion }
}

function parseHelp (tokens: Token[]): Outcome {
  const [first, ...extra] = tokens
  if (first === undefined) return { name: 'help' }
  if (extra.length > 0) return { problem: '/help takes at most one command name.' }
  const topic = first.text.trim().toLowerCase().replace(/^\//, '')
  if (topic === '') return { name: 'help' }
  return isCommandName(topic) ? { name: 'help', topic } : unknownTopic(topic)
}

const COLLECTION = new RegExp(DOCUMENT_LIMITS.idPattern)

function parseSearch (tokens: Token[]): Outcome {
  const words: string[] = []
  let k: number | undefined
  let collection: string | undefined
  // Only an unquoted --k or --in is a flag, so a quoted "--k 3" can still be searched for.
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token
    const flag = token.quoted ? null : /^--(k|in)(?:=(.*))?$/i.exec(token.text)
    if (flag === null && !token.quoted && /^--\p{L}/u.test(token.text)) {
      const usage = 'it takes --k N and --in COLLECTION (quote it to search for it)'
      return { problem: `/search has no option ${show(token.text)}: ${usage}.` }
    }
    if (flag === null) { words.push(token.text); continue }
    const value = flag[2] ?? tokens[++i]?.text
    if (flag[1]!.toLowerCase() === 'in') {
      if (collection !== undefined) return { problem: '--in can be given only once.' }
      if (value === undefined || !COLLECTION.test(value)) {
        return { problem: '--in needs a collection name (letters, digits and . _ : -).' }
      }
      collection = value
      continue
    }
    if (k !== undefined) return { problem: '--k can be given only once.' }
    const range = `${SEARCH_K.min} to ${SEARCH_K.max}`
    if (value === undefined || value === '') return { problem: `--k needs a number from ${range}.` }
    k = parseBounded(value, SEARCH_K.min, SEARCH_K.max)
    if (k === undefined) return { problem: `--k must be a whole number from ${range}, not ${show(value)}.` }
  }
  const query = words.join(' ').trim()
  if (query === '') return { problem: '/search needs a query.' }
  return { name: 'search', query, k: k ?? SEARCH_K.default, ...(collection === undefined ? {} : { collection }) }
}

function parseHistory (tokens: Token[]): Outcome {
  const [first, ...extra] = tokens
  if (first === undefined) return { name: 'history', count: HISTORY_COUNT.default }
  if (extra.length > 0) return { problem: '/history takes at most one number.' }
  const count = parseBounded(first.text.trim(), HISTORY_COUNT.min, HISTORY_COUNT.max)
  return count === undefined
    ? {
        problem: `The history count must be a whole number from ${HISTORY_COUNT.min} to ${HISTORY_COUNT.max}, ` +
          `not ${show(first.text)}.`
      }
    : { name: 'history', count }
}

function parseReset (tokens: Token[]): Outcome {
  return tokens.length === 0 ? { name: 'reset' } : { problem: '/reset takes no arguments.' }
}

function parseFeedback (tokens: Token[], args: string): Outcome {
  const [first, ...rest] = tokens
  if (first === undefined) return { problem: '/feedback needs a rating: up or down.' }
  const rating = first.text.trim().toLowerCase()
  if (rating !== 'up' && rating !== 'down') {
    return { problem: `The rating must be up or down, not ${show(first.text)}.` }
  }
  // The comment is free text: keep it as typed, minus one pair of quotes
  // wrapped around the whole of it.
  const only = rest.length === 1 ? rest[0] : undefined
  const comment = (only?.quoted === true ? only.text : args.slice(first.end)).trim()
  if (comment === '') return { name: 'feedback', rating }
  const length = Array.from(comment).length
  if (length > FEEDBACK_COMMENT_MAX) {
    return { problem: `The feedback comment is ${length} characters long; the limit is ${FEEDBACK_COMMENT_MAX}.` }
  }
  return { name: 'feedback', rating, comment }
}

const PARSERS: Record<CommandName, (tokens: Token[], args: string) => Outcome> = {
  help: parseHelp,
  search: parseSearch,
  history: parseHistory,
  reset: parseReset,
  feedback: parseFeedback
}

// ---- entry point ----------------------------------------------------------

/** The command nearest to `word` by edit distance, if any is plausibly meant. */
function closestCommand (word: string): CommandName | undefined {
  let best: CommandName | undefined
  let bestDistance = Infinity
  for (const { name } of COMMANDS) {
    const d = distance(word, name)
    if (d < bestDistance) { best = name; bestDistance = d }
  }
  // Two edits covers most typos (serch, hlep, histroy); requiring fewer edits
  // than letters stops one- or two-letter words from matching anything.
  return bestDistance <= 2 && bestDistance < Array.from(word).length ? best : undefined
}

/**
 * Parses one chat message. Never throws.
 *
 * - Text that does not start with `/` once trimmed is a question (trimmed,
 *   never empty).
 * - Empty or whitespace-only input is `invalid` (no `command`), so a question
 *   always has text; the HTTP layer rejects such messages before this anyway.
 * - Whitespace between the slash and the command word is tolerated (`/ help`).
 */
export function parseMessage (input: string): ParsedMessage {
  const text = String(input).trim()
  if (text === '') return { type: 'invalid', reason: 'The message is empty; type a question, or /help for commands.' }
  if (!text.startsWith('/')) return { type: 'question', text }

  const afterSlash = text.slice(1).trimStart()
  const wordEnd = afterSlash.search(/\s/)
  const typed = wordEnd === -1 ? afterSlash : afterSlash.slice(0, wordEnd)
  const args = wordEnd === -1 ? '' : afterSlash.slice(wordEnd)
  const command = typed.toLowerCase()

  if (command === '') {
    return { type: 'invalid', reason: `A command name must follow the /. Available commands: ${COMMAND_LIST}.` }
  }
  if (!isCommandName(command)) {
    const suggestion = closestCommand(command)
    const shown = `/${clip(command)}`
    return suggestion === undefined
      ? { type: 'invalid', command, reason: `Unknown command ${shown}. Available commands: ${COMMAND_LIST}.` }
      : { type: 'invalid', command, reason: `Unknown command ${shown}. Did you mean /${suggestion}?`, suggestion }
  }

  const outcome = PARSERS[command](tokenize(args), args)
  if (!('problem' in outcome)) return { type: 'command', command: outcome }
  const usage = (SPECS.get(command) as CommandSpec).usage
  return {
    type: 'invalid',
    command,
    reason: outcome.problem,
    usage,
    ...(outcome.suggestion === undefined ? {} : { suggestion: outcome.suggestion })
  }
}

/**
 * The parser's log lines for a message: a command at debug, and at info one it refused, with the
 * reason and the suggestion. A user fighting the syntax is worth seeing; the reason quotes what was
 * typed, so it is chat text, shown as `chatText` allows (scrubbed only for a line that is written:
 * scrubbing is the dearest part of one).
 */
export function logParsed (parsed: ParsedMessage, chatText: (text: string) => string | undefined): void {
  if (parsed.type === 'command') log('command_parser', 'logParsed').debug('command.parsed')
  if (parsed.type !== 'invalid') return
  const logger = log('command_parser', 'logParsed')
  if (logger.isLevelEnabled('info')) {
    logger.info({ reason: chatText(parsed.reason), suggestion: parsed.suggestion }, 'command.refused')
  }
}
