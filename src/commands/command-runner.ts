// What each slash command does in a turn: its reply, and what the turn must store with it (a
// rating, a reset). The parser (command-parser.ts) says which command was typed; the turn
// (chat/chat-service.ts) stores the reply with the turn, in one transaction with what it asks.
import { excerpt } from '../text/excerpt.js'
import type { SearchHit } from '../search/search-engine.js'
import type { TranscriptRepository } from '../transcript/transcript-repository.js'
import { toSource, type Generation, type Source } from '../transcript/transcript-schemas.js'
import type { Command, CommandName } from './command-parser.js'

// /history quotes each message's beginning: quoting earlier replies whole, which quoted theirs,
// doubled a session's storage with every /history (14 of them made a 34.6 MB reply).
export const HISTORY_QUOTE_GRAPHEMES = 200

/** A command's reply; `feedback` and `reset` are for the turn to store with it. */
export interface CommandReply {
  kind: 'command' | 'command_error'
  text: string
  command: CommandName
  sources: Source[]
  topScore: number | null
  /** The rating /feedback gives the latest answer, and what is known of the answer rated. */
  feedback?: {
    turn: number
    rating: 'up' | 'down'
    comment: string | null
    rated: { traceId: string | null, generation: Generation | null }
  }
  /** /reset: the session ends with this turn, and the conversation goes on in a new one. */
  reset?: true
}

/** What the commands read: the help text, the knowledge base and the session's transcript. */
export interface CommandContext {
  help: (topic?: CommandName) => string
  search: (query: string, k: number, collection?: string) => SearchHit[]
  /** The collections /search looks in (those that answer questions), for --in. */
  collections: () => string[]
  transcript: Pick<TranscriptRepository, 'list' | 'lastAnswer'>
}

/** Runs a command typed in a session (none yet for the first turn of a new one). */
export async function runCommand (
  command: Command,
  session: { id: string, turnCount: number } | undefined,
  context: CommandContext
): Promise<CommandReply> {
  const done = (text: string, extra: Partial<CommandReply> = {}): CommandReply =>
    ({ kind: 'command', text, command: command.name, sources: [], topScore: null, ...extra })
  const refused = (text: string): CommandReply => ({ ...done(text), kind: 'command_error' })
  switch (command.name) {
    case 'help':
      return done(context.help(command.topic))
    case 'search': {
      // A misspelt collection would read as a search that found nothing.
      const collections = context.collections()
      if (command.collection !== undefined && !collections.includes(command.collection)) {
        const named = collections.length === 0 ? 'there are none yet' : `the collections are ${collections.join(', ')}`
        return refused(`No collection "${command.collection}" to search: ${named}.`)
      }
      const hits = context.search(command.query, command.k, command.collection)
      if (hits.length === 0) return done(`No documents match "${command.query}".`)
      const lines = hits.map((hit, i) => `${i + 1}. ${hit.title} (score ${hit.score}): ${hit.snippet}`)
      return done(`Top ${hits.length} for "${command.query}":\n${lines.join('\n')}`, {
        sources: hits.map(toSource), topScore: hits[0]!.score
      })
    }
    case 'history': {
      if (session === undefined || session.turnCount === 0) return done('This session has no history yet.')
      const messages = await context.transcript.list(session.id, { turns: command.count })
      const lines = messages.map(m =>
        `[${m.turn}] ${m.role === 'user' ? 'You' : 'Bot'}: ${excerpt(m.content, HISTORY_QUOTE_GRAPHEMES)}`)
      return done(`Last ${Math.ceil(messages.length / 2)} turn(s) of this session:\n${lines.join('\n')}`)
    }
    case 'reset':
      return done(
        'Started a new session; the previous conversation is closed. Continue with the new session_id.',
        { reset: true }
      )
    case 'feedback': {
      const rated = session === undefined ? undefined : await context.transcript.lastAnswer(session.id)
      if (rated === undefined) return refused('There is no answer to rate yet in this session: ask a question first.')
      const feedback = { turn: rated.turn, rating: command.rating, comment: command.comment ?? null, rated }
      return done(
        `Thanks: your feedback (${command.rating}) on the answer of turn ${rated.turn} is recorded.`, { feedback }
      )
    }
  }
}
