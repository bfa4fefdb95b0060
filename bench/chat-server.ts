// The server side of `npm run bench`, `npm run bench:logging` and `npm run bench:telemetry`, forked
// by bench/chat-load.ts: a process of its own, as in production, so autocannon and the server do
// not share (and slow) one event loop. With otel/instrumentation.js preloaded (bench:telemetry),
// the SDK is flushed on the way out, as src/server.ts does.
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { setUpProcessLogging, type ProcessLogging } from '../src/logging/process-logging.js'
import { telemetry } from '../src/telemetry/telemetry.js'

/** The baseline: the same route and JSON bodies, with nothing behind them. */
function helloWorld (): FastifyInstance {
  const app = Fastify()
  app.post('/v1/chat', async () => ({ hello: 'world' }))
  return app
}

const send = async (message: { port: number } | { error: string } | { profiled: string } | { stalls: number }) => await new Promise(resolve => process.send?.(message, resolve))

// bench/profile.ts profiles the measured run only (not start-up, or PGlite's initdb), through the
// inspector's sampling profiler on this thread: what `node --cpu-prof` writes, over a chosen span.
let profiler: Session | undefined
process.on('message', (message: { profile?: 'start' | 'stop', path?: string }) => {
  const done = async (): Promise<void> => {
    if (message.profile === 'start') {
      profiler = new Session()
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    } else if (message.profile === 'stop' && profiler !== undefined && message.path !== undefined) {
      const { profile } = await profiler.post('Profiler.stop')
      await writeFile(message.path, JSON.stringify(profile))
      profiler.disconnect()
      profiler = undefined
    }
  }
  if (message.profile !== undefined) done().then(() => send({ profiled: message.profile! }), error => send({ error: (error as Error).message }))
})

// bench:load reads each step's longest event-loop stall: whatever holds this thread (an embedded
// database's statement, a collection) holds every request that arrives meanwhile, refusals too.
const STALL_RESOLUTION_MS = 5
let stalls: IntervalHistogram | undefined
process.on('message', (message: { stalls?: 'start' | 'stop' }) => {
  if (message.stalls === undefined) return
  const longest = stalls === undefined ? NaN : Math.max(0, stalls.max / 1e6 - STALL_RESOLUTION_MS)
  stalls?.disable()
  stalls = undefined
  if (message.stalls === 'start') {
    stalls = monitorEventLoopDelay({ resolution: STALL_RESOLUTION_MS })
    stalls.enable()
  }
  send({ stalls: message.stalls === 'start' ? 0 : longest }).catch(() => {})
})

try {
  const env = process.env.PARLEY_BENCH_ENV
  let app: FastifyInstance
  let logging: ProcessLogging | undefined
  if (env === undefined) {
    app = helloWorld()
  } else {
    const config = loadConfig(JSON.parse(env))
    // The logging benchmark measures production's logging, wired as src/server.ts wires it.
    if (process.env.PARLEY_BENCH_PROCESS_LOGGING === '1') logging = setUpProcessLogging(config)
    app = await buildApp({ config, logger: logging?.logger, auditLog: logging?.auditLog })
  }
  // The hello world has no listen-sockets plugin: it listens as a plain Fastify app does.
  if (env === undefined) await app.listen({ host: '127.0.0.1', port: 0 })
  else await app.listenOnSockets({ host: '127.0.0.1', port: 0 })
  // The parent disconnects when it is done, or when it dies: either way, close cleanly, and
  // flush telemetry and the log files before exiting, since the parent counts what they hold once
  // we are gone. (telemetry.shutdown() resolves at once without our preload.)
  process.once('disconnect', () => {
    app.close().then(async () => await telemetry.shutdown()).then(async () => await logging?.close()).then(() => process.exit(0), () => process.exit(1))
  })
  await send({ port: (app.server.address() as AddressInfo).port })
} catch (error) {
  // Exiting at once: a half-started app may hold handles that would keep the process alive.
  await send({ error: (error as Error).message })
  process.exit(1)
}
