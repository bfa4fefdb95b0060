// Starts the API and shuts it down gracefully: on SIGTERM/SIGINT it stops accepting
// connections, lets in-flight turns finish, then closes the database.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

let config
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(1)
}

let app
try {
  app = await buildApp({ config })
} catch (error) {
  // Start-up failures (database unreachable, unreadable seed folder…) are the operator's to fix: say what, not a stack.
  console.error(`Parley could not start: ${(error as Error).message}`)
  process.exit(1)
}

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT * 1000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.fatal({ err }, 'shutting down after a fatal error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

try {
  await app.listen({ port: config.PORT, host: config.HOST })
} catch (error) {
  app.log.fatal({ err: error }, 'could not start listening')
  await app.close()
  process.exit(1)
}
