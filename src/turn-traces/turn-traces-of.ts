// The turn traces of given sessions or of one user, as an erasure deletes them, a user's export
// lists them and retention deletes them with their conversations. A turn trace is tied to its
// session, and to its user's pseudonym when the turn named one: a user's turn that failed before
// its session was stored has only the latter.
import Type, { type Static } from 'typebox'
import type { Queryable } from '../db/database.js'
import { TurnPartsSchema } from './turn-trace.js'

/** Whose turn traces: sessions (ids in lower case), and a user by pseudonym. */
export interface TurnTracesOf {
  sessionIds: readonly string[]
  userPseudonym?: string
}

/** What a user's export says of a turn's trace: when and how it went, never its spans or log lines. */
export const TurnTraceSummarySchema = Type.Object({
  trace_id: Type.String(),
  session_id: Type.Union([Type.String(), Type.Null()]),
  turn: Type.Union([Type.Integer(), Type.Null()], { description: 'Null for a turn that failed before it was stored' }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  status_code: Type.Integer(),
  started_at: Type.String({ format: 'date-time' }),
  duration_ms: Type.Number(),
  parts: Type.Union([TurnPartsSchema, Type.Null()])
})
export type TurnTraceSummary = Static<typeof TurnTraceSummarySchema>

const WHERE = 't.session_id = ANY($1::uuid[]) OR t.user_pseudonym = $2::text'
const args = (of: TurnTracesOf): unknown[] => [of.sessionIds, of.userPseudonym ?? null]

/** Deletes the turn traces of these sessions and of this user; returns how many. */
export async function deleteTurnTraces (db: Queryable, of: TurnTracesOf): Promise<number> {
  if (of.sessionIds.length === 0 && of.userPseudonym === undefined) return 0
  const { rowCount } = await db.query(`DELETE FROM turn_traces t WHERE ${WHERE}`, args(of))
  return rowCount
}

/** The turn traces of these sessions and of this user, oldest first, without their spans and log lines. */
export async function turnTraceSummaries (db: Queryable, of: TurnTracesOf): Promise<TurnTraceSummary[]> {
  if (of.sessionIds.length === 0 && of.userPseudonym === undefined) return []
  const { rows } = await db.query<Omit<TurnTraceSummary, 'started_at'> & { started_at: Date }>(
    `SELECT t.trace_id, t.session_id::text AS session_id, t.turn, t.status, t.status_code, t.started_at, t.duration_ms,
       t.parts FROM turn_traces t WHERE ${WHERE} ORDER BY t.started_at, t.trace_id`, args(of))
  return rows.map(row => ({ ...row, started_at: new Date(row.started_at).toISOString() }))
}

/** A turn that failed before it was stored: its trace alone knows it. */
export interface FailedTurn { trace_id: string, started_at: Date, status_code: number, error: string | null }

/** The failed turns of a session, oldest first. */
export async function failedTurnsOf (db: Queryable, sessionId: string): Promise<FailedTurn[]> {
  const { rows } = await db.query<FailedTurn>(
    `SELECT trace_id, started_at, status_code, error FROM turn_traces
     WHERE session_id = $1 AND turn IS NULL AND status = 'error' ORDER BY started_at`, [sessionId])
  return rows
}
