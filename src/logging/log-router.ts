// The pino transport (it runs in pino's worker thread) that sends each line where it belongs:
// stdout, chatbot.log (everything), error.log (error and fatal), audit.log (audit entries,
// hash-chained) and, with telemetry on, the collector as a log record. Written here rather than
// as pino's multi-target transport because pino's targets filter on numeric levels (ours are
// labels) and one failing target takes the whole worker, and with it stdout, down; here each
// file fails, reports and recovers on its own.
import { parentPort } from 'node:worker_threads'
import build from 'pino-abstract-transport'
import { pino } from 'pino'
import pinoPretty from 'pino-pretty'
import { chainAuditLine, GENESIS, lastChainState, type ChainState } from './audit-chain.js'
import { FileDestination, type DestinationReport } from './file-destination.js'
import { LOG_FAMILIES, lineLevel, type LogFamily } from './log-files.js'
import type { LogRecordsOptions } from '../telemetry/log-records.js'

export interface LogRouterOptions {
  /** Directory of the log files; none means stdout only. */
  dir?: string
  /** pino-roll's size limit per file, e.g. "100m". */
  maxSize: string
  frequency: 'daily' | 'hourly'
  /** Human-readable stdout (development on a TTY). */
  pretty: boolean
  /** False leaves stdout out (benchmarks and tests of the files); true by default. */
  stdout?: boolean
  /** How often a failed file is retried and a healthy one checked for removal, in ms. */
  checkIntervalMs: number
  /** Stamped on the entry that records audit lines lost while audit.log could not be written. */
  service: string
  /** Set when telemetry exports log records: every line also becomes one, made here (src/telemetry/log-records.ts). */
  logRecords?: LogRecordsOptions
}

// What exporting the last log records may add to a shutdown, within the 5 s it may take in all.
const LOG_RECORDS_CLOSE_BUDGET_MS = 1000

const ERROR_LEVELS = new Set(['error', 'fatal'])

export default async function logRouter (options: LogRouterOptions): Promise<NodeJS.WritableStream> {
  const stdout = options.stdout === false
    ? undefined
    : options.pretty ? pinoPretty({ destination: 1, sync: false }) : pino.destination({ dest: 1, sync: false })
  stdout?.on('error', () => {}) // a closed stdout (EPIPE) must not stop the files
  const files = new Map<LogFamily, FileDestination>()
  let chain: ChainState = GENESIS

  const report = (state: DestinationReport): void => {
    // Failures and recoveries are for people; an ordinary open or rotation only updates the state.
    if (state.state === 'failed' || state.dropped !== undefined) process.stderr.write(`parley: ${state.message}\n`)
    // thread-stream re-emits EVENT messages on the transport in the main thread (see log-destinations.ts).
    parentPort?.postMessage({ code: 'EVENT', name: 'destination', args: [state] })
  }

  // Loaded only when asked for, so the worker carries no SDK when telemetry is off. Losses are
  // counted on the main thread, with the spans' (src/telemetry/exporters.ts).
  const records = options.logRecords === undefined
    ? undefined
    : (await import('../telemetry/log-records.js')).logRecordSender(options.logRecords, count =>
        parentPort?.postMessage({ code: 'EVENT', name: 'log-records-lost', args: [count] }))

  if (options.dir !== undefined) {
    const dir = options.dir
    // An unreadable previous file starts a new chain, which audit:verify will show as a break.
    chain = await lastChainState(dir).catch(() => GENESIS)
    for (const family of LOG_FAMILIES) {
      const destination = new FileDestination({
        dir,
        family,
        maxSize: options.maxSize,
        frequency: options.frequency,
        checkIntervalMs: options.checkIntervalMs,
        report,
        fsync: family === 'audit'
      })
      if (family === 'audit') {
        // Entries lost while the file failed would leave a silent gap; the chain resumes from
        // what is on disk and its next entry says how many are missing.
        destination.onRecovered = async (dropped) => {
          chain = await lastChainState(dir).catch(() => chain)
          // Written even when none was counted: an entry in flight when the file failed is lost too.
          return chainNext(JSON.stringify({
            level: 'audit',
            time: new Date().toISOString(),
            service: options.service,
            action: 'audit.gap',
            result: 'failure',
            details: { dropped },
            msg: 'audit entries may be missing here: audit.log could not be written'
          }))
        }
      }
      await destination.open()
      files.set(family, destination)
    }
  }

  function chainNext (line: string): string {
    const chained = chainAuditLine(line, chain)
    chain = chained.state
    return chained.line
  }

  function writeAudit (line: string): void {
    const audit = files.get('audit')!
    if (audit.writable) audit.write(chainNext(line))
    else audit.drop()
  }

  return build(async function (source: AsyncIterable<string>) {
    for await (const line of source) {
      stdout?.write(line + '\n')
      records?.send(line)
      if (files.size === 0) continue
      files.get('chatbot')!.write(line)
      const level = lineLevel(line)
      if (level === 'audit') writeAudit(line)
      else if (level !== undefined && ERROR_LEVELS.has(level)) files.get('error')!.write(line)
    }
  }, {
    parse: 'lines',
    async close () {
      await Promise.all([records?.close(LOG_RECORDS_CLOSE_BUDGET_MS), ...[...files.values()].map(file => file.close())])
      if (stdout === undefined) return
      await new Promise<void>(resolve => {
        // sonic-boom says 'close' (it leaves fd 1 open), pino-pretty's stream 'finish'.
        stdout.once('close', resolve).once('finish', resolve).once('error', () => resolve())
        stdout.end()
      })
    }
  })
}
