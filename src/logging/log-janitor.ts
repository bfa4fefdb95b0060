// The retention janitor: keeps the log directory within its retention policy without ever
// touching a file pino-roll may still write. Retention is per level, and a chatbot file holds
// every level, so an old chatbot file is thinned line by line rather than kept or dropped whole.
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import type { Config } from '../config.js'
import { log } from './log-context.js'
import {
  LOG_FAMILIES, activeLogFile, lineLevel, listLogFiles, readLogLines, type LogFamily, type LogFile
} from './log-files.js'

export interface RetentionDays { debug: number, info: number, warn: number, error: number, audit: number }
type Retained = keyof RetentionDays

export const RETENTION_PROFILES: Record<'production' | 'development', RetentionDays> = {
  production: { debug: 3, info: 14, warn: 365, error: 365, audit: 2557 },
  development: { debug: 7, info: 30, warn: 90, error: 90, audit: 2557 }
}

/** The profile's retention (by NODE_ENV unless named), with each non-zero LOG_RETENTION_*_DAYS in its place. */
export function retentionFromConfig (config: Config): RetentionDays {
  const profile = config.LOG_RETENTION_PROFILE !== ''
    ? config.LOG_RETENTION_PROFILE
    : config.NODE_ENV === 'production' ? 'production' : 'development'
  const base = RETENTION_PROFILES[profile]
  const or = (days: number, fallback: number): number => days > 0 ? days : fallback
  return {
    debug: or(config.LOG_RETENTION_DEBUG_DAYS, base.debug),
    info: or(config.LOG_RETENTION_INFO_DAYS, base.info),
    warn: or(config.LOG_RETENTION_WARN_DAYS, base.warn),
    error: or(config.LOG_RETENTION_ERROR_DAYS, base.error),
    audit: or(config.LOG_RETENTION_AUDIT_DAYS, base.audit)
  }
}

const ALL: Retained[] = ['debug', 'info', 'warn', 'error', 'audit']
// Only chatbot files are read line by line. Their audit lines are copies, the audit family keeps
// the record for its years, so there they go with info; so does a line of unknown level, which
// may still matter to someone and so gets more than debug's time.
const RETAINED_AS = new Map<string, Retained>([
  ['trace', 'debug'], ['debug', 'debug'], ['warn', 'warn'], ['error', 'error'], ['fatal', 'error']
])
const retainedAs = (line: string): Retained => RETAINED_AS.get(lineLevel(line) ?? '') ?? 'info'

// What a file may hold before it has been read. error and audit files hold a single level, so
// their fate follows from their age alone and they are never read to decide it.
const HOLDS: Record<LogFamily, Retained[]> = {
  chatbot: ['debug', 'info', 'warn', 'error'],
  error: ['error'],
  audit: ['audit']
}

const STATE_FILE = '.janitor-state.json'
// Temp files start with a dot so that nothing reading the layout ever mistakes one for a log.
const TEMP_SUFFIX = '.janitor-tmp'
const DAY_MS = 86_400_000
const CHUNK_CHARS = 64 * 1024

/** What a run did; files are named as they were before it (relative to the log directory). */
export interface JanitorReport {
  compressed: string[]
  deleted: string[]
  thinned: Array<{ file: string, dropped: number }>
  failed: Array<{ file: string, reason: string }>
}

export interface LogJanitorOptions {
  dir: string
  retention: RetentionDays
  compressAfterDays: number
  now?: () => Date
}

/** Per file name, the levels its lines may still hold after the last pass. */
type State = Record<string, Retained[]>

export class LogJanitor {
  private readonly dir: string
  private readonly retention: RetentionDays
  private readonly compressAfterDays: number
  private readonly now: () => Date
  private timer: NodeJS.Timeout | undefined
  private running: Promise<JanitorReport> | undefined

  constructor ({ dir, retention, compressAfterDays, now = () => new Date() }: LogJanitorOptions) {
    this.dir = dir
    this.retention = retention
    this.compressAfterDays = compressAfterDays
    this.now = now
  }

  /** One pass over the directory; a call during a pass joins it instead of racing it on the same files. */
  async run (): Promise<JanitorReport> {
    this.running ??= this.pass().finally(() => { this.running = undefined })
    return await this.running
  }

