// Reads knowledge-base documents from disk: a folder of Markdown/text files (the bundled docs, or
// an operator's import) or a JSON Lines file. Used by the first-start seed and by `kb:import`.
// What a document is (its fields and limits) is here too: knowledge-base.ts imports it from here.
import { createReadStream, type Stats } from 'node:fs'
import { lstat, readdir, readFile, stat } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { describedPattern } from '../http/schemas.js'

/** A document as it is given to the knowledge base (knowledge-base.ts), read from a file or sent to the API. */
export interface DocumentInput {
  id?: string
  title: string
  text: string
  metadata?: Record<string, unknown>
  /** The collection the document belongs to; DEFAULT_COLLECTION (search-engine.ts) when not given. */
  collection?: string
}

/** A document id's pattern in words, for a person who wrote one that breaks it. */
export const DOCUMENT_ID_RULE = 'must be 1 to 200 letters, digits, dots, underscores, colons or hyphens, ' +
  'starting with a letter or digit'

export const DOCUMENT_LIMITS = {
  idPattern: describedPattern('^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$', DOCUMENT_ID_RULE),
  titleMax: 500,
  textMax: 200_000,
  metadataDepth: 8,
  metadataJsonMax: 16_384,
  questionsMax: 50
} as const
const ID = new RegExp(DOCUMENT_LIMITS.idPattern)

export type ReadResult =
  | { source: string, document: DocumentInput }
  | { source: string, error: string }
  | { source: string, skipped: string }

// A document's text is at most textMax characters, up to 4 bytes each in UTF-8.
const FILE_BYTES_MAX = 4 * DOCUMENT_LIMITS.textMax

/**
 * What is wrong with a document's metadata, if anything: nested deeper than metadataDepth, or
 * larger than metadataJsonMax as JSON. Measured without recursion: metadata nested 5,000 deep
 * overflowed the stack of JSON.stringify when it was stored (a 500).
 */
export function metadataProblem (metadata: unknown): string | undefined {
  const pending: Array<[unknown, number]> = [[metadata, 0]]
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!
    if (value === null || typeof value !== 'object') continue
    if (depth >= DOCUMENT_LIMITS.metadataDepth) {
      return `metadata must not nest deeper than ${DOCUMENT_LIMITS.metadataDepth} levels`
    }
    for (const child of Object.values(value)) pending.push([child, depth + 1])
  }
  if ((JSON.stringify(metadata) ?? '').length > DOCUMENT_LIMITS.metadataJsonMax) {
    return `metadata must not be longer than ${DOCUMENT_LIMITS.metadataJsonMax} characters as JSON`
  }
  // Other phrasings of the question the document answers, searched with its title (question-index.ts).
  const questions = (metadata as { questions?: unknown } | null | undefined)?.questions
  if (questions !== undefined && !(Array.isArray(questions) && questions.length <= DOCUMENT_LIMITS.questionsMax &&
    questions.every(question =>
      typeof question === 'string' && question.trim() !== '' && question.length <= DOCUMENT_LIMITS.titleMax))) {
    return `metadata.questions must be an array of at most ${DOCUMENT_LIMITS.questionsMax} questions, ` +
      `each a string of 1 to ${DOCUMENT_LIMITS.titleMax} characters`
  }
  return undefined
}

/** Checks one document against the same limits the HTTP API enforces; returns the problem or undefined. */
export function checkDocument (document: Partial<Record<keyof DocumentInput, unknown>>): string | undefined {
  const metadata = metadataProblem(document.metadata)
  if (metadata !== undefined) return metadata
  if (document.id !== undefined && (typeof document.id !== 'string' || !ID.test(document.id))) {
    return `id ${DOCUMENT_ID_RULE}`
  }
  // JSON.stringify writes a NUL as \u0000; dropping escaped backslashes first spares text that merely
  // shows that escape.
  if (JSON.stringify(document).replaceAll('\\\\', '').includes('\\u0000')) {
    return 'text must not contain NUL characters (U+0000)'
  }
  if (typeof document.title !== 'string' || document.title.trim() === '' ||
    document.title.length > DOCUMENT_LIMITS.titleMax) {
    return `title must be a string of 1 to ${DOCUMENT_LIMITS.titleMax} characters`
  }
  if (typeof document.text !== 'string' || document.text.trim() === '' ||
    document.text.length > DOCUMENT_LIMITS.textMax) {
    return `text must be a string of 1 to ${DOCUMENT_LIMITS.textMax} characters`
  }
  if (document.metadata !== undefined &&
    (typeof document.metadata !== 'object' || document.metadata === null || Array.isArray(document.metadata))) {
    return 'metadata must be an object'
  }
  return undefined
}

