// The server side of `npm run bench`, forked by bench/chat.ts: a process of its own, as in
// production, so autocannon and the server do not share (and slow) one event loop.
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/** The baseline: the same route and JSON bodies, with nothing behind them. */
function helloWorld (): FastifyInstance {
  const app = Fastify()
  app.post('/v1/chat', async () => ({ hello: 'world' }))
  return app
}

const send = async (message: { port: number } | { error: string }) => await new Promise(resolve => process.send?.(message, resolve))

try {
  const env = process.env.PARLEY_BENCH_ENV
  const app = env === undefined ? helloWorld() : await buildApp({ config: loadConfig(JSON.parse(env)) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  // The parent disconnects when it is done, or when it dies: either way, close cleanly.
  process.once('disconnect', () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
  await send({ port: (app.server.address() as AddressInfo).port })
} catch (error) {
  // Exiting at once: a half-started app may hold handles that would keep the process alive.
  await send({ error: (error as Error).message })
  process.exit(1)
}
