// The transcript read across sessions: what the alerts, the day's model spend, the analytics API
// and the console count and list. Plain functions over a Queryable, beside the repository that
// writes the rows (transcript-repository.ts), so that a change to the messages or feedback tables
// is made in this folder alone. Each returns rows as the database gives them; what a reader may
// see of users' words is decided by its caller.
import type { Queryable } from '../db/database.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS } from '../turn-traces/turn-trace.js'
import {
  MESSAGE_MAX_CHARACTERS, type Decision, type Generation, type ReplyKind, type Source
} from './transcript-schemas.js'

/**
 * Whether a message of `messages` alias `m` is a reply in the knowledge base's words alone: an
 * answer quoting its passage (not one a language model wrote, which may repeat the user's words)
 * or a no_answer naming its nearest topics. It holds the team's words, never the user's, and is
 * what every user of the bot is told: a reader who sees users' words scrubbed sees it as written.
 */
const knowledgeBaseReply = (m: string): string => `(${m}.role = 'bot' AND (${m}.kind = 'no_answer'
  OR (${m}.kind = 'answer' AND ${m}.generation->>'by' IS DISTINCT FROM 'model')))`

/** From `from`, up to and excluding `to`. */
export interface TimeRange { from: Date, to: Date }

type Rating = 'up' | 'down'

/**
 * How far back a reader of the latest rows reads again: a turn's messages are stamped when its
 * turn records them and committed a moment later (after other turns' in the same statement), so a
 * row stamped just before a read may become visible only after it.
 */
export const LATE_COMMIT_MS = 30_000

/**
 * What the language model cost from `since` on, every instance's turns (each stored answer keeps
 * its cost), and the part of it stamped before `settledBefore`.
 */
export async function modelSpendSince (
  db: Queryable, since: Date, settledBefore = since
): Promise<{ spent: number, settled: number }> {
  const { rows } = await db.query<{ spent: number, settled: number }>(
    `SELECT coalesce(sum((generation->>'cost_usd')::float8), 0) AS spent,
       coalesce(sum((generation->>'cost_usd')::float8) FILTER (WHERE created_at < $2), 0) AS settled
     FROM messages WHERE role = 'bot' AND generation IS NOT NULL AND created_at >= $1`,
    [since, settledBefore])
  return rows[0] ?? { spent: 0, settled: 0 }
}

/**
 * One bucket's count of one kind: the questions searched and those answered, the ratings down,
 * or the unanswered turns of one nearest document.
 */
export type QualityCountRow = {
  bucket: string
  what: 'questions' | 'feedback' | 'topic'
  doc_id: string | null
  title: string | null
  answered: number
  n: number
}

/**
 * The alerts' quality counts from `since` on, by bucket of `bucketMs`, in one statement: the
 * evaluator's reads are statements too, timed with the app's, and a dozen fast ones each
 * evaluation would dilute the p95 they alert on. It holds the embedded database's only thread, so
 * it is kept lean: the rows read twice carry only what is counted (with each answer's sources, the
 * 18,000 turns a busy minute reads outgrew work_mem and went through a temporary file), and the
 * epoch is a float8 (extract() gives numeric, slow to compute): 61 ms then, 25 ms now.
 */
export async function qualityCountsSince (db: Queryable, since: Date, bucketMs: number): Promise<QualityCountRow[]> {
  const { rows } = await db.query<QualityCountRow>(
    `WITH bucketed AS (
       SELECT floor(date_part('epoch', created_at) * 1000 / $2)::bigint AS bucket, kind,
         CASE WHEN kind = 'no_answer' THEN sources->0->>'doc_id' END AS nearest_doc_id,
         CASE WHEN kind = 'no_answer' THEN sources->0->>'title' END AS nearest_title
       FROM messages WHERE role = 'bot' AND kind IN ('answer', 'no_answer') AND created_at >= $1)
     SELECT bucket::text, 'questions' AS what, NULL AS doc_id, NULL AS title,
       (count(*) FILTER (WHERE kind = 'answer'))::int AS answered, count(*)::int AS n
       FROM bucketed GROUP BY bucket
     UNION ALL
     SELECT bucket::text, 'topic', nearest_doc_id, min(nearest_title), 0, count(*)::int
       FROM bucketed WHERE nearest_doc_id IS NOT NULL GROUP BY bucket, 3
     UNION ALL
     SELECT floor(date_part('epoch', created_at) * 1000 / $2)::bigint::text, 'feedback', NULL, NULL, 0, count(*)::int
       FROM feedback WHERE rating = 'down' AND created_at >= $1 GROUP BY 1`,
    [since.toISOString(), bucketMs])
  return rows
}

