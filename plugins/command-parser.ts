// Exposes the (pure) command parser and its help text as a decorator, so the chat service
// receives them as an explicit input rather than importing them.
import fp from 'fastify-plugin'
import { helpText, parseMessage } from '../src/commands/command-parser.js'

declare module 'fastify' {
  interface FastifyInstance {
    commandParser: { parse: typeof parseMessage, help: typeof helpText }
  }
}

export default fp(async function commandParserPlugin (app) {
  app.decorate('commandParser', { parse: parseMessage, help: helpText })
}, { name: 'command-parser' })