/** A Markdown document's title is its first level-1 heading, else its file name. */
export function documentFromFile (fileName: string, content: string): DocumentInput {
  const id = basename(fileName, extname(fileName))
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200) || 'document'
  const heading = /^#\s+(.+)$/m.exec(content)
  return { id, title: heading?.[1]?.trim() ?? id, text: content, metadata: { source: basename(fileName) } }
}

/** A title for a document that has none: its first words. */
function untitled (text: string): string {
  const words = text.trim().split(/\s+/).slice(0, 10).join(' ')
  return words.length > 80 ? `${words.slice(0, 79)}…` : words
}

/** Whether a file is read as one document (Markdown or text), as a folder's files are. */
export function isDocumentFile (name: string): boolean {
  return /\.(md|txt)$/i.test(name)
}

/** Whether a file holds a document a line (JSON Lines). */
export function isLinesFile (name: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(name)
}

/**
 * The files of a folder that are read, in order: its .md and .txt files, and with `lines` its
 * JSON Lines files too (kb:import; the seed folder, docs/, holds the manual's test questions).
 */
export async function folderFiles (path: string, { lines = false } = {}): Promise<string[]> {
  const names = await readdir(path)
  return names.filter(name => isDocumentFile(name) || (lines && isLinesFile(name))).sort()
}

/**
 * Why a folder's file is not read, if it is not a regular file: a link may lead out of the folder
 * (host.md -> /etc/hostname became answerable by chat), a FIFO blocks the read for good, /dev/zero
 * never ends.
 */
function irregularFile (source: string, info: Stats): ReadResult | undefined {
  if (info.isSymbolicLink()) return { source, skipped: 'a symbolic link (not followed)' }
  if (!info.isFile()) return { source, error: 'not a regular file' }
  return undefined
}

/** One Markdown or text file as a document, or the reason it is not one. */
async function readDocumentFile (source: string): Promise<ReadResult> {
  try {
    const info = await lstat(source)
    const irregular = irregularFile(source, info)
    if (irregular !== undefined) return irregular
    if (info.size > FILE_BYTES_MAX) return { source, error: `larger than ${FILE_BYTES_MAX} bytes` }
    const content = await readFile(source, 'utf8')
    if (content.trim() === '') return { source, skipped: 'empty file' }
    const document = documentFromFile(basename(source), content)
    const problem = checkDocument(document)
    return problem === undefined ? { source, document } : { source, error: problem }
  } catch (error) {
    return { source, error: (error as Error).message }
  }
}

/**
 * Yields every document (or the reason it cannot be read) from a folder of .md/.txt files (and,
 * with `lines`, .jsonl files), one such file, or a .jsonl file.
 */
export async function * readDocuments (path: string, { lines = false } = {}): AsyncGenerator<ReadResult> {
  if ((await stat(path)).isDirectory()) {
    for (const name of await folderFiles(path, { lines })) {
      const file = join(path, name)
      if (isDocumentFile(name)) {
        yield await readDocumentFile(file)
        continue
      }
      const irregular = irregularFile(file, await lstat(file))
      if (irregular !== undefined) yield irregular
      else yield * readLinesFile(file)
    }
    return
  }
  if (isDocumentFile(path)) {
    yield await readDocumentFile(path)
    return
  }
  yield * readLinesFile(path)
}

/** A JSON Lines file's documents, each or the reason it is not one, named by file and line. */
async function * readLinesFile (path: string): AsyncGenerator<ReadResult> {
  let lineNumber = 0
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    lineNumber++
    if (line.trim() === '') continue
    const source = `${path}:${lineNumber}`
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      yield { source, error: 'not valid JSON' }
      continue
    }
    const candidate = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>
    // BEIR-style corpora name the id `_id`, often numeric, and leave many titles empty.
    const id = candidate.id ?? candidate._id
    const title = candidate.title === '' && typeof candidate.text === 'string'
      ? untitled(candidate.text)
      : candidate.title
    const document = {
      id: typeof id === 'number' ? String(id) : id,
      title,
      text: candidate.text,
      metadata: candidate.metadata
    }
    const problem = checkDocument(document)
    yield problem === undefined ? { source, document: document as DocumentInput } : { source, error: problem }
  }
}
