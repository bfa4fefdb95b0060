// POST /v1/chat: one turn of a conversation, answered as one JSON object, or, for a client that
// asks for text/event-stream, as server-sent events while a language model writes the reply.
import { PassThrough } from 'node:stream'
import type { ServerResponse } from 'node:http'
import type { FastifyError } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { ChatRequest, ChatResponse, type ChatResponseType } from '../../src/chat/chat-schemas.js'
import type { TurnInput, TurnResult } from '../../src/chat/chat-service.js'
import { withProblems } from '../../src/http/schemas.js'
import { problemBody } from '../../src/http/problem.js'
import { currentTraceId } from '../../src/telemetry/spans.js'

const EVENT_STREAM = 'text/event-stream'
const ChatEvents = Type.String({
  description: 'With Accept: text/event-stream: `delta` events ({"text"}) as the reply is written, ' +
    'then one `done` event (the JSON response above: its reply is the one stored, with the sources named, ' +
    'and replaces what the deltas showed, as a model\'s answer that fails a check falls back to the passage), ' +
    'or one `error` event (a problem) if the turn failed after the stream began; nothing of such a turn is stored.'
})

const chatRoutes: FastifyPluginAsyncTypebox = async function (app) {
  app.post('/v1/chat', {
    config: { usesDatabase: true, chatTurn: true },
    preHandler: app.chatLimits,
    onRequest: app.chatAccess,
    schema: {
      tags: ['chat'],
      summary: 'Send a message; without session_id a new session starts',
      body: ChatRequest,
      response: withProblems({
        200: {
          content: { 'application/json': { schema: ChatResponse }, [EVENT_STREAM]: { schema: ChatEvents } }
        }
      }, 401, 404, 409, 413, 415, 429)
    }
  }, async (request, reply) => {
    const { message, session_id: sessionId, user_id: userId } = request.body
    // A caller that goes away stops the model writing its answer (the turn is still stored, marked).
    const input: TurnInput = {
      message,
      sessionId,
      userId,
      // Who opens a session, when this turn opens one (see SessionManager.create).
      openedBy: sessionId === undefined ? app.sessionOpener(request) : undefined,
      signal: app.answerWriter === undefined ? undefined : callerGone(reply.raw)
    }
    const traceId = currentTraceId()
    const respond = (result: TurnResult): ChatResponseType =>
      ({
        session_id: result.sessionId,
        turn: result.turn,
        kind: result.kind,
        reply: result.reply,
        command: result.command,
        sources: result.sources,
        confidence: result.confidence,
        generation: result.generation,
        trace_id: traceId
      })
    // The turn waits for admission, and hands its place on while a model writes (TurnAdmission).
    const answer = async (): Promise<TurnResult> =>
      await app.turnAdmission.run(async outside => await app.chatService.handleTurn({ ...input, outside }))
    if (!request.headers.accept?.includes(EVENT_STREAM)) return respond(await answer())

    // Until the first piece of text, a failure is an ordinary problem response; after it, the stream's last event.
    const events = new PassThrough()
    const send = (event: string, data: unknown): void => {
      if (!events.destroyed) events.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    let streaming = false
    const firstText = new Promise<void>(resolve => {
      input.onText = text => { streaming = true; send('delta', { text }); resolve() }
    })
    const turn = answer()
    await Promise.race([turn, firstText])
    turn.then(result => {
      if (!streaming) send('delta', { text: result.reply })
      send('done', respond(result))
    }, (error: FastifyError) => {
      send('error', problemBody(request, app.problemOf(error, request, reply)))
    }).finally(() => events.end())
    // Proxies must pass each event on as it comes rather than hold the response back.
    return reply
      .type(`${EVENT_STREAM}; charset=utf-8`)
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(events)
  })
}

function callerGone (response: ServerResponse): AbortSignal {
  const gone = new AbortController()
  response.once('close', () => { if (!response.writableFinished) gone.abort() })
  return gone.signal
}

export default chatRoutes
