// Assembles the chat turn from the session manager, command parser and search engine.
import fp from 'fastify-plugin'
import { ChatService } from '../src/chat/chat-service.js'
import { MessageStore } from '../src/chat/message-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    chatService: ChatService
    messageStore: MessageStore
  }
}

export default fp(async function chatServicePlugin (app) {
  const messageStore = new MessageStore(app.db)
  app.decorate('messageStore', messageStore)
  app.decorate('chatService', new ChatService({
    db: app.db,
    sessionManager: app.sessionManager,
    messageStore,
    searchEngine: app.searchEngine,
    commandParser: app.commandParser,
    privacy: app.logPrivacy,
    instruments: app.metrics,
    minAnswerScore: app.config.SEARCH_MIN_SCORE,
    now: app.clock
  }))
}, { name: 'chat-service', dependencies: ['database', 'session-manager', 'command-parser', 'search-engine', 'request-logging', 'metrics'] })
