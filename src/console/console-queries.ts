// What the console reads from the database: turns found by their words and by what went wrong
// with them, one conversation with every turn, one turn's trace, and the overview's figures.
// Plain functions over a Queryable; what a viewer may see of users is decided by the Viewer.
import type { Queryable } from '../db/database.js'
import { MESSAGE_MAX_CHARACTERS, type Decision, type Generation, type Source } from '../chat/message-store.js'
import type { ReplyKind } from '../chat/message-store.js'
import type { Conversation, ConversationsPageType, TurnRow } from './console-schemas.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS, type TurnTrace } from '../turn-traces/turn-trace.js'
import { UUID_PATTERN } from '../http/schemas.js'
import { excerpt } from '../text/excerpt.js'
import { scrubbedCopy } from '../logging/scrubber.js'

/** What the person using the console may see of users: their words (as written or scrubbed) and who they are. */
export interface Viewer {
  text: (text: string) => string
  user: (userId: string | null) => { pseudonym: string | null, id?: string | null }
  /** Sees words scrubbed, and so finds turns only by what the scrubber left. */
  scrubbed: boolean
  /** How a conversation is named to this viewer: its session id, or a reference that is not one (see ConversationRefs). */
  session: (sessionId: string) => string
  /** A log line's user_id as this viewer is shown it: as logged, or always a pseudonym. */
  loggedUser: (logged: string) => string
}

export interface TurnFilter {
  q?: string
  from?: Date
  to?: Date
  /** The user ids whose turns are wanted (resolved from an id or a pseudonym by the caller, userIdsOf). */
  userIds?: string[]
  kind?: ReplyKind
  feedbackDown?: boolean
  errors?: boolean
  minLatencyMs?: number
  /** The document nearest to the turn's question: its first source. */
  source?: string
  limit: number
  /** Only turns after it in the list (the previous page's next_before): microseconds since the epoch and the row's key. */
  before?: string
}

interface TurnRowData {
  session_id: string | null
  turn: number | null
  at: Date
  at_us: string
  key: string
  user_id: string | null
  message: string
  reply: string | null
  kind: ReplyKind | null
  latency_ms: number | null
  feedback: 'up' | 'down' | null
  error: boolean
  trace_id: string | null
}

// The user's question of a failed turn was never stored; its log line has it, as logs keep chat text (scrubbed or not at all).
const FAILED_TURN_MESSAGE = "coalesce((SELECT l->>'text' FROM jsonb_array_elements(t.logs) l WHERE l->>'msg' = 'chat.message_received' LIMIT 1), '')"

/** Turns matching the filter, newest first: stored turns and, unless the filter is about words, kinds or feedback, turns that failed before they were stored. */
// A page of the list quotes each message's beginning (the conversation shows it whole): its size
// stays that of its rows, whatever was stored. Read as far as a user's message may go, so that
// the scrubber sees whole what the excerpt shows.
const LIST_QUOTE_GRAPHEMES = 300
const QUOTE_READ = MESSAGE_MAX_CHARACTERS