/** The transcript's share of a period's usage report (analysis/database-analytics.ts). */
export interface UsageRows {
  turns: Array<{ kind: string, command: string | null, n: number }>
  people: { sessions: number, users: number }
  feedback: Array<{ rating: Rating, n: number }>
  /** The most asked unanswered questions, as written, with how often each was asked. */
  unanswered: Array<{ text: string, n: number }>
  /** The model's calls, by why they fell back to the passage (null: they did not). */
  modelCalls: Array<{ reason: string | null, n: number, input_tokens: number, output_tokens: number, cost_usd: number }>
}

export async function usageRows (db: Queryable, period: TimeRange, unansweredWordings: number): Promise<UsageRows> {
  const range = [period.from, period.to]
  const inRange = 'created_at >= $1 AND created_at < $2'
  const [turns, people, feedback, unanswered, modelCalls] = await Promise.all([
    db.query<UsageRows['turns'][number]>(
      `SELECT kind, command, count(*)::int AS n FROM messages WHERE role = 'bot' AND ${inRange}
       GROUP BY kind, command`, range),
    db.query<UsageRows['people']>(
      `SELECT count(DISTINCT m.session_id)::int AS sessions, count(DISTINCT s.user_id)::int AS users
       FROM messages m JOIN sessions s ON s.id = m.session_id
       WHERE m.role = 'bot' AND m.created_at >= $1 AND m.created_at < $2`, range),
    feedbackCounts(db, period),
    db.query<UsageRows['unanswered'][number]>(
      `SELECT u.content AS text, count(*)::int AS n FROM messages b
       JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
       WHERE b.role = 'bot' AND b.kind = 'no_answer' AND b.created_at >= $1 AND b.created_at < $2
       GROUP BY u.content ORDER BY n DESC, u.content LIMIT $3`, [...range, unansweredWordings]),
    // Sums as float8: a bigint would come back as a string.
    db.query<UsageRows['modelCalls'][number]>(
      `SELECT generation->>'fallback_reason' AS reason, count(*)::int AS n,
         coalesce(sum((generation->>'input_tokens')::float8), 0) AS input_tokens,
         coalesce(sum((generation->>'output_tokens')::float8), 0) AS output_tokens,
         coalesce(sum((generation->>'cost_usd')::float8), 0) AS cost_usd
       FROM messages WHERE role = 'bot' AND generation IS NOT NULL AND ${inRange} GROUP BY 1`, range)
  ])
  return {
    turns: turns.rows,
    people: people.rows[0] ?? { sessions: 0, users: 0 },
    feedback,
    unanswered: unanswered.rows,
    modelCalls: modelCalls.rows
  }
}

/** Ratings given in a period, by rating. */
export async function feedbackCounts (db: Queryable, period: TimeRange): Promise<Array<{ rating: Rating, n: number }>> {
  const { rows } = await db.query<{ rating: Rating, n: number }>(
    'SELECT rating, count(*)::int AS n FROM feedback WHERE created_at >= $1 AND created_at < $2 GROUP BY rating',
    [period.from, period.to])
  return rows
}

export interface TurnLatencyRow { bucket: string, kind: string, n: number, p50: number, p95: number, p99: number }

/**
 * The latency users lived (see LIVED_LATENCY_MS) by reply kind, per hour or day of UTC, or for the
 * whole period ('all'); exact percentiles (percentile_cont).
 */
export async function turnLatencyRows (
  db: Queryable,
  period: TimeRange,
  bucket: 'hour' | 'day' | 'all'
): Promise<TurnLatencyRow[]> {
  // The bucket is one of three fixed words, never user text, so it may stand in the SQL.
  const format = bucket === 'hour' ? 'YYYY-MM-DD"T"HH24:00' : 'YYYY-MM-DD'
  const slot = bucket === 'all'
    ? "'all'"
    : `to_char(date_trunc('${bucket}', b.created_at AT TIME ZONE 'UTC'), '${format}')`
  const { rows } = await db.query<TurnLatencyRow>(
    `SELECT ${slot} AS bucket, b.kind, count(*)::int AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p99
     FROM messages b ${JOIN_TURN_TRACE}
     WHERE b.role = 'bot' AND ${LIVED_LATENCY_MS} IS NOT NULL AND b.created_at >= $1 AND b.created_at < $2
     GROUP BY 1, 2 ORDER BY 1, 2`, [period.from, period.to])
  return rows
}

