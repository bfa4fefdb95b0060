// POST /v1/chat: one turn of a conversation.
import type { ServerResponse } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { GenerationSchema, ReplyKindSchema, SourceSchema } from '../../src/chat/message-store.js'
import { NOT_BLANK_NO_NUL, SessionId, UserId, withProblems } from '../../src/http/schemas.js'
import { currentTraceId } from '../../otel/spans.js'

export const ChatRequest = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 4000, pattern: NOT_BLANK_NO_NUL, description: 'A question, or a command such as /help; not only white space' }),
  session_id: Type.Optional(SessionId),
  user_id: Type.Optional(UserId)
}, { additionalProperties: false })

export const ChatResponse = Type.Object({
  session_id: { ...SessionId, description: 'Send it back to continue this conversation' },
  turn: Type.Integer({ description: 'Number of this turn in the session; 0 after /reset, whose session has no turns yet' }),
  kind: ReplyKindSchema,
  reply: Type.String(),
  command: Type.Optional(Type.String()),
  sources: Type.Array(SourceSchema),
  generation: Type.Optional({ ...GenerationSchema, description: 'How an answer was written, when a language model is configured' }),
  trace_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$', description: 'The trace of this turn, to paste into Jaeger; absent when telemetry is off' }))
})

const chatRoutes: FastifyPluginAsyncTypebox = async function (app) {
  app.post('/v1/chat', {
    config: { usesDatabase: true, rateLimit: app.newSessionLimit },
    onRequest: app.chatAccess,
    schema: {
      tags: ['chat'],
      summary: 'Send a message; without session_id a new session starts',
      body: ChatRequest,
      response: withProblems({ 200: ChatResponse }, 401, 404, 413, 415, 429)
    }
  }, async (request, reply) => {
    const { message, session_id: sessionId, user_id: userId } = request.body
    // A caller that goes away stops the model writing its answer (the turn is still stored, marked).
    const signal = app.answerWriter === undefined ? undefined : callerGone(reply.raw)
    const result = await app.turnGate.run(async () => await app.chatService.handleTurn({ message, sessionId, userId, signal }))
    return { session_id: result.sessionId, turn: result.turn, kind: result.kind, reply: result.reply, command: result.command, sources: result.sources, generation: result.generation, trace_id: currentTraceId() }
  })
}

function callerGone (response: ServerResponse): AbortSignal {
  const gone = new AbortController()
  response.once('close', () => { if (!response.writableFinished) gone.abort() })
  return gone.signal
}

export default chatRoutes
