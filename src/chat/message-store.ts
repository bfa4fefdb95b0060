// Both sides of every turn (stored with the turn by the session manager, in one statement), read
// back so a conversation can be replayed and analysed later; and the feedback on answers.
import type { Database, Queryable } from '../db/database.js'
import Type, { type Static } from 'typebox'
import type { SearchHit } from '../search/search-engine.js'

/** The longest message a user may send (POST /v1/chat): what the console may read of one whole. */
export const MESSAGE_MAX_CHARACTERS = 4000

export const ReplyKindSchema = Type.Union([Type.Literal('answer'), Type.Literal('no_answer'), Type.Literal('smalltalk'), Type.Literal('command'), Type.Literal('command_error')],
  { description: 'no_answer: the knowledge base does not answer it; smalltalk: a greeting, thanks or goodbye' })
export type ReplyKind = Static<typeof ReplyKindSchema>

/** A document a reply drew on, as the API and the transcript show it. */
export const SourceSchema = Type.Object({
  doc_id: Type.String(),
  title: Type.String(),
  score: Type.Number({ description: 'BM25 score: higher is better; comparable only within one search' }),
  snippet: Type.String()
})
export type Source = Static<typeof SourceSchema>

/** Why a question was answered or refused: the answer decision's confidence, its threshold and the measures it read (src/search/answer-decision.ts). */
export const DecisionSchema = Type.Object({
  confidence: Type.Number(),
  threshold: Type.Number()
}, { additionalProperties: Type.Number(), description: 'The answer decision: its confidence, the threshold it was held to, and the measures it read (coverage, unseen, mutual, relative_score...)' })
export type Decision = Static<typeof DecisionSchema>

/** How an answer was written, when a language model is configured: by it, or from the passage after it failed. */
export const GenerationSchema = Type.Object({
  by: Type.Union([Type.Literal('model'), Type.Literal('extractive')], { description: 'extractive: the model failed (fallback_reason says why) and the passage itself is the answer' }),
  model: Type.String(),
  prompt: Type.String({ description: 'The prompt\'s id@version' }),
  fallback_reason: Type.Optional(Type.String()),
  input_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  output_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  cost_usd: Type.Optional(Type.Number({ minimum: 0, description: 'From LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK' })),
  usage_estimated: Type.Optional(Type.Boolean({ description: 'The tokens were counted from characters (four a token): the endpoint sent no usage, for a call given up, cut off, or to an endpoint that never sends it' })),
  time_to_first_chunk_ms: Type.Optional(Type.Number({ minimum: 0 })),
  response_id: Type.Optional(Type.String({ description: 'The provider\'s id of the answer (gen_ai.response.id)' })),
  span_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$', description: 'The model call\'s span in the turn\'s trace; a rating of the answer is recorded under it' }))
})
export type Generation = Static<typeof GenerationSchema>

/** One message as the API shows it (GET /v1/sessions/:id/messages, and a user's export). */
export const MessageRecord = Type.Object({
  turn: Type.Integer(),
  role: Type.Union([Type.Literal('user'), Type.Literal('bot')]),
  content: Type.String(),
  kind: Type.Union([ReplyKindSchema, Type.Null()]),
  command: Type.Union([Type.String(), Type.Null()]),
  sources: Type.Array(SourceSchema),
  context_turn: Type.Union([Type.Integer(), Type.Null()], {
    description: 'For the reply to a follow-up question: the turn whose question it was searched with'
  }),
  created_at: Type.String({ format: 'date-time' })
})
export type MessageRecordType = Static<typeof MessageRecord>

/** A rating of an answer, as a user's export shows it. */
export const FeedbackRecord = Type.Object({
  turn: Type.Integer({ description: 'The turn rated' }),
  rating: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  comment: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' })
})
export type FeedbackRecordType = Static<typeof FeedbackRecord>

/** A search hit as a reply's source, in the API's field names. */
export function toSource (hit: SearchHit): Source {
  return { doc_id: hit.docId, title: hit.title, score: hit.score, snippet: hit.snippet }
}

export interface StoredMessage {
  turn: number
  role: 'user' | 'bot'
  content: string
  kind: ReplyKind | null
  command: string | null
  sources: Source[]
  /** For a follow-up question's reply: the turn whose question it was searched with. */
  contextTurn: number | null
  createdAt: Date
}

