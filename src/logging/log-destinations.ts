// The main thread's side of the log files: starts the router in pino's worker thread, keeps the
// state each file last reported (for the status report), passes on how many log records it could
// not export, and closes them so no line is lost.
import { fileURLToPath } from 'node:url'
import { pino, type DestinationStream } from 'pino'
import type { DestinationReport } from './file-destination.js'
import { LineBatch } from './line-batch.js'
import type { LogFamily } from './log-files.js'
import type { LogRouterOptions } from './log-router.js'

export interface LogDestinations {
  /** What loggers write to. */
  stream: DestinationStream
  /** Each file's last reported state; empty without a log directory. */
  status: () => Partial<Record<LogFamily, DestinationReport>>
  /** Blocks until the worker has taken every line written so far: for a crash, which may not live to close(). */
  flushSync: () => void
  /** Flushes and closes every destination; resolves once the worker has written all lines. */
  close: () => Promise<void>
}

const ROUTER = fileURLToPath(new URL('./log-router.js', import.meta.url))
// A line reaches the worker at most this late: what a process killed outright (SIGKILL, the
// out-of-memory killer) may lose on top of what the worker had not yet written. Each hand-over
// costs the worker a wake-up and a write to every file whatever its size (DEVELOPING.md, "Lines go
// to the worker in batches", says what 10, 50 and 200 ms cost).
const BATCH = { maxWaitMs: 50, maxChars: 64 * 1024 }

/** Opens the router with `options`; onLogRecordsLost hears how many log records it could not export. */
export function openLogDestinations (
  options: LogRouterOptions,
  onLogRecordsLost?: (count: number) => void
): LogDestinations {
  // The worker makes log records itself (src/telemetry/log-records.ts): the SDK's preload starts
  // nothing in it (otel/instrumentation.ts).
  const transport = pino.transport<LogRouterOptions>({ target: ROUTER, options })
  const batch = new LineBatch(transport, BATCH)
  // On the way out, process.exit() included, pino hands what thread-stream holds to the worker
  // (its 'beforeExit' and 'exit' listeners): the lines still in the batch must be there first.
  const handOver = (): void => { batch.handOver() }
  process.prependListener('beforeExit', handOver).prependListener('exit', handOver)
  const states: Partial<Record<LogFamily, DestinationReport>> = {}
  transport.on('destination', (report: DestinationReport) => { states[report.family] = report })
  if (onLogRecordsLost !== undefined) transport.on('log-records-lost', onLogRecordsLost)
  // Only the worker itself dying lands here (each file's failures are handled inside it).
  transport.on('error', (error: Error) => { process.stderr.write(`parley: the log writer failed: ${error.message}\n`) })
  let closing: Promise<void> | undefined
  return {
    stream: batch,
    status: () => ({ ...states }),
    flushSync: () => {
      batch.handOver()
      const worker = transport as typeof transport & { flushSync: () => void }
      try {
        worker.flushSync()
      } catch {} // a worker that has died has nothing left to take
    },
    close: () => {
      closing ??= new Promise<void>(resolve => {
        const worker = transport as typeof transport & { ref: () => void }
        // The worker is unref'd so it never holds a process open; while it writes out the last
        // lines something must, or a process with nothing else to do exits first, with code 13 for
        // an unsettled top-level await (a start-up failure did). ref() is not enough while the
        // worker is still starting, so a timer holds the process until the worker has closed.
        const holdOpen = setInterval(() => {}, 1000)
        worker.once('close', () => { clearInterval(holdOpen); resolve() })
        batch.handOver()
        process.off('beforeExit', handOver).off('exit', handOver)
        worker.ref()
        worker.end()
      })
      return closing
    }
  }
}
