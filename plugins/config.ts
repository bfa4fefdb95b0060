// Makes the validated configuration and the clock available to every plugin. The clock is
// injectable so tests can move time forward for session expiry.
import fp from 'fastify-plugin'
import type { Config } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    clock: () => Date
  }
}

export default fp<{ config: Config, clock?: () => Date }>(async function configPlugin (app, options) {
  app.decorate('config', options.config)
  app.decorate('clock', options.clock ?? (() => new Date()))
}, { name: 'config' })
