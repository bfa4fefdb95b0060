// The refusal door (src/http/refusal-door.ts) in front of Fastify's request handler, so that the
// turns refused past capacity cost a third of what they cost through Fastify. The plugin that
// refuses them guards its routes with it (plugins/load-shedding.ts); those that set headers on every
// response, log it, count it and watch it give the door their headers and listen to its refusals,
// as they hook Fastify's responses. Registered before them all.
import fp from 'fastify-plugin'
import { RefusalDoor } from '../src/http/refusal-door.js'

declare module 'fastify' {
  interface FastifyInstance {
    refusalDoor: RefusalDoor
  }
}

export default fp(async function refusalDoorPlugin (app) {
  const door = new RefusalDoor({ trustProxy: app.config.TRUST_PROXY })
  door.install(app.server)
  app.decorate('refusalDoor', door)
}, { name: 'refusal-door', dependencies: ['config'] })
