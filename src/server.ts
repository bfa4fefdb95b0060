// Starts the API and shuts it down gracefully: on SIGTERM/SIGINT it stops accepting
// connections, lets in-flight turns finish, closes the database, then flushes telemetry and every log file.
import { resolve } from 'node:path'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { warmUpReplyDecision } from './chat/reply-decision.js'
import { ConfigError, describeConfig, loadConfig } from './config.js'
import { log, outsideAnyContext } from './logging/log-context.js'
import { setUpProcessLogging } from './logging/process-logging.js'
import { warmUpScrubber } from './logging/scrubber.js'
import { telemetry } from './telemetry/telemetry.js'
import { loadEnvFile } from './env-file.js'
import { lockLogDir } from './db/data-dir-lock.js'

loadEnvFile() // already read by the SDK preload, when there is one; reading it again changes nothing

let config
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(1)
}

// Each instance writes a log folder of its own (its audit chain above all): a second one on the
// same LOG_DIR stops here, before it writes a line there.
let releaseLogDir: (() => Promise<void>) | undefined
if (config.LOG_DIR !== '') {
  try {
    releaseLogDir = await lockLogDir(resolve(config.LOG_DIR))
  } catch (error) {
    console.error(`Parley could not start: ${(error as Error).message}`)
    process.exit(1)
  }
}

const logging = setUpProcessLogging(config)

async function exit (code: number): Promise<never> {
  await logging.close()
  await releaseLogDir?.()
  process.exit(code)
}

const app = await buildApp({
  config,
  logger: logging.logger,
  auditLog: logging.auditLog,
  logDestinations: logging.destinations
}).catch(async (error: Error) => {
  // Start-up failures (database unreachable, folder in use, unreadable seed folder…) are the
  // operator's to fix: say what on the terminal, not a stack; the log files keep the whole error.
  console.error(`Parley could not start: ${error.message}`)
  log('server', 'start', logging.logger).fatal({ err: error }, 'could not start')
  return await exit(1)
})

// Ctrl-C in a terminal signals every process of the group, npm and this one, and npm passes its
// SIGINT on: one keypress arrives twice, and close-with-grace took the second for a second Ctrl-C
// and exited 1 in the middle of the shutdown (data/parley.lock left behind). A SIGTERM to the group
// (`kill -- -<pgid>`, a supervisor stopping the job) arrives twice the same way. Both are handled below.
let stopping: { signal: 'SIGINT' | 'SIGTERM', at: number } | undefined
// An uncaught exception arrives in the context of the request that threw; the shutdown is not that request's.
const closer = closeWithGrace(
  { delay: config.SHUTDOWN_TIMEOUT * 1000, skip: ['SIGINT', 'SIGTERM'] },
  async ({ signal: received, err }) => await outsideAnyContext(async () => {
    const signal = received ?? stopping?.signal
    const started = performance.now()
    const logger = log('server', 'shutdown', app.log)
    if (err !== undefined) {
      logger.fatal({ err }, 'shutting down after a fatal error')
      // The crash's line reaches the log writer before anything else of the shutdown can hang (a
      // forced exit after SHUTDOWN_TIMEOUT can still stop the writer before it is on disk).
      logging.flushSync()
    } else {
      logger.info({ signal }, 'shutting down')
    }
    await app.close()
    logger.info({ duration_ms: Math.round(performance.now() - started) }, 'shut down')
    // Each flush has its own time limit, so that a dead collector cannot hold the exit; run side by
    // side, their limits do not add up.
    await Promise.all([telemetry.shutdown(), logging.close()])
    await releaseLogDir?.()
  })
)

// A second signal stops at once only when it comes a second or more after the first, as a person's would.
const REPEATED_SIGNAL_MS = 1000
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping === undefined) {
      stopping = { signal, at: performance.now() }
      closer.close()
    } else if (performance.now() - stopping.at >= REPEATED_SIGNAL_MS) {
      log('server', 'shutdown', app.log).error(`second ${signal}, exiting`)
      process.exit(1)
    }
  })
}

// Before the first request rather than in one: what the scrubber and the decision load on first use
// (the name tagger alone is a few tenths of a second) would hold every turn in flight.
warmUpScrubber()
warmUpReplyDecision(app.searchEngine)

try {
  await app.listenOnSockets({ port: config.PORT, host: config.HOST })
  log('server', 'start', app.log).info({
    config: describeConfig(config),
    database: app.db.engine,
    log_dir: logging.logDir,
    telemetry: telemetry.describe() ?? 'off'
  }, 'parley started')
  logging.startJanitor()
} catch (error) {
  const { code } = error as NodeJS.ErrnoException
  // The error's own message names the address, which the logs' scrubbing turns into [IP]: say it plainly.
  const why = code === 'EADDRINUSE'
    ? `port ${config.PORT} on ${config.HOST} is already in use, by another Parley or another program: ` +
      'stop it, or set PORT to a free port.'
    : code === 'EACCES'
      ? `this user may not listen on port ${config.PORT} on ${config.HOST}: ` +
        'use a port above 1023, or set HOST to an address of this machine.'
      : code === 'EADDRNOTAVAIL'
        ? `${config.HOST} is not an address of this machine: ` +
          'set HOST to one (127.0.0.1, or 0.0.0.0 for every interface).'
        : (error as Error).message
  console.error(`Parley could not start: ${why}`)
  log('server', 'start', app.log)
    .fatal({ err: error, host: config.HOST, port: config.PORT, reason: why }, 'could not start listening')
  await app.close()
  await exit(1)
}
