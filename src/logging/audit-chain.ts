// The audit log's hash chain. Every audit line gets `seq`, `prev_hash` and `hash` appended as its
// last fields, so anyone can check the written text itself, byte for byte, without re-serialising
// JSON (which would not reproduce key order, spacing or escapes). An entry changed, removed or
// moved breaks the chain at that point. The chain holds no secret: someone who rewrites every
// entry after the one they changed is not caught unless a recent hash was noted somewhere else.
// It is the audit log file's format, chained by the log writer (log-router.ts) as it writes each
// line, hence here; what the entries say is src/audit's, which logs through src/logging.
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { compareLogFiles, listLogFiles, parseLogFileName, readLogLines, type LogFile } from './log-files.js'

export const GENESIS_HASH = '0'.repeat(64)

export interface ChainState { seq: number, hash: string }

export const GENESIS: ChainState = { seq: 0, hash: GENESIS_HASH }

// `,"hash":"` + 64 hex digits + `"}`: what chainAuditLine appends after the hashed text.
const HASH_SUFFIX_LENGTH = 75
// Anchored at the end of the line: inside JSON strings quotes are escaped, so only the fields
// chainAuditLine appended can match here, whatever the entry itself contains.
const CHAIN_FIELDS = /[,{]"seq":([1-9]\d*),"prev_hash":"([0-9a-f]{64})","hash":"([0-9a-f]{64})"\}$/

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * Appends the chain fields to one audit line (a JSON object, no newline) and returns it with the
 * state the next line continues from. Runs for every audit line in the log writer, hence string
 * operations only. Throws a TypeError for a line that does not end with `}`.
 */
export function chainAuditLine (line: string, previous: ChainState): { line: string, state: ChainState } {
  if (!line.endsWith('}')) {
    throw new TypeError(`an audit line must be a JSON object without a newline, got: ${line.slice(0, 80)}`)
  }
  const seq = previous.seq + 1
  // `{}` has no field to put a comma after; pino never writes one, but it must not become `{,"seq"…`.
  const separator = line.length === 2 ? '' : ','
  const body = `${line.slice(0, -1)}${separator}"seq":${seq},"prev_hash":"${previous.hash}"`
  const hash = sha256(body + '}')
  return { line: `${body},"hash":"${hash}"}`, state: { seq, hash } }
}

/** The text the hash of a chained line was computed over: the line without its hash field. */
const hashedText = (line: string): string => line.slice(0, line.length - HASH_SUFFIX_LENGTH) + '}'

function chainFields (line: string): { seq: number, prevHash: string, hash: string } | undefined {
  const match = CHAIN_FIELDS.exec(line)
  return match === null ? undefined : { seq: Number(match[1]), prevHash: match[2]!, hash: match[3]! }
}

// The janitor writes `x.log.gz` before deleting `x.log`; after a crash between the two both exist,
// and reading both would look like the whole file repeated. The uncompressed one is the original.
function withoutDuplicates (files: LogFile[]): LogFile[] {
  const kept: LogFile[] = []
  for (const file of files) {
    const last = kept.at(-1)
    if (last !== undefined && compareLogFiles(last, file) === 0) {
      if (last.compressed && !file.compressed) kept[kept.length - 1] = file
    } else {
      kept.push(file)
    }
  }
  return kept
}

async function auditFilesIn (dir: string): Promise<LogFile[]> {
  return withoutDuplicates(await listLogFiles(dir, 'audit'))
}

/**
 * The state after the last complete entry of the newest audit file holding one, for the writer to
 * continue the chain after a restart; GENESIS when there is none (or no log directory yet).
 */
