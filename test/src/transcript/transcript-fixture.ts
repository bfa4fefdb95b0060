// Turns and ratings stored as a session stores them, at times counted from T0, for the tests of
// what is read from the transcript (transcript-queries, transcript-rollup).
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import type { Database } from '../../../src/db/database.js'
import { SessionManager, type TurnMessages } from '../../../src/sessions/session-manager.js'
import { TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import { manualClock } from '../../helper.js'

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
export const T0 = new Date('2026-01-15T10:00:00Z')
export const at = (ms: number): Date => new Date(T0.getTime() + ms)

export async function transcriptFixture (db: Database) {
  const clock = manualClock(at(-HOUR))
  const limits = { idleTimeoutMs: 30 * DAY, maxAgeMs: 365 * DAY, maxActive: 100, maxPerUser: 100 }
  const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits })
  const transcript = new TranscriptRepository(db)
  const open = async (userId: string | null) =>
    (await sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))).id
  /** A turn stored at T0 + ms (the clock only moves forward): an answer unless told. */
  const turn = async (ms: number, sessionId: string, userText: string, messages: Partial<TurnMessages> = {}) => {
    clock.advance(at(ms).getTime() - clock.now().getTime())
    return await sessions.recordTurn(db, sessionId, {
      userText,
      reply: `Reply to ${userText}`,
      kind: 'answer',
      command: null,
      sources: [],
      topScore: null,
      latencyMs: 5,
      ...messages
    })
  }
  const rate = async (ms: number, sessionId: string, turnNo: number, rating: 'up' | 'down', comment: string | null = null) =>
    await transcript.recordFeedback(db, { sessionId, turn: turnNo, rating, comment, at: at(ms) })
  return { open, turn, rate }
}
