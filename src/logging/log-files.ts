// The log directory's layout, shared by the writer (log-router), the retention janitor and the
// tools that read logs back: `<family>.<yyyy-MM-dd>.<n>.log` as pino-roll names them, `.log.gz`
// once the janitor has compressed one, and a `<family>.log` symlink to the file being written.
import { createReadStream } from 'node:fs'
import { readdir, readlink, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'

export const LOG_FAMILIES = ['chatbot', 'error', 'audit'] as const
export type LogFamily = typeof LOG_FAMILIES[number]

export interface LogFile {
  path: string
  family: LogFamily
  /** The day the file was opened, as pino-roll wrote it (local time). */
  date: string
  number: number
  compressed: boolean
}

const FILE_NAME = /^(chatbot|error|audit)\.(\d{4}-\d{2}-\d{2})\.(\d+)\.log(\.gz)?$/

export function parseLogFileName (path: string): LogFile | undefined {
  const match = FILE_NAME.exec(basename(path))
  if (match === null) return undefined
  return {
    path,
    family: match[1] as LogFamily,
    date: match[2]!,
    number: Number(match[3]),
    compressed: match[4] !== undefined
  }
}

/** The rotated and active files of a log directory, oldest first within each family. */
export async function listLogFiles (dir: string, family?: LogFamily): Promise<LogFile[]> {
  const files = (await readdir(dir))
    .map(name => parseLogFileName(join(dir, name)))
    .filter((file): file is LogFile => file !== undefined && (family === undefined || file.family === family))
  return files.sort(compareLogFiles)
}

export function compareLogFiles (a: LogFile, b: LogFile): number {
  return a.family.localeCompare(b.family) || a.date.localeCompare(b.date) || a.number - b.number
}

/** The symlink through which people follow a family (`tail -F logs/chatbot.log`). */
export const currentLinkPath = (dir: string, family: LogFamily): string => join(dir, `${family}.log`)

/** The file a family is writing now, or undefined if it has none yet. */
export async function activeLogFile (dir: string, family: LogFamily): Promise<string | undefined> {
  try {
    return join(dir, await readlink(currentLinkPath(dir, family)))
  } catch {
    return undefined
  }
}

/**
 * Streams the lines of a log file, gzipped or not, in bounded memory. onRead hears how many bytes
 * of the file (compressed, for .gz) each read took, for progress bars.
 */
export async function * readLogLines (path: string, onRead?: (bytes: number) => void): AsyncIterable<string> {
  // Only a regular file (a link to one is followed): a FIFO named like a log file hung the reader
  // for good, and a link to /dev/zero grew one endless line until the process crashed.
  const info = await stat(path)
  if (!info.isFile()) throw new Error('not a regular file')
  const input = createReadStream(path)
  if (onRead !== undefined) input.on('data', chunk => onRead(chunk.length))
  const source = path.endsWith('.gz') ? input.pipe(createGunzip()) : input
  // Errors of the file stream reach the reader through the gunzip stream only if forwarded.
  if (source !== input) input.on('error', error => source.destroy(error))
  yield * createInterface({ input: source, crlfDelay: Infinity })
}

/** The level label of a line written by createLogger ("info", "audit" …) without parsing it all. */
export function lineLevel (line: string): string | undefined {
  return /^\{"level":"(\w+)"/.exec(line)?.[1]
}