  /** Runs now, then every intervalMs without keeping the process alive. */
  start (intervalMs: number): void {
    if (this.timer !== undefined) return
    const tick = (): void => {
      this.run().catch(error => log('log_janitor', 'run').error({ err: error }, 'log_janitor.crashed'))
    }
    // Node fires a timer at once when its delay exceeds 2^31-1 ms (~24.8 days), which would spin.
    this.timer = setInterval(tick, Math.min(intervalMs, 2 ** 31 - 1)).unref()
    tick()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => {})
  }

  private async pass (): Promise<JanitorReport> {
    const started = performance.now()
    const logger = log('log_janitor', 'run')
    const report: JanitorReport = { compressed: [], deleted: [], thinned: [], failed: [] }
    const failed = (file: string, error: unknown): void => {
      report.failed.push({ file, reason: (error as Error).message })
      logger.warn({ file, reason: (error as Error).message }, 'log_janitor.file_failed')
    }
    let files: LogFile[]
    try {
      // Left by a pass that died mid-rewrite; the originals they were made from are intact.
      for (const name of await readdir(this.dir)) {
        if (name.endsWith(TEMP_SUFFIX)) await rm(join(this.dir, name), { force: true })
      }
      files = await listLogFiles(this.dir)
    } catch (error) {
      logger.warn({ dir: this.dir, reason: (error as Error).message }, 'log_janitor.dir_unreadable')
      return report
    }
    const spared = await this.activeNames(files)
    const previous = await this.loadState()
    const state: State = {}
    const now = this.now().getTime()
    for (const file of files) {
      const name = basename(file.path)
      if (spared.has(name)) continue
      try {
        const kept = await this.tidy(file, previous[name] ?? HOLDS[file.family], now, report)
        if (kept !== undefined) state[kept[0]] = kept[1]
      } catch (error) {
        if (previous[name] !== undefined) state[name] = previous[name]
        failed(name, error)
      }
    }
    try {
      const temp = join(this.dir, STATE_FILE + TEMP_SUFFIX)
      await writeFile(temp, JSON.stringify({ version: 1, files: state }))
      await rename(temp, join(this.dir, STATE_FILE))
    } catch (error) {
      failed(STATE_FILE, error)
    }
    const { compressed, deleted, thinned } = report
    const names = compressed.length + deleted.length + thinned.length === 0
      ? {}
      : { files: { compressed, deleted, thinned: thinned.map(t => t.file) } }
    logger.info({
      compressed: compressed.length,
      deleted: deleted.length,
      thinned: thinned.length,
      dropped_lines: thinned.reduce((sum, t) => sum + t.dropped, 0),
      failed: report.failed.length,
      duration_ms: Math.round(performance.now() - started),
      ...names
    }, 'log_janitor.ran')
    return report
  }

  /** Applies retention and compression to one file; returns its name and levels if it survives. */
  private async tidy (
    file: LogFile,
    holds: Retained[],
    now: number,
    report: JanitorReport
  ): Promise<[string, Retained[]] | undefined> {
    const name = basename(file.path)
    const stats = await stat(file.path)
    if (!stats.isFile()) return undefined
    // mtime is when the last line was written, so every line is at least this old.
    const age = (now - stats.mtimeMs) / DAY_MS
    const expired = new Set(ALL.filter(level => age > this.retention[level]))
    const stale = holds.filter(level => expired.has(level))
    if (stale.length === holds.length) {
      await rm(file.path)
      report.deleted.push(name)
      return undefined
    }
    const thin = stale.length > 0
    const compress = !file.compressed && age > this.compressAfterDays
    if (!thin && !compress) return [name, holds]
    const target = compress ? `${file.path}.gz` : file.path
    const temp = join(this.dir, `.${basename(target)}${TEMP_SUFFIX}`)
    try {
      const { kept, dropped } =
        await this.rewrite(file.path, temp, file.compressed || compress, thin ? expired : undefined)
      if (thin && kept.size === 0) {
        await rm(file.path)
        report.deleted.push(name)
        return undefined
      }
      const levels = thin ? ALL.filter(level => kept.has(level)) : holds
      // The expired levels were not there after all: the file is already as it should be.
      if (dropped === 0 && !compress) return [name, levels]
      // Without the original mtime the file would look new and its lines would outlive their retention.
      await utimes(temp, stats.atime, stats.mtime)
      await rename(temp, target)
      if (compress) await rm(file.path)
      if (dropped > 0) report.thinned.push({ file: name, dropped })
      if (compress) report.compressed.push(name)
      return [basename(target), levels]
    } finally {
      await rm(temp, { force: true })
    }
  }

  /** Copies path to temp, leaving out lines whose level is in drop (drop undefined: a byte-exact copy). */
  private async rewrite (
    path: string,
    temp: string,
    gzip: boolean,
    drop: Set<Retained> | undefined
  ): Promise<{ kept: Set<Retained>, dropped: number }> {
    const result = { kept: new Set<Retained>(), dropped: 0 }
    async function * keptLines (levels: Set<Retained>): AsyncGenerator<string> {
      let chunk = ''
      for await (const line of readLogLines(path)) {
        const level = retainedAs(line)
        if (levels.has(level)) {
          result.dropped++
          continue
        }
        result.kept.add(level)
        chunk += line + '\n'
        if (chunk.length >= CHUNK_CHARS) {
          yield chunk
          chunk = ''
        }
      }
      if (chunk !== '') yield chunk
    }
    const source = drop === undefined ? createReadStream(path) : Readable.from(keptLines(drop))
    const output = createWriteStream(temp)
    await (gzip ? pipeline(source, createGzip(), output) : pipeline(source, output))
    return result
  }

  private async activeNames (files: LogFile[]): Promise<Set<string>> {
    const names = new Set<string>()
    for (const family of LOG_FAMILIES) {
      const active = await activeLogFile(this.dir, family)
      if (active !== undefined) names.add(basename(active))
      // pino-roll may open the next file before it moves the link to it.
      const newest = files.filter(file => file.family === family).at(-1)
      if (newest !== undefined) names.add(basename(newest.path))
    }
    return names
  }

  /** The last pass's state; anything unreadable means "may hold anything", which only costs a read. */
  private async loadState (): Promise<State> {
    try {
      const { files } = JSON.parse(await readFile(join(this.dir, STATE_FILE), 'utf8')) as { files?: unknown }
      if (typeof files !== 'object' || files === null) return {}
      return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, Retained[]] =>
        // Never empty when written (such a file is deleted), and taken at its word it would delete one unread.
        Array.isArray(entry[1]) && entry[1].length > 0 && entry[1].every(level => ALL.includes(level as Retained))))
    } catch {
      return {}
    }
  }
}