export async function lastChainState (dir: string): Promise<ChainState> {
  let files: LogFile[]
  try {
    files = await auditFilesIn(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return GENESIS
    throw error
  }
  // Older files are read only when the newest holds no complete entry, e.g. it was just rotated.
  for (const file of files.reverse()) {
    let last: string | undefined
    for await (const line of readLogLines(file.path)) {
      if (CHAIN_FIELDS.test(line)) last = line
    }
    // A line cut short by a crash never ends with the chain fields, so it is passed over. Not
    // JSON-parsed: if the writer appended to such a cut line after the restart, that line still
    // ends with a complete entry, the one the next must link to. Nor is the hash checked: a
    // tampered entry still states the hash its original had, which is what the chain continues.
    const fields = last === undefined ? undefined : chainFields(last)
    if (fields !== undefined) return { seq: fields.seq, hash: fields.hash }
  }
  return GENESIS
}

/** Where the first entry checked sits in the chain. */
export interface ChainStart {
  file: string
  line: number
  seq: number
  /** True when it is the chain's first entry ever; false when earlier files were removed (retention). */
  genesis: boolean
}

export interface ChainBreak {
  file: string
  /** 1-based, counting every line of the file. */
  line: number
  /** The entry's seq, or the seq expected there when the entry's own cannot be read. */
  seq: number | null
  reason: string
}

export interface AuditChainReport {
  intact: boolean
  /** The files to check, in chain order (also those after a break, which were not read). */
  files: string[]
  filesChecked: number
  /** Entries found intact (before the break, if any). */
  entriesChecked: number
  /** Null when no intact entry was found. */
  start: ChainStart | null
  /** The state after the last intact entry. */
  end: ChainState | null
  break: ChainBreak | null
}

/** A path that cannot be verified at all (missing, unreadable, not an audit log), as opposed to a broken chain. */
export class AuditPathError extends Error {
  override name = 'AuditPathError'
}

const AUDIT_FILE_NAMES = 'audit.<yyyy-MM-dd>.<n>.log or .log.gz'

async function filesToVerify (paths: string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new AuditPathError(
        error.code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${error.message}`
      )
    })
    if (info.isDirectory()) {
      const found = await auditFilesIn(path).catch((error: Error) => {
        throw new AuditPathError(`cannot read ${path}: ${error.message}`)
      })
      if (found.length === 0) throw new AuditPathError(`${path} holds no audit files (${AUDIT_FILE_NAMES})`)
      files.push(...found.map(file => file.path))
    } else if (info.isFile()) {
      const family = parseLogFileName(path)?.family
      if (family !== undefined && family !== 'audit') {
        throw new AuditPathError(`${path} is the ${family} log, not an audit log`)
      }
      files.push(path)
    } else {
      throw new AuditPathError(`${path} is neither a file nor a directory`)
    }
  }
  const named = files.map(parseLogFileName)
  if (named.every((file): file is LogFile => file !== undefined)) {
    // The shell's order of `logs/audit.*` is not the chain's order once numbers reach 10 (…9, 10, 2…).
    return withoutDuplicates(named.sort(compareLogFiles)).map(file => file.path)
  }
  // Files named otherwise (copies, exports) cannot be ordered by name: the order given is the chain's.
  const seen = new Set<string>()
  return files.filter(file => !seen.has(resolve(file)) && seen.add(resolve(file)))
}

const REASONS = {
  notJson: 'line is not JSON (truncated?)',
  emptyLine: 'empty line inside the file: something was removed or inserted there',
  noHash: 'the entry has no hash: it was not written through the audit chain',
  misplaced: 'seq, prev_hash and hash are not the last fields as written: the entry was rewritten',
  changed: 'hash does not match the entry\'s content: the entry was changed',
  relinked: 'prev_hash does not match the previous entry: an entry was removed or reordered',
  badGenesis: (seq: number) => seq === 1
    ? 'seq is 1 but prev_hash is not the genesis hash: the entry was rewritten'
    : `prev_hash is the genesis hash but seq is ${seq}, not 1: the entry was rewritten`,
  badSeq: (seq: number, expected: number) =>
    `seq is ${seq} where ${expected} was expected, although prev_hash matches: the entry was rewritten`,
  badGzip: (message: string) =>
    `the compressed file cannot be read past this line (${message}): it is damaged or cut short`
}

/**
 * Checks the chain through the given audit files and log directories, in chain order, and stops
 * at the first broken entry. The first entry may continue from anywhere: older files may have been
 * removed by retention, which the report's start tells apart from a chain starting at the genesis.
 * Rejects with AuditPathError for paths that cannot be read.
 */
export async function verifyAuditChain (paths: string[]): Promise<AuditChainReport> {
  const files = await filesToVerify(paths)
  const report: AuditChainReport = {
    intact: true, files, filesChecked: 0, entriesChecked: 0, start: null, end: null, break: null
  }
  const broken = (file: string, line: number, seq: number | null, reason: string): AuditChainReport => {
    return { ...report, intact: false, break: { file, line, seq, reason } }
  }
  let previous: ChainState | undefined
  const expectedSeq = () => previous === undefined ? null : previous.seq + 1

  for (const file of files) {
    report.filesChecked++
    let number = 0
    let emptyLine: number | undefined
    try {
      for await (const line of readLogLines(file)) {
        number++
        // An empty line is tolerated as the last line of a file only; any line after it shows it was not.
        if (emptyLine !== undefined) return broken(file, emptyLine, expectedSeq(), REASONS.emptyLine)
        if (line === '') {
          emptyLine = number
          continue
        }

        let entry: unknown
        try {
          entry = JSON.parse(line)
        } catch {
          return broken(file, number, expectedSeq(), REASONS.notJson)
        }
        const fields = chainFields(line)
        if (fields === undefined) {
          const object = typeof entry === 'object' && entry !== null ? entry as Record<string, unknown> : {}
          const seq = typeof object.seq === 'number' ? object.seq : expectedSeq()
          return broken(file, number, seq, 'hash' in object ? REASONS.misplaced : REASONS.noHash)
        }
        const { seq, prevHash, hash } = fields
        if (sha256(hashedText(line)) !== hash) return broken(file, number, seq, REASONS.changed)
        if (previous === undefined) {
          if ((seq === 1) !== (prevHash === GENESIS_HASH)) return broken(file, number, seq, REASONS.badGenesis(seq))
          report.start = { file, line: number, seq, genesis: seq === 1 }
        } else {
          // Checked before seq: a removed entry changes both, and prev_hash is what names the cause.
          if (prevHash !== previous.hash) return broken(file, number, seq, REASONS.relinked)
          if (seq !== previous.seq + 1) return broken(file, number, seq, REASONS.badSeq(seq, previous.seq + 1))
        }
        previous = { seq, hash }
        report.end = previous
        report.entriesChecked++
      }
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException
      // zlib's codes: the lines before the damage were checked, the entries after it are lost.
      if (code?.startsWith('Z_') === true) return broken(file, number + 1, expectedSeq(), REASONS.badGzip(message))
      throw new AuditPathError(`cannot read ${file}: ${message}`, { cause: error })
    }
  }
  return report
}