export async function searchTurns (db: Queryable, filter: TurnFilter, viewer: Viewer): Promise<ConversationsPageType> {
  const params: unknown[] = []
  const param = (value: unknown): string => { params.push(value); return `$${params.length}` }
  const stored: string[] = ["b.role = 'bot'"]
  const failed: string[] = ['t.turn IS NULL', "t.status = 'error'"]
  if (filter.from !== undefined) { const p = param(filter.from); stored.push(`b.created_at >= ${p}`); failed.push(`t.started_at >= ${p}`) }
  if (filter.to !== undefined) { const p = param(filter.to); stored.push(`b.created_at < ${p}`); failed.push(`t.started_at < ${p}`) }
  if (filter.userIds !== undefined) { const p = param(filter.userIds); stored.push(`s.user_id = ANY(${p}::text[])`); failed.push(`s.user_id = ANY(${p}::text[])`) }
  if (filter.minLatencyMs !== undefined) { const p = param(filter.minLatencyMs); stored.push(`${LIVED_LATENCY_MS} >= ${p}`); failed.push(`t.duration_ms >= ${p}`) }
  if (filter.errors === true) stored.push("(b.kind = 'command_error' OR t.status = 'error')")
  if (filter.kind !== undefined) stored.push(`b.kind = ${param(filter.kind)}`)
  if (filter.feedbackDown === true) stored.push("f.rating = 'down'")
  if (filter.source !== undefined) stored.push(`b.sources->0->>'doc_id' = ${param(filter.source)}`)
  if (filter.q !== undefined) {
    // The turns either of whose messages has the words, found through the columns' full-text
    // indexes. An analyst's search reads the scrubbed copy where there is one (search_text).
    const q = `websearch_to_tsquery('english', ${param(filter.q)})`
    const inContent = `to_tsvector('english', m.content) @@ ${q}`
    const words = viewer.scrubbed
      ? `(m.search_text IS NULL AND ${inContent}) OR (m.search_text IS NOT NULL AND to_tsvector('english', m.search_text) @@ ${q})`
      : inContent
    stored.push(`(b.session_id, b.turn) IN (SELECT m.session_id, m.turn FROM messages m WHERE ${words})`)
  }
  const withFailed = filter.q === undefined && filter.kind === undefined && filter.feedbackDown !== true && filter.source === undefined
  // Turns of the same microsecond are ordered by their key, so that a page boundary between them loses none.
  const [beforeUs, beforeKey] = filter.before?.split('_') ?? []
  const before = beforeUs === undefined ? '' : `WHERE (at_us::bigint, key) < (${param(beforeUs)}::bigint, ${param(beforeKey ?? '')}::text)`
  const { rows } = await db.query<TurnRowData>(`
    SELECT * FROM (
      SELECT b.session_id::text AS session_id, b.turn, b.created_at AS at, (extract(epoch FROM b.created_at) * 1000000)::bigint::text AS at_us, 'm' || lpad(b.id::text, 19, '0') AS key,
        s.user_id, left(u.content, ${QUOTE_READ}) AS message, left(b.content, ${QUOTE_READ}) AS reply, b.kind, ${LIVED_LATENCY_MS} AS latency_ms, f.rating AS feedback,
        (b.kind = 'command_error' OR coalesce(t.status = 'error', false)) AS error, coalesce(b.trace_id, t.trace_id) AS trace_id
      FROM messages b
      JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
      JOIN sessions s ON s.id = b.session_id
      LEFT JOIN feedback f ON f.session_id = b.session_id AND f.turn = b.turn
      ${JOIN_TURN_TRACE}
      WHERE ${stored.join(' AND ')}
      ${withFailed
        ? `UNION ALL
      SELECT t.session_id::text, NULL, t.started_at, (extract(epoch FROM t.started_at) * 1000000)::bigint::text, 't' || t.trace_id,
        s.user_id, ${FAILED_TURN_MESSAGE}, NULL, NULL, t.duration_ms, NULL, true, t.trace_id
      FROM turn_traces t LEFT JOIN sessions s ON s.id = t.session_id
      WHERE ${failed.join(' AND ')}`
        : ''}
    ) found ${before}
    ORDER BY at_us::bigint DESC, key DESC LIMIT ${param(filter.limit + 1)}`, params)
  const more = rows.length > filter.limit
  const page = rows.slice(0, filter.limit)
  return {
    turns: page.map((row): TurnRow => ({
      session_id: row.session_id === null ? null : viewer.session(row.session_id),
      turn: row.turn,
      at: new Date(row.at).toISOString(),
      user: viewer.user(row.user_id),
      message: excerpt(viewer.text(row.message), LIST_QUOTE_GRAPHEMES),
      reply: row.reply === null ? null : excerpt(viewer.text(row.reply), LIST_QUOTE_GRAPHEMES),
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
 * up). Any viewer may find a user by an id they already know: the turns found show pseudonyms only
 * to a viewer who sees no ids, so no id is learnt that was not typed.
 */
export async function userIdsOf (db: Queryable, user: string, pseudonymOf: (userId: string) => string | undefined): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>('SELECT DISTINCT user_id FROM sessions WHERE user_id IS NOT NULL')
  return rows.map(row => row.user_id).filter(userId => userId === user || pseudonymOf(userId) === user)
}

/**
 * Scrubs every message again, a batch at a time, once the scrubber's rules are newer
 * (`scrubberVersion`) than those that scrubbed them, so that an analyst cannot find by a name or an
 * address what an older scrubber let through. New messages are stored with their scrubbed copy
 * (search_text, NULL where scrubbing changed nothing: scrubbedCopy). Returns how many it scrubbed.
 */
export async function fillSearchText (db: Queryable, scrub: (text: string) => string, scrubberVersion: number, batch = 500): Promise<number> {
  const write = async (rows: Array<{ id: string, content: string }>) => await db.query(
    'UPDATE messages SET search_text = v.text FROM unnest($1::bigint[], $2::text[]) AS v(id, text) WHERE messages.id = v.id',
    [rows.map(row => row.id), rows.map(row => scrubbedCopy(row.content, scrub))])
  const { rows: [scrubbed] } = await db.query<{ version: number }>("SELECT (value #>> '{}')::int AS version FROM app_state WHERE key = 'search_text_scrubber'")
  if ((scrubbed?.version ?? 1) >= scrubberVersion) return 0
  let filled = 0
  // Rows written from now on are scrubbed by these rules already: the walk ends at the last id now.
  for (let after = '0'; ;) {
    const { rows } = await db.query<{ id: string, content: string }>('SELECT id::text AS id, content FROM messages WHERE id > $1::bigint ORDER BY id LIMIT $2', [after, batch])
    if (rows.length === 0) break
    await write(rows)
    filled += rows.length
    after = rows[rows.length - 1]!.id
  }
  await db.query("INSERT INTO app_state (key, value) VALUES ('search_text_scrubber', to_jsonb($1::int)) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [scrubberVersion])
  return filled
}

interface ConversationTurnData {
  turn: number
  at: Date
  message: string
  reply: string
  kind: ReplyKind | null
  command: string | null
  sources: Source[]
  context_turn: number | null
  latency_ms: number | null
  rating: 'up' | 'down' | null
  comment: string | null
  trace_id: string | null
  has_trace: boolean
  generation: Generation | null
  decision: Decision | null
}

/** A conversation with every turn, or undefined when there is no such session. */
export async function conversation (db: Queryable, sessionId: string, viewer: Viewer): Promise<Conversation | undefined> {
  const { rows: sessions } = await db.query<{ user_id: string | null, status: string, created_at: Date, last_activity_at: Date }>(
    'SELECT user_id, status, created_at, last_activity_at FROM sessions WHERE id = $1', [sessionId])
  const session = sessions[0]
  if (session === undefined) return undefined
  const [{ rows: turns }, { rows: failed }] = await Promise.all([
    db.query<ConversationTurnData>(`
      SELECT b.turn, b.created_at AS at, u.content AS message, b.content AS reply, b.kind, b.command, b.sources, b.context_turn,
        ${LIVED_LATENCY_MS} AS latency_ms, f.rating, f.comment, coalesce(t.trace_id, b.trace_id) AS trace_id, t.trace_id IS NOT NULL AS has_trace, b.generation, b.decision
      FROM messages b
      JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
      LEFT JOIN feedback f ON f.session_id = b.session_id AND f.turn = b.turn
      ${JOIN_TURN_TRACE}
      WHERE b.session_id = $1 AND b.role = 'bot' ORDER BY b.turn`, [sessionId]),
    db.query<{ trace_id: string, started_at: Date, status_code: number, error: string | null }>(
      "SELECT trace_id, started_at, status_code, error FROM turn_traces WHERE session_id = $1 AND turn IS NULL AND status = 'error' ORDER BY started_at", [sessionId])
  ])
  return {
    session_id: viewer.session(sessionId),
    user: viewer.user(session.user_id),
    status: session.status,
    created_at: new Date(session.created_at).toISOString(),
    last_activity_at: new Date(session.last_activity_at).toISOString(),
    turns: turns.map(row => ({
      turn: row.turn,
      at: new Date(row.at).toISOString(),
      message: viewer.text(row.message),
      reply: viewer.text(row.reply),
      kind: row.kind,
      command: row.command,
      sources: row.sources,
      context_turn: row.context_turn,
      latency_ms: row.latency_ms,
      feedback: row.rating === null ? null : { rating: row.rating, comment: row.comment === null ? null : viewer.text(row.comment) },
      trace_id: row.trace_id,
      has_trace: row.has_trace,
      generation: row.generation,
      decision: row.decision
    })),
    failed_turns: failed.map(row => ({ trace_id: row.trace_id, at: new Date(row.started_at).toISOString(), status_code: row.status_code, error: row.error }))
  }
}

// The fields in which log lines carry chat text (as LOG_CHAT_CONTENT lets them): chat.message_received's, command.refused's.
const CHAT_TEXT_FIELDS = new Set(['text', 'reason'])
const UUID = new RegExp(UUID_PATTERN)

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
  const { rows } = await db.query<Omit<TurnTrace, 'started_at'> & { started_at: Date }>(
    'SELECT trace_id, session_id::text AS session_id, turn, status, status_code, started_at, duration_ms, parts, let_go, spans, logs, error FROM turn_traces WHERE trace_id = $1', [traceId])
  const row = rows[0]
  if (row === undefined) return undefined
  const candidates = [...stringsIn([row.logs, row.spans.map(span => span.attributes)], new Set())].filter(text => UUID.test(text))
  const { rows: known } = candidates.length === 0
    ? { rows: [] }
    : await db.query<{ id: string }>('SELECT id::text AS id FROM sessions WHERE id = ANY($1::uuid[])', [candidates])
  const sessions = new Set(known.map(session => session.id))
  const named = (value: unknown): unknown => typeof value === 'string'
    ? sessions.has(value.toLowerCase()) ? viewer.session(value.toLowerCase()) : value
    : Array.isArray(value) ? value.map(named) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, named(item)])) : value
  const shown = (key: string, value: unknown): unknown => typeof value !== 'string'
    ? named(value)
    : CHAT_TEXT_FIELDS.has(key) ? viewer.text(value) : key === 'user_id' ? viewer.loggedUser(value) : named(value)
  return {
    ...row,
    started_at: new Date(row.started_at).toISOString(),
    spans: row.spans.map(span => ({ ...span, attributes: named(span.attributes) as typeof span.attributes })),
    logs: row.logs.map(line => Object.fromEntries(Object.entries(line).map(([key, value]) => [key, shown(key, value)])))
  }
}
