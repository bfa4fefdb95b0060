// What the console reads: turns found by their words and by what went wrong with them, one
// conversation with every turn, one turn's trace. The rows come from their tables' owners (the
// transcript, the sessions, the turn traces); here is what a viewer may see of them: users' words
// as written or scrubbed, and who the users are, as the Viewer decides.
import type { Queryable } from '../db/database.js'
import type { Conversation, ConversationsPageType, TurnRow } from './console-schemas.js'
import { turnTraceById, type TurnTrace } from '../turn-traces/turn-trace.js'
import { failedTurnsOf } from '../turn-traces/turn-traces-of.js'
import { conversationTurns, turnList, type TurnFilter } from '../transcript/transcript-queries.js'
import { existingSessionIds, knownUserIds } from '../sessions/session-queries.js'
import type { Session } from '../sessions/session-manager.js'
import { isUuid } from '../http/schemas.js'
import { excerpt } from '../text/excerpt.js'

export type { TurnFilter }

/**
 * What the person using the console may see of users: their words (as written or scrubbed) and who
 * they are.
 */
export interface Viewer {
  text: (text: string) => string
  user: (userId: string | null) => { pseudonym: string | null, id?: string | null }
  /** Sees words scrubbed, and so finds turns only by what the scrubber left. */
  scrubbed: boolean
  /**
   * How a conversation is named to this viewer: its session id, or a reference that is not one
   * (see ConversationRefs).
   */
  session: (sessionId: string) => string
  /** A log line's user_id as this viewer is shown it: as logged, or always a pseudonym. */
  loggedUser: (logged: string) => string
}

/**
 * A reply as the viewer sees it: one in the knowledge base's words as written, since it holds none
 * of the user's and is what the user was told (an analyst looking into "the bot gave me the wrong
 * number" must see the number it gave); any other through the viewer's eyes.
 */
function shownReply (viewer: Viewer, reply: string, asWritten: boolean): string {
  return asWritten ? reply : viewer.text(reply)
}

/**
 * Turns matching the filter, newest first: stored turns and, unless the filter is about words, kinds
 * or feedback, turns that failed before they were stored.
 */
// A page of the list quotes each message's beginning (the conversation shows it whole): its size
// stays that of its rows, whatever was stored. The rows hold as much as a user's message may (see
// turnList), so that the scrubber sees whole what the excerpt shows.
const LIST_QUOTE_GRAPHEMES = 300

export async function searchTurns (db: Queryable, filter: TurnFilter, viewer: Viewer): Promise<ConversationsPageType> {
  const rows = await turnList(db, filter, viewer.scrubbed)
  const more = rows.length > filter.limit
  const page = rows.slice(0, filter.limit)
  return {
    turns: page.map((row): TurnRow => ({
      session_id: row.session_id === null ? null : viewer.session(row.session_id),
      turn: row.turn,
      at: new Date(row.at).toISOString(),
      user: viewer.user(row.user_id),
      message: excerpt(viewer.text(row.message), LIST_QUOTE_GRAPHEMES),
      reply: row.reply === null
        ? null
        : excerpt(shownReply(viewer, row.reply, row.reply_as_written), LIST_QUOTE_GRAPHEMES),
      kind: row.kind,
      latency_ms: row.latency_ms,
      feedback: row.feedback,
      error: row.error,
      trace_id: row.trace_id
    })),
    next_before: more ? `${page[page.length - 1]!.at_us}_${page[page.length - 1]!.key}` : null
  }
}

/**
 * The user ids a user filter stands for: the id itself (the one a customer gives the team, "dave")
 * and those whose pseudonym it is (pseudonyms are keyed hashes, so they are computed, not looked
 * up); and their pseudonyms, by which a turn that failed before its session was stored names its
 * user. Any viewer may find a user by an id they already know: the turns found show pseudonyms only
 * to a viewer who sees no ids, so no id is learnt that was not typed.
 */
