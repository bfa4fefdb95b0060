// Reads a log directory back for analysis: the families asked for, the files whose day can hold
// lines of the period (rotated, gzipped and active alike), line by line in bounded memory. Bad
// input is counted and reported, never thrown and never silently skipped: a missing directory,
// an unreadable file, a truncated gzip, a line that is not JSON.
import { stat } from 'node:fs/promises'
import { listLogFiles, readLogLines, type LogFamily, type LogFile } from '../logging/log-files.js'

export interface Period { from: Date, to: Date }

/** The period just before, of the same length: what trends and regressions compare with. */
export const previousPeriod = (period: Period): Period => ({
  from: new Date(2 * period.from.getTime() - period.to.getTime()),
  to: period.from
})

/** A parsed log line: the fields every line has, and whatever else it carries. */
export interface LogEntry { time: string, level: string, msg: string, [field: string]: unknown }

export interface ScanProblems {
  /** Files that could not be opened or read. */
  unreadableFiles: Array<{ file: string, error: string }>
  /** Gzipped files that ended early or were corrupt: their lines up to the damage were read. */
  truncatedFiles: Array<{ file: string, error: string }>
  /** Lines that were not a JSON object with time, level and msg. */
  badLines: number
}

export interface ScanStats extends ScanProblems {
  files: number
  lines: number
  /** Lines of the period that were parsed and handed on. */
  entries: number
}

export interface ScanOptions {
  dir: string
  families: LogFamily[]
  period: Period
  /** A cheap test on the raw line, before JSON.parse: most lines are not wanted by a given report. */
  wanted?: (line: string, family: LogFamily) => boolean
  /** Called as bytes (compressed, for .gz) are read, with the total to read. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void
}

export class LogDirectoryError extends Error { override name = 'LogDirectoryError' }

const day = (date: Date): string => date.toISOString().slice(0, 10)

/**
 * The files that may hold lines of the period: a file's name is the day it was opened (one day's
 * margin for time zones).
 */
export async function filesForPeriod (dir: string, families: LogFamily[], period: Period): Promise<LogFile[]> {
  let files: LogFile[]
  try {
    files = await listLogFiles(dir)
  } catch (error) {
    // Most often the server was started with another LOG_DIR than the one read here.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LogDirectoryError(`there is no log directory ${dir}: read the one the server writes to (its LOG_DIR)`)
    }
    throw new LogDirectoryError(`cannot read the log directory ${dir}: ${(error as Error).message}`)
  }
  const first = day(new Date(period.from.getTime() - 86_400_000))
  const last = day(new Date(period.to.getTime() + 86_400_000))
  return files.filter(file => families.includes(file.family) && file.date >= first && file.date <= last)
}

/** Every entry of the period in the chosen families, one file after another; `stats` fills as it goes. */
export async function * scanLogs (
  options: ScanOptions, stats: ScanStats = emptyStats()
): AsyncGenerator<LogEntry & { family: LogFamily }> {
  const files = await filesForPeriod(options.dir, options.families, options.period)
  const sizes = await Promise.all(files.map(async file => (await stat(file.path).catch(() => undefined))?.size ?? 0))
  const total = sizes.reduce((sum, size) => sum + size, 0)
  const from = options.period.from.toISOString()
  const to = options.period.to.toISOString()
  let done = 0
  for (const file of files) {
    stats.files++
    try {
      for await (const line of readLogLines(file.path, bytes => { done += bytes })) {
        stats.lines++
        if (stats.lines % 10_000 === 0) options.onProgress?.(done, total)
        if (line === '') continue
        // Every line we write is one JSON object: anything else is counted without parsing it.
        if (line.charCodeAt(0) !== 123 || line.charCodeAt(line.length - 1) !== 125) {
          stats.badLines++
          continue
        }
        if (options.wanted !== undefined && !options.wanted(line, file.family)) continue
        let entry: LogEntry
        try {
          entry = JSON.parse(line) as LogEntry
        } catch {
          stats.badLines++
          continue
        }
        if (
          typeof entry !== 'object' || entry === null ||
          typeof entry.time !== 'string' || typeof entry.level !== 'string' || typeof entry.msg !== 'string'
        ) {
          stats.badLines++
          continue
        }
        if (entry.time < from || entry.time >= to) continue
        stats.entries++
        yield Object.assign(entry, { family: file.family })
      }
    } catch (error) {
      // zlib's codes (Z_BUF_ERROR, Z_DATA_ERROR) mean the gzip is damaged; anything else, the file is unreadable.
      const problem = { file: file.path, error: (error as Error).message }
      if (String((error as { code?: unknown }).code).startsWith('Z_')) stats.truncatedFiles.push(problem)
      else stats.unreadableFiles.push(problem)
    }
    options.onProgress?.(done, total)
  }
}

export function emptyStats (): ScanStats {
  return { files: 0, lines: 0, entries: 0, unreadableFiles: [], truncatedFiles: [], badLines: 0 }
}
