// The transcript: both sides of every turn, and the feedback on answers. This module and
// transcript-queries.ts hold every statement on the messages and feedback tables, but one: a
// turn's two messages are stored by the session manager's recordTurn, in the statement that
// counts the turn on its session (one round trip, atomic without a transaction).
import type { Database, Queryable } from '../db/database.js'
import { scrubbedCopy } from '../logging/scrubber.js'
import type { FeedbackRecordType, MessageRecordType, Generation } from './transcript-schemas.js'

/** How far back a chain of follow-up questions is followed to the question it began with. */
const FOLLOW_UP_CHAIN = 20

/** A message as stored: MessageRecord, its time a Date. */
type MessageRow = Omit<MessageRecordType, 'created_at'> & { created_at: Date }

const asRecord = ({ created_at: createdAt, ...row }: MessageRow): MessageRecordType =>
  ({ ...row, created_at: new Date(createdAt).toISOString() })

/**
 * A user's message, as written and scrubbed (search_text: null where scrubbing changed nothing, or
 * before it was filled).
 */
export interface UserText { content: string, scrubbed: string | null }

/** A session's messages and ratings, as a user's export shows them. */
export interface Transcript { messages: MessageRecordType[], feedback: FeedbackRecordType[] }

export class TranscriptRepository {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  /** Both messages of up to `turns` turns before turn `before` (the latest turns if omitted), oldest first. */
  async list (sessionId: string, options: { turns: number, before?: number }): Promise<MessageRecordType[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT turn, role, content, kind, command, sources, context_turn, created_at FROM messages
       WHERE session_id = $1 AND turn IN (
         SELECT DISTINCT turn FROM messages WHERE session_id = $1 AND turn < $2 ORDER BY turn DESC LIMIT $3)
       ORDER BY turn, role DESC`,
      [sessionId, options.before ?? 2_147_483_647, options.turns])
    return rows.map(asRecord)
  }

  /**
   * The session's latest question that was searched, with the question its chain of follow-ups
   * began with, when it was a follow-up: "and on Saturdays?" after "and on Sundays?" after "When
   * does the shop open?" keeps the shop. A chain is followed back at most FOLLOW_UP_CHAIN turns.
   */
  async previousQuestion (sessionId: string): Promise<{ turn: number, text: string } | undefined> {
    const { rows } = await this.db.query<{ turn: number, content: string, root: string | null }>(
      `WITH RECURSIVE chain AS (
         (SELECT turn, context_turn, 0 AS depth FROM messages
          WHERE session_id = $1 AND role = 'bot' AND kind IN ('answer', 'no_answer') ORDER BY turn DESC LIMIT 1)
         UNION ALL
         SELECT b.turn, b.context_turn, c.depth + 1 FROM chain c
         JOIN messages b ON b.session_id = $1 AND b.turn = c.context_turn AND b.role = 'bot'
         WHERE c.depth < $2)
       SELECT q.turn, q.content,
         (SELECT r.content FROM chain c JOIN messages r ON r.session_id = $1 AND r.turn = c.turn AND r.role = 'user'
          WHERE c.depth > 0 ORDER BY c.depth DESC LIMIT 1) AS root
       FROM chain c JOIN messages q ON q.session_id = $1 AND q.turn = c.turn AND q.role = 'user'
       WHERE c.depth = 0`, [sessionId, FOLLOW_UP_CHAIN])
    const row = rows[0]
    return row === undefined
      ? undefined
      : { turn: row.turn, text: row.root === null ? row.content : `${row.root} ${row.content}` }
  }

  /** The latest turn that answered (or could not answer) a question: what /feedback rates. */
  async lastAnswer (
    sessionId: string
  ): Promise<{ turn: number, traceId: string | null, generation: Generation | null } | undefined> {
    const { rows } = await this.db.query<{ turn: number, trace_id: string | null, generation: Generation | null }>(
      `SELECT turn, trace_id, generation FROM messages
       WHERE session_id = $1 AND role = 'bot' AND kind IN ('answer', 'no_answer')
       ORDER BY turn DESC LIMIT 1`, [sessionId])
    const row = rows[0]
    return row === undefined ? undefined : { turn: row.turn, traceId: row.trace_id, generation: row.generation }
  }

  /**
   * Deletes the messages and feedback of these sessions, in the caller's transaction, before the
   * sessions themselves (whose deletion would cascade to them uncounted); returns how many of each.
   */
  async deleteOf (tx: Queryable, sessionIds: readonly string[]): Promise<{ messages: number, feedback: number }> {
    if (sessionIds.length === 0) return { messages: 0, feedback: 0 }
    const feedback = await tx.query('DELETE FROM feedback WHERE session_id = ANY($1::uuid[])', [sessionIds])
    const messages = await tx.query('DELETE FROM messages WHERE session_id = ANY($1::uuid[])', [sessionIds])
    return { messages: messages.rowCount, feedback: feedback.rowCount }
  }

  /** What users wrote in these sessions, as written and as an analyst sees it (search_text, null as in UserText). */
  async userTexts (db: Queryable, sessionIds: readonly string[]): Promise<UserText[]> {
    if (sessionIds.length === 0) return []
    const { rows } = await db.query<UserText>(
      "SELECT content, search_text AS scrubbed FROM messages WHERE session_id = ANY($1::uuid[]) AND role = 'user'",
      [sessionIds])
    return rows
  }

  /** Every message and rating of these sessions, by session, oldest first: a user's export. */
  async exportOf (sessionIds: readonly string[]): Promise<Map<string, Transcript>> {
    const bySession = new Map<string, Transcript>(sessionIds.map(id => [id, { messages: [], feedback: [] }]))
    if (sessionIds.length === 0) return bySession
    const [messages, feedback] = await Promise.all([
      this.db.query<MessageRow & { session_id: string }>(
        `SELECT session_id::text AS session_id, turn, role, content, kind, command, sources, context_turn, created_at
         FROM messages WHERE session_id = ANY($1::uuid[]) ORDER BY session_id, turn, role DESC`, [sessionIds]),
      this.db.query<{
        session_id: string, turn: number, rating: 'up' | 'down', comment: string | null, created_at: Date
      }>(
        `SELECT session_id::text AS session_id, turn, rating, comment, created_at
         FROM feedback WHERE session_id = ANY($1::uuid[]) ORDER BY session_id, turn`, [sessionIds])
    ])
    for (const { session_id: sessionId, ...row } of messages.rows) {
      bySession.get(sessionId)?.messages.push(asRecord(row))
    }
    for (const { session_id: sessionId, created_at: createdAt, ...row } of feedback.rows) {
      bySession.get(sessionId)?.feedback.push({ ...row, created_at: new Date(createdAt).toISOString() })
    }
    return bySession
  }

  /** Records or replaces the rating of one answer: users may change their mind. */
  async recordFeedback (
    tx: Queryable,
    feedback: { sessionId: string, turn: number, rating: 'up' | 'down', comment: string | null, at: Date }
  ): Promise<void> {
    await tx.query(
      `INSERT INTO feedback (session_id, turn, rating, comment, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id, turn) DO UPDATE
         SET rating = excluded.rating, comment = excluded.comment, created_at = excluded.created_at`,
      [feedback.sessionId, feedback.turn, feedback.rating, feedback.comment, feedback.at])
  }
}

/**
 * Scrubs every message again, a batch at a time, once the scrubber's rules are newer
 * (`scrubberVersion`) than those that scrubbed them, so that an analyst cannot find by a name or an
 * address what an older scrubber let through. New messages are stored with their scrubbed copy
 * (search_text, NULL where scrubbing changed nothing: scrubbedCopy). Returns how many it scrubbed.
 */
export async function rescrubMessages (
  db: Queryable,
  scrub: (text: string) => string,
  scrubberVersion: number,
  batch = 500
): Promise<number> {
  const write = async (rows: Array<{ id: string, content: string }>) => await db.query(
    `UPDATE messages SET search_text = v.text FROM unnest($1::bigint[], $2::text[]) AS v(id, text)
     WHERE messages.id = v.id`,
    [rows.map(row => row.id), rows.map(row => scrubbedCopy(row.content, scrub))])
  const { rows: [scrubbed] } = await db.query<{ version: number }>(
    "SELECT (value #>> '{}')::int AS version FROM app_state WHERE key = 'search_text_scrubber'")
  if ((scrubbed?.version ?? 1) >= scrubberVersion) return 0
  let filled = 0
  // Rows written from now on are scrubbed by these rules already: the walk ends at the last id now.
  const { rows: [last] } = await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM messages')
  for (let after = '0'; ;) {
    const { rows } = await db.query<{ id: string, content: string }>(
      'SELECT id::text AS id, content FROM messages WHERE id > $1::bigint AND id <= $2::bigint ORDER BY id LIMIT $3',
      [after, last!.id, batch])
    if (rows.length === 0) break
    await write(rows)
    filled += rows.length
    after = rows[rows.length - 1]!.id
  }
  await db.query(
    `INSERT INTO app_state (key, value) VALUES ('search_text_scrubber', to_jsonb($1::int))
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [scrubberVersion])
  return filled
}
