// A session as the API shows it: GET /v1/sessions/:id, a user's sessions, and a user's export.
import Type, { type Static } from 'typebox'
import { SessionId } from '../http/schemas.js'
import { SESSION_STATUSES, type Session } from './session-manager.js'

export const SessionRecord = Type.Object({
  session_id: SessionId,
  user_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Enum(SESSION_STATUSES, {
    description: 'replaced: ended to make room for a new session (its user past MAX_SESSIONS_PER_USER, ' +
      'or the service at MAX_ACTIVE_SESSIONS while it was idle)'
  }),
  turns: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  last_activity_at: Type.String({ format: 'date-time' }),
  expires_at: Type.Union(
    [Type.String({ format: 'date-time' }), Type.Null()],
    { description: 'null once the session has ended' }
  ),
  ended_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})
export type SessionRecordType = Static<typeof SessionRecord>

export function sessionRecord (session: Session): SessionRecordType {
  return {
    session_id: session.id,
    user_id: session.userId,
    status: session.status,
    turns: session.turnCount,
    created_at: session.createdAt.toISOString(),
    last_activity_at: session.lastActivityAt.toISOString(),
    expires_at: session.status === 'active' ? session.expiresAt.toISOString() : null,
    ended_at: session.endedAt?.toISOString() ?? null
  }
}
