// What an erasure answers and what a user's export holds, as TypeBox schemas: the routes validate
// and serialise with them, and the erase CLI reads the same report.
import Type, { type Static } from 'typebox'
import { FeedbackRecord, MessageRecord } from '../transcript/transcript-schemas.js'
import { SavedQuestionSchema } from '../evaluation/evaluation-schemas.js'
import { SessionId, UserId } from '../http/schemas.js'
import { SessionRecord } from '../sessions/session-record.js'
import { TurnTraceSummarySchema } from '../turn-traces/turn-traces-of.js'

export const ErasureBody = Type.Object({
  user_id: Type.Optional(UserId),
  session_id: Type.Optional(SessionId)
}, { additionalProperties: false, description: 'Exactly one of user_id and session_id' })
export type ErasureBodyType = Static<typeof ErasureBody>

const count = (description: string) => Type.Integer({ minimum: 0, description })
export const ErasedCountsSchema = Type.Object({
  sessions: count('Sessions deleted'),
  messages: count('Messages deleted, both sides of every turn'),
  feedback: count('Ratings deleted'),
  turn_traces: count('Turn traces deleted: the turns\' spans and log lines'),
  evaluation_questions: count('Saved test questions the console took from these conversations, deleted'),
  evaluation_runs: count(
    'Accuracy runs whose results quoted one of those questions, or the user\'s words, which now read "[erased]"')
})
export type ErasedCounts = Static<typeof ErasedCountsSchema>

export const ErasureReportSchema = Type.Object({
  subject: Type.Union([Type.Literal('user'), Type.Literal('session')]),
  user_pseudonym: Type.Union([Type.String(), Type.Null()], {
    description: 'The user\'s pseudonym (u_…), as the logs and the audit trail name them; ' +
      'for a session, its user\'s, if it had one'
  }),
  session_id: Type.Union([SessionId, Type.Null()], { description: 'The session erased (subject session)' }),
  erased_at: Type.String({ format: 'date-time' }),
  erased: ErasedCountsSchema
})
export type ErasureReport = Static<typeof ErasureReportSchema>

export const UserDataQuery = Type.Object({ user_id: UserId }, { additionalProperties: false })

export const ExportedSessionSchema = Type.Object({
  ...SessionRecord.properties,
  messages: Type.Array(MessageRecord, { description: 'Both sides of every turn, oldest first' }),
  feedback: Type.Array(FeedbackRecord, { description: 'The user\'s ratings of answers' })
})

export const UserDataExportSchema = Type.Object({
  user_id: UserId,
  user_pseudonym: Type.String({ description: 'How the logs and the audit trail name this user' }),
  exported_at: Type.String({ format: 'date-time' }),
  sessions: Type.Array(ExportedSessionSchema, {
    description: 'Every session of the user, most recently used first, with its transcript and ratings'
  }),
  turn_traces: Type.Array(TurnTraceSummarySchema, {
    description: 'When each of the user\'s turns ran, how long it took and how it ended ' +
      '(their spans and log lines are left out: they describe the service, and quote the messages above)'
  }),
  evaluation_questions: Type.Array(SavedQuestionSchema, {
    description: 'Saved test questions the console took from the user\'s messages (scrubbed)'
  })
})
export type UserDataExport = Static<typeof UserDataExportSchema>