type MessageRow = Omit<StoredMessage, 'createdAt' | 'contextTurn'> & { context_turn: number | null, created_at: Date }

/** A user's message, as written and scrubbed (search_text: null where scrubbing changed nothing, or before it was filled). */
export interface UserText { content: string, scrubbed: string | null }

/** A session's messages and ratings, as a user's export shows them. */
export interface Transcript { messages: MessageRecordType[], feedback: FeedbackRecordType[] }

export class MessageStore {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  /** Both messages of up to `turns` turns before turn `before` (the latest turns if omitted), oldest first. */
  async list (sessionId: string, options: { turns: number, before?: number }): Promise<StoredMessage[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT turn, role, content, kind, command, sources, context_turn, created_at FROM messages
       WHERE session_id = $1 AND turn IN (
         SELECT DISTINCT turn FROM messages WHERE session_id = $1 AND turn < $2 ORDER BY turn DESC LIMIT $3)
       ORDER BY turn, role DESC`,
      [sessionId, options.before ?? 2_147_483_647, options.turns])
    return rows.map(({ created_at: createdAt, context_turn: contextTurn, ...row }) => ({ ...row, contextTurn, createdAt }))
  }

  /**
   * The session's latest question that was searched, with the question it was itself searched
   * with when it was a follow-up, so that a chain of follow-ups keeps its topic.
   */
  async previousQuestion (sessionId: string): Promise<{ turn: number, text: string } | undefined> {
    const { rows } = await this.db.query<{ turn: number, content: string, context: string | null }>(
      `SELECT q.turn, q.content, c.content AS context
       FROM messages b
       JOIN messages q ON q.session_id = b.session_id AND q.turn = b.turn AND q.role = 'user'
       LEFT JOIN messages c ON c.session_id = b.session_id AND c.turn = b.context_turn AND c.role = 'user'
       WHERE b.session_id = $1 AND b.role = 'bot' AND b.kind IN ('answer', 'no_answer')
       ORDER BY b.turn DESC LIMIT 1`, [sessionId])
    const row = rows[0]
    return row === undefined ? undefined : { turn: row.turn, text: row.context === null ? row.content : `${row.context} ${row.content}` }
  }

  /** The turn of the latest knowledge-base answer in a session, the one /feedback rates. */
  /** The latest turn that answered (or could not answer) a question: what /feedback rates. */
  async lastAnswer (sessionId: string): Promise<{ turn: number, traceId: string | null, generation: Generation | null } | undefined> {
    const { rows } = await this.db.query<{ turn: number, trace_id: string | null, generation: Generation | null }>(
      `SELECT turn, trace_id, generation FROM messages WHERE session_id = $1 AND role = 'bot' AND kind IN ('answer', 'no_answer')
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
      this.db.query<{ session_id: string, turn: number, rating: 'up' | 'down', comment: string | null, created_at: Date }>(
        `SELECT session_id::text AS session_id, turn, rating, comment, created_at
         FROM feedback WHERE session_id = ANY($1::uuid[]) ORDER BY session_id, turn`, [sessionIds])
    ])
    for (const { session_id: sessionId, context_turn: contextTurn, created_at: createdAt, ...row } of messages.rows) {
      const message = { ...row, context_turn: contextTurn, created_at: new Date(createdAt).toISOString() }
      bySession.get(sessionId)?.messages.push(message)
    }
    for (const { session_id: sessionId, created_at: createdAt, ...row } of feedback.rows) {
      bySession.get(sessionId)?.feedback.push({ ...row, created_at: new Date(createdAt).toISOString() })
    }
    return bySession
  }

  /** Records or replaces the rating of one answer: users may change their mind. */
  async recordFeedback (tx: Queryable, feedback: { sessionId: string, turn: number, rating: 'up' | 'down', comment: string | null, at: Date }): Promise<void> {
    await tx.query(
      `INSERT INTO feedback (session_id, turn, rating, comment, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id, turn) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, created_at = excluded.created_at`,
      [feedback.sessionId, feedback.turn, feedback.rating, feedback.comment, feedback.at])
  }
}
