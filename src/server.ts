// Starts the API and shuts it down gracefully: on SIGTERM/SIGINT it stops accepting
// connections, lets in-flight turns finish, then closes the database.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, describeConfig, loadConfig } from './config.js'
import { setFallbackLogger } from './logging/log-context.js'
import { createLogger } from './logging/logger.js'
import { packageInfo } from './project.js'

let config
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(1)
}

const logger = createLogger({ level: config.LOG_LEVEL, service: packageInfo.name, version: packageInfo.version, env: config.NODE_ENV })
setFallbackLogger(logger)

let app
try {
  app = await buildApp({ config, logger })
} catch (error) {
  // Start-up failures (database unreachable, unreadable seed folder…) are the operator's to fix: say what, not a stack.
  console.error(`Parley could not start: ${(error as Error).message}`)
  process.exit(1)
}

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT * 1000 }, async ({ signal, err }) => {
  const started = performance.now()
  if (err !== undefined) app.log.fatal({ module: 'server', fn: 'shutdown', err }, 'shutting down after a fatal error')
  else app.log.info({ module: 'server', fn: 'shutdown', signal }, 'shutting down')
  await app.close()
  app.log.info({ module: 'server', fn: 'shutdown', duration_ms: Math.round(performance.now() - started) }, 'shut down')
})

try {
  await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info({ module: 'server', fn: 'start', config: describeConfig(config), database: app.db.engine }, 'parley started')
} catch (error) {
  app.log.fatal({ err: error }, 'could not start listening')
  await app.close()
  process.exit(1)
}
