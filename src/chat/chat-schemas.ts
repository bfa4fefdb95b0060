// A chat turn as the API takes and gives it (POST /v1/chat), and what the chat page reads beside
// it (a session's messages, a source document whole), written once: the routes validate and
// document with these schemas, and the chat page reads its types from them.
import Type, { type Static } from 'typebox'
import {
  GenerationSchema, MESSAGE_MAX_CHARACTERS, MessageRecord, ReplyKindSchema, SourceSchema
} from '../transcript/transcript-schemas.js'
import { NOT_BLANK_NO_NUL, SessionId, UserId } from '../http/schemas.js'

/**
 * How an answer without a language model ends: this, then its source's title, for whoever reads
 * the reply alone. The chat page, which lists the source under the reply, takes that line off; it
 * imports the server's code as types only, so its copy is typed `SourceLine` and cannot drift.
 */
export const SOURCE_LINE = '\n\nSource: '
export type SourceLine = typeof SOURCE_LINE

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
export type ChatRequestType = Static<typeof ChatRequest>

export const ChatResponse = Type.Object({
  session_id: { ...SessionId, description: 'Send it back to continue this conversation' },
  turn: Type.Integer({
    description: 'Number of this turn in the session; 0 after /reset, whose session has no turns yet'
  }),
  kind: ReplyKindSchema,
  reply: Type.String({ description: 'The reply as stored in the transcript' }),
  command: Type.Optional(Type.String()),
  sources: Type.Array(SourceSchema),
  confidence: Type.Optional(Type.Number({
    minimum: 0,
    maximum: 1,
    description: 'For a question (answer or no_answer): the answer decision\'s confidence that the best ' +
      'passage answers it; at ANSWER_MIN_CONFIDENCE (0.5 by default) or above, the reply is an answer'
  })),
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

/** GET /v1/sessions/:id/messages */
export const MessagesPage = Type.Object({
  messages: Type.Array(MessageRecord),
  next_before: Type.Union([Type.Integer(), Type.Null()])
})
export type MessagesPageType = Static<typeof MessagesPage>

/** GET /v1/sources/:id */
export const SourceDocument = Type.Object({
  doc_id: Type.String(),
  title: Type.String(),
  text: Type.String({ description: 'The whole document, as imported (Markdown or plain text)' }),
  url: Type.Union([Type.String(), Type.Null()], {
    description: 'Where the document lives on the team\'s own site: its metadata.url, when that is an http(s) address'
  })
})
export type SourceDocumentType = Static<typeof SourceDocument>