export interface TurnFilter {
  q?: string
  from?: Date
  to?: Date
  /** The user ids whose turns are wanted (resolved from an id or a pseudonym by the caller). */
  userIds?: string[]
  /**
   * Their pseudonyms: a turn that failed before its session was stored names its user by pseudonym
   * alone (turn_traces.user_pseudonym). Read only with userIds.
   */
  userPseudonyms?: string[]
  kind?: ReplyKind
  feedbackDown?: boolean
  errors?: boolean
  minLatencyMs?: number
  /** The document nearest to the turn's question: its first source. */
  source?: string
  limit: number
  /**
   * Only turns after it in the list (the previous page's next_before): microseconds since the epoch
   * and the row's key.
   */
  before?: string
}

/** A turn in the console's list; `message` and `reply` are their first MESSAGE_MAX_CHARACTERS, as stored. */
export interface TurnListRow {
  session_id: string | null
  turn: number | null
  at: Date
  /** Where the row stands in the list: microseconds since the epoch and its key, the next page's `before`. */
  at_us: string
  key: string
  user_id: string | null
  message: string
  reply: string | null
  /** The reply is in the knowledge base's words alone (knowledgeBaseReply). */
  reply_as_written: boolean
  kind: ReplyKind | null
  latency_ms: number | null
  feedback: Rating | null
  error: boolean
  trace_id: string | null
}

// The user's question of a failed turn was never stored; its log line has it, as logs keep chat
// text (scrubbed or not at all).
const FAILED_TURN_MESSAGE = `coalesce((SELECT l->>'text' FROM json_array_elements(t.logs) l
  WHERE l->>'msg' = 'chat.message_received' LIMIT 1), '')`

/**
 * Turns matching the filter, newest first, up to `limit + 1` (one more says there is a next page):
 * stored turns and, unless the filter is about words, kinds, feedback or sources, turns that
 * failed before they were stored (their trace alone knows them: one statement, so that a page
 * boundary between the two loses none). `wordsScrubbed`: words are looked for in what the
 * scrubber left (search_text where it changed the message).
 */
