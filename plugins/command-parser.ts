// Exposes the (pure) command parser and its help text to routes, so the HTTP layer can
// describe the commands without importing domain internals.
import fp from 'fastify-plugin'
import { COMMANDS, helpText, parseMessage } from '../src/commands/command-parser.js'

declare module 'fastify' {
  interface FastifyInstance {
    commandParser: { parse: typeof parseMessage, help: typeof helpText, commands: typeof COMMANDS }
  }
}

export default fp(async function commandParserPlugin (app) {
  app.decorate('commandParser', { parse: parseMessage, help: helpText, commands: COMMANDS })
}, { name: 'command-parser' })