export async function usersOf (
  db: Queryable,
  user: string,
  pseudonymOf: (userId: string) => string | undefined
): Promise<{ userIds: string[], userPseudonyms: string[] }> {
  const userIds = (await knownUserIds(db)).filter(userId => userId === user || pseudonymOf(userId) === user)
  const pseudonyms = new Set([user, pseudonymOf(user), ...userIds.map(pseudonymOf)])
  pseudonyms.delete(undefined)
  return { userIds, userPseudonyms: [...pseudonyms] as string[] }
}

/** A session's conversation with every turn, the stored and those that failed before they were. */
export async function conversation (db: Queryable, session: Session, viewer: Viewer): Promise<Conversation> {
  const sessionId = session.id
  const [turns, failed] = await Promise.all([conversationTurns(db, sessionId), failedTurnsOf(db, sessionId)])
  return {
    session_id: viewer.session(sessionId),
    user: viewer.user(session.userId),
    status: session.status,
    created_at: session.createdAt.toISOString(),
    last_activity_at: session.lastActivityAt.toISOString(),
    turns: turns.map(row => ({
      turn: row.turn,
      at: new Date(row.at).toISOString(),
      message: viewer.text(row.message),
      reply: shownReply(viewer, row.reply, row.reply_as_written),
      kind: row.kind,
      command: row.command,
      sources: row.sources,
      context_turn: row.context_turn,
      latency_ms: row.latency_ms,
      feedback: row.rating === null
        ? null
        : { rating: row.rating, comment: row.comment === null ? null : viewer.text(row.comment) },
      trace_id: row.trace_id,
      has_trace: row.has_trace,
      generation: row.generation,
      decision: row.decision
    })),
    failed_turns: failed.map(row => ({
      trace_id: row.trace_id,
      at: new Date(row.started_at).toISOString(),
      status_code: row.status_code,
      error: row.error
    }))
  }
}

// The fields in which log lines carry chat text (as LOG_CHAT_CONTENT lets them):
// chat.message_received's, command.refused's.
const CHAT_TEXT_FIELDS = new Set(['text', 'reason'])

/** Every string inside a value (a log line's fields, nested audit details included), to look for session ids in. */
function stringsIn (value: unknown, found: Set<string>): Set<string> {
  if (typeof value === 'string') found.add(value)
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, found)
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) stringsIn(item, found)
  return found
}

/**
 * One turn's kept trace; the chat text of its log lines passes the viewer, and so does every
 * session id its lines and spans hold, wherever they hold it (session_id, an audit entry's target
 * or details.replaced_by, a span's gen_ai.conversation.id): whoever holds one reads that
 * conversation as written. Ids are told by value, as the sessions table knows them, not by field
 * name. The row's own session id is the caller's to show.
 */
export async function turnTrace (db: Queryable, traceId: string, viewer: Viewer): Promise<TurnTrace | undefined> {
  const row = await turnTraceById(db, traceId)
  if (row === undefined) return undefined
  const candidates = [...stringsIn([row.logs, row.spans.map(span => span.attributes)], new Set())]
    .filter(isUuid)
  const sessions = await existingSessionIds(db, candidates)
  const named = (value: unknown): unknown => typeof value === 'string'
    ? sessions.has(value.toLowerCase()) ? viewer.session(value.toLowerCase()) : value
    : Array.isArray(value)
      ? value.map(named)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, named(item)]))
        : value
  const shown = (key: string, value: unknown): unknown => typeof value !== 'string'
    ? named(value)
    : CHAT_TEXT_FIELDS.has(key)
      ? viewer.text(value)
      : key === 'user_id' ? viewer.loggedUser(value) : named(value)
  return {
    ...row,
    started_at: new Date(row.started_at).toISOString(),
    spans: row.spans.map(span => ({ ...span, attributes: named(span.attributes) as typeof span.attributes })),
    logs: row.logs.map(line => Object.fromEntries(Object.entries(line).map(([key, value]) => [key, shown(key, value)])))
  }
}