export async function turnList (db: Queryable, filter: TurnFilter, wordsScrubbed: boolean): Promise<TurnListRow[]> {
  const params: unknown[] = []
  const param = (value: unknown): string => { params.push(value); return `$${params.length}` }
  const stored: string[] = ["b.role = 'bot'"]
  const failed: string[] = ['t.turn IS NULL', "t.status = 'error'"]
  const both = (
    storedCondition: (p: string) => string,
    failedCondition: (p: string) => string,
    value: unknown
  ): void => {
    const p = param(value)
    stored.push(storedCondition(p))
    failed.push(failedCondition(p))
  }
  if (filter.from !== undefined) both(p => `b.created_at >= ${p}`, p => `t.started_at >= ${p}`, filter.from)
  if (filter.to !== undefined) both(p => `b.created_at < ${p}`, p => `t.started_at < ${p}`, filter.to)
  const withFailed = filter.q === undefined && filter.kind === undefined &&
    filter.feedbackDown !== true && filter.source === undefined
  if (filter.userIds !== undefined) {
    // Only a parameter the statement reads: PostgreSQL cannot type one it does not.
    const pseudonyms = withFailed ? param(filter.userPseudonyms ?? []) : 'NULL'
    both(p => `s.user_id = ANY(${p}::text[])`,
      p => `(s.user_id = ANY(${p}::text[]) OR t.user_pseudonym = ANY(${pseudonyms}::text[]))`, filter.userIds)
  }
  if (filter.minLatencyMs !== undefined) {
    both(p => `${LIVED_LATENCY_MS} >= ${p}`, p => `t.duration_ms >= ${p}`, filter.minLatencyMs)
  }
  if (filter.errors === true) stored.push("(b.kind = 'command_error' OR t.status = 'error')")
  if (filter.kind !== undefined) stored.push(`b.kind = ${param(filter.kind)}`)
  if (filter.feedbackDown === true) stored.push("f.rating = 'down'")
  if (filter.source !== undefined) stored.push(`b.sources->0->>'doc_id' = ${param(filter.source)}`)
  if (filter.q !== undefined) {
    // The turns either of whose messages has the words, found through the columns' full-text indexes.
    const q = `websearch_to_tsquery('english', ${param(filter.q)})`
    const inContent = `to_tsvector('english', m.content) @@ ${q}`
    // A reply in the knowledge base's words is shown as written (knowledgeBaseReply), and found so.
    const words = wordsScrubbed
      ? `((m.search_text IS NULL OR ${knowledgeBaseReply('m')}) AND ${inContent})
         OR (m.search_text IS NOT NULL AND NOT ${knowledgeBaseReply('m')}
           AND to_tsvector('english', m.search_text) @@ ${q})`
      : inContent
    stored.push(`(b.session_id, b.turn) IN (SELECT m.session_id, m.turn FROM messages m WHERE ${words})`)
  }
  // Turns of the same microsecond are ordered by their key, so that a page boundary between them loses none.
  const [beforeUs, beforeKey] = filter.before?.split('_') ?? []
  const before = beforeUs === undefined
    ? ''
    : `WHERE (at_us::bigint, key) < (${param(beforeUs)}::bigint, ${param(beforeKey ?? '')}::text)`
  const microseconds = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`
  const { rows } = await db.query<TurnListRow>(`
    SELECT * FROM (
      SELECT b.session_id::text AS session_id, b.turn, b.created_at AS at, ${microseconds('b.created_at')} AS at_us,
        'm' || lpad(b.id::text, 19, '0') AS key, s.user_id, left(u.content, ${MESSAGE_MAX_CHARACTERS}) AS message,
        left(b.content, ${MESSAGE_MAX_CHARACTERS}) AS reply, ${knowledgeBaseReply('b')} AS reply_as_written,
        b.kind, ${LIVED_LATENCY_MS} AS latency_ms,
        f.rating AS feedback, (b.kind = 'command_error' OR coalesce(t.status = 'error', false)) AS error,
        coalesce(b.trace_id, t.trace_id) AS trace_id
      FROM messages b
      JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
      JOIN sessions s ON s.id = b.session_id
      LEFT JOIN feedback f ON f.session_id = b.session_id AND f.turn = b.turn
      ${JOIN_TURN_TRACE}
      WHERE ${stored.join(' AND ')}
      ${withFailed
        ? `UNION ALL
      SELECT t.session_id::text, NULL, t.started_at, ${microseconds('t.started_at')}, 't' || t.trace_id,
        s.user_id, ${FAILED_TURN_MESSAGE}, NULL, false, NULL, t.duration_ms, NULL, true, t.trace_id
      FROM turn_traces t LEFT JOIN sessions s ON s.id = t.session_id
      WHERE ${failed.join(' AND ')}`
        : ''}
    ) found ${before}
    ORDER BY at_us::bigint DESC, key DESC LIMIT ${param(filter.limit + 1)}`, params)
  return rows
}

/** A stored turn as one conversation shows it: both messages, the rating and the trace, if kept. */
export interface ConversationTurnRow {
  turn: number
  at: Date
  message: string
  reply: string
  /** The reply is in the knowledge base's words alone (knowledgeBaseReply). */
  reply_as_written: boolean
  kind: ReplyKind | null
  command: string | null
  sources: Source[]
  context_turn: number | null
  latency_ms: number | null
  rating: Rating | null
  comment: string | null
  trace_id: string | null
  has_trace: boolean
  generation: Generation | null
  decision: Decision | null
}

/** Every stored turn of a session, oldest first. */
export async function conversationTurns (db: Queryable, sessionId: string): Promise<ConversationTurnRow[]> {
  const { rows } = await db.query<ConversationTurnRow>(`
    SELECT b.turn, b.created_at AS at, u.content AS message, b.content AS reply,
      ${knowledgeBaseReply('b')} AS reply_as_written, b.kind, b.command, b.sources,
      b.context_turn, ${LIVED_LATENCY_MS} AS latency_ms, f.rating, f.comment,
      coalesce(t.trace_id, b.trace_id) AS trace_id, t.trace_id IS NOT NULL AS has_trace, b.generation, b.decision
    FROM messages b
    JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
    LEFT JOIN feedback f ON f.session_id = b.session_id AND f.turn = b.turn
    ${JOIN_TURN_TRACE}
    WHERE b.session_id = $1 AND b.role = 'bot' ORDER BY b.turn`, [sessionId])
  return rows
}
