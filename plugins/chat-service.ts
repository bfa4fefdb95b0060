// Assembles the chat turn from the session manager, command parser and search engine.
import fp from 'fastify-plugin'
import { ChatService } from '../src/chat/chat-service.js'
import { TranscriptRepository } from '../src/transcript/transcript-repository.js'
import { answeringCollections } from '../src/kb/knowledge-base.js'
import { answerWeightsFor } from '../src/search/answer-decision.js'

declare module 'fastify' {
  interface FastifyInstance {
    chatService: ChatService
    transcript: TranscriptRepository
  }
}

export default fp(async function chatServicePlugin (app) {
  const transcript = new TranscriptRepository(app.db)
  app.decorate('transcript', transcript)
  app.decorate('chatService', new ChatService({
    db: app.db,
    sessionManager: app.sessionManager,
    transcript,
    searchEngine: app.searchEngine,
    commandParser: app.commandParser,
    privacy: app.logPrivacy,
    instruments: app.metrics,
    answerWeights: { ...answerWeightsFor(app.searchEngine), threshold: app.config.ANSWER_MIN_CONFIDENCE },
    answerCollections: () => answeringCollections(app.searchEngine.collections(), app.config.KB_BUNDLED_DOCS),
    answerWriter: app.answerWriter,
    keepTrace: traceId => { app.turnTraces.keep(traceId) },
    now: app.clock
  }))
}, {
  name: 'chat-service',
  dependencies: [
    'database', 'session-manager', 'command-parser', 'knowledge-base', 'request-logging', 'metrics', 'answer-writer',
    'turn-traces'
  ]
})
