// A chat turn as the API takes and gives it (POST /v1/chat), written once: the route validates
// and documents with these schemas, and the chat page reads its types from them.
import Type, { type Static } from 'typebox'
import {
  GenerationSchema, MESSAGE_MAX_CHARACTERS, ReplyKindSchema, SourceSchema
} from '../transcript/transcript-schemas.js'
import { NOT_BLANK_NO_NUL, SessionId, UserId } from '../http/schemas.js'

export const ChatRequest = Type.Object({
  message: Type.String({
    minLength: 1,
    maxLength: MESSAGE_MAX_CHARACTERS,
    pattern: NOT_BLANK_NO_NUL,
    description: 'A question, or a command such as /help; not only white space'
  }),
  session_id: Type.Optional(SessionId),
  user_id: Type.Optional(UserId)
}, { additionalProperties: false })

export const ChatResponse = Type.Object({
  session_id: { ...SessionId, description: 'Send it back to continue this conversation' },
  turn: Type.Integer({
    description: 'Number of this turn in the session; 0 after /reset, whose session has no turns yet'
  }),
  kind: ReplyKindSchema,
  reply: Type.String({ description: 'The reply as stored in the transcript' }),
  command: Type.Optional(Type.String()),
  sources: Type.Array(SourceSchema),
  generation: Type.Optional({
    ...GenerationSchema,
    description: 'How an answer was written, when a language model is configured'
  }),
  trace_id: Type.Optional(Type.String({
    pattern: '^[0-9a-f]{32}$',
    description: 'The trace of this turn, to paste into Jaeger; absent when telemetry is off'
  }))
})
export type ChatResponseType = Static<typeof ChatResponse>
