// The logging of a server process, set up from its configuration: the log router's worker
// (stdout, the log files and, with telemetry on, log records), the application and audit loggers
// on it, and the retention janitor.
import { resolve } from 'node:path'
import type { Logger } from 'pino'
import { telemetry } from '../telemetry/telemetry.js'
import type { Config } from '../config.js'
import { packageInfo } from '../project.js'
import { setFallbackLogger } from './log-context.js'
import { openLogDestinations, type LogDestinations } from './log-destinations.js'
import { LogJanitor, retentionFromConfig } from './log-janitor.js'
import { createAuditLogger, createLogger } from './logger.js'

export interface ProcessLogging {
  logger: Logger
  auditLog: Logger
  destinations: LogDestinations
  /** Absolute log directory; undefined when LOG_DIR is empty (stdout only). */
  logDir: string | undefined
  /** Starts the retention janitor (now, then every LOG_JANITOR_INTERVAL). */
  startJanitor: () => void
  /** Hands every line written so far to the log writer before returning (see LogDestinations). */
  flushSync: () => void
  /** Stops the janitor and flushes and closes every destination. */
  close: () => Promise<void>
}

export function setUpProcessLogging (config: Config): ProcessLogging {
  const identity = { service: packageInfo.name, version: packageInfo.version, env: config.NODE_ENV }
  const logDir = config.LOG_DIR === '' ? undefined : resolve(config.LOG_DIR)
  const destinations = openLogDestinations({
    dir: logDir,
    maxSize: config.LOG_FILE_MAX_SIZE,
    frequency: config.LOG_ROTATE_FREQUENCY,
    pretty: config.NODE_ENV === 'development' && process.stdout.isTTY,
    checkIntervalMs: 2000,
    service: packageInfo.name,
    logRecords: telemetry.logRecords
  }, count => telemetry.countLost?.('log_records', count))
  const logger = createLogger({ ...identity, level: config.LOG_LEVEL, destination: destinations.stream })
  setFallbackLogger(logger)
  const janitor = logDir === undefined
    ? undefined
    : new LogJanitor({
      dir: logDir,
      retention: retentionFromConfig(config),
      compressAfterDays: config.LOG_COMPRESS_AFTER_DAYS
    })
  return {
    logger,
    auditLog: createAuditLogger({ ...identity, destination: destinations.stream }),
    destinations,
    logDir,
    startJanitor: () => janitor?.start(config.LOG_JANITOR_INTERVAL * 1000),
    flushSync: destinations.flushSync,
    close: async () => {
      await janitor?.stop()
      await destinations.close()
    }
  }
}
